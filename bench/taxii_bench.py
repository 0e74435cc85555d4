"""TAXII 2.1 throughput and latency: POP-ART hub (SQLite, PostgreSQL) side by side with medallion.

Prints, per backend: ingest objects/s (envelopes over HTTP), full-poll objects/s (every page via `next`),
and the latency of the first 100-object page (p50/p95) as the collection grows through the given sizes.
Each server runs in its own process on 127.0.0.1; this process is the client.

    python bench/taxii_bench.py                               # 10k, 100k, 1M on sqlite and postgres + medallion
    python bench/taxii_bench.py --sizes 10000 --backends sqlite --no-medallion
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TAXII = "application/taxii+json;version=2.1"
HEADERS = {"Accept": TAXII, "Content-Type": TAXII}
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
PG_ADMIN = os.environ.get("POPART_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
console = Console(width=150)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_objects(n: int, start: int) -> list[dict[str, Any]]:
    """A mix shaped like the hub's traffic: notes, incidents, locations, sightings-like relationships."""
    out = []
    for i in range(start, start + n):
        t = f"2026-06-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i // 60) % 60:02d}.{i % 1000:03d}Z"
        oid = uuid.uuid4()
        kind = i % 4
        if kind == 0:
            out.append({"type": "note", "spec_version": "2.1", "id": f"note--{oid}", "created": t, "modified": t,
                        "content": f"Steward report {i}: crowd building up at gate {i % 12}",
                        "object_refs": [f"incident--{uuid.uuid4()}"], "object_marking_refs": [TLP_GREEN]})
        elif kind == 1:
            out.append({"type": "incident", "spec_version": "2.1", "id": f"incident--{oid}", "created": t,
                        "modified": t, "name": f"Crowd density above threshold, zone {i % 40}",
                        "object_marking_refs": [TLP_GREEN]})
        elif kind == 2:
            out.append({"type": "location", "spec_version": "2.1", "id": f"location--{oid}", "created": t,
                        "modified": t, "latitude": 40.0 + (i % 1000) / 1e4, "longitude": -3.7 - (i % 997) / 1e4,
                        "object_marking_refs": [TLP_GREEN]})
        else:
            out.append({"type": "relationship", "spec_version": "2.1", "id": f"relationship--{oid}",
                        "created": t, "modified": t, "relationship_type": "related-to",
                        "source_ref": f"incident--{uuid.uuid4()}", "target_ref": f"location--{uuid.uuid4()}",
                        "object_marking_refs": [TLP_GREEN]})
    return out


@dataclass
class Target:
    name: str
    base: str
    collection_url: str
    auth: tuple[str, str]
    proc: subprocess.Popen[bytes]
    cleanup: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        for fn in self.cleanup:
            fn()


