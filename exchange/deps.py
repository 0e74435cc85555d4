"""FastAPI dependencies shared by every router: the hub and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from exchange.auth.caller import Caller
from exchange.errors import Unauthenticated
from exchange.hub import Hub


def get_hub(request: Request) -> Hub:
    """The hub of this process."""
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


def get_caller(request: Request, hub: HubDep) -> Caller:
    """The verified caller of this request, or 401 with a TAXII error body."""
    guard = hub.extras.get("auth_guard")  # rate limiting and lockout (exchange.identity), when installed
    if guard is not None:
        guard.before(request)  # type: ignore[attr-defined]
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    caller: Caller | None = None
    try:
        if scheme.lower() == "basic" and credentials:
            caller = hub.basic.authenticate(credentials.strip())
        else:
            for authenticator in hub.authenticators:
                caller = authenticator(request)
                if caller is not None:
                    break
        if caller is None:
            raise Unauthenticated("missing or invalid credentials" if header else "credentials are required")
    except Unauthenticated:
        if guard is not None:
            guard.failed(request)  # type: ignore[attr-defined]
        raise
    if guard is not None:
        guard.admit(request, caller)  # type: ignore[attr-defined]
    request.state.caller = caller
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
