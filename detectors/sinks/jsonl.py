"""Detections as JSON lines (one object per detection phase), to a file or stdout; optionally as STIX."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import Field

from detectors.events import Detection
from detectors.sinks.base import SINKS, Sink, SinkConfig
from detectors.sinks.stix import Tlp, detection_bundle


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot serialise {type(value).__name__}")


def detection_json(detection: Detection) -> dict[str, Any]:
    """A JSON-ready dict of a detection (evidence paths included, datetimes ISO 8601)."""
    data = asdict(detection)
    return json.loads(json.dumps(data, default=_default))  # type: ignore[no-any-return]


class JsonLinesSinkConfig(SinkConfig):
    """Append detections to a file (`-` for stdout), as plain records or STIX bundles."""

    type: Literal["jsonl"] = "jsonl"
    path: str = Field(default="-", description="file path, or - for standard output")
    format: Literal["jsonl", "stix"] = "jsonl"
    tlp: Tlp = "amber"


class JsonLinesSink(Sink):
    """Writes one JSON document per line and flushes each, so a crash loses at most a partial line."""

    def __init__(self, config: JsonLinesSinkConfig, stream: IO[str] | None = None) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._owned = stream is None and config.path != "-"
        self._stream: IO[str] = stream or (sys.stdout if config.path == "-" else
                                           Path(config.path).open("a", encoding="utf-8"))

    def emit(self, detection: Detection) -> None:
        """Write the detection (or its STIX bundle) as one line."""
        document = (detection_bundle(detection, tlp=self.config.tlp) if self.config.format == "stix"
                    else detection_json(detection))
        line = json.dumps(document, sort_keys=True, default=_default)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        """Close the file when this sink opened it."""
        if self._owned:
            self._stream.close()


SINKS.add(JsonLinesSinkConfig, JsonLinesSink)
