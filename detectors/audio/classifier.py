"""An AudioSet-family ONNX classifier (YAMNet-style) as an audio detector plugin.

The data scientist names the model file, its class map (AudioSet's CSV: `index,mid,display_name`)
and which classes count as which detection category; windows of `window_s` (0.975 s for YAMNet)
every `hop_s` are scored, a category's score is the best of its classes, and consecutive windows
above the threshold become one event. Waveform inputs of rank 1 (`[samples]`), 2 (`[batch, samples]`)
or 3 (`[batch, 1, samples]`) and outputs `[classes]`, `[batch, classes]` or `[frames, classes]` are
understood; a mapped class missing from the class map stops startup with its name.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort
from pydantic import Field, model_validator

from detectors.audio.analyzer import AnalysisContext
from detectors.audio.base import AUDIO_DETECTORS, AudioDetector, AudioDetectorConfig, AudioEvent, clip01
from detectors.audio.signal import ANALYSIS_RATE, FloatArray, resample
from detectors.audio.windows import SlidingWindows
from detectors.errors import ModelError


class ClassifierConfig(AudioDetectorConfig):
    """Model, class map and category mapping of an AudioSet-family classifier."""

    type: Literal["onnx_classifier"] = "onnx_classifier"
    model: Path
    class_map: Path = Field(description="CSV with a header and columns index, mid, display_name")
    categories: dict[str, list[str]] = Field(
        min_length=1, description="detection category -> AudioSet display names or mids, e.g. "
        "{gunshot: ['Gunshot, gunfire', 'Machine gun'], scream: ['Screaming']}")
    threshold: float = Field(default=0.3, gt=0, lt=1, description="score for a window to count")
    thresholds: dict[str, float] = Field(default_factory=dict, description="per-category overrides")
    window_s: float = Field(default=0.975, gt=0.05, le=10)
    hop_s: float = Field(default=0.48, gt=0.01, le=10)
    input_rate: int = Field(default=ANALYSIS_RATE, ge=8000, le=96000, description="the model's sample rate")
    output: str | None = Field(default=None, description="output name holding the scores (default: the first)")
    activation: Literal["none", "sigmoid", "softmax"] = Field(default="none", description="applied to the output")
    merge_gap_s: float = Field(default=0.5, ge=0, description="active windows closer than this form one event")

    @model_validator(mode="after")
    def _hop_in_window(self) -> ClassifierConfig:
        if self.hop_s > self.window_s:
            raise ValueError("hop_s must not exceed window_s")
        return self


def read_class_map(path: Path) -> list[tuple[str, str]]:
    """(mid, display_name) per class index from an AudioSet class-map CSV."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise ModelError(f"class map {path}: {exc.strerror or exc}") from None
    if len(rows) < 2 or [c.strip().lower() for c in rows[0][:3]] != ["index", "mid", "display_name"]:
        raise ModelError(f"class map {path}: expected a header 'index,mid,display_name'")
    out: list[tuple[str, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) < 3 or not row[0].strip().isdigit() or int(row[0]) != len(out):
            raise ModelError(f"class map {path}, line {number}: expected consecutive 'index,mid,display_name'")
        out.append((row[1].strip(), row[2].strip()))
    return out


@AUDIO_DETECTORS.register(ClassifierConfig)
class OnnxAudioClassifier(AudioDetector):
    """Scores sliding windows with an ONNX model and maps classes to detection categories."""

    config: ClassifierConfig

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__(config)
        if not config.model.is_file():
            raise ModelError(f"audio model {config.model}: no such file")
        classes = read_class_map(config.class_map)
        lookup = {name: i for i, (mid, name) in enumerate(classes)} | {mid: i for i, (mid, _) in enumerate(classes)}
        self.category_classes: dict[str, np.ndarray] = {}
        for category, names in config.categories.items():
            missing = [n for n in names if n not in lookup]
            if missing:
                raise ModelError(f"categories.{category}: {missing} not in class map {config.class_map}")
            self.category_classes[category] = np.array([lookup[n] for n in names])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(config.model), sess_options=opts,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"audio model {config.model} cannot load: {exc}") from None
        inp = self.session.get_inputs()[0]
        self.input_name, self.input_rank = inp.name, len(inp.shape)
        if self.input_rank not in (1, 2, 3):
            raise ModelError(f"audio model {config.model}: waveform input of rank 1-3 expected, got {inp.shape}")
        names = [o.name for o in self.session.get_outputs()]
        if config.output is not None and config.output not in names:
            raise ModelError(f"audio model {config.model}: no output {config.output!r} (has {names})")
        self.output_name = config.output or names[0]
        self.n_classes = len(classes)
        self.windows = SlidingWindows(config.window_s, config.hop_s)
        self._cursor = 0  # absolute sample index consumed from the history
        self._open: dict[str, list[float]] = {}  # category -> [start, end, best score]
        self.scores: list[tuple[float, dict[str, float]]] = []  # window start -> category scores

    def window_scores(self, window: FloatArray) -> np.ndarray:
        """Class scores (n_classes,) of one 16 kHz window."""
        x = resample(window, ANALYSIS_RATE, self.config.input_rate) if self.config.input_rate != ANALYSIS_RATE \
            else window
        shaped = x if self.input_rank == 1 else x[None, :] if self.input_rank == 2 else x[None, None, :]
        out = np.asarray(self.session.run([self.output_name], {self.input_name: shaped.astype(np.float32)})[0])
        scores = out.reshape(-1, out.shape[-1]).astype(np.float64)
        if scores.shape[-1] != self.n_classes:
            raise ModelError(f"audio model gives {scores.shape[-1]} scores, class map has {self.n_classes}")
        if self.config.activation == "sigmoid":
            scores = 1.0 / (1.0 + np.exp(-scores))
        elif self.config.activation == "softmax":
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
        return np.asarray(scores.mean(axis=0))

    def update(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Score the windows completed by new samples."""
        h = ctx.history
        self.windows.time0 = ctx.time0
        fresh = h.samples[max(0, self._cursor - h.sample_base):]
        self._cursor = h.sample_base + len(h.samples)
        events = [e for start, window in self.windows.push(fresh) for e in self._judge(start, window)]
        if ctx.final:
            events += [e for start, window in self.windows.flush() for e in self._judge(start, window)]
            events += [self._event(c) for c in list(self._open)]
        return events

    def flush(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Score the last partial window and close open events."""
        return self.update(ctx)

    def _judge(self, start: float, window: FloatArray) -> list[AudioEvent]:
        cfg = self.config
        scores = self.window_scores(window)
        per_category = {c: float(scores[idx].max()) for c, idx in self.category_classes.items()}
        self.scores.append((start, per_category))
        events: list[AudioEvent] = []
        end = start + cfg.window_s
        for category, score in per_category.items():
            active = score >= cfg.thresholds.get(category, cfg.threshold)
            state = self._open.get(category)
            if state is not None and start > state[1] + cfg.merge_gap_s:
                events.append(self._event(category))
                state = None
            if active:
                if state is None:
                    self._open[category] = [start, end, score]
                else:
                    state[1], state[2] = end, max(state[2], score)
        return events

    def _event(self, category: str) -> AudioEvent:
        start, end, score = self._open.pop(category)
        return AudioEvent(category, start, end, clip01(score), self.name,
                          attributes={"score": round(score, 3), "model": self.config.model.name})
