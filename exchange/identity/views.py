"""Identity endpoints for machines: token, revocation, JWKS, server metadata, whoami, invitations."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from exchange.deps import CallerDep, HubDep
from exchange.errors import BadRequest, NotFound
from exchange.identity import events
from exchange.identity import people as person_service
from exchange.identity.mtls import peer_certificate
from exchange.identity.oauth import AUTH_METHODS, TokenRequest
from exchange.identity.service import Identity, client_ip
from exchange.identity.tokens import TokenRefused

router = APIRouter()
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def identity_of(hub: Any) -> Identity:
    """The identity services of this hub."""
    identity: Identity = hub.extras["identity"]
    return identity


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json",
                    headers={**_NO_STORE, **(headers or {})})


async def _form(request: Request) -> dict[str, str]:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise BadRequest("the token endpoint takes application/x-www-form-urlencoded")
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _uri(identity: Identity, request: Request) -> str:
    return f"{identity.settings.public_url}{request.url.path}" if identity.settings.public_url else str(request.url)


@router.post("/oauth/token", include_in_schema=False)
async def token(request: Request, hub: HubDep) -> Response:
    """OAuth2 token endpoint (client-credentials grant; client_secret_basic/post or tls_client_auth)."""
    identity = identity_of(hub)
    form = await _form(request)
    req = TokenRequest(method="POST", uri=_uri(identity, request), headers=request.headers, form=form,
                       certificate=peer_certificate(request), ip=client_ip(request))
    from exchange.identity.service import basic_account

    account = form.get("client_id") or basic_account(request)
    wait = identity.limiter.retry_after(ip=req.ip, account=account)
    if wait > 0:
        return _json({"error": "temporarily_unavailable", "error_description": "too many failed attempts"}, 429,
                     {"Retry-After": str(int(wait) + 1)})
    outcome = await run_in_threadpool(identity.authorization.respond, req)
    if outcome.status == 200:
        identity.limiter.succeeded(account=account)
        claims = outcome.claims
        await run_in_threadpool(events.record, identity.db, kind="token.issued", org_id=claims.get("org"),
                                actor=claims.get("sub"), subject=claims.get("jti"), ip=req.ip,
                                certificate_bound="cnf" in claims, expires=claims.get("exp"))
    else:
        error = outcome.body.get("error") if isinstance(outcome.body, dict) else None
        if error == "invalid_client":
            identity.limiter.failed(ip=req.ip, account=account)
        await run_in_threadpool(events.refused, identity.db, "token.refused", str(error), ip=req.ip,
                                subject=f"client:{account}"[:200] if account else None)
    headers = {k: v for k, v in outcome.headers if k.lower() != "content-type"}
    return _json(outcome.body, outcome.status, headers)


@router.post("/oauth/revoke", include_in_schema=False)
async def revoke(request: Request, hub: HubDep) -> Response:
    """RFC 7009: a client revokes one of its own tokens (answers 200 whatever the token was)."""
    identity = identity_of(hub)
    form = await _form(request)
    if not form.get("token"):
        return _json({"error": "invalid_request", "error_description": "token is required"}, 400)
    req = TokenRequest(method="POST", uri=_uri(identity, request), headers=request.headers,
                       form={k: v for k, v in form.items() if k in ("client_id", "client_secret")} | {
                           "grant_type": "client_credentials"},
                       certificate=peer_certificate(request), ip=client_ip(request))
    client_id = await run_in_threadpool(_authenticated_client, identity, req)
    if client_id is None:
        return _json({"error": "invalid_client"}, 401)
    try:
        cert = req.certificate
        claims = identity.tokens.verify(form["token"], cert_thumbprint=cert.thumbprint if cert else None)
    except TokenRefused:
        return _json({})
    if claims.get("client_id") == client_id:
        await run_in_threadpool(identity.revocations.revoke, claims["jti"], expires_at=int(claims["exp"]) * 1_000_000,
                                reason="revoked by its client", actor=f"client:{client_id}", org_id=claims.get("org"))
    return _json({})


def _authenticated_client(identity: Identity, req: TokenRequest) -> str | None:
    from authlib.oauth2.rfc6749.errors import OAuth2Error

    request = identity.authorization.create_oauth2_request(req)
    try:
        client = identity.authorization.authenticate_client(request, AUTH_METHODS, "revocation")
    except OAuth2Error:
        return None
    return str(client.get_client_id())


@router.get("/.well-known/jwks.json", include_in_schema=False)
def jwks(hub: HubDep) -> Response:
    """The public keys that verify the hub's access tokens (current and recently retired)."""
    return Response(json.dumps(identity_of(hub).keys.jwks()), media_type="application/jwk-set+json",
                    headers={"Cache-Control": "max-age=60"})


