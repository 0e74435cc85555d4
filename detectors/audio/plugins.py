"""Imports every built-in audio detector so that each registers itself."""

from detectors.audio import classifier, crowd, feeds, glass, impulse, tonal, worker  # noqa: F401
