"""Federation: a second, real OIDC issuer (discovery + JWKS over HTTP) whose tokens the hub accepts by config."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from jose import jwk, jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import RunningHub, free_port
from tests.identity.conftest import TAXII, events_of, serve_hub, stop

AUDIENCE = "popart-hub"


@dataclass
class Issuer:
    """A tiny OIDC provider: RSA keys it can rotate, its discovery document and JWKS, and a token minter."""

    url: str = ""
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    fetches: int = 0

    def add_key(self) -> str:
        kid = uuid.uuid4().hex[:12]
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, key in self.keys.items():
            pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
            public = jwk.construct(pem, "RS256").to_dict()
            item = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in public.items()}
            out.append(item | {"kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": out}

    def token(self, kid: str | None = None, **changes: Any) -> str:
        kid = kid or next(iter(self.keys))
        now = int(time.time())
        claims = {"iss": self.url, "aud": AUDIENCE, "sub": "officer-17", "iat": now, "exp": now + 300,
                  "agency": "policia-es", "groups": ["idp-analysts", "idp-unknown"]} | changes
        pem = self.keys[kid].private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, pem, algorithm="RS256",
                          headers={"kid": kid})


def serve_issuer(issuer: Issuer) -> uvicorn.Server:
    async def discovery(request: Request) -> JSONResponse:
        return JSONResponse({"issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks",
                             "id_token_signing_alg_values_supported": ["RS256"]})

    async def jwks(request: Request) -> JSONResponse:
        issuer.fetches += 1
        return JSONResponse(issuer.jwks())

    port = free_port()
    issuer.url = f"http://127.0.0.1:{port}"
    app = Starlette(routes=[Route("/.well-known/openid-configuration", discovery), Route("/jwks", jwks)])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the issuer did not start"
        time.sleep(0.02)
    return server


@pytest.fixture(scope="module")
def idp() -> Iterator[Issuer]:
    issuer = Issuer()
    issuer.add_key()
    server = serve_issuer(issuer)
    yield issuer
    server.should_exit = True


@pytest.fixture(scope="module")
def city_idp() -> Iterator[Issuer]:
    issuer = Issuer()
    issuer.add_key()
    server = serve_issuer(issuer)
    yield issuer
    server.should_exit = True


@pytest.fixture(scope="module")
def hub(fresh_db_url: str, idp: Issuer, city_idp: Issuer) -> Iterator[RunningHub]:
    trusted = {"issuer": idp.url, "audience": AUDIENCE, "algorithms": ["RS256"], "organisation_claim": "agency",
               "organisation_map": {"policia-es": "National Police", "psp-pt": "Foreign LEA"},
               "roles_claim": "groups", "roles_map": {"idp-analysts": "analyst", "idp-field": "field_officer"},
               "jwks_miss_refresh_seconds": 0}
    city = {"issuer": city_idp.url, "audience": AUDIENCE, "organisation": "City of Madrid", "roles_claim": "scope"}
    running = serve_hub(fresh_db_url, identity={"trusted_issuers": [trusted, city]})
    yield running
    stop(running)


def call(hub: RunningHub, token: str, path: str = "/auth/whoami") -> httpx.Response:
    return httpx.get(f"{hub.url}{path}", headers={"Authorization": f"Bearer {token}", "Accept": TAXII}, timeout=30)


def refused(hub: RunningHub, token: str, reason: str) -> None:
    before = len(events_of(hub, "bearer.refused", "refused"))
    r = call(hub, token, "/taxii2/")
    assert r.status_code == 401, r.text
    last = events_of(hub, "bearer.refused", "refused")
    assert len(last) == before + 1 and reason in last[-1].details["reason"], last[-1].details


def test_a_federated_token_maps_to_organisation_and_roles(hub: RunningHub, idp: Issuer) -> None:
    r = call(hub, idp.token())
    assert r.status_code == 200, r.text
    assert r.json() | {"organisation_id": ""} == {
        "organisation": "National Police", "organisation_id": "", "subject": "oidc:officer-17@127.0.0.1",
        "roles": ["analyst"], "auth_method": "oidc"}
    r = call(hub, idp.token(agency="psp-pt"), "/api1/collections/")
    assert r.status_code == 200 and r.headers["content-type"] == TAXII
    assert "police-only" not in {c.get("alias") for c in r.json()["collections"]}


def test_a_single_organisation_issuer_with_space_separated_roles(hub: RunningHub, city_idp: Issuer) -> None:
    r = call(hub, city_idp.token(sub="duty-4", scope="field_officer coordinator superuser", agency=None))
    assert r.status_code == 200, r.text
    assert r.json()["organisation"] == "City of Madrid"
    assert r.json()["roles"] == ["coordinator", "field_officer"], "roles the hub does not know are dropped"


def test_keys_are_cached_and_a_rotated_key_is_fetched(hub: RunningHub, idp: Issuer) -> None:
    assert call(hub, idp.token()).status_code == 200
    fetches = idp.fetches
    assert call(hub, idp.token()).status_code == 200
    assert idp.fetches == fetches, "the JWKS is cached"
    new_kid = idp.add_key()
    assert call(hub, idp.token(kid=new_kid)).status_code == 200
    assert idp.fetches == fetches + 1


def test_federated_attacks_are_refused(hub: RunningHub, idp: Issuer) -> None:
    refused(hub, idp.token(aud="someone-else"), "claims rejected")
    refused(hub, idp.token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200), "token expired")
    refused(hub, idp.token(agency="unknown-agency"), "not a member")
    refused(hub, idp.token(agency=None), "claim agency is missing")
    stranger = Issuer(url="http://127.0.0.1:1")
    stranger.add_key()
    refused(hub, stranger.token(), "untrusted issuer")
    # The trusted issuer's name on a token signed by a key it never published.
    impostor = Issuer(url=idp.url)
    impostor.add_key()
    refused(hub, impostor.token(), "unknown key id")
    # HS256 keyed with the issuer's public key: not one of the pinned algorithms.
    pem = next(iter(idp.keys.values())).public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "kid": next(iter(idp.keys))}).encode())
    body = b64(json.dumps({"iss": idp.url, "aud": AUDIENCE, "sub": "x", "agency": "policia-es", "iat": now,
                           "exp": now + 60}).encode())
    sig = b64(hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest())
    refused(hub, f"{head}.{body}.{sig}", "algorithm 'HS256' is not accepted")
