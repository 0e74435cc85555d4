"""Zone intrusion and loitering on tracked objects, with spatial and temporal hysteresis.

An object is in a zone when the bottom centre of its box is: it enters once that point is
`edge_margin` inside the polygon and leaves once it is `edge_margin` outside, so a box flickering on
the edge does not toggle. Loitering fires when one track dwells longer than `loiter_s`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from detectors.analysers.base import ANALYSERS, Analyser, AnalyserConfig, FrameContext, Zone
from detectors.events import Box, Observation


class ZoneWatchConfig(AnalyserConfig):
    """Which zones to watch, for which labels, and when presence becomes intrusion or loitering."""

    type: Literal["zones"] = "zones"
    stage: ClassVar[int] = 40
    gated: bool = False
    zones: list[str] | None = Field(default=None, description="zone names (None: all zones of the feed)")
    labels: list[str] | None = Field(default=None, description="object labels that count (None: all)")
    intrusion: bool = Field(default=True, description="report any presence in the zone")
    loiter_s: float | None = Field(default=None, gt=0, description="report a track staying longer than this")
    edge_margin: float = Field(default=0.01, ge=0, le=0.5, description="hysteresis band, share of frame width")
    exit_grace_s: float = Field(default=1.0, ge=0, description="a track unseen this long has left the zone")

    def zone_names(self) -> Sequence[str]:
        """The zones named in this config."""
        return self.zones or ()

    def requires(self) -> Sequence[tuple[str, ...]]:
        """Zone logic reads tracks."""
        return [("tracker",)]


@ANALYSERS.register(ZoneWatchConfig)
class ZoneWatch(Analyser[FrameContext]):
    """Emits `intrusion` (key: zone) and `loitering` (key: zone/track) observations."""

    name = "zone-watch"
    config: ZoneWatchConfig

    def __init__(self, config: ZoneWatchConfig) -> None:
        self.config = config
        self._inside: dict[tuple[str, int], float] = {}  # (zone, track) -> entered at (stream time)
        self._seen: dict[tuple[str, int], float] = {}  # (zone, track) -> last seen inside

    def _signed_distance(self, zone: Zone, box: Box) -> float:
        bx, by = box.bottom_centre()
        contour = zone.polygon.reshape(-1, 1, 2).astype(np.float32)
        return float(cv2.pointPolygonTest(contour, (bx * zone.width, by * zone.height), True))

    def analyse(self, ctx: FrameContext) -> list[Observation]:
        """Update who is inside which zone and report intrusions and loitering."""
        now = ctx.item.stream_time
        tracks = [t for t in ctx.tracks if t.track_id is not None
                  and (self.config.labels is None or t.label in self.config.labels)]
        zones = [z for z in ctx.zones if self.config.zones is None or z.name in self.config.zones]
        out: list[Observation] = []
        present: set[tuple[str, int]] = set()
        for zone in zones:
            margin = self.config.edge_margin * zone.width
            intruders = []
            for track in tracks:
                assert track.track_id is not None
                ident = (zone.name, track.track_id)
                distance = self._signed_distance(zone, track)
                inside = distance >= margin if ident not in self._inside else distance > -margin
                if not inside:
                    if ident in self._inside:
                        self._seen[ident] = -1e9  # clearly outside: left now, no grace
                    continue
                present.add(ident)
                entered = self._inside.setdefault(ident, now)
                intruders.append(track)
                dwell = now - entered
                if self.config.loiter_s is not None and dwell >= self.config.loiter_s:
                    out.append(Observation(
                        "loitering", min(1.0, 0.6 + 0.4 * dwell / (2 * self.config.loiter_s)), self.name,
                        key=f"{zone.name}/track-{track.track_id}", boxes=(track,), zone=zone.name,
                        attributes={"dwell_s": round(dwell, 1), "track_id": track.track_id},
                    ))
            if intruders and self.config.intrusion:
                out.append(Observation(
                    "intrusion", max(t.score for t in intruders), self.name, key=zone.name,
                    boxes=tuple(intruders), zone=zone.name, attributes={"count": len(intruders)},
                ))
        for ident in present:
            self._seen[ident] = now
        for ident in list(self._inside):
            if now - self._seen.get(ident, now) > self.config.exit_grace_s:
                del self._inside[ident]
                self._seen.pop(ident, None)
        return out
