"""`popart eval`: precision, recall and timing per category over a folder of labelled clips.

The folder holds the clips and a `labels.yaml`:

    defaults:                      # optional: feed settings shared by every clip
      analysers: [{type: motion}, {type: crowd-motion}]
    clips:
      - file: intrusion.avi
        zones: [{name: stage, polygon: [[0.55, 0.3], [0.95, 0.3], [0.95, 0.95], [0.55, 0.95]]}]
        analysers: [...]           # optional: overrides the defaults for this clip
        events:                    # the truth, in seconds of the clip
          - {category: intrusion, start: 3.1, end: 9.9}

An incident (start → end of one detection id) matches a labelled event of its category when their
time windows overlap, widened by `tolerance_s`. Precision = matched incidents / incidents; recall =
matched events / events; latency = time from the labelled start to the START detection.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from detectors.config import parse_site_config
from detectors.errors import ConfigError
from detectors.events import Detection, Phase
from detectors.sinks.callback import CallbackSink
from detectors.synthetic import LabelledEvent, Scene
from detectors.worker import Worker


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventLabel(_Strict):
    """One true event of a clip."""

    category: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class ClipLabels(_Strict):
    """A clip, how to analyse it, and its truth."""

    file: str
    zones: list[dict[str, Any]] | None = None
    analysers: list[dict[str, Any]] | None = None
    events: list[EventLabel] = Field(default_factory=list)


class LabelsFile(_Strict):
    """The whole `labels.yaml`."""

    defaults: dict[str, Any] = Field(default_factory=dict)
    clips: list[ClipLabels] = Field(min_length=1)


@dataclass
class CategoryScore:
    """Counts and timings of one category."""

    incidents: int = 0
    matched_incidents: int = 0
    events: int = 0
    matched_events: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        """Matched incidents / incidents (None without incidents)."""
        return self.matched_incidents / self.incidents if self.incidents else None

    @property
    def recall(self) -> float | None:
        """Matched events / events (None without events)."""
        return self.matched_events / self.events if self.events else None

    @property
    def mean_latency(self) -> float | None:
        """Mean seconds from the labelled start to the START detection."""
        return sum(self.latencies) / len(self.latencies) if self.latencies else None


@dataclass
class EvaluationReport:
    """Scores per category and the processing speed."""

    categories: dict[str, CategoryScore]
    clips: int
    frames: int
    seconds: float


@dataclass(frozen=True)
class _Incident:
    category: str
    start: float
    end: float
    alarm_at: float


def _incidents(detections: list[Detection]) -> list[_Incident]:
    by_id: dict[str, list[Detection]] = defaultdict(list)
    for d in detections:
        by_id[d.incident_id].append(d)
    out = []
    for phases in by_id.values():
        start = next((d for d in phases if d.phase is Phase.START), phases[0])
        last = phases[-1]
        out.append(_Incident(start.category, start.stream_started, last.stream_last_seen, start.stream_time))
    return out


def score_clip(detections: list[Detection], events: list[EventLabel], tolerance_s: float,
               scores: dict[str, CategoryScore]) -> None:
    """Add one clip's matches to `scores`."""
    incidents = _incidents(detections)
    for incident in incidents:
        score = scores.setdefault(incident.category, CategoryScore())
        score.incidents += 1
        if any(e.category == incident.category and incident.start <= e.end + tolerance_s
               and e.start - tolerance_s <= incident.end for e in events):
            score.matched_incidents += 1
    for event in events:
        score = scores.setdefault(event.category, CategoryScore())
        score.events += 1
        hits = [i for i in incidents if i.category == event.category and i.start <= event.end + tolerance_s
                and event.start - tolerance_s <= i.end]
        if hits:
            score.matched_events += 1
            score.latencies.append(max(0.0, min(i.alarm_at for i in hits) - event.start))


def load_labels(folder: Path, name: str = "labels.yaml") -> LabelsFile:
    """Read and validate the labels file; `ConfigError` names the problem."""
    path = folder / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return LabelsFile.model_validate(data)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: invalid labels: {exc}") from None


def evaluate(folder: Path, *, labels: str = "labels.yaml", tolerance_s: float = 2.0,
             evidence_dir: Path | None = None) -> EvaluationReport:
    """Run the analysers on every labelled clip and score them."""
    spec = load_labels(folder, labels)
    scores: dict[str, CategoryScore] = {}
    frames = 0
    started = time.perf_counter()
    for i, clip in enumerate(spec.clips):
        path = folder / clip.file
        if not path.is_file():
            raise ConfigError(f"{folder / labels}: clips.{i}.file: no such clip {path}")
        feed: dict[str, Any] = {"id": f"eval-{i}", "source": {"type": "file", "path": str(path)},
                                **spec.defaults}
        if clip.zones is not None:
            feed["zones"] = clip.zones
        if clip.analysers is not None:
            feed["analysers"] = clip.analysers
        evidence = str(evidence_dir or folder / "evidence")
        source = f"{folder / labels} clips.{i}"
        config = parse_site_config({"feeds": [feed], "evidence": {"directory": evidence}}, source)
        found: list[Detection] = []
        stats = Worker(config, [CallbackSink(found.append)]).run()
        frames += stats.feeds[f"eval-{i}"].frames
        score_clip(found, clip.events, tolerance_s, scores)
    return EvaluationReport(scores, len(spec.clips), frames, time.perf_counter() - started)


def write_synthetic_set(folder: Path) -> Path:
    """A small labelled evaluation set from the synthetic scenes (what `popart eval` can be tried on)."""
    from detectors import synthetic

    folder.mkdir(parents=True, exist_ok=True)
    blobs: list[dict[str, Any]] = [{"type": "motion", "history": 3000}, {"type": "tracker", "source": "motion"}]
    entries: list[tuple[str, Scene, list[dict[str, Any]], list[LabelledEvent]]] = []
    intrusion = synthetic.intrusion_scene()
    entries.append(("intrusion", intrusion, [*blobs, {"type": "zones", "loiter_s": 3}], intrusion.events))
    for kind in ("black", "blurred", "moved"):
        scene = synthetic.tampering_scene(kind)
        entries.append((f"tamper-{kind}", scene, [{"type": "motion"}, {"type": "tampering"}], scene.events))
    abandoned = synthetic.abandoned_scene()
    entries.append(("abandoned", abandoned, [*blobs, {"type": "abandoned", "min_static_s": 4}], abandoned.events))
    for name, scene in (("panic", synthetic.crowd_scene(8.0)), ("calm", synthetic.crowd_scene(None)),
                        ("fight", synthetic.fight_scene())):
        entries.append((name, scene, [{"type": "motion"}, {"type": "crowd-motion"}], scene.events))
    clips = []
    for name, scene, analysers, events in entries:
        scene.write(folder / f"{name}.avi")
        entry: dict[str, Any] = {"file": f"{name}.avi", "analysers": analysers,
                                 "events": [{"category": e.category, "start": e.start, "end": e.end} for e in events]}
        if scene.zone:
            entry["zones"] = [{"name": "zone", "polygon": [list(p) for p in scene.zone]}]
        clips.append(entry)
    (folder / "labels.yaml").write_text(yaml.safe_dump({"clips": clips}, sort_keys=False), encoding="utf-8")
    return folder
