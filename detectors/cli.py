"""`popart worker`, `popart detect`, `popart eval`: the detector commands (a typer sub-application)."""

from __future__ import annotations

import json
import logging
import math
import signal
import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import cv2
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from detectors.annotate import Annotator
from detectors.config import SiteConfig, ZoneConfig, load_site_config, parse_site_config
from detectors.defaults import default_analysers
from detectors.errors import DetectorError
from detectors.events import Detection
from detectors.sinks.callback import CallbackSink
from detectors.sinks.jsonl import JsonLinesSink, JsonLinesSinkConfig
from detectors.worker import Worker

app = typer.Typer(help="Detector workers: run a site, analyse a clip, evaluate on labelled clips.",
                  no_args_is_help=True)
err = Console(stderr=True)


class OutputFormat(StrEnum):
    """What `detect` writes per detection."""

    jsonl = "jsonl"
    stix = "stix"


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
    return typer.Exit(code=2)


@app.command()
def worker(config: Annotated[Path, typer.Option("--config", "-c", help="site YAML file")],
           verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Run every feed of a site until stopped (Ctrl-C) or every file feed has ended."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        site = load_site_config(config)
        running = Worker(site)
    except DetectorError as exc:
        raise _fail(exc) from None
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stats = running.run(stop)
    dead = {fid: f.error for fid, f in stats.feeds.items() if f.state.value == "dead"}
    for fid, feed_stats in stats.feeds.items():
        err.print(f"{fid}: {feed_stats.frames} frames, {feed_stats.detections} detections, {feed_stats.state.value}")
    if dead:
        err.print(f"[red]dead feeds:[/red] {dead}")
        raise typer.Exit(code=1)


def _detect_site(video: Path, config: Path | None, feed: str | None, fps: float, evidence: Path) -> SiteConfig:
    base: dict[str, Any] = {}
    if config is not None:
        site = load_site_config(config)
        chosen = [f for f in site.feeds if feed in (None, f.id)]
        if not chosen:
            raise DetectorError(f"{config}: no feed {feed!r} (feeds: {[f.id for f in site.feeds]})")
        setup = chosen[0]
        base = setup.model_dump(mode="json", exclude={"source"})
        base["analysers"] = [a.model_dump(mode="json") for a in setup.analysers] or None
    zones = [ZoneConfig.model_validate(z) for z in base.get("zones") or []]
    base["analysers"] = base.get("analysers") or default_analysers(zones)
    base.setdefault("id", video.stem.replace(" ", "-")[:60] or "clip")
    base["source"] = {"type": "file", "path": str(video), "analysis_fps": fps}
    return parse_site_config({"feeds": [base], "evidence": {"directory": str(evidence)}}, str(config or video))


AUDIO_SUFFIXES = frozenset({".wav", ".ogg", ".oga", ".flac", ".mp3", ".opus", ".m4a", ".aac"})


def _has_video(path: Path) -> bool:
    if path.suffix.lower() in AUDIO_SUFFIXES:
        return False
    capture = cv2.VideoCapture(str(path))
    try:
        return bool(capture.isOpened() and capture.read()[0])
    finally:
        capture.release()


def _detect_sound(path: Path, plot: Path | None, stream: Any, *, required: bool) -> int:
    """Audio detections of a recording (or of a video's soundtrack); returns how many were found."""
    from detectors.audio.cli import detect_audio

    try:
        return len(detect_audio(path, plot=plot, fmt="jsonl", out=stream))
    except DetectorError as exc:
        if required:
            raise
        err.print(f"[dim]soundtrack not analysed: {exc}[/dim]")
        return 0


@app.command()
def detect(
    video: Annotated[Path, typer.Argument(help="a recorded clip: video, video with sound, or audio only")],
    annotate: Annotated[Path | None, typer.Option(help="write the clip with boxes, zones and events (.mp4)")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="jsonl records or STIX bundles")] = (
        OutputFormat.jsonl),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file (default: standard output)")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="take zones/analysers from a site")] = None,
    feed: Annotated[str | None, typer.Option(help="which feed of --config (default: the first)")] = None,
    fps: Annotated[float, typer.Option(help="analysed frames per second")] = 10.0,
    evidence: Annotated[Path, typer.Option(help="where redacted snapshots go")] = Path("evidence"),
    plot: Annotated[Path | None, typer.Option(help="write the sound's spectrogram with detections (.png)")] = None,
    audio: Annotated[bool, typer.Option(help="also analyse the soundtrack of a video")] = True,
) -> None:
    """Analyse one clip and print its detections (one JSON document per line): video analysers on the
    picture, audio detectors on the sound."""
    if not video.is_file():
        raise _fail(DetectorError(f"no such file: {video}"))
    if not _has_video(video):
        stream = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            with err.status(f"listening to {video.name}…"):
                found_sounds = _detect_sound(video, plot, stream, required=True)
        except DetectorError as exc:
            raise _fail(exc) from None
        finally:
            if output:
                stream.close()
        err.print(f"{found_sounds} audio detections" + (f", spectrogram: {plot}" if plot else ""))
        return
    try:
        site = _detect_site(video, config, feed, fps, evidence)
        capture = cv2.VideoCapture(str(video))
        total_frames, clip_fps = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS) or 25.0
        capture.release()
        expected = math.ceil(total_frames * min(1.0, fps / clip_fps)) if total_frames > 0 else None
        annotator = Annotator(annotate, min(fps, clip_fps)) if annotate else None
        stream = output.open("w", encoding="utf-8") if output else sys.stdout
        sink = JsonLinesSink(JsonLinesSinkConfig(format=format.value), stream=stream)
        found: list[Detection] = []
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=err, transient=False) as progress:
            task = progress.add_task(f"analysing {video.name}", total=expected)

            def on_frame(ctx: Any, observations: Any, due: Any) -> None:
                progress.advance(task)
                if annotator is not None:
                    annotator(ctx, observations, due)

            running = Worker(site, [sink, CallbackSink(found.append)], on_frame=on_frame)
            stats = running.run()
        if annotator is not None:
            annotator.close()
        sounds = _detect_sound(video, plot, stream, required=False) if audio or plot else 0
        if output:
            stream.close()
    except DetectorError as exc:
        raise _fail(exc) from None
    feed_stats = next(iter(stats.feeds.values()))
    if feed_stats.state.value == "dead":
        raise _fail(DetectorError(feed_stats.error or "the clip could not be read"))
    incidents = len({d.incident_id for d in found})
    err.print(f"{feed_stats.frames} frames analysed, {incidents} incidents, {len(found)} detections"
              + (f", {sounds} audio detections" if sounds else "")
              + (f", annotated video: {annotate}" if annotate else ""))


