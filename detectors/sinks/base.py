"""The sink interface: a worker hands every `Detection` to each configured sink.

`emit` is called from the worker's analysis thread and must not block for long: a sink that talks to
the network spools first (durably) and delivers in the background. `close` flushes what it can.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator

from detectors.events import Detection
from detectors.feeds.base import FeedHealth
from detectors.registry import PluginConfig, PluginRegistry, dump_config


class SinkConfig(PluginConfig):
    """Fields common to every sink; concrete sinks add theirs and a `type: Literal[...]`."""


class Sink(ABC):
    """Receives the detections of a worker."""

    @abstractmethod
    def emit(self, detection: Detection) -> None:
        """Accept one detection; must not lose it once this returns."""

    def health(self, health: FeedHealth) -> None:  # noqa: B027 - optional hook, default ignores
        """Feed state changes (a dead camera is news too); default ignores them."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Flush and release resources."""


SINKS: PluginRegistry[Sink] = PluginRegistry("sink")
#: a config field accepting any registered sink config (dispatch on `type`).
SinkSpec = Annotated[
    SinkConfig, PlainValidator(SINKS.validate_config), PlainSerializer(dump_config)
]