def wait_up(url: str, auth: tuple[str, str], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, auth=auth, headers=HEADERS, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def start_popart(backend: str, workdir: Path, policy: str = "embedded", orgs: int = 4,
                 validation: str = "full") -> Target:
    from exchange.services import bootstrap as boot
    from exchange.store import migrate
    from exchange.store.db import Database

    cleanup = []
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        name = f"popart_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"

        def drop() -> None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cleanup.append(drop)
    secret = uuid.uuid4().hex
    db = Database(url)
    migrate.upgrade(db)
    extra = [{"name": f"Municipality {i}", "type": "local_authority", "country": "ES", "area": f"area-{i}"}
             for i in range(max(0, orgs - 1))]
    site = boot.SiteSpec.model_validate({
        "organisations": [{"name": "Bench Police", "type": "national_police", "country": "ES"}, *extra],
        "api_roots": [{"name": "bench", "title": "Bench", "default": True, "max_content_length": 200_000_000,
                       "collections": [{"alias": "c", "title": "C", "readers": ["*"], "writers": ["*"]}]}],
        "clients": [{"client_id": "bench", "organisation": "Bench Police", "roles": ["analyst"],
                     "secret_env": "BENCH_SECRET"}],
    })
    boot.apply(db, site, env={"BENCH_SECRET": secret})
    db.dispose()
    port = free_port()
    env = dict(os.environ, POPART_DATABASE_URL=url, POPART_SECRET_KEY="b" * 48, POPART_LOG_LEVEL="WARNING",
               POPART_INGEST_SYNC_MAX_OBJECTS="100000", POPART_MAX_PAGE_SIZE="1000", POPART_POLICY_ENGINE=policy,
               POPART_POLICY_RELOAD_SECONDS="0", POPART_INGEST_VALIDATION=validation)
    proc = subprocess.Popen([sys.executable, "-m", "exchange.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    cid = str(uuid.uuid5(boot.COLLECTION_NAMESPACE, "bench/c"))
    auth = ("bench", secret)
    wait_up(f"{base}/taxii2/", auth, proc)
    name = f"popart/{backend}" + ("" if policy == "embedded" else f"/policy-{policy}") + (
        "" if validation == "full" else f"/{validation}")
    return Target(name, base, f"{base}/bench/collections/{cid}/", auth, proc, cleanup)


def start_medallion(workdir: Path) -> Target:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cid = str(uuid.uuid4())
    data = {
        "/discovery": {"title": "medallion", "api_roots": [f"{base}/bench/"], "default": f"{base}/bench/"},
        "bench": {
            "information": {"title": "Bench", "versions": [TAXII], "max_content_length": 200_000_000},
            "status": [],
            "collections": [{"id": cid, "title": "C", "can_read": True, "can_write": True,
                             "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}],
        },
    }
    (workdir / "data.json").write_text(json.dumps(data))
    config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                          "filename": str(workdir / "data.json")},
              "users": {"bench": "bench-secret"}, "taxii": {"max_page_size": 1000}}
    (workdir / "config.json").write_text(json.dumps(config))
    proc = subprocess.Popen([sys.executable, "-c", "from medallion.scripts.run import main; main()",
                             "--port", str(port), "--log-level", "ERROR", str(workdir / "config.json")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    auth = ("bench", "bench-secret")
    wait_up(f"{base}/taxii2/", auth, proc)
    return Target("medallion/memory", base, f"{base}/bench/collections/{cid}/", auth, proc)


def ingest(t: Target, client: httpx.Client, count: int, start: int, batch: int, progress: Progress,
           deadline: float) -> tuple[int, float]:
    """POST `count` objects in envelopes of `batch`; returns (objects stored, seconds)."""
    task = progress.add_task(f"{t.name}: ingest", total=count)
    done = 0
    elapsed = 0.0
    while done < count and time.monotonic() < deadline:
        n = min(batch, count - done)
        body = json.dumps({"objects": make_objects(n, start + done)})
        t0 = time.perf_counter()
        r = client.post(t.collection_url + "objects/", content=body, headers=HEADERS)
        if r.status_code != 202:
            raise RuntimeError(f"{t.name}: POST answered {r.status_code}: {r.text[:300]}")
        status = r.json()
        while status.get("status") != "complete":
            time.sleep(0.01)
            status = client.get(f"{t.base}/bench/status/{status['id']}/", headers=HEADERS).json()
        elapsed += time.perf_counter() - t0
        if status.get("success_count") != n:
            raise RuntimeError(f"{t.name}: {status.get('failure_count')} failures: {str(status)[:300]}")
        done += n
        progress.update(task, completed=done)
    progress.remove_task(task)
    return done, elapsed


def full_poll(t: Target, client: httpx.Client, progress: Progress, expected: int,
              page: int = 1000) -> tuple[int, float]:
    task = progress.add_task(f"{t.name}: full poll", total=expected)
    got = 0
    params: dict[str, Any] = {"limit": page}
    t0 = time.perf_counter()
    while True:
        r = client.get(t.collection_url + "objects/", params=params, headers=HEADERS)
        body = r.json()
        got += len(body.get("objects", []))
        progress.update(task, completed=got)
        if not body.get("more"):
            break
        params = {"limit": page, "next": body["next"]}
    elapsed = time.perf_counter() - t0
    progress.remove_task(task)
    return got, elapsed


def first_page(t: Target, client: httpx.Client, repeats: int) -> tuple[float, float]:
    lat = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = client.get(t.collection_url + "objects/", params={"limit": 100}, headers=HEADERS)
        lat.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200 and len(r.json()["objects"]) == 100
    lat.sort()
    return statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]


def run_target(t: Target, sizes: list[int], batch: int, repeats: int, poll_max: int,
               time_budget: float) -> list[dict[str, Any]]:
    rows = []
    stored = 0
    deadline = time.monotonic() + time_budget
    with httpx.Client(auth=t.auth, timeout=600) as client, Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeRemainingColumn(), console=console, transient=True) as progress:
        for size in sizes:
            n, secs = ingest(t, client, size - stored, stored, batch, progress, deadline)
            stored += n
            if stored < size:
                rows.append({"target": t.name, "size": size, "note": f"stopped at {stored}: time budget"})
                break
            p50, p95 = first_page(t, client, repeats)
            row: dict[str, Any] = {"target": t.name, "size": size, "ingest": n / secs if secs else 0.0,
                                   "p50": p50, "p95": p95}
            if size <= poll_max:
                got, psecs = full_poll(t, client, progress, size)
                row["poll"] = got / psecs
                if got != size:
                    row["note"] = f"polled {got} of {size}"
            rows.append(row)
            console.log(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--batch", type=int, default=5000, help="objects per POST")
    ap.add_argument("--repeats", type=int, default=50, help="first-page requests per size")
    ap.add_argument("--poll-max", type=int, default=100000, help="largest size that gets a full poll")
    ap.add_argument("--no-medallion", action="store_true")
    ap.add_argument("--policies", default="embedded", help="policy engines to compare: embedded,builtin")
    ap.add_argument("--orgs", type=int, default=50, help="organisations on the hub (policy audiences)")
    ap.add_argument("--validation", default="full", choices=["full", "structural"],
                    help="ingest checks: full (structure + stix2 + profile) or structural (structure + profile)")
    ap.add_argument("--medallion-sizes", default="1000,4000")
    ap.add_argument("--medallion-budget", type=float, default=300.0, help="seconds medallion may take in all")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: list[dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="popart-bench-"))
    try:
        targets = []
        if not args.no_medallion:
            msizes = [int(s) for s in args.medallion_sizes.split(",")]
            t = start_medallion(work)
            try:
                results += run_target(t, msizes, min(args.batch, 1000), 10, max(msizes), args.medallion_budget)
            finally:
                t.stop()
            # The same small sizes on the POP-ART hub, for the ratio.
            for backend in args.backends.split(","):
                sub = work / f"small-{backend}"
                sub.mkdir()
                t = start_popart(backend, sub)
                try:
                    results += run_target(t, msizes, min(args.batch, 1000), 10, max(msizes), 3600)
                finally:
                    t.stop()
        for backend in args.backends.split(","):
            for policy in args.policies.split(","):
                sub = work / f"{backend}-{policy}"
                sub.mkdir()
                t = start_popart(backend, sub, policy, args.orgs, args.validation)
                targets.append(t)
                try:
                    results += run_target(t, sizes, args.batch, args.repeats, args.poll_max, 3600)
                finally:
                    t.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results)


def report(results: list[dict[str, Any]]) -> None:
    table = Table("target", "objects", "ingest obj/s", "full poll obj/s", "first page p50 ms", "p95 ms", "note",
                  title="TAXII 2.1 benchmark (client and server on this machine)")
    for r in results:
        table.add_row(r["target"], f"{r['size']:,}", f"{r.get('ingest', 0):,.0f}", f"{r.get('poll', 0):,.0f}"
                      if "poll" in r else "-", f"{r.get('p50', 0):.1f}", f"{r.get('p95', 0):.1f}", r.get("note", ""))
    console.print(table)
    by = {(r["target"], r["size"]): r for r in results if "p50" in r}
    names = sorted({n for n, _ in by})
    for ours in (n for n in names if n.startswith("popart/")):
        for (name, size), med in sorted(by.items()):
            if name != "medallion/memory" or (ours, size) not in by:
                continue
            mine = by[(ours, size)]
            console.print(f"{ours} vs medallion at {size:,} objects: ingest ×{mine['ingest'] / med['ingest']:.1f}, "
                          f"full poll ×{mine.get('poll', 0) / med['poll']:.1f}, "
                          f"first page ×{med['p50'] / mine['p50']:.1f} faster")
        if "/policy-builtin" not in ours:
            off = ours.replace("popart/sqlite", "popart/sqlite/policy-builtin").replace(
                "popart/postgres", "popart/postgres/policy-builtin")
            for size in sorted(s for (n, s) in by if n == ours):
                if (off, size) in by:
                    on, no = by[(ours, size)], by[(off, size)]
                    console.print(f"{ours}: policy on vs off at {size:,}: ingest {on['ingest']:,.0f} vs "
                                  f"{no['ingest']:,.0f} obj/s, first page p95 {on['p95']:.1f} vs {no['p95']:.1f} ms "
                                  f"(×{on['p95'] / no['p95']:.2f})")
        sizes = sorted(s for (n, s) in by if n == ours)
        if len(sizes) > 1:
            lo, hi = by[(ours, sizes[0])], by[(ours, sizes[-1])]
            console.print(f"{ours}: first-page p95 at {sizes[-1]:,} is ×{hi['p95'] / lo['p95']:.2f} that at "
                          f"{sizes[0]:,}")

if __name__ == "__main__":
    main()
