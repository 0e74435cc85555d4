"""Crowd density per zone: people per square metre from tracked people and each zone's calibration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from pydantic import Field

from detectors.analysers.base import ANALYSERS, Analyser, AnalyserConfig, FrameContext
from detectors.events import Observation


class CrowdDensityConfig(AnalyserConfig):
    """Overcrowding when people/m² in a calibrated zone exceeds its threshold."""

    type: Literal["density"] = "density"
    stage: ClassVar[int] = 45
    gated: bool = False
    zones: list[str] | None = Field(default=None, description="zones to measure (None: all calibrated zones)")
    label: str = "person"
    source: Literal["objects", "tracks"] = "objects"
    max_people_per_m2: float = Field(default=4.0, gt=0, description="threshold when the zone sets none")
    occlusion_factor: float = Field(default=1.0, ge=1.0, description="multiplier for people hidden by others")
    smoothing: float = Field(default=0.3, gt=0, le=1, description="weight of the newest count")

    def zone_names(self) -> Sequence[str]:
        """The zones named in this config."""
        return self.zones or ()

    def requires(self) -> Sequence[tuple[str, ...]]:
        """Density counts detector boxes or tracks."""
        return [("hog", "onnx")] if self.source == "objects" else [("tracker",)]


@ANALYSERS.register(CrowdDensityConfig)
class CrowdDensity(Analyser[FrameContext]):
    """Emits `crowd-density` (key: zone) with the measured density; stores densities in `ctx.shared`."""

    name = "crowd-density"
    config: CrowdDensityConfig

    def __init__(self, config: CrowdDensityConfig) -> None:
        self.config = config
        self._density: dict[str, float] = {}

    def analyse(self, ctx: FrameContext) -> list[Observation]:
        """Count people whose feet are in each calibrated zone."""
        cfg = self.config
        boxes = ctx.objects if cfg.source == "objects" else ctx.tracks
        people = [b for b in boxes if b.label == cfg.label]
        out: list[Observation] = []
        densities: dict[str, float] = {}
        for zone in ctx.zones:
            if zone.area_m2 is None or (cfg.zones is not None and zone.name not in cfg.zones):
                continue
            inside = [b for b in people if zone.contains_norm(b.bottom_centre())]
            raw = len(inside) * cfg.occlusion_factor / zone.area_m2
            previous = self._density.get(zone.name, raw)
            density = cfg.smoothing * raw + (1 - cfg.smoothing) * previous
            self._density[zone.name] = density
            densities[zone.name] = density
            limit = zone.max_people_per_m2 or cfg.max_people_per_m2
            if density > limit:
                out.append(Observation(
                    "crowd-density", min(1.0, 0.5 + 0.5 * (density - limit) / limit), self.name, key=zone.name,
                    boxes=tuple(inside), zone=zone.name,
                    attributes={"people_per_m2": round(density, 2), "people": len(inside),
                                "limit_per_m2": limit},
                ))
        ctx.shared["density"] = densities
        return out
