"""Domain exceptions; each maps once to the TAXII 2.1 error body (see exchange.taxii.errors)."""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub reports to a caller."""

    http_status = 500
    title = "Internal error"

    def __init__(self, description: str | None = None, *, title: str | None = None,
                 details: dict[str, object] | None = None) -> None:
        super().__init__(description or self.title)
        self.description = description
        if title:
            self.title = title
        self.details = details


class BadRequest(HubError):
    http_status = 400
    title = "Bad request"


class Unauthenticated(HubError):
    http_status = 401
    title = "Authentication required"


class Forbidden(HubError):
    http_status = 403
    title = "Forbidden"


class NotFound(HubError):
    http_status = 404
    title = "Not found"


class NotAcceptable(HubError):
    http_status = 406
    title = "Not acceptable"


class PayloadTooLarge(HubError):
    http_status = 413
    title = "Payload too large"


class UnsupportedMediaType(HubError):
    http_status = 415
    title = "Unsupported media type"


class Conflict(HubError):
    http_status = 409
    title = "Conflict"


class TooManyRequests(HubError):
    http_status = 429
    title = "Too many requests"


class ServiceUnavailable(HubError):
    http_status = 503
    title = "Service unavailable"
