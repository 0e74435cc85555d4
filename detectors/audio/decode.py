"""Decoding audio to float32 blocks: `soundfile` for WAV/OGG/FLAC, the `ffmpeg` binary for the rest.

ffmpeg (Debian package `ffmpeg`, installed by scripts/fetch_audio_media.sh) runs as a child process
writing a WAV stream to a pipe: video containers, RTSP and ALSA capture all go through the same
code, a stalled or crashed demuxer takes only the child down (reconnecting is killing it and starting
another), and no Python binding ties us to one FFmpeg ABI. The WAV header on the pipe tells the
rate and channel count, so no probing step is needed; resampling to 16 kHz is ours (scipy).
"""

from __future__ import annotations

import os
import select
import shutil
import struct
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from detectors.audio.signal import FloatArray
from detectors.errors import FeedError

SOUNDFILE_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".au", ".w64"})


class DecoderMissing(FeedError):
    """The ffmpeg binary is not installed."""


def find_ffmpeg() -> str:
    """Path of the ffmpeg binary (`POPART_FFMPEG` overrides), or a clear error saying how to get it."""
    path = os.environ.get("POPART_FFMPEG") or shutil.which("ffmpeg")
    if not path:
        raise DecoderMissing("ffmpeg is not installed; install the Debian package (apt-get install ffmpeg) "
                             "or run scripts/fetch_audio_media.sh")
    return path


@dataclass(frozen=True)
class WavFormat:
    """What the WAV header on ffmpeg's pipe says."""

    rate: int
    channels: int


def _read_exact(fd: int, count: int, timeout_s: float | None) -> bytes:
    chunks: list[bytes] = []
    remaining = count
    while remaining:
        if timeout_s is not None:
            ready, _, _ = select.select([fd], [], [], timeout_s)
            if not ready:
                raise TimeoutError(f"no audio for {timeout_s:g} s")
        chunk = os.read(fd, remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def parse_wav_header(read: Callable[[int], bytes]) -> WavFormat:
    """Read a streamed WAV header (RIFF, `fmt `, … up to `data`) from `read(n) -> bytes`."""
    head = read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise FeedError("decoder output is not a WAV stream")
    fmt: WavFormat | None = None
    while True:
        chunk = read(8)
        if len(chunk) < 8:
            raise FeedError("WAV stream ended before its data chunk")
        name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if name == b"data":
            if fmt is None:
                raise FeedError("WAV stream has no fmt chunk")
            return fmt
        body = read(size + (size & 1))
        if name == b"fmt ":
            tag, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the real tag
                tag = struct.unpack("<H", body[24:26])[0]
            if tag != 3 or bits != 32:
                raise FeedError(f"expected 32-bit float WAV from the decoder, got tag {tag}, {bits} bits")
            fmt = WavFormat(rate=rate, channels=channels)


class FfmpegAudio:
    """One ffmpeg child process decoding `input_args` to mono float32 WAV on a pipe."""

    def __init__(self, input_args: Sequence[str], read_timeout_s: float | None = None,
                 channels: int | None = 1) -> None:
        cmd = [find_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", *input_args,
               "-vn", "-map", "0:a:0"]
        if channels:
            cmd += ["-ac", str(channels)]
        cmd += ["-c:a", "pcm_f32le", "-f", "wav", "pipe:1"]
        self.cmd = cmd
        self.read_timeout_s = read_timeout_s
        self._stderr: deque[bytes] = deque(maxlen=20)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        # drain stderr continuously: a stream logging errors for hours must never block on a full pipe
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        try:
            self.format = parse_wav_header(lambda n: _read_exact(self._fd, n, self.read_timeout_s))
        except (FeedError, TimeoutError) as exc:
            self.close()
            raise FeedError(f"ffmpeg cannot decode audio: {self.stderr_tail() or exc}") from None

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def blocks(self, frames: int) -> Iterator[FloatArray]:
        """Yield (frames, channels) float32 blocks until the stream ends; `TimeoutError` if it stalls."""
        size = frames * self.format.channels * 4
        while True:
            data = _read_exact(self._fd, size, self.read_timeout_s)
            usable = len(data) - len(data) % (4 * self.format.channels)
            if usable:
                yield np.frombuffer(data[:usable], dtype="<f4").reshape(-1, self.format.channels)
            if len(data) < size:
                return

    def stderr_tail(self) -> str:
        """The last line ffmpeg wrote to stderr (once it has ended)."""
        if self.proc.poll() is None:
            return ""
        text = b"".join(self._stderr).decode("utf-8", "replace")
        if "matches no streams" in text:
            return "the input has no audio stream"
        lines = text.strip().splitlines()
        return lines[-1] if lines else ""

    def close(self) -> None:
        """Stop the child (safe to call twice)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._drain.join(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def uses_soundfile(path: Path) -> bool:
    """Whether libsndfile reads this file directly (no ffmpeg needed)."""
    return path.suffix.lower() in SOUNDFILE_SUFFIXES


def read_audio(path: str | Path) -> tuple[FloatArray, int]:
    """Decode a whole audio or video file to mono float32 at its own rate."""
    path = Path(path)
    if not path.is_file():
        raise FeedError(f"{path}: no such file")
    if uses_soundfile(path):
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
            return data.mean(axis=1, dtype=np.float32), int(rate)
        except (sf.LibsndfileError, RuntimeError):
            pass  # e.g. an Opus .ogg that this libsndfile cannot read: ffmpeg can
    decoder = FfmpegAudio(["-i", str(path)])
    try:
        parts = list(decoder.blocks(65536))
    finally:
        decoder.close()
    data = np.concatenate(parts)[:, 0] if parts else np.zeros(0, dtype=np.float32)
    return data, decoder.format.rate
