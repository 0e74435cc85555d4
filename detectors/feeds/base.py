"""The feed interface: timestamped items, sampling to the analysis rate, reconnect with backoff, health.

A concrete feed implements `_open`, `_read` and `_close` for one connection; `Feed.items()` owns the
loop around them: it samples to `analysis_fps`, reconnects live sources with exponential backoff, and
reports every state change (live, reconnecting, ended, dead) to `on_health`, so a dead camera or
microphone is reported and never silently skipped. Video feeds yield `numpy` BGR frames; audio feeds
(see `detectors.audio`) yield sample blocks through the same interface.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import Field, PlainSerializer, PlainValidator

from detectors.backoff import BackoffPolicy
from detectors.errors import FeedDeadError, FeedError
from detectors.registry import PluginConfig, PluginRegistry, dump_config

log = logging.getLogger(__name__)

T = TypeVar("T")

FEED_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


@dataclass(frozen=True)
class FeedItem(Generic[T]):
    """One item of a feed: `stream_time` is seconds on the stream's own clock, `wall_time` is UTC."""

    feed_id: str
    seq: int
    stream_time: float
    wall_time: datetime
    data: T


class FeedState(enum.StrEnum):
    """Life-cycle states a feed reports."""

    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    DEAD = "dead"


@dataclass(frozen=True)
class FeedHealth:
    """A feed state change, reported to the worker (and from there to logs, metrics and sinks)."""

    feed_id: str
    state: FeedState
    at: datetime
    attempt: int = 0
    error: str | None = None


HealthCallback = Callable[[FeedHealth], None]


class FeedConfig(PluginConfig):
    """Fields common to every feed; concrete feeds add theirs and a `type: Literal[...]`."""

    media: ClassVar[Literal["video", "audio"]] = "video"
    analysis_fps: float | None = Field(
        default=10.0, gt=0, description="items analysed per second; None keeps all"
    )
    reconnect: BackoffPolicy = BackoffPolicy()


FEEDS: PluginRegistry[Feed[Any]] = PluginRegistry("feed")
#: a config field accepting any registered feed config (dispatch on `type`).
FeedSpec = Annotated[
    FeedConfig, PlainValidator(FEEDS.validate_config), PlainSerializer(dump_config)
]


class Disconnected(FeedError):
    """Raised by `_read` when a live connection drops; the base class reconnects."""


class Feed(ABC, Generic[T]):
    """A source of `FeedItem`s; subclasses implement one connection, the base class the loop."""

    #: live sources reconnect after an error or end of stream; files end.
    live: ClassVar[bool] = False

    def __init__(
        self, config: FeedConfig, feed_id: str = "feed", on_health: HealthCallback | None = None
    ) -> None:
        self.config = config
        self.feed_id = feed_id
        self.on_health = on_health
        self.state = FeedState.CONNECTING

    @abstractmethod
    def _open(self) -> None:
        """Open one connection; raise `FeedError` when it cannot be opened."""

    @abstractmethod
    def _read(self) -> Iterator[tuple[float, datetime | None, T]]:
        """Yield (stream seconds, capture time or None, data) until the stream ends or `Disconnected`."""

    @abstractmethod
    def _close(self) -> None:
        """Release the connection; must be safe to call twice."""

    def _report(self, state: FeedState, attempt: int = 0, error: str | None = None) -> None:
        self.state = state
        health = FeedHealth(self.feed_id, state, datetime.now(UTC), attempt, error)
        if state in (FeedState.RECONNECTING, FeedState.DEAD):
            log.warning("feed %s %s (attempt %s): %s", self.feed_id, state.value, attempt, error)
        else:
            log.info("feed %s %s", self.feed_id, state.value)
        if self.on_health is not None:
            self.on_health(health)

    def items(self, stop: threading.Event | None = None) -> Iterator[FeedItem[T]]:
        """Yield sampled items until the stream ends or `stop` is set; raise `FeedDeadError` if it dies."""
        stop = stop or threading.Event()
        delays = self.config.reconnect.delays()
        attempt = 0
        seq = 0
        period = 1.0 / self.config.analysis_fps if self.config.analysis_fps else 0.0
        next_due = 0.0
        offset = 0.0  # keeps stream time monotonic across reconnects (a new session restarts at 0)
        last, last_at = 0.0, time.monotonic()
        origin: datetime | None = None
        while not stop.is_set():
            try:
                self._open()
                self._report(FeedState.LIVE, attempt)
                for raw_time, captured, data in self._read():
                    stream_time = raw_time + offset
                    last, last_at = stream_time, time.monotonic()
                    attempt = 0
                    delays = self.config.reconnect.delays()
                    if stop.is_set():
                        break
                    if stream_time + 1e-6 < next_due:
                        continue
                    next_due = max(next_due + period, stream_time) if period else stream_time
                    if captured is None:
                        origin = origin or datetime.now(UTC) - timedelta(seconds=stream_time)
                        captured = origin + timedelta(seconds=stream_time)
                    yield FeedItem(self.feed_id, seq, stream_time, captured, data)
                    seq += 1
                if not self.live or stop.is_set():
                    self._report(FeedState.ENDED, attempt)
                    return
                error = "stream ended"
            except FeedError as exc:
                error = str(exc)
                if not self.live:
                    self._report(FeedState.DEAD, attempt, error)
                    raise FeedDeadError(f"feed {self.feed_id!r} failed: {error}") from exc
            finally:
                self._close()
            # a new session's clock restarts at 0: continue after the last item plus the real gap
            offset = max(offset, last + max(period, time.monotonic() - last_at, 1e-3))
            delay = next(delays, None)
            attempt += 1
            if delay is None:
                self._report(FeedState.DEAD, attempt, error)
                raise FeedDeadError(f"feed {self.feed_id!r} is dead after {attempt} attempts: {error}")
            self._report(FeedState.RECONNECTING, attempt, error)
            if stop.wait(delay):
                break
        self._report(FeedState.ENDED, attempt)


def create_feed(config: FeedConfig, feed_id: str, on_health: HealthCallback | None = None) -> Feed[Any]:
    """Build the registered feed for `config`, naming it and wiring its health callback."""
    feed = FEEDS.create(config)
    feed.feed_id = feed_id
    feed.on_health = on_health
    return feed
