"""The FastAPI application: TAXII 2.1 API, health and metrics, errors as TAXII error bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from exchange.config import Settings
from exchange.errors import HubError
from exchange.hub import Hub
from exchange.observability import RequestLogMiddleware
from exchange.taxii.media import TAXII_21
from exchange.taxii.views import router as taxii_router

log = logging.getLogger(__name__)
REALM = 'Basic realm="POP-ART Exchange", charset="UTF-8", Bearer realm="POP-ART Exchange"'  # RFC 7235: both doors


def error_response(status: int, title: str, description: str | None = None,
                   details: dict[str, Any] | None = None) -> Response:
    """A TAXII 2.1 error body with the TAXII media type."""
    body: dict[str, Any] = {"title": title, "http_status": str(status)}
    if description:
        body["description"] = description
    if details:
        body["details"] = details
    headers = {"WWW-Authenticate": REALM} if status == 401 else None
    return Response(json.dumps(body), status_code=status, media_type=TAXII_21, headers=headers)


def create_app(settings: Settings, *, hub: Hub | None = None) -> FastAPI:
    """Build the hub application for these settings (or around an already wired hub)."""
    the_hub = hub or Hub.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        the_hub.start()
        try:
            yield
        finally:
            the_hub.stop()

    app = FastAPI(title=settings.title, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.hub = the_hub
    app.add_middleware(RequestLogMiddleware)

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError) -> Response:
        return error_response(exc.http_status, exc.title, exc.description, exc.details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed"}
        return error_response(exc.status_code, titles.get(exc.status_code, "HTTP error"), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(400, "Bad request", "; ".join(str(e.get("msg")) for e in exc.errors())[:500])

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "Internal error", "the hub could not complete this request")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        from sqlalchemy import text

        with the_hub.db.read() as session:
            session.execute(text("SELECT 1"))
        return Response('{"status":"ok"}', media_type="application/json")

    if settings.metrics_enabled:
        @app.get("/metrics", include_in_schema=False)
        def metrics() -> Response:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    from exchange.identity.portal import router as portal_router
    from exchange.identity.views import router as identity_router

    app.include_router(identity_router)  # before TAXII: its /{api_root}/ would shadow nothing, but keep it first
    app.include_router(portal_router)
    from exchange.compliance_api import router as compliance_router

    app.include_router(compliance_router)
    from exchange.portal.views import router as board_router
    from exchange.stream.views import router as stream_router

    app.include_router(stream_router)
    app.include_router(board_router)
    app.include_router(taxii_router)
    return app


def app_from_environment() -> FastAPI:
    """Factory for `popart serve --workers N`: settings from POPART_CONFIG and the environment."""
    from exchange.config import load_settings

    return create_app(load_settings())
