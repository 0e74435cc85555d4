"""Imports every built-in audio detector so that each registers itself."""

from detectors.audio import crowd, glass, impulse, tonal  # noqa: F401
