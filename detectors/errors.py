"""Domain errors of the detector workers, one module so callers catch one family."""

from __future__ import annotations


class DetectorError(Exception):
    """Base class of every error raised by `detectors`."""


class ConfigError(DetectorError):
    """A site configuration is invalid; the message names the file and the field."""


class PluginError(DetectorError):
    """A plugin is registered twice, unknown, or cannot be loaded or started."""


class FeedError(DetectorError):
    """A feed cannot be opened or read."""


class FeedDeadError(FeedError):
    """A feed gave up reconnecting; it is reported, never silently skipped."""


class ModelError(DetectorError):
    """An ONNX model is missing, malformed, or does not match its configured format."""


class SinkError(DetectorError):
    """A sink could not deliver a detection (it stays spooled where the sink has a spool)."""