@app.command("eval")
def evaluate_command(
    folder: Annotated[Path, typer.Argument(help="clips plus labels.yaml")],
    labels: Annotated[str, typer.Option(help="labels file name inside FOLDER")] = "labels.yaml",
    tolerance: Annotated[float, typer.Option(help="seconds of slack when matching windows")] = 2.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    make_synthetic: Annotated[bool, typer.Option(help="first write a synthetic labelled set into FOLDER")] = False,
) -> None:
    """Precision, recall and timing per category over labelled clips."""
    from detectors.evaluate import evaluate, write_synthetic_set

    try:
        if make_synthetic:
            write_synthetic_set(folder)
        report = evaluate(folder, labels=labels, tolerance_s=tolerance)
    except DetectorError as exc:
        raise _fail(exc) from None
    rows = {name: {"precision": s.precision, "recall": s.recall, "incidents": s.incidents, "events": s.events,
                   "mean_latency_s": s.mean_latency} for name, s in sorted(report.categories.items())}
    speed = report.frames / report.seconds if report.seconds else 0.0
    if as_json:
        typer.echo(json.dumps({"categories": rows, "clips": report.clips, "frames": report.frames,
                               "seconds": round(report.seconds, 2), "frames_per_second": round(speed, 1)}))
        return
    table = Table(title=f"{report.clips} clips, {report.frames} frames, {speed:.1f} analysed frames/s")
    for column in ("category", "precision", "recall", "incidents", "events", "mean latency (s)"):
        table.add_column(column)

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for name, row in rows.items():
        table.add_row(name, fmt(row["precision"]), fmt(row["recall"]), str(row["incidents"]), str(row["events"]),
                      fmt(row["mean_latency_s"]))
    Console().print(table)


def main() -> None:
    """Run the sub-application standalone (`python -m detectors.cli`)."""
    app()


if __name__ == "__main__":
    main()
