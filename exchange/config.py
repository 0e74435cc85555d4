"""Hub settings: one pydantic-settings object per process, built on demand (never at import)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from exchange.identity.config import IdentitySettings, TlsSettings
from exchange.portal.config import PortalSettings
from exchange.stream.config import StreamSettings

DEMO_SECRET = "popart-demo-secret-do-not-use-in-production"
DEFAULT_DATABASE_URL = "sqlite:///./popart.db"


class Settings(BaseSettings):
    """Everything the hub process needs; environment variables `POPART_*` override the YAML file."""

    model_config = SettingsConfigDict(env_prefix="POPART_", extra="forbid", env_nested_delimiter="__")

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: SecretStr = SecretStr(DEMO_SECRET)
    demo_mode: bool = False

    title: str = "POP-ART Exchange"
    description: str = "Crowd-safety alerts, guidance and best practices shared over TAXII 2.1"
    contact: str | None = None
    public_url: str | None = Field(
        default=None, description="Base URL clients use (behind a proxy); taken from the request when unset"
    )
    host: str = "127.0.0.1"
    port: int = 6100

    default_page_size: int = Field(default=100, ge=1)
    max_page_size: int = Field(default=1000, ge=1)
    default_max_content_length: int = Field(default=10 * 1024 * 1024, ge=1024)
    status_retention_hours: int = Field(default=48, ge=24)
    ingest_sync_max_objects: int = Field(
        default=500, ge=0, description="Envelopes with more objects are processed in the background (status pending)"
    )
    ingest_validation: Literal["full", "structural"] = "full"
    validation_workers: int = Field(
        default_factory=lambda: min((os.cpu_count() or 1) - 1, 8), ge=0,
        description="Processes that check large envelopes with stix2 in parallel (0 or 1: in the request thread); "
                    "the default leaves one core to the event loop and the database")

    policy_engine: Literal["embedded", "opa", "builtin"] = Field(
        default="embedded", description="embedded: the Rego policy in-process (regopy); opa: an OPA server over "
        "its REST Data API; builtin: no policy, every reader of a collection sees everything (tests, migration)")
    policy_dir: Path | None = Field(default=None, description="rego/ and data/ of the policy (default: packaged)")
    opa_url: str = "http://127.0.0.1:8181"
    opa_timeout_s: float = Field(default=2.0, gt=0)
    opa_token: SecretStr | None = None
    opa_push_policies: bool = True
    policy_reload_seconds: float = Field(
        default=10.0, ge=0, description="How often to look for a new policy revision on disk (0: never)")

    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    metrics_enabled: bool = True

    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    tls: TlsSettings = Field(default_factory=TlsSettings)
    stream: StreamSettings = Field(default_factory=StreamSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if not self.demo_mode and (secret == DEMO_SECRET or len(secret) < 32):
            raise ValueError(
                "secret_key is the demo default or shorter than 32 characters: set POPART_SECRET_KEY "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) or run `popart demo`"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the file named by POPART_CONFIG (if any); environment variables still win."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("POPART_CONFIG")
        if not path:
            return {}
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of settings")
        return data


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from file + environment, with explicit overrides on top."""
    return Settings(**overrides)
