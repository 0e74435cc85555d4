"""The site configuration: one YAML file describing feeds, zones, analysers, event rules and sinks.

Every model forbids unknown fields and plugin sections dispatch on `type`, so a typo fails at start
with the field's path (`feeds.0.analysers.1.min_scroe: Extra inputs are not permitted`). Audio feeds
and audio analysers are further plugin types in the same lists; `media` keeps them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from detectors.analysers.base import AnalyserSpec, Zone
from detectors.errors import ConfigError
from detectors.events import EventRuleConfig
from detectors.feeds.base import FEED_ID_PATTERN, FeedSpec
from detectors.sinks.base import SinkSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZoneConfig(_Strict):
    """A named polygon on one feed's image, with optional crowd calibration."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_. -]{0,63}$")
    polygon: list[tuple[float, float]] = Field(min_length=3)
    units: Literal["normalised", "pixels"] = "normalised"
    area_m2: float | None = Field(
        default=None, gt=0, description="ground area the polygon covers, for people/m²"
    )
    max_people_per_m2: float | None = Field(
        default=None, gt=0, description="overcrowding threshold for this zone"
    )

    @model_validator(mode="after")
    def _in_frame(self) -> ZoneConfig:
        if self.units == "normalised" and any(not (0 <= c <= 1) for p in self.polygon for c in p):
            raise ValueError("normalised polygon coordinates must lie in 0..1 (or set units: pixels)")
        return self

    def at_size(self, width: int, height: int) -> Zone:
        """The zone in pixel coordinates of a `width`×`height` frame."""
        points = np.array(self.polygon, dtype=np.float64)
        if self.units == "normalised":
            points = points * np.array([width, height], dtype=np.float64)
        return Zone(self.name, np.round(points).astype(np.int32), width, height,
                    self.area_m2, self.max_people_per_m2)


class FeedSetup(_Strict):
    """One sensor: its source, its zones, the analysers that run on it and its event rules."""

    id: str = Field(pattern=FEED_ID_PATTERN, description="stable sensor id, part of detection ids")
    source: FeedSpec
    area: str | None = Field(
        default=None, description="venue zone the sensor covers (STIX `zone` when no polygon)"
    )
    zones: list[ZoneConfig] = Field(default_factory=list)
    analysers: list[AnalyserSpec] = Field(default_factory=list)
    events: EventRuleConfig = EventRuleConfig()
    events_per_category: dict[str, EventRuleConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> FeedSetup:
        names = [z.name for z in self.zones]
        if len(set(names)) != len(names):
            raise ValueError(f"zone names must be unique, got {names}")
        for i, analyser in enumerate(self.analysers):
            if analyser.media != self.source.media:
                raise ValueError(f"analysers.{i} ({analyser.type}) works on {analyser.media}, "
                                 f"but the source {self.source.type!r} gives {self.source.media}")
            missing = sorted(set(analyser.zone_names()) - set(names))
            if missing:
                raise ValueError(f"analysers.{i} ({analyser.type}) names unknown zones {missing}; "
                                 f"this feed has {names}")
            present = {a.type for a in self.analysers}
            for group in analyser.requires():
                if not present.intersection(group):
                    raise ValueError(f"analysers.{i} ({analyser.type}) needs a {' or '.join(group)} "
                                     f"analyser on the same feed")
        return self


class SiteInfo(_Strict):
    """Where the sensors are: copied into every detection."""

    venue: str = "unnamed venue"
    municipality: str | None = None


class EvidenceConfig(_Strict):
    """Snapshots attached to detections: always redacted before they leave the worker."""

    directory: Path = Path("evidence")
    blur_faces: bool = True
    face_detector: Literal["haar"] = "haar"
    jpeg_quality: int = Field(default=85, ge=10, le=100)
    url_prefix: str | None = Field(
        default=None, description="where the hub serves the directory (evidence url)"
    )
    max_width: int = Field(default=1280, ge=64)


class RuntimeConfig(_Strict):
    """How the worker runs (batch sizes are per model: the `onnx` analyser's `max_batch`)."""

    queue_size: int = Field(
        default=8, ge=1, description="frames buffered per feed; live feeds drop the oldest beyond it"
    )


class SiteConfig(_Strict):
    """The whole site: `popart worker --config site.yaml` runs exactly this."""

    site: SiteInfo = SiteInfo()
    feeds: list[FeedSetup] = Field(min_length=1)
    sinks: list[SinkSpec] = Field(default_factory=list)
    evidence: EvidenceConfig = EvidenceConfig()
    runtime: RuntimeConfig = RuntimeConfig()

    @model_validator(mode="after")
    def _unique_feeds(self) -> SiteConfig:
        ids = [f.id for f in self.feeds]
        if len(set(ids)) != len(ids):
            raise ValueError(f"feed ids must be unique, got {ids}")
        return self


def format_validation_error(error: ValidationError, source: str) -> str:
    """One line per problem, each naming the field path."""
    lines = [f"{source}: invalid site configuration"]
    for problem in error.errors():
        path = ".".join(str(p) for p in problem["loc"]) or "(top level)"
        lines.append(f"  {path}: {problem['msg']}")
    return "\n".join(lines)


def parse_site_config(data: Any, source: str = "<config>") -> SiteConfig:
    """Validate a parsed mapping into a `SiteConfig`; raises `ConfigError` naming each bad field."""
    from detectors.plugins import load_plugins

    load_plugins()
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None


def load_site_config(path: str | Path) -> SiteConfig:
    """Read and validate a YAML site file; raises `ConfigError` with the file and field named."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return parse_site_config(data, str(path))


def zones_at_size(zones: Sequence[ZoneConfig], width: int, height: int) -> list[Zone]:
    """All zones of a feed at one frame size."""
    return [z.at_size(width, height) for z in zones]
