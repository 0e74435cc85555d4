"""Imports every built-in audio plugin so that each registers itself (and the audio/video fusion sink)."""

from detectors import fusion  # noqa: F401
from detectors.audio import classifier, crowd, feeds, glass, impulse, tonal, worker  # noqa: F401
