"""`popart detect` for audio: timestamped detections of an audio or video file, and a spectrogram plot.

The lead wires `detect_audio` (or the `app` typer command) into the `popart` CLI.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, TextIO

import numpy as np
import typer
import yaml

from detectors.audio.analyzer import AudioAnalysisConfig, AudioAnalyzer
from detectors.audio.base import AudioEvent
from detectors.audio.signal import ANALYSIS_RATE, FloatArray
from detectors.errors import ConfigError, DetectorError, FeedError

OutputFormat = Literal["jsonl", "text"]


def load_analysis_config(path: Path | None) -> AudioAnalysisConfig:
    """An `AudioAnalysisConfig` from a YAML file (`detectors: [...]`), or the default detector set."""
    if path is None:
        return AudioAnalysisConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return AudioAnalysisConfig.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class FileAnalysis:
    """The events of a file (by start time), its duration, and its 16 kHz signal when kept (for plots)."""

    events: list[AudioEvent]
    duration_s: float
    samples: FloatArray


def analyse_file(path: str | Path, config: AudioAnalysisConfig | None = None, block_s: float = 1.0,
                 keep_samples: bool = False) -> FileAnalysis:
    """Stream a file (audio, or the audio track of a video) through the detectors, in bounded memory."""
    from detectors.audio.feeds import file_feed
    from detectors.errors import FeedDeadError

    if not Path(path).is_file():
        raise FeedError(f"{path}: no such file")
    analyzer = AudioAnalyzer(config)
    events: list[AudioEvent] = []
    kept: list[FloatArray] = []
    total = 0
    try:
        for item in file_feed(path, block_s=block_s).items():
            total += len(item.data.samples)
            if keep_samples:
                kept.append(item.data.samples)
            events.extend(analyzer.process(item.data.samples))
    except FeedDeadError as exc:
        raise FeedError(str(exc.__cause__ or exc)) from None
    events.extend(analyzer.flush())
    samples = np.concatenate(kept) if kept else np.zeros(0, dtype=np.float32)
    return FileAnalysis(sorted(events, key=lambda e: (e.start, e.category)), total / ANALYSIS_RATE, samples)


def detect_audio(path: str | Path, plot: str | Path | None = None, fmt: OutputFormat = "jsonl",
                 config: Path | None = None, out: TextIO | None = None) -> list[AudioEvent]:
    """Print the audio detections of a file (JSON lines or text) and optionally plot them."""
    out = out or sys.stdout
    result = analyse_file(path, load_analysis_config(config), keep_samples=plot is not None)
    events = result.events
    for event in events:
        if fmt == "jsonl":
            out.write(json.dumps({"file": str(path), **event.as_dict()}) + "\n")
        else:
            out.write(f"{event.start:9.3f} {event.end:9.3f}  {event.category:<12} {event.confidence:.2f}"
                      f"  {dict(event.attributes)}\n")
    if plot is not None:
        from detectors.audio.plot import draw_spectrogram

        draw_spectrogram(result.samples, events, plot, title=f"{Path(path).name}: {len(events)} detections, "
                         f"{result.duration_s:.1f} s")
    return events


app = typer.Typer(help="Audio detections of a recording.", add_completion=False)


@app.command()
def detect(
    path: Annotated[Path, typer.Argument(help="audio file, or a video file with an audio track")],
    plot: Annotated[Path | None, typer.Option("--plot", help="write a spectrogram PNG with detections")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or text")] = "jsonl",
    config: Annotated[Path | None, typer.Option("--config", help="YAML with `detectors: [...]`")] = None,
) -> None:
    """Print timestamped audio detections with confidence."""
    if fmt not in ("jsonl", "text"):
        raise typer.BadParameter("--format must be jsonl or text")
    try:
        detect_audio(path, plot, fmt, config)  # type: ignore[arg-type]
    except DetectorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


if __name__ == "__main__":
    app()
