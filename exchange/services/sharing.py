"""The hook where the sharing policy decides the audience of each stored object version (ACL rows).

The policy runs once per version at write time; reads are SQL joins over the grants it produced.
`CollectionReadersPolicy` is the default until a Rego engine is configured: every organisation that may
read the collection sees the version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from exchange.auth.caller import Caller

EVERYONE = "*"


@dataclass(frozen=True)
class Grant:
    """Members (organisation id or '*', role or '*') who may see a version in [not_before, not_after)."""

    members: frozenset[tuple[str, str]]
    not_before: int | None = None
    not_after: int | None = None

    @property
    def audience_key(self) -> str:
        """A stable digest of the member set: versions with equal members share one audience row."""
        text = "\n".join(f"{org}\t{role}" for org, role in sorted(self.members))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class WriteContext:
    """What the policy knows about a write besides the objects."""

    collection_id: str
    producer: Caller
    now: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SharingOutcome:
    """The grants of one object version, and the policy revision that decided them."""

    grants: tuple[Grant, ...]
    revision: str
    reasons: tuple[str, ...] = ()
    reject: str | None = None
    """Set when the object cannot be decided on at all (e.g. malformed sharing facts): it is not stored."""


class SharingPolicy(Protocol):
    """Decides audiences for a batch of object versions (one call per write)."""

    @property
    def revision(self) -> str:
        """The policy revision that makes the decisions (recorded in the audit log)."""
        ...

    def decide(self, objects: Sequence[dict[str, Any]], ctx: WriteContext) -> list[SharingOutcome]:
        """One outcome per object, in order."""
        ...


class CollectionReadersPolicy:
    """Everyone who may read the collection sees every version in it."""

    revision = "builtin:collection-readers"

    def decide(self, objects: Sequence[dict[str, Any]], ctx: WriteContext) -> list[SharingOutcome]:
        """Grant every object to all members; collection access still gates the read."""
        outcome = SharingOutcome(
            grants=(Grant(frozenset({(EVERYONE, EVERYONE)})),),
            revision=self.revision,
            reasons=("collection-readers",),
        )
        return [outcome] * len(objects)
