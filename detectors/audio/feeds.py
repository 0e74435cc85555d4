"""Audio feeds — files, RTSP audio, ALSA devices — through the worker's `Feed` interface.

Every feed yields `AudioBlock`s of 16 kHz mono float32 (resampled with a streaming polyphase filter,
gain-calibrated) stamped with stream time: seconds since the start of the file, which is the clock
the video feeds of the same file use, or since the live session began, with the capture wall time,
so audio and video detections of one place line up. Live feeds reconnect with the base class's backoff.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import soundfile as sf
from pydantic import Field

from detectors.audio.decode import FfmpegAudio, uses_soundfile
from detectors.audio.signal import ANALYSIS_RATE, FloatArray, StreamResampler, gain, to_mono
from detectors.errors import FeedError
from detectors.feeds.base import FEEDS, Disconnected, Feed, FeedConfig


@dataclass(frozen=True)
class AudioBlock:
    """A block of analysis-rate mono samples; `start` is the stream time of its first sample."""

    samples: FloatArray
    start: float
    rate: int = ANALYSIS_RATE
    spl_at_0dbfs: float | None = None

    @property
    def duration(self) -> float:
        """Seconds of audio in the block."""
        return len(self.samples) / self.rate


class AudioFeedConfig(FeedConfig):
    """Fields every audio feed has."""

    media: ClassVar[Literal["video", "audio"]] = "audio"
    analysis_fps: None = Field(default=None, description="audio keeps every block (no frame sampling)")
    block_s: float = Field(default=0.5, gt=0.01, le=5.0, description="seconds of audio per block")
    gain_db: float = Field(default=0.0, ge=-60, le=60, description="calibration gain applied to samples")
    spl_at_0dbfs: float | None = Field(
        default=None, description="dB SPL a full-scale sine represents after the gain (calibrator reading)"
    )


class AudioFileFeedConfig(AudioFeedConfig):
    """An audio file, or the audio track of a video file (decoded by ffmpeg)."""

    type: Literal["audio_file"] = "audio_file"
    path: Path
    realtime: bool = Field(default=False, description="pace reading at real time (demo)")
    loop: bool = Field(default=False, description="start over at the end (demo)")


class RtspAudioFeedConfig(AudioFeedConfig):
    """The audio track of a network stream (RTSP, HTTP, UDP); live, reconnects when it drops."""

    type: Literal["rtsp_audio"] = "rtsp_audio"
    url: str = Field(pattern=r"^(rtsps?|https?|udp|tcp|srt)://")
    transport: Literal["tcp", "udp"] = "tcp"
    read_timeout_s: float = Field(default=5.0, gt=0)


class AlsaFeedConfig(AudioFeedConfig):
    """A local capture device through ALSA (`default`, `hw:1,0`, `plughw:CARD=USB,DEV=0`)."""

    type: Literal["alsa"] = "alsa"
    device: str = Field(default="default", pattern=r"^[A-Za-z0-9_:,=.-]+$")
    sample_rate: int = Field(default=48_000, ge=8_000, le=192_000)
    channels: int = Field(default=1, ge=1, le=32)
    read_timeout_s: float = Field(default=5.0, gt=0)


class AudioFeed(Feed[AudioBlock]):
    """Shared loop: decode blocks, mix to mono, resample, apply gain, stamp stream time."""

    config: AudioFeedConfig

    def __init__(self, config: AudioFeedConfig) -> None:
        super().__init__(config)
        self._decoder: FfmpegAudio | None = None
        # duration of the last block before a reconnect: the base class continues from that block's start
        # plus the wall time since it was read, which misses the block's own duration
        self._carry = 0.0

    def describe(self) -> str:
        """Human name of the source, without credentials."""
        return self.config.type

    def _raw_blocks(self) -> Iterator[tuple[np.ndarray, int]]:
        """Yield (samples (n, ch), rate) of one session."""
        assert self._decoder is not None
        fmt = self._decoder.format
        try:
            for block in self._decoder.blocks(max(1, round(self.config.block_s * fmt.rate))):
                yield block, fmt.rate
        except TimeoutError as exc:
            raise Disconnected(f"{self.describe()}: {exc}") from None
        if self.live:
            raise Disconnected(f"{self.describe()}: stream ended ({self._decoder.stderr_tail() or 'eof'})")

    def _read(self) -> Iterator[tuple[float, datetime | None, AudioBlock]]:
        resampler: StreamResampler | None = None
        session_wall = datetime.now(UTC)
        emitted = 0
        carry, self._carry = self._carry, 0.0
        spl = self.config.spl_at_0dbfs

        def stamp(samples: FloatArray) -> tuple[float, datetime | None, AudioBlock]:
            nonlocal emitted
            start = carry + emitted / ANALYSIS_RATE
            emitted += len(samples)
            self._carry = len(samples) / ANALYSIS_RATE
            wall = session_wall + timedelta(seconds=start - carry) if self.live else None
            return start, wall, AudioBlock(gain(samples, self.config.gain_db), start, spl_at_0dbfs=spl)

        for raw, rate in self._raw_blocks():
            if resampler is None:
                resampler = StreamResampler(rate)
            out = resampler.process(to_mono(raw))
            if len(out):
                yield stamp(out)
        if resampler is not None:
            tail = resampler.flush()
            if len(tail):
                yield stamp(tail)

    def _close(self) -> None:
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None


@FEEDS.register(AudioFileFeedConfig)
class AudioFileFeed(AudioFeed):
    """WAV/FLAC/OGG through libsndfile; any other container (video files) through ffmpeg."""

    config: AudioFileFeedConfig

    def __init__(self, config: AudioFileFeedConfig) -> None:
        super().__init__(config)
        self._file: sf.SoundFile | None = None

    def describe(self) -> str:
        """The file name."""
        return str(self.config.path)

    def _open(self) -> None:
        path = self.config.path
        if not path.is_file():
            raise FeedError(f"{path}: no such audio file")
        if uses_soundfile(path):
            try:
                self._file = sf.SoundFile(str(path))
                return
            except (sf.LibsndfileError, RuntimeError):
                self._file = None  # not for libsndfile (e.g. Opus in .ogg): ffmpeg decodes it
        self._decoder = FfmpegAudio(["-i", str(path)])

    def _raw_blocks(self) -> Iterator[tuple[np.ndarray, int]]:
        started = time.monotonic()
        played = 0.0
        while True:
            if self._file is not None:
                rate = int(self._file.samplerate)
                for block in self._file.blocks(max(1, round(self.config.block_s * rate)), dtype="float32",
                                               always_2d=True):
                    played += len(block) / rate
                    self._pace(started, played)
                    yield block, rate
            else:
                for block, rate in super()._raw_blocks():
                    played += len(block) / rate
                    self._pace(started, played)
                    yield block, rate
            if not self.config.loop:
                return
            self._close()
            self._open()

    def _pace(self, started: float, played: float) -> None:
        if self.config.realtime:
            ahead = played - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        super()._close()


@FEEDS.register(RtspAudioFeedConfig)
class RtspAudioFeed(AudioFeed):
    """Live network audio through ffmpeg; a stall longer than `read_timeout_s` is a disconnect."""

    config: RtspAudioFeedConfig
    live = True

    def describe(self) -> str:
        """The URL without credentials."""
        url = self.config.url
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"

    def _open(self) -> None:
        args: list[str] = []
        if self.config.url.startswith(("rtsp://", "rtsps://")):
            args += ["-rtsp_transport", self.config.transport,
                     "-timeout", str(round(self.config.read_timeout_s * 1e6))]
        args += ["-i", self.config.url]
        try:
            self._decoder = FfmpegAudio(args, read_timeout_s=self.config.read_timeout_s + 5.0)
        except FeedError as exc:  # ffmpeg echoes the URL: never let its credentials into logs
            raise FeedError(str(exc).replace(self.config.url, self.describe())) from None


@FEEDS.register(AlsaFeedConfig)
class AlsaFeed(AudioFeed):
    """A microphone through ffmpeg's ALSA input device."""

    config: AlsaFeedConfig
    live = True

    def describe(self) -> str:
        """The ALSA device name."""
        return f"alsa:{self.config.device}"

    def _open(self) -> None:
        cfg = self.config
        self._decoder = FfmpegAudio(["-f", "alsa", "-sample_rate", str(cfg.sample_rate), "-channels",
                                     str(cfg.channels), "-i", cfg.device], read_timeout_s=cfg.read_timeout_s)


def file_feed(path: str | Path, **options: Any) -> AudioFileFeed:
    """An audio file feed outside a site config (CLI, evaluation), named after the file."""
    feed = AudioFileFeed(AudioFileFeedConfig(path=Path(path), **options))
    feed.feed_id = Path(path).name
    return feed