@router.get("/.well-known/oauth-authorization-server", include_in_schema=False)
def metadata(hub: HubDep) -> Response:
    """RFC 8414 authorization server metadata."""
    identity = identity_of(hub)
    base = identity.base_url
    return _json({
        "issuer": identity.issuer, "token_endpoint": f"{base}/oauth/token", "jwks_uri": f"{base}/.well-known/jwks.json",
        "revocation_endpoint": f"{base}/oauth/revoke", "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "tls_client_certificate_bound_access_tokens": identity.conf.bind_tokens_to_certificates,
        "scopes_supported": identity.authorization.scopes_supported,
        "token_endpoint_auth_signing_alg_values_supported": [identity.conf.signing_algorithm],
    })


@router.get("/auth/whoami", include_in_schema=False)
def whoami(caller: CallerDep) -> Response:
    """Who the hub takes the caller to be."""
    return _json({"organisation": caller.org_name, "organisation_id": caller.org_id, "subject": caller.subject,
                  "roles": sorted(caller.roles), "auth_method": caller.auth_method})


class InvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=200)
    display_name: str = Field(default="", max_length=200)
    roles: list[str] = Field(default_factory=list)
    organisation: str | None = Field(default=None, description="Only a hub administrator may name another org")


def _admin_scope(caller: Any, organisation: str | None) -> str | None:
    """The org an administrator may act on (None: any, for a hub administrator); NotFound otherwise."""
    hub_admin = caller.org_type == "hub_operator" and "admin" in caller.roles
    if "admin" not in caller.roles:
        raise NotFound("no such resource")
    if organisation in (None, caller.org_id, caller.org_name):
        return None if hub_admin and organisation is None else str(caller.org_id)
    if not hub_admin:
        raise NotFound("no such resource")
    return organisation


@router.post("/identity/invitations", include_in_schema=False)
def create_invitation(body: InvitationIn, hub: HubDep, caller: CallerDep) -> Response:
    """An organisation administrator invites a person (a hub administrator may invite into any org)."""
    identity = identity_of(hub)
    org = _admin_scope(caller, body.organisation) or caller.org_id
    inv, token = identity.passkeys.invite(organisation=org, username=body.username,
                                          display_name=body.display_name, roles=body.roles, actor=caller.subject)
    return _json({"invitation_url": f"{identity.base_url}/portal/invitations/{token}",
                  "expires_at": inv.expires_at // 1_000_000, "username": inv.username}, 201)


@router.get("/identity/people", include_in_schema=False)
def list_people(hub: HubDep, caller: CallerDep) -> Response:
    """The people of the administrator's organisation (every organisation for a hub administrator)."""
    people = person_service.get_all(hub.db, org_id=_admin_scope(caller, None))
    return _json({"people": [{"username": p.username, "display_name": p.display_name, "roles": p.roles,
                              "active": p.active, "organisation_id": p.org_id} for p in people]})


class PersonChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[str] | None = None
    active: bool | None = None


@router.patch("/identity/people/{username}", include_in_schema=False)
def change_person(username: str, body: PersonChange, hub: HubDep, caller: CallerDep) -> Response:
    """Change a person's roles, or disable them (every session ends)."""
    person = person_service.update_person(hub.db, username=username, actor=caller.subject,
                                          org_id=_admin_scope(caller, None), roles=body.roles, active=body.active)
    return _json({"username": person.username, "roles": person.roles, "active": person.active})
