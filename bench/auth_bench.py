"""Identity benchmark: tokens issued and verified per second, and the latency auth adds to a TAXII page.

Prints:
  - token signing per second (ES256, in process) and token endpoint requests per second over HTTP
    (the endpoint includes the scrypt check of the client secret, which dominates it);
  - Bearer verification per second: a token's first sight (python-jose signature and claims, pinned
    algorithm/audience/issuer) and later requests with it (cached claims; keys, revocation and binding
    still checked each time);
  - the caller dependency per request, in process, for Bearer / Basic (cached) / mTLS-mapped callers;
  - p50/p99 of a TAXII objects page over HTTP with a Bearer token and with a no-op authenticator,
    interleaved, and the difference (the added latency of auth; target < 1 ms at p50).

Usage: .venv/bin/python bench/auth_bench.py [--seconds 3] [--requests 1500]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.requests import Request

from exchange.app import create_app
from exchange.auth.caller import Caller
from exchange.config import Settings
from exchange.deps import get_caller
from exchange.hub import Hub
from exchange.identity.mtls import FINGERPRINT_KEY
from exchange.identity.service import Identity
from exchange.services import bootstrap as boot
from exchange.store import migrate
from exchange.store.db import Database

TAXII = "application/taxii+json;version=2.1"
SITE = {
    "organisations": [{"name": "National Police", "type": "national_police", "country": "ES"}],
    "api_roots": [{"name": "api1", "title": "Bench", "default": True, "collections": [
        {"alias": "bench", "title": "Bench", "readers": ["*"], "writers": ["National Police"]}]}],
    "clients": [{"client_id": "police", "organisation": "National Police", "roles": ["analyst", "producer"],
                 "secret_env": "S_POLICE"}],
}
FINGERPRINT = "ab" * 32


def rate(fn: Any, seconds: float) -> float:
    """Calls per second of fn over about `seconds`."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fake_request(hub: Hub, headers: dict[str, str], tls: bool = False) -> Request:
    scope: dict[str, Any] = {
        "type": "http", "method": "GET", "path": "/api1/", "headers": [(k.lower().encode(), v.encode())
                                                                    for k, v in headers.items()],
        "query_string": b"", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 6100), "scheme": "https",
        "path_params": {"api_root": "api1"}, "app": None,
    }
    if tls:
        scope["extensions"] = {"tls": {FINGERPRINT_KEY: FINGERPRINT, "client_cert_name": "CN=bench"}}
    return Request(scope)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each rate measurement")
    parser.add_argument("--requests", type=int, default=1500, help="HTTP requests per auth method")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="popart-auth-bench-"))
    url = f"sqlite:///{tmp / 'hub.db'}"
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    secret = uuid.uuid4().hex
    settings = Settings(database_url=url, secret_key="bench-" + "x" * 40, log_format="text", log_level="WARNING",
                        identity={"client_certificates": [{"client_id": "police", "fingerprint_sha256": FINGERPRINT}],
                                  "ip_failures_per_minute": 10**9})
    hub = Hub.build(settings)
    boot.apply(hub.db, boot.SiteSpec.model_validate(SITE), env={"S_POLICE": secret})
    identity: Identity = hub.extras["identity"]  # type: ignore[assignment]
    org = identity.directory.org("National Police")
    assert org is not None
    bench_caller = Caller(org_id=org.id, org_name=org.name, org_type=org.type, subject="client:bench",
                          auth_method="none", roles=frozenset({"analyst"}))

    def null_authenticator(request: Request) -> Caller | None:
        return bench_caller if request.headers.get("x-bench-caller") else None

    hub.authenticators.insert(0, null_authenticator)  # through the hub's own registry, not a patch

    # --- tokens in process --------------------------------------------------------------------------------
    issued = identity.tokens.issue(client_id="police", org_id=org.id, roles=["analyst"], scope=None)
    fresh: list[str] = []
    sign_rate = rate(lambda: fresh.append(identity.tokens.issue(
        client_id="police", org_id=org.id, roles=["analyst"], scope=None).access_token), args.seconds)
    start = time.perf_counter()
    for token_text in fresh:  # each token seen for the first time: signature and claims checked
        identity.tokens.verify(token_text, cert_thumbprint=None)
    first_verify_rate = len(fresh) / (time.perf_counter() - start)
    verify_rate = rate(lambda: identity.tokens.verify(issued.access_token, cert_thumbprint=None), args.seconds)

    # --- the caller dependency in process -----------------------------------------------------------------
    import base64

    basic = "Basic " + base64.b64encode(f"police:{secret}".encode()).decode()
    per_call: dict[str, float] = {}
    for name, headers, tls in (("bearer", {"authorization": f"Bearer {issued.access_token}"}, False),
                               ("basic (cached)", {"authorization": basic}, False),
                               ("mtls", {}, True)):
        request = fake_request(hub, headers, tls)
        get_caller(request, hub)
        samples = []
        for _ in range(3000):
            start = time.perf_counter()
            get_caller(fake_request(hub, headers, tls), hub)
            samples.append(time.perf_counter() - start)
        per_call[name] = statistics.median(samples) * 1e6

    # --- over HTTP ----------------------------------------------------------------------------------------
    from exchange.services import bootstrap as _b

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, hub=hub), host="127.0.0.1", port=port,
                                           log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    cid = str(uuid.uuid5(_b.COLLECTION_NAMESPACE, "api1/bench"))
    objects = [{"type": "note", "spec_version": "2.1", "id": f"note--{uuid.uuid4()}",
                "created": "2026-06-01T10:00:00.000Z", "modified": "2026-06-01T10:00:00.000Z",
                "content": f"bench {i}", "object_refs": [f"incident--{uuid.uuid4()}"]} for i in range(20)]
    with httpx.Client(base_url=base, timeout=30) as c:
        r = c.post(f"/api1/collections/{cid}/objects/", content=json.dumps({"objects": objects}),
                   headers={"Accept": TAXII, "Content-Type": TAXII, "X-Bench-Caller": "1"})
        assert r.status_code == 202, r.text
        endpoint_rate = rate(lambda: c.post("/oauth/token", data={"grant_type": "client_credentials"},
                                            auth=("police", secret)).raise_for_status(), args.seconds)
        # Same roles as the no-op caller, so both requests read the same ACL rows.
        token = c.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "analyst"},
                       auth=("police", secret)).json()
        page = f"/api1/collections/{cid}/objects/?limit=10"
        heads = {"bearer": {"Accept": TAXII, "Authorization": f"Bearer {token['access_token']}"},
                 "none": {"Accept": TAXII, "X-Bench-Caller": "1"}}
        latencies: dict[str, list[float]] = {"bearer": [], "none": []}
        for _ in range(100):  # warm up both paths
            for h in heads.values():
                c.get(page, headers=h).raise_for_status()
        for _ in range(args.requests):
            for name, h in heads.items():
                start = time.perf_counter()
                c.get(page, headers=h).raise_for_status()
                latencies[name].append(time.perf_counter() - start)
    server.should_exit = True
    thread.join(timeout=10)
    hub.stop()

    print(f"token signing (ES256, in process):        {sign_rate:8.0f} tokens/s")
    print(f"token endpoint over HTTP (incl. scrypt):   {endpoint_rate:8.1f} tokens/s")
    print(f"token verification, first sight (jose):   {first_verify_rate:8.0f} verifications/s")
    print(f"token verification, seen before (cache):   {verify_rate:8.0f} verifications/s")
    for name, micros in per_call.items():
        print(f"caller dependency, {name:<16} p50:   {micros:8.1f} us")
    for name, values in latencies.items():
        print(f"TAXII objects page, auth={name:<7} p50 {percentile(values, .5) * 1e3:6.3f} ms  "
              f"p99 {percentile(values, .99) * 1e3:6.3f} ms  (n={len(values)})")
    added = (percentile(latencies["bearer"], .5) - percentile(latencies["none"], .5)) * 1e3
    print(f"added latency of Bearer auth at p50:       {added:6.3f} ms  (target < 1 ms)")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
