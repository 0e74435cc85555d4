"""The default analyser chain, cheapest first: what `popart detect` runs and the benchmark measures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from detectors.config import ZoneConfig


def default_analysers(zones: Sequence[ZoneConfig] = (), crowd_motion: bool = True) -> list[dict[str, Any]]:
    """Motion gate, HOG people, tracker, zone logic (when zones exist), crowd motion (optional), tampering."""
    chain: list[dict[str, Any]] = [
        {"type": "motion"},
        {"type": "hog"},
        {"type": "tracker", "labels": ["person"]},
    ]
    if zones:
        chain.append({"type": "zones", "loiter_s": 30.0, "labels": ["person"]})
    if any(z.area_m2 for z in zones):
        chain.append({"type": "density"})
    if crowd_motion:
        chain.append({"type": "crowd-motion"})
    chain.append({"type": "tampering"})
    return chain
