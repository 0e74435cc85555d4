"""Fixtures of the audio tests: real recordings fetched by the repo's script, synthetic scenes."""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from detectors.audio.base import AudioEvent
from detectors.audio.decode import read_audio
from detectors.audio.signal import FloatArray, resample

ROOT = Path(__file__).resolve().parents[3]
MEDIA = ROOT / ".media" / "audio"
NEEDED = ("gunshot.wav", "explosion.ogg", "thunderstick.ogg", "human-die-1.ogg", "human-female-die-3.ogg",
          "speech.wav", "shout.wav")


def _ready() -> bool:
    return (all((MEDIA / name).is_file() for name in NEEDED) and shutil.which("ffmpeg") is not None
            and importlib.util.find_spec("silero_vad") is not None)


@pytest.fixture(scope="session", autouse=True)
def audio_media() -> Path:
    """`.media/audio` with the Debian recordings; the script also installs ffmpeg and silero-vad (--no-deps)."""
    if not _ready():
        env = {**os.environ, "PYTHON": sys.executable}  # silero-vad goes into the interpreter running the tests
        subprocess.run(["bash", str(ROOT / "scripts" / "fetch_audio_media.sh"), str(MEDIA)], check=True, timeout=900,
                       env=env)
        importlib.invalidate_caches()
    return MEDIA


def load16k(path: Path) -> FloatArray:
    """A recording as 16 kHz mono."""
    data, rate = read_audio(path)
    return resample(data, rate)


def write_wav(path: Path, samples: FloatArray, rate: int = 16_000) -> Path:
    """Write float samples as a 16-bit WAV."""
    sf.write(str(path), np.clip(samples, -1, 1), rate, subtype="PCM_16")
    return path


def near(events: list[AudioEvent], category: str, at: float, tolerance: float = 0.1) -> list[AudioEvent]:
    """Events of `category` starting within `tolerance` of `at`."""
    return [e for e in events if e.category == category and abs(e.start - at) <= tolerance]
