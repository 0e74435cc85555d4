"""The embedded engine: the same Rego evaluated in-process by rego-cpp (regopy), no server to run."""

from __future__ import annotations

import json
import threading
from typing import Any, Literal

import regopy

from policies.documents import PolicySource
from policies.engine import AUTHZ_PATH, SHARING_PATH, EngineConfig, PolicyEngine, register_engine
from policies.errors import PolicyEvaluationError, PolicyLoadError

ENTRYPOINTS = (SHARING_PATH, AUTHZ_PATH)


class EmbeddedEngineConfig(EngineConfig):
    """Config of the in-process engine (the default)."""

    type: Literal["embedded"] = "embedded"


class _Compiled:
    """One interpreter with its compiled bundle: rego-cpp interpreters must not be shared by threads."""

    def __init__(self, source: PolicySource) -> None:
        self.revision = source.revision
        self.interpreter = regopy.Interpreter()
        try:
            for name, text in source.modules.items():
                self.interpreter.add_module(name, text)
            self.interpreter.add_data_json(json.dumps(source.data))
            self.bundle = self.interpreter.build(None, ENTRYPOINTS)
        except regopy.RegoError as exc:
            raise PolicyLoadError(f"policy revision {source.revision} does not compile: {exc}") from exc
        if not self.bundle.ok():
            raise PolicyLoadError(f"policy revision {source.revision} does not compile")

    def query(self, path: str, input_doc: dict[str, Any]) -> Any:
        self.interpreter.set_input(regopy.Input(input_doc))
        output = self.interpreter.query_bundle_entrypoint(self.bundle, path)
        if not output.ok():
            raise PolicyEvaluationError(f"{path}: {output}")
        if not output.results or not output.results[0].expressions:
            raise PolicyEvaluationError(f"{path} is undefined")
        return output.results[0].expressions[0]


@register_engine
class EmbeddedEngine(PolicyEngine):
    """Evaluates in-process; one compiled interpreter per thread, rebuilt when the revision changes."""

    name = "embedded"
    config_model = EmbeddedEngineConfig

    def _install(self, source: PolicySource) -> None:
        compiled = _Compiled(source)  # compile here so a bad revision fails reload() before it is used
        self._local = threading.local()
        self._local.compiled = compiled

    def _compiled(self) -> _Compiled:
        compiled: _Compiled | None = getattr(self._local, "compiled", None)
        source = self._source
        if compiled is None or compiled.revision != source.revision:
            compiled = _Compiled(source)
            self._local.compiled = compiled
        return compiled

    def _evaluate(self, path: str, input_doc: dict[str, Any]) -> Any:
        return self._compiled().query(path, input_doc)
