"""Evaluate the audio detectors on a labelled folder: precision, recall and false alarms per hour.

Each recording `NAME.<ext>` (any audio, or video with an audio track) has its labels beside it in
`NAME.txt` (Audacity label track: `start<TAB>end<TAB>category` per line) or `NAME.csv` (header
`start,end,category`). A recording without a label file counts as containing nothing (all its
detections are false alarms). A detection is a true positive when it overlaps, within `tolerance_s`,
a label of the same category; each label is found or missed once.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from detectors.audio.analyzer import AudioAnalysisConfig
from detectors.audio.base import AudioEvent
from detectors.audio.cli import analyse_file
from detectors.errors import DetectorError

MEDIA_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".aac", ".opus",
                            ".mp4", ".mkv", ".avi", ".mov", ".webm"})


@dataclass(frozen=True)
class Label:
    """A ground-truth segment."""

    start: float
    end: float
    category: str


@dataclass
class CategoryScore:
    """Counts and rates of one category."""

    labels: int = 0
    found: int = 0
    detections: int = 0
    true_detections: int = 0

    @property
    def precision(self) -> float | None:
        """Share of detections that match a label (None without detections)."""
        return self.true_detections / self.detections if self.detections else None

    @property
    def recall(self) -> float | None:
        """Share of labels found (None without labels)."""
        return self.found / self.labels if self.labels else None

    def false_alarms(self) -> int:
        """Detections matching no label."""
        return self.detections - self.true_detections


@dataclass
class EvaluationReport:
    """Per-category scores over a folder."""

    hours: float = 0.0
    files: int = 0
    categories: dict[str, CategoryScore] = field(default_factory=dict)

    def false_alarms_per_hour(self, category: str) -> float:
        """False alarms of a category per hour of audio."""
        return self.categories[category].false_alarms() / self.hours if self.hours else 0.0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready summary."""
        return {
            "files": self.files, "hours": round(self.hours, 4),
            "categories": {
                name: {"labels": s.labels, "found": s.found, "detections": s.detections,
                       "precision": None if s.precision is None else round(s.precision, 3),
                       "recall": None if s.recall is None else round(s.recall, 3),
                       "false_alarms_per_hour": round(self.false_alarms_per_hour(name), 2)}
                for name, s in sorted(self.categories.items())
            },
        }

    def format(self) -> str:
        """A plain-text table."""
        lines = [f"{self.files} files, {self.hours * 60:.1f} min",
                 f"{'category':<14}{'labels':>7}{'found':>7}{'dets':>6}{'precision':>11}{'recall':>8}{'FA/h':>8}"]
        for name, s in sorted(self.categories.items()):
            p = "-" if s.precision is None else f"{s.precision:.2f}"
            r = "-" if s.recall is None else f"{s.recall:.2f}"
            lines.append(f"{name:<14}{s.labels:>7}{s.found:>7}{s.detections:>6}{p:>11}{r:>8}"
                         f"{self.false_alarms_per_hour(name):>8.1f}")
        return "\n".join(lines)


def read_labels(path: Path) -> list[Label]:
    """Labels from an Audacity `.txt` track or a `.csv` with `start,end,category`."""
    labels: list[Label] = []
    with path.open(newline="", encoding="utf-8") as handle:
        if path.suffix == ".csv":
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"start", "end", "category"} <= set(reader.fieldnames):
                raise DetectorError(f"{path}: expected a header with start,end,category")
            rows = [(r["start"], r["end"], r["category"]) for r in reader]
        else:
            rows = [tuple(line.rstrip("\n").split("\t")[:3]) for line in handle  # type: ignore[misc]
                    if line.strip() and not line.startswith("\\")]
    for number, row in enumerate(rows, start=1):
        try:
            start, end, category = float(row[0]), float(row[1]), row[2].strip()
        except (ValueError, IndexError):
            raise DetectorError(f"{path}: label {number} is not 'start end category': {row!r}") from None
        if end < start or not category:
            raise DetectorError(f"{path}: label {number} has end < start or no category")
        labels.append(Label(start, end, category))
    return labels


def label_file(media: Path) -> Path | None:
    """The label file of a recording, if any."""
    for suffix in (".txt", ".csv"):
        candidate = media.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def score(events: Sequence[AudioEvent], labels: Sequence[Label], report: EvaluationReport,
          tolerance_s: float = 0.5) -> None:
    """Add one recording's matches to `report`."""
    for label in labels:
        report.categories.setdefault(label.category, CategoryScore()).labels += 1
    found: set[int] = set()
    for event in events:
        stats = report.categories.setdefault(event.category, CategoryScore())
        stats.detections += 1
        hits = [i for i, lab in enumerate(labels) if lab.category == event.category
                and event.start <= lab.end + tolerance_s and lab.start - tolerance_s <= event.end]
        if hits:
            stats.true_detections += 1
            found.update(hits)
    for i in found:
        report.categories[labels[i].category].found += 1


def evaluate_folder(folder: str | Path, config: AudioAnalysisConfig | None = None,
                    tolerance_s: float = 0.5) -> EvaluationReport:
    """Run the detectors on every recording of `folder` and score them against their labels."""
    root = Path(folder)
    if not root.is_dir():
        raise DetectorError(f"{root}: not a folder")
    report = EvaluationReport()
    media = sorted(p for p in root.iterdir() if p.suffix.lower() in MEDIA_SUFFIXES and p.is_file())
    if not media:
        raise DetectorError(f"{root}: no recordings ({', '.join(sorted(MEDIA_SUFFIXES))})")
    for path in media:
        labels_path = label_file(path)
        labels = read_labels(labels_path) if labels_path is not None else []
        result = analyse_file(path, config)
        report.files += 1
        report.hours += result.duration_s / 3600.0
        score(result.events, labels, report, tolerance_s)
    return report
