"""The analyser interface and the per-frame context analysers share.

Analysers of one feed run in `stage` order (cheap first): the motion gate fills `ctx.motion`, object
detectors fill `ctx.objects`, the tracker gives them ids, zone and crowd logic read them. A `gated`
analyser is skipped on frames where the gate saw no motion (its `hold()` result stands in), and
detectors look only at the regions the gate marked. Audio analysers (see `detectors.audio`) use the
same `Analyser` base with their own context type and `media = "audio"`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

import cv2
import numpy as np
from pydantic import Field, PlainSerializer, PlainValidator

from detectors.events import Box, Observation
from detectors.feeds.base import FeedItem
from detectors.registry import PluginConfig, PluginRegistry, dump_config

Ctx = TypeVar("Ctx")


@dataclass(frozen=True)
class Zone:
    """A zone polygon in pixel coordinates of one feed's frames, with its calibration."""

    name: str
    polygon: np.ndarray  # int32 (N, 2) pixels
    width: int
    height: int
    area_m2: float | None = None
    max_people_per_m2: float | None = None

    def contains_norm(self, point: tuple[float, float]) -> bool:
        """Whether a normalised point (e.g. a box's bottom centre) lies inside the polygon."""
        px = (point[0] * self.width, point[1] * self.height)
        return cv2.pointPolygonTest(self.polygon.reshape(-1, 1, 2).astype(np.float32), px, False) >= 0

    def mask(self) -> np.ndarray:
        """A uint8 mask (255 inside) of the zone at frame size."""
        out = np.zeros((self.height, self.width), np.uint8)
        cv2.fillPoly(out, [self.polygon.reshape(-1, 1, 2)], 255)
        return out


@dataclass
class Motion:
    """What the motion gate saw: the fraction of moving pixels, the moving blobs, the foreground mask."""

    fraction: float
    blobs: list[Box]
    mask: np.ndarray
    moving: bool


@dataclass
class FrameContext:
    """Everything analysers of one feed know about one analysed frame."""

    item: FeedItem[np.ndarray]
    zones: Sequence[Zone]
    motion: Motion | None = None
    objects: list[Box] = field(default_factory=list)
    tracks: list[Box] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)
    _gray: np.ndarray | None = None
    _small: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def frame(self) -> np.ndarray:
        """The BGR frame."""
        return self.item.data

    @property
    def gray(self) -> np.ndarray:
        """The frame in grayscale, computed once."""
        if self._gray is None:
            self._gray = cv2.cvtColor(self.frame, cv2.COLOR_BGR2GRAY)
        return self._gray

    def small_gray(self, width: int) -> np.ndarray:
        """The frame in grayscale at `width` pixels wide (never upscaled), computed once per width."""
        cached = self._small.get(width)
        if cached is None:
            height, full_width = self.frame.shape[:2]
            if width >= full_width:
                cached = self.gray
            else:
                size = (width, max(1, round(height * width / full_width)))
                # one gray conversion at full size, then an area resize of one channel (3× cheaper than BGR)
                cached = cv2.resize(self.gray, size, interpolation=cv2.INTER_AREA)
            self._small[width] = cached
        return cached


class AnalyserConfig(PluginConfig):
    """Fields common to every analyser; concrete analysers add theirs and a `type: Literal[...]`."""

    media: ClassVar[Literal["video", "audio"]] = "video"
    #: run order within a feed: gate 0, detectors 20, tracker 30, zone/crowd logic 40+, frame checks 60+.
    stage: ClassVar[int] = 50
    gated: bool = Field(default=True, description="skip frames where the motion gate sees nothing")

    def zone_names(self) -> Sequence[str]:
        """Zones this analyser refers to (checked against the feed's zones)."""
        return ()

    def requires(self) -> Sequence[tuple[str, ...]]:
        """Analyser types this one reads from: one of each group must run on the same feed."""
        return ()


class Analyser(ABC, Generic[Ctx]):
    """Finds observations in analysed items of one feed; one instance per feed (it may keep state)."""

    name: ClassVar[str] = "analyser"
    version: ClassVar[str] = "1"
    config: AnalyserConfig

    @abstractmethod
    def analyse(self, ctx: Ctx) -> list[Observation]:
        """Observations for one item; may also enrich the context for later stages."""

    def analyse_batch(self, ctxs: Sequence[Ctx]) -> list[list[Observation]]:
        """Observations for items of many feeds at once (a batched model overrides this)."""
        return [self.analyse(ctx) for ctx in ctxs]

    def hold(self, ctx: Ctx) -> list[Observation]:
        """Stand-in result for a frame the gate skipped; default: nothing new."""
        return []

    def batch_key(self) -> str | None:
        """Analysers returning the same key may be run together across feeds (shared model)."""
        return None

    def finish(self) -> list[Observation]:
        """End of stream: observations still pending inside the analyser (default: none)."""
        return []


#: how the worker builds the per-item context of each media kind; audio registers its own.
ContextBuilder = Callable[[FeedItem[Any], Sequence[Zone]], Any]
CONTEXT_BUILDERS: dict[str, ContextBuilder] = {"video": lambda item, zones: FrameContext(item, zones)}


def register_context(media: str, builder: ContextBuilder) -> None:
    """Tell the worker how to build analyser contexts for items of `media` (e.g. "audio")."""
    CONTEXT_BUILDERS[media] = builder


ANALYSERS: PluginRegistry[Analyser[Any]] = PluginRegistry("analyser")
#: a config field accepting any registered analyser config (dispatch on `type`).
AnalyserSpec = Annotated[
    AnalyserConfig, PlainValidator(ANALYSERS.validate_config), PlainSerializer(dump_config)
]
