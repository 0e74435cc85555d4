"""Queries over object versions and their ACL grants (keyset pagination on the per-collection sequence)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Select, Table, and_, delete, exists, false, insert, or_, select, update
from sqlalchemy.orm import Session

from exchange.store.models import AclGrant, Audience, AudienceMember, Collection, StixObject

OBJ = cast(Table, StixObject.__table__)
G = cast(Table, AclGrant.__table__)
CHUNK = 500


@dataclass(frozen=True)
class VersionMatch:
    """match[version]: any of first / last / exact timestamps, or all."""

    all: bool = False
    first: bool = False
    last: bool = True
    timestamps: tuple[int, ...] = ()


@dataclass(frozen=True)
class ObjectQuery:
    """The TAXII filters of an objects, manifest, object or versions request."""

    added_after: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: VersionMatch = field(default_factory=VersionMatch)
    spec_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredVersion:
    """What ingest needs to know about an already stored version."""

    pk: int
    stix_id: str
    version: int
    content_hash: str
    spec_version: str
    is_first: bool
    is_last: bool
    is_spec_latest: bool


def lock_collection(session: Session, collection_id: str) -> Collection | None:
    """Load a collection and lock its row: writers to one collection take turns, so seq order is commit order."""
    stmt = select(Collection).where(Collection.id == collection_id)
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def stored_versions(session: Session, collection_id: str, stix_ids: Iterable[str]) -> dict[str, list[StoredVersion]]:
    """Every stored version of the given objects in a collection, by object id."""
    ids = sorted(set(stix_ids))
    found: dict[str, list[StoredVersion]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(OBJ.c.pk, OBJ.c.stix_id, OBJ.c.version, OBJ.c.content_hash, OBJ.c.spec_version,
                   OBJ.c.is_first, OBJ.c.is_last, OBJ.c.is_spec_latest)
            .where(OBJ.c.collection_id == collection_id, OBJ.c.stix_id.in_(ids[start:start + CHUNK]))
        ).all()
        for r in rows:
            found.setdefault(r.stix_id, []).append(StoredVersion(*r))
    return found


def insert_versions(session: Session, collection_id: str, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert object versions (consecutive seqs of one collection); returns their primary keys in order."""
    if not rows:
        return []
    # A bulk insert (COPY on PostgreSQL), then one keyset read of the new pks: far cheaper than RETURNING
    # with parameter-order sentinels, and exact because the collection row lock makes the seq range ours.
    _bulk_insert(session, OBJ, rows)
    first, last = rows[0]["seq"], rows[-1]["seq"]
    found = session.execute(
        select(OBJ.c.seq, OBJ.c.pk).where(OBJ.c.collection_id == collection_id, OBJ.c.seq.between(first, last)))
    by_seq: dict[int, int] = {seq: pk for seq, pk in found}
    return [by_seq[r["seq"]] for r in rows]


def set_flags(session: Session, pks: Sequence[int], **flags: bool) -> None:
    """Update first/last/spec-latest flags of stored versions."""
    for start in range(0, len(pks), CHUNK):
        session.execute(update(OBJ).where(OBJ.c.pk.in_(pks[start:start + CHUNK])).values(**flags))


