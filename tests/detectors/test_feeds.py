"""Feeds: sampling to the analysis rate, stream timestamps, reconnect with backoff, dead feeds reported."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pytest

from detectors import synthetic
from detectors.config import parse_site_config
from detectors.errors import FeedDeadError
from detectors.feeds.base import (
    FEEDS,
    Disconnected,
    Feed,
    FeedConfig,
    FeedHealth,
    FeedItem,
    FeedState,
    create_feed,
)
from detectors.feeds.opencv import FileFeedConfig, RtspFeed, RtspFeedConfig
from detectors.worker import Worker

Clips = Callable[[str, synthetic.Scene], Path]
FAST = {"initial_s": 0.01, "max_s": 0.02, "jitter": 0.0}


class FlakyConfig(FeedConfig):
    """A live test source that drops after a few frames, `failures` times, then streams to the end."""

    type: Literal["test-flaky"] = "test-flaky"
    failures: int = 2
    frames: int = 12


class FlakyFeed(Feed[np.ndarray]):
    live: ClassVar[bool] = True
    config: FlakyConfig

    def __init__(self, config: FlakyConfig) -> None:
        super().__init__(config)
        self.opened = 0

    def _open(self) -> None:
        self.opened += 1

    def _read(self) -> Iterator[tuple[float, datetime | None, np.ndarray]]:
        for i in range(self.config.frames):
            if self.opened <= self.config.failures and i == 3:
                raise Disconnected("camera went away")
            yield i / 10, None, np.zeros((4, 4, 3), np.uint8)

    def _close(self) -> None:
        pass


FEEDS.add(FlakyConfig, FlakyFeed)


def health_log() -> tuple[list[FeedHealth], Callable[[FeedHealth], None]]:
    seen: list[FeedHealth] = []
    return seen, seen.append


def test_a_file_is_sampled_to_the_analysis_rate_with_stream_timestamps(clips: Clips) -> None:
    clip = clips("tamper-black", synthetic.tampering_scene("black"))  # 12 s at 10 fps
    feed = create_feed(FileFeedConfig(path=clip, analysis_fps=4), "cam")
    items = list(feed.items())
    assert len(items) == 48
    assert [round(i.stream_time, 2) for i in items[:5]] == [0.0, 0.3, 0.5, 0.8, 1.0]
    assert [i.seq for i in items] == list(range(48))
    gaps = {round((b.wall_time - a.wall_time).total_seconds(), 2) for a, b in zip(items, items[1:], strict=False)}
    assert gaps <= {0.2, 0.3}
    assert feed.state is FeedState.ENDED


def test_a_missing_file_is_reported_dead_not_skipped(tmp_path: Path) -> None:
    seen, report = health_log()
    feed = create_feed(FileFeedConfig(path=tmp_path / "gone.avi"), "cam", report)
    with pytest.raises(FeedDeadError, match="no such video file"):
        list(feed.items())
    assert seen[-1].state is FeedState.DEAD and "gone.avi" in (seen[-1].error or "")


def test_a_live_feed_reconnects_with_backoff_and_keeps_time_monotonic() -> None:
    seen, report = health_log()
    feed = create_feed(FlakyConfig(reconnect=FAST, analysis_fps=None), "cam", report)
    items = list(_until(feed, 3 + 3 + 12))  # two sessions of 3 frames, then a full one
    states = [h.state for h in seen]
    assert states.count(FeedState.RECONNECTING) == 2
    times = [i.stream_time for i in items]
    assert times == sorted(times) and len(set(times)) == len(times)


def _until(feed: Feed[np.ndarray], count: int) -> Iterator[FeedItem[np.ndarray]]:
    stop = threading.Event()
    for n, item in enumerate(feed.items(stop), start=1):
        yield item
        if n == count:
            stop.set()


def test_a_camera_that_never_answers_is_declared_dead_after_its_attempts() -> None:
    seen, report = health_log()
    config = RtspFeedConfig(url="rtsp://127.0.0.1:9/stream", read_timeout_s=0.5,
                            reconnect={**FAST, "max_attempts": 2})
    feed = create_feed(config, "gate-cam", report)
    assert isinstance(feed, RtspFeed)
    with pytest.raises(FeedDeadError, match="dead after 3 attempts"):
        list(feed.items())
    assert [h.state for h in seen if h.state is not FeedState.CONNECTING] == [
        FeedState.RECONNECTING, FeedState.RECONNECTING, FeedState.DEAD]


def test_credentials_never_appear_in_feed_errors() -> None:
    feed = RtspFeed(RtspFeedConfig(url="rtsp://admin:hunter2@10.0.0.1/live"))
    assert "hunter2" not in feed.describe()


def test_the_worker_reports_a_dead_feed_and_keeps_the_others(clips: Clips, tmp_path: Path) -> None:
    clip = clips("tamper-black", synthetic.tampering_scene("black"))
    config = parse_site_config({
        "feeds": [
            {"id": "ok", "source": {"type": "file", "path": str(clip), "analysis_fps": 2},
             "analysers": [{"type": "tampering"}]},
            {"id": "gone", "source": {"type": "file", "path": str(tmp_path / "nope.avi")}},
        ],
        "evidence": {"directory": str(tmp_path)},
    })
    stats = Worker(config).run()
    assert stats.feeds["gone"].state is FeedState.DEAD
    assert stats.feeds["ok"].state is FeedState.ENDED and stats.feeds["ok"].frames == 24
    assert stats.feeds["ok"].detections == 2  # covered: start and end
