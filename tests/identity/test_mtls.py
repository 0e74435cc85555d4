"""Mutual TLS with real certificates: client certificate → caller, certificate-bound tokens (RFC 8705),
roots that require a certificate, and the TAXII endpoints with Basic, Bearer and mTLS callers."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jose import jwt

from tests.conftest import RunningHub
from tests.exchange.stixgen import envelope, incident, note
from tests.identity.certs import Issued, Pki
from tests.identity.conftest import TAXII, events_of, identity_of, serve_hub, stop

H = {"Accept": TAXII}
HP = {"Accept": TAXII, "Content-Type": TAXII}


@pytest.fixture(scope="module")
def certs(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Issued]:
    rogue = Pki(tmp_path_factory.mktemp("rogue"), name="Rogue CA")
    return {"server": pki.issue("server", "localhost", server=True), "police": pki.issue("police", "police-peer"),
            "foreign": pki.issue("foreign", "foreign-peer"), "unmapped": pki.issue("unmapped", "nobody"),
            "rogue": rogue.issue("rogue", "police-peer")}


@pytest.fixture(scope="module")
def hub(fresh_db_url: str, pki: Pki, certs: dict[str, Issued]) -> Iterator[RunningHub]:
    tls = {"certfile": str(certs["server"].cert), "keyfile": str(certs["server"].key), "client_ca": str(pki.ca.cert),
           "client_cert": "optional"}
    identity = {"client_certificates": [
        {"client_id": "police", "fingerprint_sha256": certs["police"].fingerprint},
        {"client_id": "foreign", "subject": certs["foreign"].subject},
    ], "client_certificate_required_roots": ["small"]}
    running = serve_hub(fresh_db_url, identity=identity, tls=tls)
    running.extra["ca"] = str(pki.ca.cert)
    yield running
    stop(running)


def client(hub: RunningHub, cert: Issued | None = None, **kw: Any) -> httpx.Client:
    ctx = ssl.create_default_context(cafile=str(hub.extra["ca"]))
    if cert is not None:
        ctx.load_cert_chain(str(cert.cert), str(cert.key))
    return httpx.Client(base_url=hub.url, verify=ctx, timeout=30, **kw)


def token(hub: RunningHub, who: str, cert: Issued | None = None) -> str:
    with client(hub, cert) as c:
        r = c.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(who, hub.secrets[who]))
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


# --- TAXII with each way in ----------------------------------------------------------------------------------


@pytest.fixture(params=["basic", "bearer", "bearer-bound", "mtls"])
def taxii_client(request: pytest.FixtureRequest, hub: RunningHub, certs: dict[str, Issued]) -> Iterator[httpx.Client]:
    method = request.param
    if method == "basic":
        c = client(hub, auth=hub.auth("police"), headers=H)
    elif method == "bearer":
        c = client(hub, headers=H | bearer(token(hub, "police")))
    elif method == "bearer-bound":
        c = client(hub, certs["police"], headers=H | bearer(token(hub, "police", certs["police"])))
    else:
        c = client(hub, certs["police"], headers=H)
    with c:
        yield c


def test_taxii_endpoints_with_each_auth_method(hub: RunningHub, taxii_client: httpx.Client) -> None:
    c = taxii_client
    discovery = c.get("/taxii2/")
    assert discovery.status_code == 200 and discovery.headers["content-type"] == TAXII
    assert discovery.json()["default"] == hub.root_url("api1")
    assert c.get("/api1/").json()["versions"] == [TAXII]
    aliases = {col.get("alias") for col in c.get("/api1/collections/").json()["collections"]}
    assert {"shared", "police-only"} <= aliases and "drop-box" not in aliases
    cid = hub.new_collection(readers=["National Police"], writers=["National Police"])
    objects = [incident(), note()]
    added = c.post(f"/api1/collections/{cid}/objects/", content=json.dumps(envelope(*objects)), headers=HP)
    assert added.status_code == 202, added.text
    status = c.get(f"/api1/status/{added.json()['id']}/").json()
    assert status["success_count"] == 2 and status["status"] == "complete"
    page = c.get(f"/api1/collections/{cid}/objects/")
    assert {o["id"] for o in page.json()["objects"]} == {o["id"] for o in objects}
    manifest = c.get(f"/api1/collections/{cid}/manifest/").json()
    assert len(manifest["objects"]) == 2
    one = c.get(f"/api1/collections/{cid}/objects/{objects[0]['id']}/versions/").json()
    assert len(one["versions"]) == 1 and one["versions"][0].startswith(objects[0]["modified"][:19])


# --- client certificates -----------------------------------------------------------------------------------


def test_a_mapped_certificate_is_a_caller_and_the_tls_extension_reaches_the_app(
        hub: RunningHub, certs: dict[str, Issued]) -> None:
    with client(hub, certs["police"]) as c:
        assert c.get("/auth/whoami").json()["subject"] == "client:police"
        assert c.get("/auth/whoami").json()["auth_method"] == "mtls"
    with client(hub, certs["foreign"]) as c:  # mapped by subject
        assert c.get("/auth/whoami").json()["subject"] == "client:foreign"


def test_an_unmapped_certificate_is_refused_and_logged(hub: RunningHub, certs: dict[str, Issued]) -> None:
    before = len(events_of(hub, "certificate.refused", "refused"))
    with client(hub, certs["unmapped"]) as c:
        r = c.get("/taxii2/", headers=H)
    assert r.status_code == 401 and r.headers["content-type"] == TAXII
    assert len(events_of(hub, "certificate.refused", "refused")) == before + 1


def test_a_certificate_of_another_ca_fails_the_handshake(hub: RunningHub, certs: dict[str, Issued]) -> None:
    with client(hub, certs["rogue"]) as c, pytest.raises((httpx.ConnectError, httpx.ReadError,
                                                          httpx.RemoteProtocolError)):
        c.get("/auth/whoami")


# --- certificate-bound tokens (RFC 8705) ---------------------------------------------------------------------


def test_a_bound_token_needs_its_certificate(hub: RunningHub, certs: dict[str, Issued]) -> None:
    bound = token(hub, "police", certs["police"])
    cnf = jwt.get_unverified_claims(bound)["cnf"]
    assert cnf == {"x5t#S256": identity_of(hub).certificates and _thumbprint(certs["police"])}
    with client(hub, certs["police"]) as c:
        assert c.get("/auth/whoami", headers=bearer(bound)).json()["auth_method"] == "bearer"
    before = len(events_of(hub, "bearer.refused", "refused"))
    with client(hub) as c:
        assert c.get("/taxii2/", headers=H | bearer(bound)).status_code == 401
    with client(hub, certs["foreign"]) as c:
        assert c.get("/taxii2/", headers=H | bearer(bound)).status_code == 401
    reasons = [e.details["reason"] for e in events_of(hub, "bearer.refused", "refused")[before:]]
    assert reasons == ["certificate-bound token presented without a client certificate",
                       "certificate-bound token presented with another certificate"]


def test_tls_client_auth_at_the_token_endpoint(hub: RunningHub, certs: dict[str, Issued]) -> None:
    form = {"grant_type": "client_credentials", "client_id": "police"}
    with client(hub, certs["police"]) as c:
        r = c.post("/oauth/token", data=form)
        assert r.status_code == 200, r.text
        assert "cnf" in jwt.get_unverified_claims(r.json()["access_token"])
    with client(hub, certs["foreign"]) as c:
        assert c.post("/oauth/token", data=form).json()["error"] == "invalid_client"
    with client(hub) as c:
        assert c.post("/oauth/token", data=form).json()["error"] == "invalid_client"


def test_a_root_that_requires_a_certificate(hub: RunningHub, certs: dict[str, Issued]) -> None:
    before = len(events_of(hub, "certificate.required", "refused"))
    with client(hub, auth=hub.auth("police"), headers=H) as c:
        assert c.get("/api1/").status_code == 200
        assert c.get("/small/").status_code == 401
    with client(hub, certs["foreign"], auth=hub.auth("police"), headers=H) as c:
        assert c.get("/small/").status_code == 401, "another client's certificate does not count"
    with client(hub, certs["police"], auth=hub.auth("police"), headers=H) as c:
        assert c.get("/small/").status_code == 200
    with client(hub, certs["police"], headers=H) as c:
        assert c.get("/small/").status_code == 200
    assert len(events_of(hub, "certificate.required", "refused")) == before + 2


def _thumbprint(cert: Issued) -> str:
    import base64

    return base64.urlsafe_b64encode(bytes.fromhex(cert.fingerprint)).rstrip(b"=").decode()