def insert_grants(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ACL grants (object_pk, audience_id, not_before, not_after)."""
    if rows:
        _bulk_insert(session, G, rows)


def _bulk_insert(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def audience_ids(session: Session, members_by_key: dict[str, frozenset[tuple[str, str]]]) -> dict[str, int]:
    """Ids of the audiences with these keys, creating the missing ones."""
    keys = list(members_by_key)
    rows = session.execute(select(Audience.key, Audience.id).where(Audience.key.in_(keys)))
    found: dict[str, int] = {key: ident for key, ident in rows}
    for key in keys:
        if key in found:
            continue
        audience = Audience(key=key)
        session.add(audience)
        session.flush()
        session.add_all(AudienceMember(audience_id=audience.id, org_id=org, role=role)
                        for org, role in sorted(members_by_key[key]))
        found[key] = audience.id
    session.flush()
    return found


def caller_audiences(session: Session, org_id: str, roles: Iterable[str], subject: str | None = None) -> list[int]:
    """Audiences that include this organisation (or everyone) with any of these roles (or any role),
    or this individual by name (`user:<subject>`, TLP:RED)."""
    role_list = sorted(set(roles) | {"*"} | ({f"user:{subject}"} if subject else set()))
    return list(session.execute(
        select(AudienceMember.audience_id).distinct()
        .where(AudienceMember.org_id.in_([org_id, "*"]), AudienceMember.role.in_(role_list))
    ).scalars())


def _visible(audiences: Sequence[int], now: int) -> Any:
    if not audiences:
        return false()
    return exists().where(
        G.c.object_pk == OBJ.c.pk,
        G.c.audience_id.in_(list(audiences)),
        or_(G.c.not_before.is_(None), G.c.not_before <= now),
        or_(G.c.not_after.is_(None), G.c.not_after > now),
    )


def _filtered(stmt: Select[Any], collection_id: str, query: ObjectQuery, audiences: Sequence[int],
              now: int, after_seq: int | None) -> Select[Any]:
    conds: list[Any] = [OBJ.c.collection_id == collection_id]
    if after_seq is not None:
        conds.append(OBJ.c.seq > after_seq)
    if query.added_after is not None:
        conds.append(OBJ.c.date_added > query.added_after)
    if query.ids:
        conds.append(OBJ.c.stix_id.in_(list(query.ids)))
    if query.types:
        conds.append(OBJ.c.type.in_(list(query.types)))
    vm = query.versions
    if not vm.all:
        options: list[Any] = []
        if vm.first:
            options.append(OBJ.c.is_first.is_(True))
        if vm.last:
            options.append(OBJ.c.is_last.is_(True))
        if vm.timestamps:
            options.append(OBJ.c.version.in_(list(vm.timestamps)))
        conds.append(or_(*options) if options else false())
    if query.spec_versions:
        conds.append(OBJ.c.spec_version.in_(list(query.spec_versions)))
    else:
        conds.append(OBJ.c.is_spec_latest.is_(True))
    conds.append(_visible(audiences, now))
    return stmt.where(and_(*conds))


def page(session: Session, collection_id: str, query: ObjectQuery, audiences: Sequence[int], now: int,
         after_seq: int | None, limit: int, *, columns: Sequence[Any] = ()) -> list[Any]:
    """Up to `limit + 1` visible versions after the cursor, ordered by sequence (the extra row means `more`)."""
    cols = list(columns) or [OBJ.c.seq, OBJ.c.date_added, OBJ.c.raw]
    stmt = _filtered(select(*cols), collection_id, query, audiences, now, after_seq)
    return list(session.execute(stmt.order_by(OBJ.c.seq).limit(limit + 1)).all())


def delete_versions(session: Session, collection_id: str, stix_id: str, query: ObjectQuery,
                    audiences: Sequence[int], now: int) -> list[int]:
    """Delete the visible versions of one object that match the filters; returns their versions."""
    rows = session.execute(
        _filtered(select(OBJ.c.pk, OBJ.c.version), collection_id, query, audiences, now, None)
    ).all()
    if not rows:
        return []
    pks = [r.pk for r in rows]
    for start in range(0, len(pks), CHUNK):
        chunk = pks[start:start + CHUNK]
        session.execute(delete(G).where(G.c.object_pk.in_(chunk)))
        session.execute(delete(OBJ).where(OBJ.c.pk.in_(chunk)))
    remaining = stored_versions(session, collection_id, [stix_id]).get(stix_id, [])
    if remaining:
        refresh_flags(session, remaining)
    return sorted(r.version for r in rows)


def refresh_flags(session: Session, versions: Sequence[StoredVersion]) -> None:
    """Recompute first/last/spec-latest flags of one object's versions."""
    first = min(v.version for v in versions)
    last = max(v.version for v in versions)
    top_spec = max(v.spec_version for v in versions)
    for v in versions:
        want = (v.version == first, v.version == last, v.spec_version == top_spec)
        if want != (v.is_first, v.is_last, v.is_spec_latest):
            session.execute(update(OBJ).where(OBJ.c.pk == v.pk).values(
                is_first=want[0], is_last=want[1], is_spec_latest=want[2]))
