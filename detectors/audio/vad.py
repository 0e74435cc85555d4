"""Speech activity with Silero VAD, run through ONNX Runtime directly (no torch).

The `silero-vad` PyPI package ships its ONNX models; importing the package pulls in torch, so this
module only locates the package's data folder (`importlib.util.find_spec` does not import it) and
loads `silero_vad_16k_sequence.onnx`, which scores a whole block of 32 ms frames in one call.
Install it without its dependencies: `pip install --no-deps silero-vad` (see scripts/fetch_audio_media.sh).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnxruntime as ort

from detectors.audio.signal import FloatArray
from detectors.errors import ModelError

FRAME = 512
CONTEXT = 64
MODEL_FILE = "silero_vad_16k_sequence.onnx"


def silero_model_path() -> Path:
    """Where the installed `silero-vad` package keeps its sequence ONNX model."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("silero-vad is not installed: run `pip install --no-deps silero-vad` "
                         "(scripts/fetch_audio_media.sh does it)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"silero-vad package has no {MODEL_FILE} (need silero-vad >= 6.2): {path}")
    return path


class SpeechGate:
    """Per-frame speech probabilities of 16 kHz mono audio (stateless between calls)."""

    _shared: ClassVar[SpeechGate | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, model: Path | None = None) -> None:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(model or silero_model_path()), sess_options=opts,
                                            providers=["CPUExecutionProvider"])

    @classmethod
    def shared(cls) -> SpeechGate:
        """One session per process (it is thread-safe and holds ~2 MB of weights)."""
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def frame_probabilities(self, samples: FloatArray) -> FloatArray:
        """Speech probability of each 32 ms frame (a trailing partial frame is zero-padded)."""
        count = max(1, -(-len(samples) // FRAME))
        frames = np.zeros((count, FRAME), dtype=np.float32)
        frames.reshape(-1)[: len(samples)] = samples
        context = np.zeros((count, CONTEXT), dtype=np.float32)
        context[1:] = frames[:-1, -CONTEXT:]
        state = np.zeros((1, 1, 128), dtype=np.float32)
        probs = self.session.run(None, {"input": np.concatenate([context, frames], axis=1),
                                        "h": state, "c": state.copy()})[0]
        return np.asarray(probs, dtype=np.float32).reshape(-1)

    def probability(self, samples: FloatArray, skip_s: float = 0.0) -> float:
        """Share of speech frames after the first `skip_s` seconds (context that warms the model up)."""
        probs = self.frame_probabilities(samples)[int(skip_s * 16_000 / FRAME):]
        return float(np.mean(probs >= 0.5)) if len(probs) and len(samples) >= FRAME else 0.0

    def segments(self, samples: FloatArray, threshold: float = 0.5) -> list[tuple[float, float]]:
        """Speech segments (seconds) of a signal."""
        speech = self.frame_probabilities(samples) >= threshold
        edges = np.flatnonzero(np.diff(np.concatenate([[0], speech.astype(np.int8), [0]])))
        return [(a * FRAME / 16_000, b * FRAME / 16_000) for a, b in zip(edges[::2], edges[1::2], strict=True)]
