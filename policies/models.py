"""Typed inputs and outputs of the policy engines: object facts, decision context, decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Action = Literal["publish_alert", "issue_guidance", "retract", "administer_collections", "read_audit_log"]
ACTIONS: tuple[Action, ...] = (
    "publish_alert",
    "issue_guidance",
    "retract",
    "administer_collections",
    "read_audit_log",
)
EVERYONE = "*"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError("timestamps must be timezone-aware")
    return None if value is None else value.astimezone(UTC)


def to_ns(value: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime (exact, no float rounding)."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def from_ns(value: int) -> datetime:
    """The aware UTC datetime of nanoseconds since the epoch (microsecond precision)."""
    seconds, rest = divmod(value, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rest // 1_000)


class Recipient(_Model):
    """A named recipient: an organisation, optionally narrowed to one role or one individual."""

    org: str = Field(min_length=1)
    role: str | None = None
    individual: str | None = None


class ObjectFacts(_Model):
    """The facts of one STIX object version the policy decides on (never the STIX itself)."""

    id: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    """Profile kind (alert, detection, evidence, guidance, ...) or the STIX type."""
    producer_org: str | None = None
    producer_identity: str | None = None
    markings: tuple[str, ...] = ()
    personal_data: bool = False
    recipients: tuple[Recipient, ...] = ()
    areas: tuple[str, ...] = ()
    widened_areas: tuple[str, ...] = ()
    """Areas the producer widened the object to; "*" widens it to every area."""
    venues: tuple[str, ...] = ()
    created: datetime
    embargo_until: datetime | None = None

    @field_validator("created", "embargo_until")
    @classmethod
    def _aware_times(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    def to_input(self) -> dict[str, Any]:
        """The JSON document the Rego policy reads for this object."""
        return {
            "id": self.id,
            "kind": self.kind,
            "producer_org": self.producer_org,
            "markings": list(self.markings),
            "personal_data": self.personal_data,
            "recipients": [r.model_dump() for r in self.recipients],
            "areas": list(self.areas),
            "widened_areas": list(self.widened_areas),
            "venues": list(self.venues),
            "created_ns": to_ns(self.created),
            "embargo_until_ns": None if self.embargo_until is None else to_ns(self.embargo_until),
        }


class Organisation(_Model):
    """An organisation on the hub as the policy sees it."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    type: str = Field(min_length=1)
    country: str = Field(min_length=2, max_length=2)
    area: str | None = None
    member: bool = True
    active: bool = True
    identities: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


class DecisionContext(_Model):
    """Everything besides the objects: the time of the decision and (optionally) the hub's organisations."""

    now: datetime
    organisations: tuple[Organisation, ...] | None = None
    """None: the organisations of the policy's data documents."""
    producer_org: str | None = None
    """Producer of objects whose facts name none (the organisation that posted the batch)."""
    explain: bool = True
    """False: grants only, no per-organisation rule ids (same rules, faster; explain later on demand)."""

    @field_validator("now")
    @classmethod
    def _aware_now(cls, value: datetime) -> datetime:
        aware = _aware(value)
        assert aware is not None
        return aware


class Grant(_Model):
    """Who in one organisation may see an object version, and when (ACL row with a validity interval)."""

    org_id: str
    roles: tuple[str, ...]
    """Roles that may see it; ("*",) for every role."""
    individuals: tuple[str, ...] = ()
    """Named individuals (TLP:RED) besides the roles."""
    not_before: datetime | None = None
    not_after: datetime | None = None

    def admits(self, role: str, individual: str | None = None, at: datetime | None = None) -> bool:
        """Whether a user with this role (or this individual id) may see the object at `at`."""
        if at is not None:
            if self.not_before is not None and at < self.not_before:
                return False
            if self.not_after is not None and at >= self.not_after:
                return False
        return EVERYONE in self.roles or role in self.roles or (individual in self.individuals)


class OrgVerdict(_Model):
    """Why one organisation was allowed or denied: the rule ids on each side."""

    org_id: str
    allowed: bool
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()


class SharingDecision(_Model):
    """The audience of one object version and its explanation."""

    object_id: str
    grants: tuple[Grant, ...]
    verdicts: tuple[OrgVerdict, ...]
    """Per organisation, the rule ids that allowed, denied or constrained it (empty unless explained)."""
    levels: tuple[str, ...] = ()
    revision: str
    error: str | None = None
    """Set when the engine failed: the decision is then a fail-closed deny of everyone."""

    def grant_for(self, org_id: str) -> Grant | None:
        """The grant of one organisation, if any."""
        return next((g for g in self.grants if g.org_id == org_id), None)

    def verdict_for(self, org_id: str) -> OrgVerdict | None:
        """The verdict of one organisation, if it was considered."""
        return next((v for v in self.verdicts if v.org_id == org_id), None)


class ActionDecision(_Model):
    """Whether a caller may perform an action, with the rule ids that decided it."""

    action: str
    org_id: str
    allowed: bool
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    revision: str
    error: str | None = None
