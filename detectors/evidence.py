"""Evidence snapshots: faces blurred before anything leaves the worker, content-addressed by SHA-256."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from detectors.config import EvidenceConfig
from detectors.events import Box, Evidence

#: where opencv-python(-headless) 4.x keeps its Haar cascades (what `cv2.data.haarcascades` names)
HAAR_DIR = Path(cv2.__file__).parent / "data"
_CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")


class FaceRedactor:
    """Finds faces with OpenCV's bundled Haar cascades (no download) and blurs them."""

    def __init__(self) -> None:
        self.cascades = []
        for name in _CASCADES:
            cascade = cv2.CascadeClassifier(str(HAAR_DIR / name))
            if cascade.empty():
                raise RuntimeError(f"OpenCV's Haar cascade {name} is missing (opencv-python-headless 4.x ships it)")
            self.cascades.append(cascade)

    def faces(self, image: np.ndarray, max_width: int = 800) -> list[tuple[int, int, int, int]]:
        """Face rectangles (x, y, w, h) in pixels, frontal and profile, searched at most `max_width` wide."""
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        scale = min(1.0, max_width / gray.shape[1])
        if scale < 1.0:  # Haar cost grows with pixels: 2.6 s at 1280×720 on one core, ~0.4 s at 800 wide
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        found: list[tuple[int, int, int, int]] = []
        for cascade in self.cascades:
            rects = cascade.detectMultiScale(gray, scaleFactor=1.2, minNeighbors=4, minSize=(14, 14))
            found += [(int(x / scale), int(y / scale), int(w / scale), int(h / scale)) for x, y, w, h in rects]
        return found

    def redact(self, image: np.ndarray, people: Sequence[Box] = ()) -> tuple[np.ndarray, int]:
        """A copy with every face, and the head of every person box, blurred beyond recognition."""
        out = image.copy()
        height, width = out.shape[:2]
        regions = list(self.faces(out))
        for box in people:
            # heads too small for a face detector are still heads: blur the top of each person box
            regions.append((int(box.x * width), int(box.y * height), int(box.w * width),
                            max(1, int(box.h * height * 0.25))))
        # a fixed order: overlapping blurs do not commute, and OpenCV's threaded detector returns faces in
        # any order; the same frame must give the same bytes (and SHA-256) on a replay
        for x, y, w, h in sorted(set(regions)):
            pad = max(2, int(0.15 * max(w, h)))
            x0, y0 = max(0, x - pad), max(0, y - pad)
            x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
            if x1 <= x0 or y1 <= y0:
                continue
            patch = out[y0:y1, x0:x1]
            small = cv2.resize(patch, (max(1, (x1 - x0) // 8), max(1, (y1 - y0) // 8)), interpolation=cv2.INTER_AREA)
            out[y0:y1, x0:x1] = cv2.GaussianBlur(
                cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST), (0, 0), 3)
        return out, len(regions)


class EvidenceStore:
    """Writes redacted JPEG snapshots named by their SHA-256 into one directory."""

    def __init__(self, config: EvidenceConfig) -> None:
        self.config = config
        self.directory = Path(config.directory)
        self.redactor = FaceRedactor() if config.blur_faces else None

    def snapshot(self, frame: np.ndarray, boxes: Sequence[Box] = ()) -> Evidence:
        """Redact, encode and store one frame; returns its evidence record."""
        image = frame
        if image.shape[1] > self.config.max_width:
            scale = self.config.max_width / image.shape[1]
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        redacted = False
        if self.redactor is not None:
            image, _ = self.redactor.redact(image, [b for b in boxes if b.label == "person"])
            redacted = True
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality])
        if not ok:
            raise RuntimeError("JPEG encoding of an evidence snapshot failed")
        data = encoded.tobytes()
        digest = hashlib.sha256(data).hexdigest()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{digest}.jpg"
        if not path.exists():
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(path)
        url = f"{self.config.url_prefix.rstrip('/')}/{path.name}" if self.config.url_prefix else None
        return Evidence(sha256=digest, mime_type="image/jpeg", path=str(path), redacted=redacted,
                        url=url, size=len(data))
