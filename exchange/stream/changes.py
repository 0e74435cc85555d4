"""What changed for one caller: new object versions after a cursor, through the TAXII ACL (store functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from exchange.auth.caller import Caller
from exchange.services import collections as collection_service
from exchange.store import objects as store
from exchange.store.models import Collection
from exchange.timestamps import format_timestamp, now_micros

OBJ = store.OBJ
G = store.G
EVERY_VERSION = store.VersionMatch(all=True, first=False, last=False)
SPEC_VERSIONS = ("2.0", "2.1")


@dataclass(frozen=True)
class Reader:
    """Who reads the stream: what the ACL join needs (organisation, roles, subject)."""

    org_id: str
    roles: tuple[str, ...]
    subject: str | None

    @classmethod
    def of(cls, caller: Caller) -> Reader:
        """The reader behind a verified caller."""
        return cls(caller.org_id, tuple(sorted(caller.roles)), caller.subject)

    def as_caller(self) -> Caller:
        """A minimal Caller for the collection access checks."""
        return Caller(org_id=self.org_id, org_name="", org_type="", subject=self.subject or "", auth_method="stream",
                      roles=frozenset(self.roles))


@dataclass(frozen=True)
class Scope:
    """The collections a reader may read and the audiences it belongs to, at one moment."""

    collections: tuple[str, ...]
    audiences: tuple[int, ...]


@dataclass(frozen=True)
class Change:
    """One new object version as an event."""

    collection_id: str
    seq: int
    date_added: int
    stix_id: str
    type: str
    raw: str

    def data(self) -> str:
        """The event payload (JSON, the object embedded as stored)."""
        return (f'{{"collection":"{self.collection_id}","seq":{self.seq},'
                f'"date_added":"{format_timestamp(self.date_added)}","type":"{self.type}",'
                f'"id":"{self.stix_id}","object":{self.raw}}}')


def heads(session: Session) -> dict[str, int]:
    """The last sequence number of every collection."""
    return {cid: int(seq) for cid, seq in session.execute(select(Collection.id, Collection.last_seq))}


def scope(session: Session, reader: Reader) -> Scope:
    """The readable collections (every API root) and the audiences of a reader, now."""
    caller = reader.as_caller()
    readable: list[str] = []
    for root in collection_service.get_all_api_roots(session):
        readable += [v.id for v in collection_service.get_all(session, caller, root) if v.can_read]
    audiences = store.caller_audiences(session, reader.org_id, reader.roles, reader.subject)
    return Scope(tuple(sorted(readable)), tuple(sorted(audiences)))


def page_after(session: Session, collection_id: str, audiences: Sequence[int], after: int,
               types: Sequence[str], limit: int, now: int | None = None) -> list[Change]:
    """Up to `limit + 1` versions visible to these audiences at `now` after `after`, in sequence order."""
    query = store.ObjectQuery(types=tuple(types), versions=EVERY_VERSION, spec_versions=SPEC_VERSIONS)
    rows = store.page(session, collection_id, query, audiences, now_micros() if now is None else now, after, limit,
                      columns=[OBJ.c.seq, OBJ.c.date_added, OBJ.c.stix_id, OBJ.c.type, OBJ.c.raw])
    return [Change(collection_id, r.seq, r.date_added, r.stix_id, r.type, r.raw) for r in rows]


def became_visible(session: Session, collection_id: str, audiences: Sequence[int], upto: int, since: int,
                   until: int, types: Sequence[str], limit: int) -> list[Change]:
    """Versions up to `upto` that were not visible to these audiences at `since` and are at `until` (an embargo
    lifted in between): the grant rows the policy wrote, read at two instants, driven by the not_before index."""
    if not audiences or upto <= 0 or until <= since:
        return []
    aud = list(audiences)
    opened = select(G.c.object_pk).where(
        G.c.audience_id.in_(aud), G.c.not_before > since, G.c.not_before <= until,
        or_(G.c.not_after.is_(None), G.c.not_after > until))
    seen_before = exists().where(
        G.c.object_pk == OBJ.c.pk, G.c.audience_id.in_(aud),
        or_(G.c.not_before.is_(None), G.c.not_before <= since), or_(G.c.not_after.is_(None), G.c.not_after > since))
    conds = [OBJ.c.collection_id == collection_id, OBJ.c.seq <= upto, OBJ.c.pk.in_(opened), ~seen_before]
    if types:
        conds.append(OBJ.c.type.in_(list(types)))
    rows = session.execute(select(OBJ.c.seq, OBJ.c.date_added, OBJ.c.stix_id, OBJ.c.type, OBJ.c.raw)
                           .where(and_(*conds)).order_by(OBJ.c.seq).limit(limit)).all()
    return [Change(collection_id, r.seq, r.date_added, r.stix_id, r.type, r.raw) for r in rows]


def advance(cursor: dict[str, int], collection_id: str, head: int, found: list[Change], limit: int
            ) -> tuple[list[Change], bool]:
    """Apply one page to the cursor: returns the changes to send and whether more are waiting.

    Every seq up to the head read before the query was committed before it (the collection row lock orders
    writers), so a short page moves the cursor to the head even when the reader may see none of them.
    """
    more = len(found) > limit
    found = found[:limit]
    if more:
        cursor[collection_id] = found[-1].seq
    else:
        cursor[collection_id] = max(head, found[-1].seq if found else 0, cursor.get(collection_id, 0))
    return found, more
