"""Detection-to-screen latency of the live stream: an alert posted over TAXII -> the event read by SSE clients.

A hub runs in its own process (`popart serve`) on SQLite or PostgreSQL with the demo organisations; this process
holds N server-sent-event connections (spread over four organisations' credentials, each seeing the alert through
the same ACL as TAXII) and posts alerts one at a time. Latency = time from just before the POST to the moment a
client has parsed the event; p50/p99 over every (client, alert) pair.

    python bench/stream_bench.py                          # 100 clients, 30 alerts, sqlite
    python bench/stream_bench.py --clients 100 --alerts 30 --backend postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TAXII = "application/taxii+json;version=2.1"
PG_ADMIN = os.environ.get("POPART_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PN, PSP, MAD, SEV = "policia-nacional-es", "psp-pt", "ayto-madrid", "ayto-sevilla"
SITE: dict[str, Any] = {
    "organisations": [
        {"id": PN, "name": "Policía Nacional", "type": "national_police", "country": "ES"},
        {"id": PSP, "name": "Polícia de Segurança Pública", "type": "associated_lea", "country": "PT"},
        {"id": MAD, "name": "Ayuntamiento de Madrid", "type": "local_authority", "country": "ES", "area": "madrid"},
        {"id": SEV, "name": "Ayuntamiento de Sevilla", "type": "local_authority", "country": "ES", "area": "sevilla"},
    ],
    "api_roots": [{"name": "popart", "title": "POP-ART", "default": True, "collections": [
        {"alias": "alerts", "title": "Alerts", "readers": ["*"], "writers": [PN]}]}],
    "clients": [
        {"client_id": "pn", "organisation": PN, "roles": ["coordinator", "analyst"], "secret_env": "S1"},
        {"client_id": "psp", "organisation": PSP, "roles": ["analyst"], "secret_env": "S2"},
        {"client_id": "mad", "organisation": MAD, "roles": ["field_officer"], "secret_env": "S3"},
        {"client_id": "sev", "organisation": SEV, "roles": ["field_officer"], "secret_env": "S4"},
    ],
}
READERS = ("pn", "psp", "mad", "sev")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database(backend: str, workdir: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'stream.db'}", None
    name = f"popart_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}", name


def start_hub(url: str) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    from exchange.services import bootstrap as boot
    from exchange.store import migrate
    from exchange.store.db import Database

    db = Database(url)
    migrate.upgrade(db)
    env_secrets = {f"S{i}": uuid.uuid4().hex for i in range(1, 5)}
    boot.apply(db, boot.SiteSpec.model_validate(SITE), env=env_secrets)
    db.dispose()
    secrets = {c["client_id"]: env_secrets[c["secret_env"]] for c in SITE["clients"]}
    port = free_port()
    env = dict(os.environ, POPART_DATABASE_URL=url, POPART_SECRET_KEY="b" * 48, POPART_LOG_LEVEL="WARNING",
               POPART_POLICY_RELOAD_SECONDS="0", POPART_VALIDATION_WORKERS="0")
    proc = subprocess.Popen([sys.executable, "-m", "exchange.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("the hub did not start")
        time.sleep(0.2)
    return proc, base, secrets


def alert(i: int) -> dict[str, object]:
    from stix_profiles import build_alert

    objs = build_alert(name=f"bench alert {i}", detection_refs=[], venue="Estadio", municipality="madrid",
                       tlp="clear", key=f"stream-bench-{uuid.uuid4()}", categories=["crowd-density"])
    return objs[0]


async def client(http: httpx.AsyncClient, base: str, auth: tuple[str, str], seen: dict[str, list[float]],
                 ready: asyncio.Event, counter: list[int], total: int) -> None:
    async with http.stream("GET", f"{base}/stream/events", params={"types": "incident"}, auth=auth,
                           headers={"Accept": "text/event-stream"}) as response:
        response.raise_for_status()
        counter[0] += 1
        if counter[0] == total:
            ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                now = time.perf_counter()
                seen.setdefault(json.loads(line[6:])["id"], []).append(now)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run(base: str, secrets: dict[str, str], clients: int, alerts: int, gap: float) -> list[float]:
    seen: dict[str, list[float]] = {}
    ready = asyncio.Event()
    counter = [0]
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None), limits=limits) as http, \
            httpx.AsyncClient(base_url=base, auth=("pn", secrets["pn"]), timeout=30,
                              headers={"Accept": TAXII, "Content-Type": TAXII}) as poster:
        tasks = [asyncio.create_task(client(http, base, (r, secrets[r]), seen, ready, counter, clients))
                 for r in (READERS[i % len(READERS)] for i in range(clients))]
        await asyncio.wait_for(ready.wait(), 60)
        await asyncio.sleep(1.0)
        sent: dict[str, float] = {}
        for i in range(alerts):
            obj = alert(i)
            sent[str(obj["id"])] = time.perf_counter()
            r = await poster.post("/popart/collections/alerts/objects/", content=json.dumps({"objects": [obj]}))
            assert r.status_code == 202 and r.json()["success_count"] == 1, r.text
            await asyncio.sleep(gap)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(len(seen.get(k, [])) < clients for k in sent):
            await asyncio.sleep(0.1)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    missing = sum(clients - len(seen.get(k, [])) for k in sent)
    if missing:
        print(f"WARNING: {missing} (client, alert) events missing")  # noqa: T201
    return [(t - sent[k]) * 1000 for k in sent for t in seen.get(k, [])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--alerts", type=int, default=30)
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between alerts")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, pg_name = database(args.backend, Path(tmp))
        proc, base, secrets = start_hub(url)
        try:
            latencies = asyncio.run(run(base, secrets, args.clients, args.alerts, args.gap))
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            if pg_name:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    print(f"stream latency ({args.backend}, {args.clients} SSE clients over 4 organisations, {args.alerts} alerts, "  # noqa: T201
          f"{len(latencies)} events): p50 {pct(latencies, 0.5):.1f} ms  p99 {pct(latencies, 0.99):.1f} ms  "
          f"max {max(latencies):.1f} ms  (target p99 < 250 ms)")


if __name__ == "__main__":
    main()
