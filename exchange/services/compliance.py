"""Compliance questions over the stored audiences: who can see X and why, why was Y denied, what would a
new policy revision change, and re-deciding every stored version when a revision is rolled out."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from exchange.audit.log import AuditEvent
from exchange.audit.log import append as audit_append
from exchange.auth.caller import Caller
from exchange.errors import BadRequest, NotFound
from exchange.services.policy import RegoSharingPolicy, to_outcome
from exchange.services.sharing import EVERYONE, SharingOutcome
from exchange.store import objects as store
from exchange.store.db import Database
from exchange.store.models import AclGrant, AudienceMember, Organisation
from exchange.timestamps import format_timestamp, now_micros
from policies import ObjectFacts

OBJ = store.OBJ
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Access:
    """One organisation's access to a stored version: which roles, in which window."""

    org_id: str
    org_name: str
    roles: tuple[str, ...]
    not_before: str | None
    not_after: str | None


def _org_names(db: Database) -> dict[str, str]:
    with db.read() as session:
        return {o.id: o.name for o in session.execute(select(Organisation)).scalars()}


def _stored_members(session: Any, pks: list[int]) -> dict[int, list[tuple[str, str, int | None, int | None]]]:
    rows = session.execute(
        select(AclGrant.object_pk, AudienceMember.org_id, AudienceMember.role, AclGrant.not_before, AclGrant.not_after)
        .join(AudienceMember, AudienceMember.audience_id == AclGrant.audience_id)
        .where(AclGrant.object_pk.in_(pks))
    ).all()
    out: dict[int, list[tuple[str, str, int | None, int | None]]] = {pk: [] for pk in pks}
    for pk, org, role, nb, na in rows:
        out[pk].append((org, role, nb, na))
    return out


def who_can_see(db: Database, object_id: str, *, collection_id: str | None = None) -> list[dict[str, Any]]:
    """Per stored version of an object: the organisations and roles granted, and when."""
    names = _org_names(db)
    with db.read() as session:
        q = select(OBJ.c.pk, OBJ.c.collection_id, OBJ.c.version, OBJ.c.is_last).where(OBJ.c.stix_id == object_id)
        if collection_id:
            q = q.where(OBJ.c.collection_id == collection_id)
        versions = session.execute(q.order_by(OBJ.c.collection_id, OBJ.c.version)).all()
        if not versions:
            raise NotFound(f"no stored object {object_id!r}")
        members = _stored_members(session, [v.pk for v in versions])
    result = []
    for v in versions:
        by_org: dict[tuple[str, int | None, int | None], set[str]] = {}
        for org, role, nb, na in members[v.pk]:
            orgs = list(names) if org == EVERYONE else [org]
            for o in orgs:
                by_org.setdefault((o, nb, na), set()).add(role)
        access = [Access(o, names.get(o, o), tuple(sorted(r)), _ts(nb), _ts(na)) for (o, nb, na), r in
                  sorted(by_org.items(), key=lambda kv: (names.get(kv[0][0], kv[0][0]), str(kv[0][1])))]
        result.append({"collection_id": v.collection_id, "version": format_timestamp(v.version),
                       "latest": bool(v.is_last), "access": [a.__dict__ for a in access]})
    return result


def _ts(value: int | None) -> str | None:
    return None if value is None else format_timestamp(value)


def explain(db: Database, policy: RegoSharingPolicy, object_id: str, org_id: str) -> dict[str, Any]:
    """Why an organisation is allowed or denied the latest version of an object under the current policy."""
    with db.read() as session:
        row = session.execute(select(OBJ.c.raw, OBJ.c.producer_org_id, OBJ.c.pk).where(
            OBJ.c.stix_id == object_id, OBJ.c.is_last.is_(True)).order_by(OBJ.c.pk.desc()).limit(1)).first()
        if row is None:
            raise NotFound(f"no stored object {object_id!r}")
        if session.get(Organisation, org_id) is None:
            raise NotFound(f"no organisation {org_id!r}")
        stored = _stored_members(session, [row.pk])[row.pk]
    now = now_micros()
    facts = policy.facts([json.loads(row.raw)], row.producer_org_id, now)[0]
    if isinstance(facts, str):
        return {"object_id": object_id, "org_id": org_id, "allowed": False, "revision": policy.revision,
                "error": facts}
    decision = policy.decisions([facts], producer_org=row.producer_org_id, now=now)[0]
    verdict = decision.verdict_for(org_id)
    grant = decision.grant_for(org_id)
    return {
        "object_id": object_id, "org_id": org_id, "revision": policy.revision,
        "allowed": bool(verdict and verdict.allowed),
        "allowed_by": list(verdict.allow) if verdict else [],
        "denied_by": list(verdict.deny) if verdict else ["organisation not considered by the policy"],
        "roles": list(grant.roles) if grant else [],
        "not_before": grant.not_before.isoformat() if grant and grant.not_before else None,
        "not_after": grant.not_after.isoformat() if grant and grant.not_after else None,
        "stored_grant": sorted({role for org, role, _, _ in stored if org in (org_id, EVERYONE)}),
        "facts": facts.to_input(),
    }


@dataclass
class Change:
    """How the audience of one stored version moves between two revisions."""

    object_id: str
    version: str
    collection_id: str
    gained: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)


