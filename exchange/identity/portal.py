"""Passkey pages and ceremonies for people: invitation, registration, login, my passkeys, logout.

Minimal server-rendered HTML and one script served by the hub (no CDN); the portal restyles them later.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from exchange.deps import HubDep
from exchange.errors import BadRequest, Forbidden, HubError, TooManyRequests, Unauthenticated
from exchange.identity import events
from exchange.identity.passkeys import LoggedIn, PasskeyRefused
from exchange.identity.service import Identity, client_ip
from exchange.identity.sessions import CSRF_FIELD, CSRF_HEADER, ActiveSession
from exchange.identity.views import identity_of

router = APIRouter()
STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",  # no-referrer makes form posts Origin: null
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _page(title: str, body: str, *, data: dict[str, str] | None = None, status: int = 200) -> Response:
    attrs = "".join(f' data-{k}="{html.escape(v)}"' for k, v in (data or {}).items())
    doc = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
           f'<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
           f'<body><main id="passkeys"{attrs}><h1>{html.escape(title)}</h1>{body}'
           f'<p id="status" role="status"></p></main><script src="/portal/static/passkeys.js"></script>'
           f'</body></html>')
    return Response(doc, status_code=status, media_type="text/html", headers=SECURITY_HEADERS)


def _json(body: Any, status: int = 200) -> Response:
    return Response(body if isinstance(body, str) else json.dumps(body), status_code=status,
                    media_type="application/json", headers={"Cache-Control": "no-store"})


def _check_origin(identity: Identity, request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") not in identity.passkeys.origins:
        events.refused(identity.db, "origin.refused", "cross-origin request", ip=client_ip(request),
                       origin=origin[:200])
        raise Forbidden("cross-origin request refused")


async def _json_body(identity: Identity, request: Request) -> dict[str, Any]:
    _check_origin(identity, request)
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise BadRequest("expected application/json")
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    return body


def _session(identity: Identity, request: Request) -> tuple[str, ActiveSession] | None:
    raw = request.cookies.get(identity.sessions.cookie_name)
    active = identity.sessions.find(raw)
    return (raw, active) if raw and active else None


def _require_csrf(identity: Identity, request: Request, raw: str, presented: str | None) -> None:
    if not identity.sessions.csrf_ok(raw, presented):
        events.refused(identity.db, "csrf.refused", "missing or wrong CSRF token", ip=client_ip(request))
        raise Forbidden("missing or wrong CSRF token")


def _logged_in(identity: Identity, request: Request, done: LoggedIn) -> Response:
    # A session id presented before login is ended, and a fresh one always issued: no session fixation.
    old = request.cookies.get(identity.sessions.cookie_name)
    if old:
        identity.sessions.end(old, ip=client_ip(request))
    response = _json({"ok": True, "redirect": "/portal/me"})
    response.set_cookie(identity.sessions.cookie_name, done.session_id, path="/", httponly=True,
                        secure=identity.sessions.secure, samesite="strict",
                        max_age=identity.conf.session_absolute_hours * 3600)
    return response


def _refused(identity: Identity, request: Request, exc: PasskeyRefused, kind: str, account: str | None) -> HubError:
    events.refused(identity.db, kind, exc.reason, ip=client_ip(request), subject=account)
    identity.limiter.failed(ip=client_ip(request), account=account)
    return Unauthenticated(exc.reason)


# --- pages -------------------------------------------------------------------------------------------------


@router.get("/portal/static/passkeys.js", include_in_schema=False)
def script() -> Response:
    """The passkey script of the pages below."""
    return Response((STATIC / "passkeys.js").read_text(encoding="utf-8"), media_type="text/javascript",
                    headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"})


@router.get("/portal/login", include_in_schema=False)
def login_page() -> Response:
    """Log in with a passkey."""
    return _page("Log in", '<button id="login" type="button">Log in with a passkey</button>')


@router.get("/portal/invitations/{token}", include_in_schema=False)
def invitation_page(token: str, hub: HubDep) -> Response:
    """Accept an invitation: register a first passkey."""
    identity = identity_of(hub)
    try:
        inv = identity.passkeys.invitation(token)
    except HubError:
        return _page("Invitation not valid", "<p>This invitation is unknown, already used or expired.</p>",
                     status=404)
    org = identity.directory.org(inv.org_id)
    body = (f"<p>{html.escape(inv.display_name)} ({html.escape(inv.username)}), you are invited to "
            f"{html.escape(org.name if org else '')}.</p>"
            '<button id="register" type="button">Create a passkey</button>')
    return _page("Welcome", body, data={"invitation": token})


@router.get("/portal/me", include_in_schema=False)
def me_page(request: Request, hub: HubDep) -> Response:
    """Who I am, my passkeys, logout."""
    identity = identity_of(hub)
    found = _session(identity, request)
    if found is None:
        return RedirectResponse("/portal/login", status_code=303)
    raw, active = found
    org = identity.directory.org(active.org_id)
    csrf = identity.sessions.csrf_token(raw)
    field = f'<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(csrf)}">'
    rows = "".join(
        f'<li>{html.escape(k.name)} — added {k.created_at // 1_000_000}'
        + (" (revoked)" if k.revoked_at else
           f'<form method="post" action="/auth/passkeys/revoke">{field}'
           f'<input type="hidden" name="credential_id" value="{html.escape(k.credential_id)}">'
           '<button type="submit">Revoke</button></form>')
        + "</li>"
        for k in identity.passkeys.passkeys(active.person_id))
    body = (f'<p id="who">{html.escape(active.display_name)} — <span id="org">{html.escape(org.name if org else "")}'
            f'</span> — roles: <span id="roles">{html.escape(", ".join(active.roles))}</span></p>'
            '<p><a id="board-link" href="/portal/">Open the live alert board</a></p>'
            f'<h2>Passkeys</h2><ul id="passkey-list">{rows}</ul>'
            '<button id="add-passkey" type="button">Add a passkey</button>'
            f'<form method="post" action="/auth/logout">{field}'
            '<button id="logout" type="submit">Log out</button></form>'
            f'<form method="post" action="/auth/logout-everywhere">{field}'
            '<button id="logout-everywhere" type="submit">Log out everywhere</button></form>')
    return _page("My account", body, data={"csrf": csrf})


# --- ceremonies (JSON) -------------------------------------------------------------------------------------


@router.post("/auth/passkeys/register/options", include_in_schema=False)
async def registration_options(request: Request, hub: HubDep) -> Response:
    """Options to create a passkey: for an invitation, or for the logged-in person (CSRF header)."""
    identity = identity_of(hub)
    body = await _json_body(identity, request)
    invitation = body.get("invitation")
    if isinstance(invitation, str):
        return _json(await run_in_threadpool(identity.passkeys.registration_options, invitation_token=invitation))
    found = _session(identity, request)
    if found is None:
        raise Unauthenticated("log in or follow an invitation first")
    _require_csrf(identity, request, found[0], request.headers.get(CSRF_HEADER))
    return _json(await run_in_threadpool(identity.passkeys.registration_options, person_id=found[1].person_id))


@router.post("/auth/passkeys/register", include_in_schema=False)
async def register(request: Request, hub: HubDep) -> Response:
    """Verify a new passkey (an invitee is logged in by it)."""
    identity = identity_of(hub)
    body = await _json_body(identity, request)
    credential, invitation = body.get("credential"), body.get("invitation")
    name = str(body.get("name") or "passkey")
    if not isinstance(credential, dict):
        raise BadRequest("credential is required")
    ip = client_ip(request)
    try:
        if isinstance(invitation, str):
            done = await run_in_threadpool(lambda: identity.passkeys.register(
                credential, invitation_token=invitation, name=name, ip=ip))
            assert done is not None
            return _logged_in(identity, request, done)
        found = _session(identity, request)
        if found is None:
            raise Unauthenticated("log in or follow an invitation first")
        _require_csrf(identity, request, found[0], request.headers.get(CSRF_HEADER))
        await run_in_threadpool(lambda: identity.passkeys.register(
            credential, person_id=found[1].person_id, name=name, ip=ip))
        return _json({"ok": True, "redirect": "/portal/me"})
    except PasskeyRefused as exc:
        raise _refused(identity, request, exc, "passkey.registration_refused", None) from None


@router.post("/auth/passkeys/login/options", include_in_schema=False)
async def login_options(request: Request, hub: HubDep) -> Response:
    """Options to log in with a discoverable passkey."""
    identity = identity_of(hub)
    await _json_body(identity, request)
    if identity.limiter.retry_after(ip=client_ip(request), account=None) > 0:
        raise TooManyRequests("too many failed attempts: try again later")
    return _json(await run_in_threadpool(identity.passkeys.login_options))


@router.post("/auth/passkeys/login", include_in_schema=False)
async def login(request: Request, hub: HubDep) -> Response:
    """Verify a passkey assertion and open a fresh session."""
    identity = identity_of(hub)
    body = await _json_body(identity, request)
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise BadRequest("credential is required")
    account = f"passkey:{str(credential.get('id', ''))[:100]}"
    ip = client_ip(request)
    if identity.limiter.retry_after(ip=ip, account=account) > 0:
        raise TooManyRequests("too many failed attempts: try again later")
    try:
        done = await run_in_threadpool(lambda: identity.passkeys.login(credential, ip=ip))
    except PasskeyRefused as exc:
        raise _refused(identity, request, exc, "passkey.login_refused", account) from None
    identity.limiter.succeeded(account=account)
    return _logged_in(identity, request, done)


# --- forms (CSRF token in the body) ------------------------------------------------------------------------


async def _form_session(identity: Identity, request: Request) -> tuple[str, ActiveSession, dict[str, str]]:
    _check_origin(identity, request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    found = _session(identity, request)
    if found is None:
        raise Unauthenticated("the session has ended: log in again")
    _require_csrf(identity, request, found[0], form.get(CSRF_FIELD))
    return found[0], found[1], form


def _to_login() -> Response:
    return RedirectResponse("/portal/login", status_code=303)


@router.post("/auth/logout", include_in_schema=False)
async def logout(request: Request, hub: HubDep) -> Response:
    """End this session."""
    identity = identity_of(hub)
    raw, _, _ = await _form_session(identity, request)
    await run_in_threadpool(identity.sessions.end, raw, ip=client_ip(request))
    response = _to_login()
    response.delete_cookie(identity.sessions.cookie_name, path="/", secure=identity.sessions.secure,
                           httponly=True, samesite="strict")
    return response


@router.post("/auth/logout-everywhere", include_in_schema=False)
async def logout_everywhere(request: Request, hub: HubDep) -> Response:
    """End every session of this person."""
    identity = identity_of(hub)
    _, active, _ = await _form_session(identity, request)
    await run_in_threadpool(lambda: identity.sessions.end_all(
        active.person_id, actor=f"person:{active.username}", ip=client_ip(request)))
    response = _to_login()
    response.delete_cookie(identity.sessions.cookie_name, path="/", secure=identity.sessions.secure,
                           httponly=True, samesite="strict")
    return response


@router.post("/auth/passkeys/revoke", include_in_schema=False)
async def revoke_passkey(request: Request, hub: HubDep) -> Response:
    """Revoke one of my passkeys."""
    identity = identity_of(hub)
    _, active, form = await _form_session(identity, request)
    await run_in_threadpool(lambda: identity.passkeys.revoke(
        active.person_id, form.get("credential_id", ""), actor=f"person:{active.username}", ip=client_ip(request)))
    return RedirectResponse("/portal/me", status_code=303)
