"""The in-process sink: hands each detection to a Python callable (the hub's demo, tests, the CLI)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from pydantic import Field

from detectors.events import Detection
from detectors.feeds.base import FeedHealth
from detectors.sinks.base import SINKS, Sink, SinkConfig

log = logging.getLogger(__name__)

DetectionCallback = Callable[[Detection], None]

_CALLBACKS: dict[str, DetectionCallback] = {}


def register_callback(name: str, callback: DetectionCallback) -> None:
    """Make `callback` reachable from a site config as `{type: callback, name: ...}`."""
    _CALLBACKS[name] = callback


class CallbackSinkConfig(SinkConfig):
    """Deliver detections to a callable registered in-process under `name`."""

    type: Literal["callback"] = "callback"
    name: str = Field(default="default", min_length=1)


class CallbackSink(Sink):
    """Calls `callback(detection)` synchronously on the worker's analysis thread."""

    def __init__(self, callback: DetectionCallback,
                 on_health: Callable[[FeedHealth], None] | None = None) -> None:
        self.callback = callback
        self.on_health = on_health

    def emit(self, detection: Detection) -> None:
        """Call the callback; its exceptions propagate (the worker logs and keeps going)."""
        self.callback(detection)

    def health(self, health: FeedHealth) -> None:
        """Forward feed health when a health callback was given."""
        if self.on_health is not None:
            self.on_health(health)


@SINKS.register(CallbackSinkConfig)
def _build(config: CallbackSinkConfig) -> CallbackSink:
    try:
        return CallbackSink(_CALLBACKS[config.name])
    except KeyError:
        raise ValueError(
            f"no in-process callback named {config.name!r} is registered "
            f"(known: {', '.join(sorted(_CALLBACKS)) or 'none'})"
        ) from None
