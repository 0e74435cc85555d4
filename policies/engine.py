"""One interface, several engines: the PolicyEngine base class, its configs and the engine registry."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from policies.documents import PolicySource, load_source
from policies.errors import EngineConfigError, PolicyEvaluationError
from policies.models import (
    ActionDecision,
    DecisionContext,
    Grant,
    ObjectFacts,
    Organisation,
    OrgVerdict,
    SharingDecision,
    from_ns,
    to_ns,
)

log = logging.getLogger(__name__)
SHARING_PATH = "popart/sharing/decisions"
AUTHZ_PATH = "popart/authz/decision"
ENTRY_POINT_GROUP = "popart.policy_engines"


class EngineConfig(BaseModel):
    """Base of every engine config: a `type` literal names the engine."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str
    policy_dir: Path | None = None
    """Folder holding rego/ and data/ (default: the packaged policies)."""


class PolicyEngine(ABC):
    """Evaluates the sharing and action policy; every failure is a deny (fail closed)."""

    name: ClassVar[str]
    config_model: ClassVar[type[EngineConfig]]

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._source = load_source(config.policy_dir)
        self._install(self._source)

    @property
    def revision(self) -> str:
        """A stable hash of the policy files and data documents that make the decisions."""
        return self._source.revision

    @property
    def source(self) -> PolicySource:
        """The loaded policy revision."""
        return self._source

    def reload(self) -> bool:
        """Load the revision on disk; True when it changed. A bad revision raises and the old one stays."""
        with self._lock:
            source = load_source(self.config.policy_dir)
            if source.revision == self._source.revision:
                return False
            self._install(source)
            log.info("policy revision %s replaces %s", source.revision, self._source.revision)
            self._source = source
            return True

    def decide_batch(self, objects: Sequence[ObjectFacts], ctx: DecisionContext) -> list[SharingDecision]:
        """Decide the audience of each object (one engine call); an engine failure denies everyone."""
        if not objects:
            return []
        source = self._source
        organisations = _organisations(ctx, source)
        resolved = [_with_producer(o, ctx, organisations) for o in objects]
        doc: dict[str, Any] = {
            "now_ns": to_ns(ctx.now),
            "explain": ctx.explain,
            "objects": [o.to_input() for o in resolved],
        }
        if ctx.organisations is not None:
            doc["organisations"] = {o.id: o.model_dump(mode="json") for o in ctx.organisations}
        try:
            raw = self._evaluate(SHARING_PATH, doc)
        except Exception as exc:  # noqa: BLE001 - any failure must become a deny, never an allow
            log.error("policy engine %s failed on %d objects: %s", self.name, len(objects), exc)
            return [_denied(o.id, source.revision, f"engine error: {exc}") for o in objects]
        return _parse_decisions(raw, [o.id for o in objects], source.revision)

    def decide(self, obj: ObjectFacts, ctx: DecisionContext) -> SharingDecision:
        """Decide one object (a batch of one)."""
        return self.decide_batch([obj], ctx)[0]

    def allow_action(
        self,
        caller_org: str,
        caller_roles: Sequence[str],
        action: str,
        resource: Mapping[str, Any] | None = None,
        *,
        organisations: Sequence[Organisation] | None = None,
    ) -> ActionDecision:
        """Whether a member of `caller_org` with these roles may perform `action` on `resource`."""
        revision = self._source.revision
        doc: dict[str, Any] = {
            "org_id": caller_org,
            "roles": list(caller_roles),
            "action": action,
            "resource": dict(resource or {}),
        }
        if organisations is not None:
            doc["organisations"] = {o.id: o.model_dump(mode="json") for o in organisations}
        try:
            raw = self._evaluate(AUTHZ_PATH, doc)
            if not isinstance(raw, Mapping):
                raise PolicyEvaluationError(f"malformed action decision: {raw!r}")
            return ActionDecision(action=action, org_id=caller_org, revision=revision, **raw)
        except Exception as exc:  # noqa: BLE001 - fail closed
            log.error("policy engine %s failed on action %s: %s", self.name, action, exc)
            return ActionDecision(
                action=action,
                org_id=caller_org,
                allowed=False,
                deny=("engine.error",),
                revision=revision,
                error=str(exc),
            )

    def close(self) -> None:  # noqa: B027 - optional hook, most engines hold nothing to release
        """Release engine resources (connections, interpreters)."""

    @abstractmethod
    def _install(self, source: PolicySource) -> None:
        """Make `source` the policy this engine evaluates; raise PolicyLoadError if it cannot."""

    @abstractmethod
    def _evaluate(self, path: str, input_doc: dict[str, Any]) -> Any:
        """Evaluate the rule at `path` (e.g. popart/sharing/decisions); raise on error or undefined."""


