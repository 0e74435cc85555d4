"""The Rego sharing policy behind the hub's SharingPolicy hook: STIX objects in, ACL grants out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from exchange.services.sharing import Grant, SharingOutcome, WriteContext
from exchange.store.db import Database
from exchange.store.models import Organisation as OrgRow
from exchange.timestamps import to_datetime
from policies import DecisionContext, FactsError, ObjectFacts, Organisation, PolicyEngine, object_facts
from policies.models import SharingDecision, to_ns

log = logging.getLogger(__name__)
ALL_ROLES = ("analyst", "field_officer", "coordinator", "compliance", "admin", "producer")
ORG_CACHE_SECONDS = 5.0
ENGINE_BATCH = 200  # objects per engine call: bounded memory in rego-cpp, bounded request size for OPA


def _us(value: Any) -> int | None:
    return None if value is None else to_ns(value) // 1000


class RegoSharingPolicy:
    """Asks a policy engine (embedded regopy or OPA over REST) for the audience of each object version."""

    def __init__(self, engine: PolicyEngine, db: Database) -> None:
        self.engine = engine
        self.db = db
        self._orgs: tuple[float, tuple[Organisation, ...]] | None = None
        self._lock = threading.Lock()

    @property
    def revision(self) -> str:
        """The engine's policy revision (hash of the Rego files and data documents)."""
        return f"rego:{self.engine.revision}"

    def organisations(self) -> tuple[Organisation, ...]:
        """The hub's organisations as the policy sees them (data documents add identities and membership)."""
        with self._lock:
            if self._orgs is not None and self._orgs[0] > time.monotonic():
                return self._orgs[1]
        documented = self.engine.source.organisations
        with self.db.read() as session:
            rows = list(session.execute(select(OrgRow)).scalars())
        orgs = []
        for row in rows:
            doc = documented.get(row.id)
            if doc is not None:
                # The hub's registry is authoritative for what an organisation is and where it acts.
                orgs.append(doc.model_copy(update={"type": row.type, "country": row.country or doc.country,
                                                   "area": row.area}))
            else:
                orgs.append(Organisation(id=row.id, name=row.name, type=row.type, country=row.country or "ZZ",
                                         area=row.area, roles=ALL_ROLES))
        result = tuple(orgs)
        with self._lock:
            self._orgs = (time.monotonic() + ORG_CACHE_SECONDS, result)
        return result

    def facts(self, objects: Sequence[dict[str, Any]], producer_org: str | None, now: int
              ) -> list[ObjectFacts | str]:
        """The policy facts of each object, or why they cannot be extracted."""
        received = to_datetime(now)
        out: list[ObjectFacts | str] = []
        for obj in objects:
            try:
                out.append(object_facts(obj, producer_org=producer_org, received=received))
            except FactsError as exc:
                out.append(str(exc))
        return out

    def decisions(self, facts: Sequence[ObjectFacts], *, producer_org: str | None, now: int,
                  organisations: tuple[Organisation, ...] | None = None) -> list[SharingDecision]:
        """Engine decisions, one per object; objects with the same facts share one evaluation."""
        groups, decided = self._decide_groups(facts, producer_org, now, organisations)
        out: list[SharingDecision | None] = [None] * len(facts)
        for idx, decision in zip(groups, decided, strict=True):
            for i in idx:
                out[i] = decision if i == idx[0] else decision.model_copy(update={"object_id": facts[i].id})
        return [d for d in out if d is not None]

    def _decide_groups(self, facts: Sequence[ObjectFacts], producer_org: str | None, now: int,
                       organisations: tuple[Organisation, ...] | None = None
                       ) -> tuple[list[list[int]], list[SharingDecision]]:
        ctx = DecisionContext(now=to_datetime(now), organisations=organisations or self.organisations(),
                              producer_org=producer_org)
        named = self._named_ids()
        by_signature: dict[tuple[Any, ...], list[int]] = {}
        for i, f in enumerate(facts):
            by_signature.setdefault(_signature(f, named), []).append(i)
        groups = list(by_signature.values())
        representatives = [facts[idx[0]] for idx in groups]
        decided: list[SharingDecision] = []
        for start in range(0, len(representatives), ENGINE_BATCH):
            decided += self.engine.decide_batch(representatives[start:start + ENGINE_BATCH], ctx)
        return groups, decided

    def _named_ids(self) -> frozenset[str]:
        source = self.engine.source
        cached = getattr(self, "_named", None)
        if cached is not None and cached[0] == source.revision:
            return cached[1]  # type: ignore[no-any-return]
        releases = source.data.get("popart", {}).get("releases", {}) or {}
        ids = frozenset(i for r in releases.values() if isinstance(r, dict) for i in (r.get("objects") or []))
        self._named = (source.revision, ids)
        return ids

    def decide(self, objects: Sequence[dict[str, Any]], ctx: WriteContext) -> list[SharingOutcome]:
        """One engine call for the batch; objects whose facts are malformed are rejected with the reason."""
        facts = self.facts(objects, ctx.producer.org_id, ctx.now)
        positions = [i for i, f in enumerate(facts) if isinstance(f, ObjectFacts)]
        valid = [f for f in facts if isinstance(f, ObjectFacts)]
        groups, decided = self._decide_groups(valid, ctx.producer.org_id, ctx.now)
        revision = self.revision
        outcomes: list[SharingOutcome | None] = [
            None if isinstance(f, ObjectFacts) else SharingOutcome((), revision, reject=f"sharing facts: {f}")
            for f in facts]
        for idx, decision in zip(groups, decided, strict=True):
            outcome = to_outcome(decision, revision)  # shared by the whole group
            for i in idx:
                outcomes[positions[i]] = outcome
        return [o for o in outcomes if o is not None]


def _signature(f: ObjectFacts, named_ids: frozenset[str]) -> tuple[Any, ...]:
    """What the policy reads of an object. The id matters only when a release names it, the creation time
    only for personal data (retention); everything else decides alike, so a batch of 5,000 detections with
    the same markings, area and flags costs one evaluation instead of 5,000."""
    doc = f.to_input()
    doc.pop("id")
    if not f.personal_data:
        doc.pop("created_ns")
    key: tuple[Any, ...] = (repr(sorted(doc.items())), f.producer_identity)
    return key + ((f.id,) if f.id in named_ids else ())


def to_outcome(decision: SharingDecision, revision: str) -> SharingOutcome:
    """Engine grants → ACL grants: members (org, role) grouped by validity interval."""
    by_window: dict[tuple[int | None, int | None], set[tuple[str, str]]] = {}
    for g in decision.grants:
        members = by_window.setdefault((_us(g.not_before), _us(g.not_after)), set())
        members.update((g.org_id, role) for role in g.roles)
        members.update((g.org_id, f"user:{who}") for who in g.individuals)
    grants = tuple(Grant(frozenset(m), nb, na) for (nb, na), m in sorted(by_window.items(), key=str))
    reasons = tuple(
        f"{v.org_id}:{'allow' if v.allowed else 'deny'}:{','.join(v.allow if v.allowed else v.deny)}"
        for v in decision.verdicts)
    if decision.error:
        reasons += (f"error:{decision.error}",)
    return SharingOutcome(grants=grants, revision=revision, reasons=reasons)