def _orgs_of(members: set[tuple[str, str]], all_orgs: list[str]) -> set[str]:
    out = set()
    for org, _role in members:
        out.update(all_orgs if org == EVERYONE else [org])
    return out


def _batches(db: Database, size: int) -> Iterator[list[Any]]:
    last = 0
    while True:
        with db.read() as session:
            rows = list(session.execute(
                select(OBJ.c.pk, OBJ.c.stix_id, OBJ.c.version, OBJ.c.collection_id, OBJ.c.producer_org_id, OBJ.c.raw)
                .where(OBJ.c.pk > last).order_by(OBJ.c.pk).limit(size)).all())
        if not rows:
            return
        last = rows[-1].pk
        yield rows


def _decide(policy: RegoSharingPolicy, rows: list[Any]) -> list[SharingOutcome | str]:
    now = now_micros()
    by_producer: dict[str | None, list[int]] = {}
    for i, r in enumerate(rows):
        by_producer.setdefault(r.producer_org_id, []).append(i)
    results: dict[int, SharingOutcome | str] = {}
    for producer, idx in by_producer.items():
        facts = policy.facts([json.loads(rows[i].raw) for i in idx], producer, now)
        ok = [f for f in facts if isinstance(f, ObjectFacts)]
        decided = iter(policy.decisions(ok, producer_org=producer, now=now))
        for i, f in zip(idx, facts, strict=True):
            results[i] = f if isinstance(f, str) else to_outcome(next(decided), policy.revision)
    return [results[i] for i in range(len(rows))]


def simulate(db: Database, candidate: RegoSharingPolicy, *, progress: Progress | None = None,
             batch: int = 1000) -> dict[str, Any]:
    """Diff of audiences (organisations) between the stored grants and a candidate revision; writes nothing."""
    names = _org_names(db)
    all_orgs = list(names)
    total = _count(db)
    changes: list[Change] = []
    done = 0
    for rows in _batches(db, batch):
        outcomes = _decide(candidate, rows)
        with db.read() as session:
            stored = _stored_members(session, [r.pk for r in rows])
        for r, outcome in zip(rows, outcomes, strict=True):
            before = _orgs_of({(o, role) for o, role, _, _ in stored[r.pk]}, all_orgs)
            after = set() if isinstance(outcome, str) else _orgs_of(
                {m for g in outcome.grants for m in g.members}, all_orgs)
            if before != after:
                changes.append(Change(r.stix_id, format_timestamp(r.version), r.collection_id,
                                      sorted(names.get(o, o) for o in after - before),
                                      sorted(names.get(o, o) for o in before - after)))
        done += len(rows)
        if progress:
            progress(done, total)
    return {"revision": candidate.revision, "versions_checked": done, "changed": len(changes),
            "changes": [c.__dict__ for c in changes]}


def _count(db: Database) -> int:
    from sqlalchemy import func

    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(OBJ)).scalar_one())


def reevaluate(db: Database, policy: RegoSharingPolicy, caller: Caller | None = None, *,
               progress: Progress | None = None, batch: int = 1000) -> dict[str, int]:
    """Re-decide every stored version under the current revision, replacing grants that changed (audited)."""
    total = _count(db)
    done = changed = 0
    for rows in _batches(db, batch):
        outcomes = _decide(policy, rows)
        with db.write() as session:
            stored = _stored_members(session, [r.pk for r in rows])
            replaced: list[tuple[Any, SharingOutcome]] = []
            for r, outcome in zip(rows, outcomes, strict=True):
                new = SharingOutcome((), policy.revision, (outcome,)) if isinstance(outcome, str) else outcome
                before = {(o, role, nb, na) for o, role, nb, na in stored[r.pk]}
                after = {(o, role, g.not_before, g.not_after) for g in new.grants for o, role in g.members}
                if before != after:
                    replaced.append((r, new))
            if replaced:
                pks = [r.pk for r, _ in replaced]
                session.execute(delete(AclGrant).where(AclGrant.object_pk.in_(pks)))
                members = {g.audience_key: g.members for _, o in replaced for g in o.grants}
                ids = store.audience_ids(session, members) if members else {}
                store.insert_grants(session, [
                    {"object_pk": r.pk, "audience_id": ids[g.audience_key], "not_before": g.not_before,
                     "not_after": g.not_after} for r, o in replaced for g in o.grants])
                groups: dict[SharingOutcome, list[Any]] = {}
                for r, o in replaced:
                    groups.setdefault(o, []).append(r)
                audit_append(session, [AuditEvent.by(
                    caller, "share.decide", "allow" if o.grants else "deny", object_ids=tuple(r.stix_id for r in rs),
                    revision=o.revision, details={"reevaluation": True, "reasons": list(o.reasons),
                                                  "versions": [format_timestamp(r.version) for r in rs]})
                    for o, rs in groups.items()])
            changed += len(replaced)
        done += len(rows)
        if progress:
            progress(done, total)
    with db.write() as session:
        audit_append(session, [AuditEvent.by(caller, "policy.reevaluate", "ok", revision=policy.revision,
                                             details={"versions": done, "changed": changed})])
    return {"versions": done, "changed": changed}


def require_rego(policy: object) -> RegoSharingPolicy:
    """The Rego policy, or BadRequest when the hub runs without one."""
    if not isinstance(policy, RegoSharingPolicy):
        raise BadRequest("the hub runs without a sharing policy engine (policy_engine=builtin)")
    return policy
