"""Compare the audiences two policy revisions give the same objects (compliance "simulate")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from policies.errors import PolicyError
from policies.models import Grant, SharingDecision


class AudienceChange(BaseModel):
    """How one organisation's access to one object changes between two revisions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    object_id: str
    org_id: str
    change: Literal["gained", "lost", "changed"]
    before: Grant | None
    after: Grant | None


def audience_diff(before: Sequence[SharingDecision], after: Sequence[SharingDecision]) -> list[AudienceChange]:
    """Every (object, organisation) whose grant differs between two decision lists of the same objects."""
    if [d.object_id for d in before] != [d.object_id for d in after]:
        raise PolicyError("audience_diff needs the decisions of the same objects, in the same order")
    changes: list[AudienceChange] = []
    for old, new in zip(before, after, strict=True):
        old_grants = {g.org_id: g for g in old.grants}
        new_grants = {g.org_id: g for g in new.grants}
        for org_id in sorted(old_grants.keys() | new_grants.keys()):
            was, now = old_grants.get(org_id), new_grants.get(org_id)
            if was == now:
                continue
            change: Literal["gained", "lost", "changed"] = (
                "gained" if was is None else "lost" if now is None else "changed"
            )
            changes.append(AudienceChange(object_id=old.object_id, org_id=org_id, change=change, before=was, after=now))
    return changes
