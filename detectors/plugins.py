"""Loading every plugin module: built-in ones, `detectors.audio` when present, and entry points."""

from __future__ import annotations

import importlib
import importlib.util
import threading

from detectors.errors import PluginError
from detectors.registry import load_entry_points

#: modules that register built-in plugins when imported.
BUILTIN_MODULES: tuple[str, ...] = (
    "detectors.feeds.opencv",
    "detectors.analysers.motion",
    "detectors.analysers.people",
    "detectors.analysers.onnx_detector",
    "detectors.analysers.tracking",
    "detectors.analysers.zones",
    "detectors.analysers.crowd",
    "detectors.analysers.flow",
    "detectors.analysers.abandoned",
    "detectors.analysers.tampering",
    "detectors.sinks.callback",
    "detectors.sinks.jsonl",
    "detectors.sinks.taxii",
)
#: optional sibling packages registering their plugins on import (audio feeds and analysers).
OPTIONAL_PACKAGES: tuple[str, ...] = ("detectors.audio.plugins",)

_lock = threading.Lock()
_loaded = False


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package itself is absent
        return False


def load_plugins() -> None:
    """Import all plugin modules once; a module that exists but fails to import stops startup."""
    global _loaded
    with _lock:
        if _loaded:
            return
        modules = list(BUILTIN_MODULES)
        modules += [m for m in OPTIONAL_PACKAGES if _exists(m)]
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception as exc:
                raise PluginError(f"plugin module {name} cannot load: {exc}") from exc
        load_entry_points()
        _loaded = True
