"""Throughput of the STIX profile: builders, full validation and the hub's ingest check (objects/s).

Run: .venv/bin/python bench/stix_profile_bench.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from stix_profiles import build_detection_bundle, check_ingest, validate
from stix_profiles.examples import EXAMPLES, camera_facts


def rate(label: str, work: Callable[[int], int], seconds: float) -> float:
    """Call work(i) until `seconds` pass; work returns how many objects it handled. Print objects/s."""
    work(0)  # warm caches (schemas, validators)
    done, i, start = 0, 1, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += work(i)
        i += 1
    per_second = done / elapsed
    print(f"{label:<52} {per_second:>12,.0f} objects/s  ({done} objects in {elapsed:.1f} s)")
    return per_second


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each measurement")
    seconds = parser.parse_args().seconds

    base = camera_facts()

    def facts(i: int) -> Any:
        return base.model_copy(update={"started": base.started + timedelta(seconds=i), "ended": None})

    def build(i: int) -> int:
        return len(build_detection_bundle(facts(i))["objects"])

    def build_and_validate(i: int) -> int:
        bundle = build_detection_bundle(facts(i))
        assert not validate(bundle)
        return len(bundle["objects"])

    bundles = [build_detection_bundle(facts(i)) for i in range(50)]

    def validate_only(i: int) -> int:
        bundle = bundles[i % len(bundles)]
        assert not validate(bundle)
        return len(bundle["objects"])

    profile_objects = [o for k in EXAMPLES for o in EXAMPLES[k]()["objects"]]
    foreign = [
        {"type": "indicator", "id": f"indicator--{i:08d}-0000-4000-8000-000000000000", "labels": ["benign"]}
        for i in range(100)
    ] + [{"type": "identity", "id": "identity--0f4c8e2a-9b1d-4e7f-8a3c-5d6b7e8f9a10", "name": "x"}]

    def ingest(objects: list[dict[str, Any]]) -> Callable[[int], int]:
        def run(_: int) -> int:
            for obj in objects:
                if check_ingest(obj):
                    raise AssertionError(obj["id"])
            return len(objects)

        return run

    print(f"POP-ART STIX profile bench, {seconds:.0f} s per figure; a detection bundle has {build(0)} objects")
    rate("build_detection_bundle", build, seconds)
    rate("build_detection_bundle + validate (strict)", build_and_validate, seconds)
    rate("validate alone (stix2-validator strict + rules)", validate_only, seconds)
    rate("check_ingest, profile objects (all kinds)", ingest(profile_objects), seconds)
    rate("check_ingest, objects outside the profile", ingest(foreign), seconds)


if __name__ == "__main__":
    main()
