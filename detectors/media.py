"""Sample media: where it lives and how to get it (the repo's `scripts/fetch_media.sh`, Debian opencv-doc)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from detectors.errors import DetectorError

REPO_ROOT = Path(__file__).resolve().parents[1]
FETCH_SCRIPT = REPO_ROOT / "scripts" / "fetch_media.sh"
SAMPLE_FILES = ("vtest.avi", "messi5.jpg")


def media_dir() -> Path:
    """`$POPART_MEDIA_DIR`, else `.media/` at the repository root."""
    return Path(os.environ.get("POPART_MEDIA_DIR", REPO_ROOT / ".media"))


def ensure_sample_media(fetch: bool = True) -> Path:
    """The media directory with the sample files, fetching them with the repo script when missing."""
    folder = media_dir()
    if all((folder / name).is_file() for name in SAMPLE_FILES):
        return folder
    if not fetch or not FETCH_SCRIPT.is_file():
        raise DetectorError(f"sample media missing in {folder}; run scripts/fetch_media.sh")
    result = subprocess.run([str(FETCH_SCRIPT), str(folder)], capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise DetectorError(f"fetching sample media failed: {result.stderr.strip() or result.stdout.strip()}")
    return folder


def sample_video() -> Path:
    """vtest.avi (pedestrians on a plaza, 768×576, 10 fps), fetched if needed."""
    return ensure_sample_media() / "vtest.avi"
