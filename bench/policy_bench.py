"""Policy decisions per second: embedded engine single vs batched, and the OPA REST engine.

The REST engine runs against tests/policies/opa_data_api.py (OPA's Data API over real HTTP on
127.0.0.1, evaluated by rego-cpp), since the OPA binary is not installed here.

    .venv/bin/python bench/policy_bench.py [--seconds 3] [--batch 100 1000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies import DecisionContext, ObjectFacts, PolicyEngine, Recipient, build_engine  # noqa: E402
from policies.facts import marking_id  # noqa: E402
from tests.policies.opa_data_api import OpaDataApiServer  # noqa: E402

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ORGS = ["policia-nacional-es", "psp-pt", "ayto-madrid", "ayto-sevilla"]


def sample_objects(n: int, seed: int = 7) -> list[ObjectFacts]:
    """A reproducible mix of markings, personal data, areas, recipients and embargoes."""
    rng = random.Random(seed)
    objects = []
    for i in range(n):
        level = rng.choice(["clear", "green", "green", "amber", "amber", "amber+strict", "red"])
        objects.append(
            ObjectFacts(
                id=f"indicator--{i:08d}-0000-4000-8000-000000000000",
                kind=rng.choice(["alert", "detection", "evidence", "guidance"]),
                producer_org=rng.choice(ORGS),
                markings=(marking_id(level),),
                personal_data=rng.random() < 0.3,
                recipients=(Recipient(org=rng.choice(ORGS), role="analyst"),) if rng.random() < 0.3 else (),
                areas=(rng.choice(["madrid", "sevilla"]),),
                venues=("Estadio Metropolitano",) if rng.random() < 0.5 else (),
                created=NOW - timedelta(hours=rng.randint(0, 24 * 40)),
                embargo_until=NOW + timedelta(hours=2) if rng.random() < 0.1 else None,
            )
        )
    return objects


def rate(run: Callable[[], int], seconds: float) -> float:
    """Decisions per second of `run` (returns how many it decided), repeated for about `seconds`."""
    run()  # warm-up: compile, connect
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += run()
    return done / (time.perf_counter() - start)


def measure(
    engine: PolicyEngine, objects: list[ObjectFacts], batches: list[int], seconds: float, explain: bool = True
) -> list[float]:
    """[single, batch sizes...] decisions/s for one engine."""
    ctx = DecisionContext(now=NOW, explain=explain)
    cursor = iter(range(10**9))

    def single() -> int:
        engine.decide(objects[next(cursor) % len(objects)], ctx)
        return 1

    results = [rate(single, seconds)]
    for size in batches:
        chunk = objects[:size]

        def batch(chunk: list[ObjectFacts] = chunk) -> int:
            decisions = engine.decide_batch(chunk, ctx)
            assert not any(d.error for d in decisions), decisions[0].error
            return len(decisions)

        results.append(rate(batch, seconds))
    return results


def main() -> None:
    """Measure and print decisions/s side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--batch", type=int, nargs="+", default=[100, 1000], help="batch sizes")
    args = parser.parse_args()
    objects = sample_objects(max(args.batch))
    embedded = build_engine({"type": "embedded"})
    rows = {
        "embedded, explained": measure(embedded, objects, args.batch, args.seconds),
        "embedded, grants only": measure(embedded, objects, args.batch, args.seconds, explain=False),
    }
    with OpaDataApiServer() as server:
        rest = build_engine({"type": "opa", "url": server.url, "timeout_s": 60.0})
        rows["opa REST (local server), explained"] = measure(rest, objects, args.batch, args.seconds)
        rows["opa REST (local server), grants only"] = measure(rest, objects, args.batch, args.seconds, False)
        rest.close()
    header = ["engine", "single", *(f"batch {b}" for b in args.batch)]
    print(f"policy decisions/s, 4 organisations, {args.seconds:.0f} s per cell, revision {embedded.revision[:19]}")
    print(f"{header[0]:<40}" + "".join(f"{h:>14}" for h in header[1:]))
    for name, values in rows.items():
        print(f"{name:<40}" + "".join(f"{v:>14.0f}" for v in values))


if __name__ == "__main__":
    main()
