"""Evidence: faces blurred before the snapshot leaves the worker, file named and hashed by content."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2

from detectors.config import EvidenceConfig
from detectors.events import Box
from detectors.evidence import EvidenceStore, FaceRedactor


def test_a_face_is_blurred_beyond_detection(media_dir: Path, tmp_path: Path) -> None:
    image = cv2.imread(str(media_dir / "messi5.jpg"))
    redactor = FaceRedactor()
    assert redactor.faces(image), "the sample has a face"
    store = EvidenceStore(EvidenceConfig(directory=tmp_path))
    evidence = store.snapshot(image)
    stored = Path(evidence.path)
    data = stored.read_bytes()
    assert evidence.redacted and evidence.mime_type == "image/jpeg"
    assert evidence.sha256 == hashlib.sha256(data).hexdigest() == stored.stem
    redacted = cv2.imread(str(stored))
    assert redactor.faces(redacted) == []
    (x, y, w, h), *_ = redactor.faces(image)
    face_before = cv2.Laplacian(cv2.cvtColor(image[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
    face_after = cv2.Laplacian(cv2.cvtColor(redacted[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
    assert face_after < 0.1 * face_before


def test_heads_of_people_too_small_for_a_face_detector_are_blurred(media_dir: Path, tmp_path: Path) -> None:
    image = cv2.imread(str(media_dir / "messi5.jpg"))
    person = Box(0.05, 0.1, 0.2, 0.8, "person")
    store = EvidenceStore(EvidenceConfig(directory=tmp_path, blur_faces=True))
    redacted = cv2.imread(store.snapshot(image, [person]).path)
    height, width = image.shape[:2]
    head = (slice(int(0.12 * height), int(0.25 * height)), slice(int(0.07 * width), int(0.23 * width)))
    sharp = cv2.Laplacian(cv2.cvtColor(image[head], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
    blurred = cv2.Laplacian(cv2.cvtColor(redacted[head], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
    assert blurred < 0.3 * sharp


def test_the_same_snapshot_is_stored_once(media_dir: Path, tmp_path: Path) -> None:
    image = cv2.imread(str(media_dir / "messi5.jpg"))
    store = EvidenceStore(EvidenceConfig(directory=tmp_path, url_prefix="https://hub.example/evidence/"))
    first, second = store.snapshot(image), store.snapshot(image)
    assert first == second
    assert first.url == f"https://hub.example/evidence/{first.sha256}.jpg"
    assert len(list(tmp_path.iterdir())) == 1
