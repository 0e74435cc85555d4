"""The OPA engine: the same Rego evaluated by an OPA server (sidecar) over its REST Data API."""

from __future__ import annotations

import logging
from typing import Any, Literal
from urllib.parse import urlsplit

from opa_client.opa import OpaClient
from pydantic import Field, SecretStr, field_validator

from policies.documents import DATA_ROOT_KEY, PolicySource
from policies.engine import EngineConfig, PolicyEngine, register_engine
from policies.errors import EngineConfigError, PolicyEvaluationError, PolicyLoadError

log = logging.getLogger(__name__)


class OpaRestEngineConfig(EngineConfig):
    """Config of the OPA server engine."""

    type: Literal["opa"] = "opa"
    url: str = "http://127.0.0.1:8181"
    timeout_s: float = Field(default=2.0, gt=0)
    retries: int = Field(default=0, ge=0)
    token: SecretStr | None = None
    push_policies: bool = True
    """Upload the Rego modules and data documents on start and reload (off when OPA loads a bundle)."""
    policy_id_prefix: str = Field(default="popart", pattern=r"^[A-Za-z0-9_-]+$")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError("url must be http(s)://host[:port] (OPA serves /v1 at the root)")
        return value


@register_engine
class OpaRestEngine(PolicyEngine):
    """Queries `POST /v1/data/<path>`; an error, a timeout or an undefined result is a deny."""

    name = "opa"
    config_model = OpaRestEngineConfig

    def __init__(self, config: EngineConfig) -> None:
        if not isinstance(config, OpaRestEngineConfig):
            raise EngineConfigError("the opa engine needs an OpaRestEngineConfig")
        parts = urlsplit(config.url)
        https = parts.scheme == "https"
        self._client = OpaClient(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (443 if https else 80),
            ssl=https,
            token=config.token.get_secret_value() if config.token else None,
            retries=config.retries,
            timeout=config.timeout_s,
        )
        self._opa_config = config
        super().__init__(config)

    def _install(self, source: PolicySource) -> None:
        if not self._opa_config.push_policies:
            return
        prefix = self._opa_config.policy_id_prefix
        try:
            # Data first: the modules reference it, and a failed upload must leave no half-new policy.
            self._client.update_or_create_data(source.data[DATA_ROOT_KEY], DATA_ROOT_KEY)
            for name, text in source.modules.items():
                self._client.update_policy_from_string(text, f"{prefix}/{name}", rego_compat=False)
        except Exception as exc:
            raise PolicyLoadError(f"cannot push policy revision {source.revision} to OPA: {exc}") from exc

    def _evaluate(self, path: str, input_doc: dict[str, Any]) -> Any:
        package, _, rule = path.replace("/", ".").rpartition(".")
        body = self._client.query_rule(input_doc, package, rule)
        if not isinstance(body, dict) or "result" not in body:
            raise PolicyEvaluationError(f"{path} is undefined in OPA")
        return body["result"]

    def close(self) -> None:
        """Close the HTTP session."""
        self._client.close_connection()
