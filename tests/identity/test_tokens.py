"""OAuth2 client credentials, RFC 9068 tokens, JWKS, rotation, revocation, and the Bearer attack suite."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from jose import jwt
from sqlalchemy import update

from exchange.identity.models import SigningKey
from exchange.services import orgs
from exchange.timestamps import now_micros
from tests.conftest import RunningHub
from tests.identity.conftest import TAXII, events_of, get_token, identity_of, serve_hub, stop

LIFETIME_MINUTES = 7


@pytest.fixture(scope="module")
def hub(fresh_db_url: str) -> Iterator[RunningHub]:
    running = serve_hub(fresh_db_url, identity={"token_lifetime_minutes": LIFETIME_MINUTES})
    yield running
    stop(running)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def whoami(hub: RunningHub, token: str) -> httpx.Response:
    return httpx.get(f"{hub.url}/auth/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def good_claims(hub: RunningHub, **changes: Any) -> dict[str, Any]:
    identity = identity_of(hub)
    org = identity.directory.org("National Police")
    assert org is not None
    now = int(time.time())
    claims = {"iss": identity.issuer, "aud": identity.tokens.audience, "sub": "client:police", "client_id": "police",
              "org": org.id, "roles": ["analyst"], "iat": now, "nbf": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def signed_with_hub_key(hub: RunningHub, claims: dict[str, Any], **header: Any) -> str:
    key = identity_of(hub).keys.active()
    headers = {"kid": key.kid, "typ": "at+jwt"} | header
    headers = {k: v for k, v in headers.items() if v is not None}
    return jwt.encode(claims, key.private_pem, algorithm="ES256", headers=headers)


def assert_refused(hub: RunningHub, token: str, reason: str) -> None:
    """The token is refused on a TAXII endpoint with a TAXII 401, and the refusal is recorded with its reason."""
    before = len(events_of(hub, "bearer.refused", "refused"))
    r = httpx.get(f"{hub.url}/taxii2/", headers={"Authorization": f"Bearer {token}", "Accept": TAXII}, timeout=30)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == TAXII and r.json()["http_status"] == "401"
    refusals = events_of(hub, "bearer.refused", "refused")
    assert len(refusals) == before + 1
    assert reason in refusals[-1].details["reason"], refusals[-1].details
    assert token not in json.dumps(refusals[-1].details)


# --- the token endpoint ------------------------------------------------------------------------------------


def test_client_credentials_issue_an_rfc9068_token_verifiable_with_the_jwks(hub: RunningHub) -> None:
    body = get_token(hub, "police")
    assert body["token_type"] == "Bearer" and body["expires_in"] == LIFETIME_MINUTES * 60
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256"
    jwks = httpx.get(f"{hub.url}/.well-known/jwks.json").json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert all("d" not in k for k in jwks["keys"])
    identity = identity_of(hub)
    claims = jwt.decode(token, jwks, algorithms=["ES256"], audience=identity.tokens.audience, issuer=identity.issuer)
    assert claims["sub"] == "client:police" and claims["client_id"] == "police"
    assert claims["exp"] - claims["iat"] == LIFETIME_MINUTES * 60
    assert sorted(claims["roles"]) == ["analyst", "producer"] and claims["jti"]
    who = whoami(hub, token).json()
    assert who == {"organisation": "National Police", "organisation_id": claims["org"], "subject": "client:police",
                   "roles": ["analyst", "producer"], "auth_method": "bearer"}
    assert events_of(hub, "token.issued")[-1].subject == claims["jti"]


def test_client_secret_post_and_scope_narrowing(hub: RunningHub) -> None:
    r = httpx.post(f"{hub.url}/oauth/token", data={"grant_type": "client_credentials", "client_id": "police",
                                                   "client_secret": hub.secrets["police"], "scope": "analyst"})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.json()["scope"] == "analyst"
    assert whoami(hub, r.json()["access_token"]).json()["roles"] == ["analyst"]


@pytest.mark.parametrize("data, auth, error", [
    pytest.param({"grant_type": "client_credentials"}, ("police", "wrong"), "invalid_client", id="wrong-secret"),
    pytest.param({"grant_type": "client_credentials"}, ("nobody", "secret"), "invalid_client", id="unknown-client"),
    pytest.param({"grant_type": "password"}, None, "unsupported_grant_type", id="password-grant"),
])
def test_token_endpoint_refusals_are_oauth_errors_and_recorded(hub: RunningHub, data: dict[str, str],
                                                               auth: tuple[str, str] | None, error: str) -> None:
    before = len(events_of(hub, "token.refused", "refused"))
    r = httpx.post(f"{hub.url}/oauth/token", data=data, auth=auth or ("police", hub.secrets["police"]))
    assert r.status_code in (400, 401) and r.json()["error"] == error
    assert len(events_of(hub, "token.refused", "refused")) == before + 1


def test_disabled_client_tokens_stop_working(hub: RunningHub) -> None:
    client_id = f"temp-{uuid.uuid4().hex[:6]}"
    _, hub.secrets[client_id] = orgs.create_client(hub.hub.db, organisation="Foreign LEA", client_id=client_id,
                                                   roles=["analyst"])
    token = get_token(hub, client_id)["access_token"]
    assert whoami(hub, token).status_code == 200
    orgs.set_client_active(hub.hub.db, client_id, False)
    identity_of(hub).directory.forget()
    assert_refused(hub, token, "client disabled")


def test_metadata_names_the_endpoints(hub: RunningHub) -> None:
    meta = httpx.get(f"{hub.url}/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == identity_of(hub).issuer
    assert meta["token_endpoint"] == f"{hub.url}/oauth/token"
    assert "tls_client_auth" in meta["token_endpoint_auth_methods_supported"]
    assert meta["tls_client_certificate_bound_access_tokens"] is True


# --- rotation and revocation -------------------------------------------------------------------------------


def test_rotation_keeps_old_tokens_valid_until_the_old_key_expires(hub: RunningHub) -> None:
    identity = identity_of(hub)
    old_token = get_token(hub, "police")["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_kid = identity.keys.rotate(actor="test")
    new_token = get_token(hub, "police")["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid != old_kid
    kids = {k["kid"] for k in httpx.get(f"{hub.url}/.well-known/jwks.json").json()["keys"]}
    assert {old_kid, new_kid} <= kids
    assert whoami(hub, old_token).status_code == 200 and whoami(hub, new_token).status_code == 200
    # Once the old key's last token would have expired, it is no longer published nor accepted.
    with hub.hub.db.write() as s:
        s.execute(update(SigningKey).where(SigningKey.kid == old_kid).values(expires_at=now_micros() - 1))
    identity.keys.refresh()
    assert old_kid not in {k["kid"] for k in httpx.get(f"{hub.url}/.well-known/jwks.json").json()["keys"]}
    assert_refused(hub, old_token, "unknown or expired key id")
    assert whoami(hub, new_token).status_code == 200
    assert [e.subject for e in events_of(hub, "key.retired")][-1] == old_kid


def test_a_client_revokes_its_token_and_it_is_refused(hub: RunningHub) -> None:
    token = get_token(hub, "police")["access_token"]
    assert whoami(hub, token).status_code == 200
    r = httpx.post(f"{hub.url}/oauth/revoke", data={"token": token}, auth=("foreign", hub.secrets["foreign"]))
    assert r.status_code == 200
    assert whoami(hub, token).status_code == 200, "another client may not revoke it"
    r = httpx.post(f"{hub.url}/oauth/revoke", data={"token": token}, auth=("police", hub.secrets["police"]))
    assert r.status_code == 200
    assert_refused(hub, token, "token revoked")
    assert events_of(hub, "token.revoked")[-1].subject == jwt.get_unverified_claims(token)["jti"]


# --- the attack suite --------------------------------------------------------------------------------------


def test_alg_none_is_refused(hub: RunningHub) -> None:
    header = {"alg": "none", "typ": "at+jwt", "kid": identity_of(hub).keys.active().kid}
    token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(good_claims(hub)).encode())}."
    assert_refused(hub, token, "algorithm 'none' is not accepted")


def test_hs256_signed_with_the_public_key_is_refused(hub: RunningHub) -> None:
    key = identity_of(hub).keys.active()
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(good_claims(hub)).encode())}"
    for secret in (json.dumps(key.public_jwk).encode(), key.verifier.to_pem()):
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert_refused(hub, f"{signing_input}.{b64(signature)}", "algorithm 'HS256' is not accepted")


def test_unknown_kid_and_missing_kid_are_refused(hub: RunningHub) -> None:
    assert_refused(hub, signed_with_hub_key(hub, good_claims(hub), kid="not-a-key-of-ours"), "unknown or expired key")
    assert_refused(hub, signed_with_hub_key(hub, good_claims(hub), kid=None), "no key id")


def test_a_token_signed_by_another_key_under_our_kid_is_refused(hub: RunningHub) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    token = jwt.encode(good_claims(hub), pem, algorithm="ES256",
                       headers={"kid": identity_of(hub).keys.active().kid, "typ": "at+jwt"})
    assert_refused(hub, token, "signature")
    assert other.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def test_expired_and_not_yet_valid_tokens_are_refused(hub: RunningHub) -> None:
    now = int(time.time())
    assert_refused(hub, signed_with_hub_key(hub, good_claims(hub, iat=now - 7200, nbf=now - 7200, exp=now - 3600)),
                   "token expired")
    assert_refused(hub, signed_with_hub_key(hub, good_claims(hub, nbf=now + 3600, exp=now + 7200)),
                   "claims rejected")


def test_wrong_audience_and_wrong_issuer_are_refused(hub: RunningHub) -> None:
    assert_refused(hub, signed_with_hub_key(hub, good_claims(hub, aud="urn:another:service")), "claims rejected")
    assert_refused(hub, signed_with_hub_key(hub, good_claims(hub, aud=None)), "\"aud\"")
    assert_refused(hub, signed_with_hub_key(hub, good_claims(hub, iss="https://evil.example")), "untrusted issuer")


def test_a_token_that_is_not_an_access_token_is_refused(hub: RunningHub) -> None:
    assert_refused(hub, signed_with_hub_key(hub, good_claims(hub), typ="JWT"), "typ must be at+jwt")


def test_garbage_is_refused(hub: RunningHub) -> None:
    assert_refused(hub, "not.a.jwt", "malformed token")


def test_the_token_endpoint_refuses_plain_http_off_loopback(hub: RunningHub) -> None:
    from exchange.identity.oauth import TokenRequest

    outcome = identity_of(hub).authorization.respond(TokenRequest(
        method="POST", uri="http://hub.example.org/oauth/token", headers={},
        form={"grant_type": "client_credentials", "client_id": "police", "client_secret": hub.secrets["police"]}))
    assert outcome.status == 400 and outcome.body["error"] == "insecure_transport"