def _organisations(ctx: DecisionContext, source: PolicySource) -> Mapping[str, Organisation]:
    if ctx.organisations is not None:
        return {o.id: o for o in ctx.organisations}
    return source.organisations


def _with_producer(obj: ObjectFacts, ctx: DecisionContext, orgs: Mapping[str, Organisation]) -> ObjectFacts:
    if obj.producer_org is not None:
        return obj
    if obj.producer_identity is not None:
        for org in orgs.values():
            if obj.producer_identity in org.identities:
                return obj.model_copy(update={"producer_org": org.id})
    return obj.model_copy(update={"producer_org": ctx.producer_org}) if ctx.producer_org else obj


def _denied(object_id: str, revision: str, error: str) -> SharingDecision:
    return SharingDecision(object_id=object_id, grants=(), verdicts=(), revision=revision, error=error)


def _parse_decisions(raw: Any, object_ids: list[str], revision: str) -> list[SharingDecision]:
    if not isinstance(raw, list):
        log.error("policy returned %s instead of a list of decisions", type(raw).__name__)
        return [_denied(i, revision, "malformed policy result") for i in object_ids]
    by_id = {d.get("object_id"): d for d in raw if isinstance(d, dict)}
    return [_parse_one(by_id.get(i), i, revision) for i in object_ids]


def _grant(g: dict[str, Any]) -> Grant:
    return Grant(
        org_id=g["org_id"],
        roles=tuple(sorted(g["roles"])),
        individuals=tuple(sorted(g["individuals"])),
        not_before=None if g["not_before_ns"] is None else from_ns(g["not_before_ns"]),
        not_after=None if g["not_after_ns"] is None else from_ns(g["not_after_ns"]),
    )


def _parse_one(raw: dict[str, Any] | None, object_id: str, revision: str) -> SharingDecision:
    if raw is None:
        return _denied(object_id, revision, "policy decision undefined")
    try:
        verdicts = tuple(
            OrgVerdict(
                org_id=v["org_id"],
                allowed=v["allowed"] is True,
                allow=tuple(sorted(v["allow"])),
                deny=tuple(sorted(v["deny"])),
                constraints=tuple(sorted(v["constraints"])),
            )
            for v in raw.get("verdicts", ())
        )
        if "verdicts" in raw:
            allowed = {v.org_id for v in verdicts if v.allowed}
            granted = [v["grant"] for v in raw["verdicts"] if v["org_id"] in allowed]
        else:
            granted = list(raw["grants"])
        grants = tuple(_grant(g) for g in granted)
        return SharingDecision(
            object_id=object_id,
            grants=tuple(sorted(grants, key=lambda g: g.org_id)),
            verdicts=tuple(sorted(verdicts, key=lambda v: v.org_id)),
            levels=tuple(sorted(raw["levels"])),
            revision=revision,
        )
    except (KeyError, TypeError, ValidationError) as exc:
        log.error("malformed policy decision for %s: %s", object_id, exc)
        return _denied(object_id, revision, f"malformed policy decision: {exc}")


# --- registry --------------------------------------------------------------------------------------

ENGINES: dict[str, type[PolicyEngine]] = {}
E = TypeVar("E", bound=type[PolicyEngine])


def register_engine(cls: E) -> E:
    """Class decorator adding an engine to the registry; a second engine with the same name is refused."""
    if cls.name in ENGINES and ENGINES[cls.name] is not cls:
        raise EngineConfigError(f"policy engine {cls.name!r} is already registered by {ENGINES[cls.name]!r}")
    ENGINES[cls.name] = cls
    return cls


def load_entry_point_engines() -> None:
    """Register third-party engines declared under the `popart.policy_engines` entry-point group."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:
            raise EngineConfigError(f"policy engine plugin {ep.name!r} failed to load: {exc}") from exc
        register_engine(cls)


def build_engine(config: EngineConfig | Mapping[str, Any]) -> PolicyEngine:
    """Build the engine a config names (a config model or a mapping with `type`); a clear error if unknown."""
    import policies.embedded  # noqa: F401 - registers the built-in engines
    import policies.opa_rest  # noqa: F401

    kind = config.type if isinstance(config, EngineConfig) else config.get("type", "embedded")
    if kind not in ENGINES:
        raise EngineConfigError(f"unknown policy engine {kind!r}; known: {', '.join(sorted(ENGINES))}")
    cls = ENGINES[kind]
    try:
        model = (
            config
            if isinstance(config, cls.config_model)
            else cls.config_model.model_validate(
                config.model_dump() if isinstance(config, EngineConfig) else dict(config)
            )
        )
    except ValidationError as exc:
        raise EngineConfigError(f"invalid {kind} policy engine config: {exc}") from exc
    return cls(model)
