"""OpenCV video feeds: files, RTSP/HTTP streams and local devices."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from detectors.errors import FeedError
from detectors.feeds.base import FEEDS, Disconnected, Feed, FeedConfig

log = logging.getLogger(__name__)


class FileFeedConfig(FeedConfig):
    """A recorded clip; stream time comes from the container's timestamps."""

    type: Literal["file"] = "file"
    path: Path
    loop: bool = Field(default=False, description="start over at the end (demo screens)")
    end_s: float | None = Field(default=None, gt=0, description="stop at this stream time (a segment)")
    realtime: bool = Field(default=False, description="pace reading at the clip's frame rate")


class RtspFeedConfig(FeedConfig):
    """A network camera (RTSP, HTTP MJPEG...): live, reconnects with backoff when it drops."""

    type: Literal["rtsp"] = "rtsp"
    url: str = Field(pattern=r"^(rtsps?|https?|udp|tcp)://")
    read_timeout_s: float = Field(default=5.0, gt=0)
    transport: Literal["tcp", "udp"] = "tcp"


class DeviceFeedConfig(FeedConfig):
    """A local capture device (`/dev/video0` is index 0)."""

    type: Literal["device"] = "device"
    index: int = Field(default=0, ge=0)
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)


class OpenCVFeed(Feed[np.ndarray]):
    """Shared read loop over a `cv2.VideoCapture`."""

    config: FileFeedConfig | RtspFeedConfig | DeviceFeedConfig

    def __init__(self, config: FileFeedConfig | RtspFeedConfig | DeviceFeedConfig) -> None:
        super().__init__(config)
        self._cap: cv2.VideoCapture | None = None
        self.fps = 0.0
        self.frame_count = 0

    def _capture(self) -> cv2.VideoCapture:
        raise NotImplementedError

    def _open(self) -> None:
        cap = self._capture()
        if not cap.isOpened():
            cap.release()
            raise FeedError(f"cannot open {self.describe()}")
        self._cap = cap
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 0 < fps < 1000 else 25.0
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)

    def describe(self) -> str:
        """Human name of the source, without credentials."""
        return self.config.type

    def _read(self) -> Iterator[tuple[float, datetime | None, np.ndarray]]:
        cap = self._cap
        assert cap is not None
        index = 0
        started = time.monotonic()
        pace = self.live or (isinstance(self.config, FileFeedConfig) and self.config.realtime)
        while True:
            ok = cap.grab()
            if not ok:
                if self.live:
                    raise Disconnected(f"{self.describe()} stopped sending frames")
                return
            msec = cap.get(cv2.CAP_PROP_POS_MSEC)
            stream_time = msec / 1000.0 if msec > 0 or index == 0 else index / self.fps
            if self._skip(stream_time):
                index += 1
                continue
            ok, frame = cap.retrieve()
            if not ok or frame is None:
                if self.live:
                    raise Disconnected(f"{self.describe()} sent an undecodable frame")
                return
            if pace and not self.live:
                delay = stream_time - (time.monotonic() - started)
                if delay > 0:
                    time.sleep(delay)
            yield stream_time, (datetime.now(UTC) if self.live else None), frame
            index += 1

    def _skip(self, stream_time: float) -> bool:
        """Frames between analysis samples are grabbed but not decoded (`retrieve` is the cost)."""
        due = getattr(self, "_next_decode", 0.0)
        fps = self.config.analysis_fps
        if not fps:
            return False
        if stream_time + 1e-6 < due:
            return True
        self._next_decode = max(due + 1.0 / fps, stream_time)
        return False

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self._next_decode = 0.0


@FEEDS.register(FileFeedConfig)
class FileFeed(OpenCVFeed):
    """A recorded clip; ends at the end of the file unless `loop`."""

    config: FileFeedConfig

    def describe(self) -> str:
        """The file path."""
        return f"file {self.config.path}"

    def _capture(self) -> cv2.VideoCapture:
        if not self.config.path.is_file():
            raise FeedError(f"no such video file: {self.config.path}")
        return cv2.VideoCapture(str(self.config.path))

    def _read(self) -> Iterator[tuple[float, datetime | None, np.ndarray]]:
        offset = 0.0
        while True:
            last = 0.0
            for stream_time, captured, frame in super()._read():
                if self.config.end_s is not None and stream_time > self.config.end_s:
                    break
                last = stream_time
                yield stream_time + offset, captured, frame
            if not self.config.loop:
                return
            offset += last + 1.0 / max(self.fps, 1.0)
            self._next_decode = 0.0
            assert self._cap is not None
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)


@FEEDS.register(RtspFeedConfig)
class RtspFeed(OpenCVFeed):
    """A network stream over FFmpeg; live, so it reconnects."""

    live = True
    config: RtspFeedConfig

    def describe(self) -> str:
        """The URL with any password removed."""
        url = self.config.url
        scheme, _, rest = url.partition("://")
        if "@" in rest.split("/", 1)[0]:
            rest = "***@" + rest.split("@", 1)[1]
        return f"stream {scheme}://{rest}"

    def _capture(self) -> cv2.VideoCapture:
        # FFmpeg options reach OpenCV only through this variable; set per open, before the capture exists.
        os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = f"rtsp_transport;{self.config.transport}"
        timeout_ms = int(self.config.read_timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        return cv2.VideoCapture(self.config.url, cv2.CAP_FFMPEG, params)


@FEEDS.register(DeviceFeedConfig)
class DeviceFeed(OpenCVFeed):
    """A local camera; live, so it reconnects."""

    live = True
    config: DeviceFeedConfig

    def describe(self) -> str:
        """The device index."""
        return f"device {self.config.index}"

    def _capture(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.config.index)
        if self.config.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.config.width)
        if self.config.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.config.height)
        return cap
