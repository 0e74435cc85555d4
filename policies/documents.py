"""Load the Rego modules and data documents of one policy revision, validate them, hash them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from policies.errors import PolicyLoadError
from policies.models import ACTIONS, Organisation

DEFAULT_ROOT = Path(__file__).resolve().parent
DATA_ROOT_KEY = "popart"
DOCUMENTS = (
    "organisations",
    "org_types",
    "communities",
    "releases",
    "legal_bases",
    "retention",
    "markings",
    "settings",
    "actions",
)
# rego-cpp's time.parse_rfc3339_ns rejects a trailing Z, so data documents spell the offset out.
_RFC3339_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Timed(_Doc):
    not_after: str | None = None

    @field_validator("not_after")
    @classmethod
    def _offset(cls, value: str | None) -> str | None:
        if value is not None and not _RFC3339_OFFSET.match(value):
            raise ValueError(f"{value!r}: write RFC 3339 with an explicit offset, e.g. 2027-01-01T00:00:00+00:00")
        return value


class OrgType(_Doc):
    lea: bool
    scope: str = Field(pattern="^(national|released|area)$")


class Community(_Doc):
    name: str
    members: list[str]


class Release(_Timed):
    to: str
    from_: str | None = Field(default=None, alias="from")
    all: bool = False
    objects: list[str] = []
    kinds: list[str] = []
    venues: list[str] = []
    personal_data: bool = False
    reference: str = Field(min_length=1)


class LegalBasis(_Timed):
    org: str
    basis: str = Field(min_length=1)
    purpose: str = Field(min_length=1)


class Retention(_Doc):
    personal_data_days: int = Field(gt=0)
    personal_data_days_by_kind: dict[str, int] = {}


class Markings(_Doc):
    levels: dict[str, str]
    ignored: list[str] = []
    unmarked: str

    @field_validator("unmarked")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in TLP_LEVELS:
            raise ValueError(f"unmarked must be one of {TLP_LEVELS}")
        return value


class Settings(_Doc):
    operator_org: str
    jurisdiction_exempt_levels: list[str]
    personal_data_roles: list[str]


class ActionRule(_Doc):
    roles: list[str]
    org_types: list[str] | None = None
    own_resource: bool = False
    operator_override: bool = False


@dataclass(frozen=True)
class PolicySource:
    """The files of one policy revision: Rego modules (tests excluded), data documents and their hash."""

    root: Path
    modules: dict[str, str]
    data: dict[str, Any]
    revision: str

    @property
    def organisations(self) -> dict[str, Organisation]:
        """The organisations of the data documents, by id."""
        docs: dict[str, Any] = self.data[DATA_ROOT_KEY]["organisations"]
        return {key: Organisation.model_validate(value) for key, value in docs.items()}


def load_source(root: Path | None = None) -> PolicySource:
    """Read and validate `<root>/rego/*.rego` and `<root>/data/<document>/data.yaml`; PolicyLoadError if bad."""
    root = (root or DEFAULT_ROOT).resolve()
    rego_dir, data_dir = root / "rego", root / "data"
    modules = {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(rego_dir.glob("*.rego"))
        if not p.name.endswith("_test.rego")
    }
    if not modules:
        raise PolicyLoadError(f"no Rego modules in {rego_dir}")
    digest = hashlib.sha256()
    for name, text in modules.items():
        digest.update(f"rego/{name}\0{text}\0".encode())
    docs: dict[str, Any] = {}
    for name in DOCUMENTS:
        path = data_dir / name / "data.yaml"
        try:
            text = path.read_text(encoding="utf-8")
            docs[name] = yaml.safe_load(text) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise PolicyLoadError(f"cannot read data document {path}: {exc}") from exc
        digest.update(f"data/{name}/data.yaml\0{text}\0".encode())
    validate_documents(docs)
    return PolicySource(root, modules, {DATA_ROOT_KEY: docs}, "sha256:" + digest.hexdigest())


def _check(model: type[BaseModel], where: str, value: Any) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise PolicyLoadError(f"data document {where} is invalid: {exc}") from exc


def validate_documents(docs: dict[str, Any]) -> None:
    """Check each document's shape and the references between them; PolicyLoadError names the culprit."""
    for name in DOCUMENTS:
        if not isinstance(docs.get(name), dict):
            raise PolicyLoadError(f"data document {name} must be a mapping")
    orgs = {k: _check(Organisation, f"organisations/{k}", v) for k, v in docs["organisations"].items()}
    types = {k: _check(OrgType, f"org_types/{k}", v) for k, v in docs["org_types"].items()}
    problems: list[str] = []
    for key, org in orgs.items():
        if org.id != key:
            problems.append(f"organisations/{key}: id {org.id!r} differs from its key")
        if org.type not in types:
            problems.append(f"organisations/{key}: unknown type {org.type!r}")
        if types.get(org.type) is not None and types[org.type].scope == "area" and not org.area:
            problems.append(f"organisations/{key}: an organisation of scope 'area' needs an area")
    for key, value in docs["communities"].items():
        community = _check(Community, f"communities/{key}", value)
        problems += [f"communities/{key}: unknown member {m!r}" for m in community.members if m not in orgs]
    for key, value in docs["releases"].items():
        release = _check(Release, f"releases/{key}", value)
        if release.to not in orgs:
            problems.append(f"releases/{key}: unknown organisation {release.to!r}")
        if release.from_ is not None and release.from_ not in orgs:
            problems.append(f"releases/{key}: unknown producer {release.from_!r}")
        if not (release.all or release.objects or release.kinds or release.venues):
            problems.append(f"releases/{key}: covers nothing (set all, objects, kinds or venues)")
    for key, value in docs["legal_bases"].items():
        basis = _check(LegalBasis, f"legal_bases/{key}", value)
        if basis.org not in orgs:
            problems.append(f"legal_bases/{key}: unknown organisation {basis.org!r}")
    _check(Retention, "retention", docs["retention"])
    markings = _check(Markings, "markings", docs["markings"])
    problems += [f"markings: unknown level {lvl!r}" for lvl in markings.levels.values() if lvl not in TLP_LEVELS]
    settings = _check(Settings, "settings", docs["settings"])
    if settings.operator_org not in orgs:
        problems.append(f"settings: unknown operator_org {settings.operator_org!r}")
    for key, value in docs["actions"].items():
        _check(ActionRule, f"actions/{key}", value)
        if key not in ACTIONS:
            problems.append(f"actions/{key}: unknown action (known: {', '.join(ACTIONS)})")
    if problems:
        raise PolicyLoadError("invalid policy data: " + "; ".join(problems))
