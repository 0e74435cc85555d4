"""API roots and collections: listing, access resolution and administration."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from exchange.audit.log import AuditEvent
from exchange.audit.log import append as audit_append
from exchange.auth.caller import Caller
from exchange.errors import BadRequest, Conflict, Forbidden, NotFound
from exchange.store.db import Database
from exchange.store.models import ApiRoot, Collection, CollectionAccess, Organisation

STIX_21 = "application/stix+json;version=2.1"
RESERVED_ROOT_NAMES = frozenset({
    "taxii2", "metrics", "healthz", "readyz", "portal", "static", "auth", "oauth", "compliance", "api",
    "stream", "webhooks", "docs", "openapi.json", "redoc", ".well-known", "jwks", "admin",
})


@dataclass(frozen=True)
class CollectionView:
    """A collection as one caller sees it."""

    id: str
    title: str
    description: str | None
    alias: str | None
    can_read: bool
    can_write: bool
    media_types: tuple[str, ...]

    def as_taxii(self) -> dict[str, object]:
        """The TAXII 2.1 collection resource."""
        body: dict[str, object] = {"id": self.id, "title": self.title}
        if self.description:
            body["description"] = self.description
        if self.alias:
            body["alias"] = self.alias
        body.update(can_read=self.can_read, can_write=self.can_write, media_types=list(self.media_types))
        return body


def get_api_root(session: Session, name: str) -> ApiRoot:
    """The API root with this path name, or NotFound."""
    root = session.execute(select(ApiRoot).where(ApiRoot.name == name)).scalar_one_or_none()
    if root is None:
        raise NotFound(f"no API root named {name!r}")
    return root


def get_all_api_roots(session: Session) -> list[ApiRoot]:
    """Every API root, the default first."""
    return list(session.execute(select(ApiRoot).order_by(ApiRoot.is_default.desc(), ApiRoot.name)).scalars())


def _access(session: Session, org_id: str, collection_ids: list[str]) -> dict[str, tuple[bool, bool]]:
    rows = session.execute(
        select(CollectionAccess).where(
            CollectionAccess.collection_id.in_(collection_ids), CollectionAccess.org_id.in_([org_id, "*"])
        )
    ).scalars()
    merged: dict[str, tuple[bool, bool]] = {}
    for row in rows:
        read, write = merged.get(row.collection_id, (False, False))
        merged[row.collection_id] = (read or row.can_read, write or row.can_write)
    return merged


def _view(c: Collection, read: bool, write: bool) -> CollectionView:
    return CollectionView(c.id, c.title, c.description, c.alias, read, write, tuple(c.media_types))


def get_all(session: Session, caller: Caller, root: ApiRoot) -> list[CollectionView]:
    """The collections of an API root the caller may read or write (the others do not exist for it)."""
    cols = list(session.execute(
        select(Collection).where(Collection.api_root_id == root.id).order_by(Collection.title, Collection.id)
    ).scalars())
    access = _access(session, caller.org_id, [c.id for c in cols])
    views = []
    for c in cols:
        read, write = access.get(c.id, (False, False))
        if read or write:
            views.append(_view(c, read, write))
    return views


def get(session: Session, caller: Caller, root: ApiRoot, collection_id: str) -> CollectionView:
    """One collection, or NotFound when it does not exist or the caller may not know of it."""
    c = session.get(Collection, collection_id) if _is_uuid(collection_id) else None
    if c is None:
        c = session.execute(
            select(Collection).where(Collection.api_root_id == root.id, Collection.alias == collection_id)
        ).scalar_one_or_none()
    if c is None or c.api_root_id != root.id:
        raise NotFound(f"no collection {collection_id!r} in this API root")
    read, write = _access(session, caller.org_id, [c.id]).get(c.id, (False, False))
    if not (read or write):
        raise NotFound(f"no collection {collection_id!r} in this API root")
    return _view(c, read, write)


def require_read(view: CollectionView) -> None:
    """Forbidden unless the caller may read the collection it already knows of."""
    if not view.can_read:
        raise Forbidden("this collection is write-only for your organisation")


def require_write(view: CollectionView) -> None:
    """Forbidden unless the caller may write to the collection."""
    if not view.can_write:
        raise Forbidden("your organisation may not add objects to this collection")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- administration (CLI, bootstrap) -------------------------------------------------------------------


def upsert_api_root(db: Database, *, name: str, title: str, description: str | None = None,
                    max_content_length: int, is_default: bool = False) -> tuple[ApiRoot, bool]:
    """Create or update an API root by name; returns it and whether anything changed."""
    if name in RESERVED_ROOT_NAMES or not name.replace("-", "").replace("_", "").isalnum():
        raise BadRequest(f"{name!r} cannot name an API root (letters, digits, '-', '_'; not a reserved path)")
    with db.write() as session:
        root = session.execute(select(ApiRoot).where(ApiRoot.name == name)).scalar_one_or_none()
        changed = False
        if root is None:
            root = ApiRoot(id=str(uuid.uuid4()), name=name, title=title, description=description,
                           max_content_length=max_content_length, is_default=is_default)
            session.add(root)
            changed = True
        else:
            for attr, value in (("title", title), ("description", description),
                                ("max_content_length", max_content_length), ("is_default", is_default)):
                if getattr(root, attr) != value:
                    setattr(root, attr, value)
                    changed = True
        if is_default:
            for other in session.execute(select(ApiRoot).where(ApiRoot.name != name, ApiRoot.is_default)).scalars():
                other.is_default = False
                changed = True
        if changed:
            audit_append(session, [AuditEvent.by(None, "admin.api_root.upsert", "ok", details={
                "name": name, "title": title, "max_content_length": max_content_length, "default": is_default})])
        return root, changed


def upsert_collection(db: Database, *, root_name: str, collection_id: str | None, alias: str | None,
                      title: str, description: str | None = None, readers: list[str], writers: list[str],
                      media_types: list[str] | None = None) -> tuple[Collection, bool]:
    """Create or update a collection and its access list (organisation names or '*'); idempotent."""
    with db.write() as session:
        root = get_api_root(session, root_name)
        col = None
        if collection_id:
            col = session.get(Collection, collection_id)
        if col is None and alias:
            col = session.execute(select(Collection).where(
                Collection.api_root_id == root.id, Collection.alias == alias)).scalar_one_or_none()
        changed = False
        if col is None:
            col = Collection(id=collection_id or str(uuid.uuid4()), api_root_id=root.id, alias=alias,
                             title=title, description=description, media_types=media_types or [STIX_21],
                             last_seq=0, last_added=0)
            session.add(col)
            session.flush()
            changed = True
        elif col.api_root_id != root.id:
            raise Conflict(f"collection {col.id} belongs to another API root")
        else:
            for attr, value in (("title", title), ("description", description), ("alias", alias),
                                ("media_types", media_types or [STIX_21])):
                if getattr(col, attr) != value:
                    setattr(col, attr, value)
                    changed = True
        wanted: dict[str, tuple[bool, bool]] = {}
        for names, idx in ((readers, 0), (writers, 1)):
            for org_id in _org_ids(session, names):
                flags = list(wanted.get(org_id, (False, False)))
                flags[idx] = True
                wanted[org_id] = (flags[0], flags[1])
        current = {a.org_id: a for a in session.execute(
            select(CollectionAccess).where(CollectionAccess.collection_id == col.id)).scalars()}
        for org_id, (read, write) in wanted.items():
            row = current.pop(org_id, None)
            if row is None:
                session.add(CollectionAccess(collection_id=col.id, org_id=org_id, can_read=read, can_write=write))
                changed = True
            elif (row.can_read, row.can_write) != (read, write):
                row.can_read, row.can_write = read, write
                changed = True
        for row in current.values():
            session.delete(row)
            changed = True
        if changed:
            audit_append(session, [AuditEvent.by(None, "admin.collection.upsert", "ok", collection_id=col.id, details={
                "root": root_name, "alias": alias, "title": title,
                "access": {org: list(flags) for org, flags in sorted(wanted.items())}})])
        return col, changed


def _org_ids(session: Session, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        if name == "*":
            ids.append("*")
            continue
        org = session.execute(
            select(Organisation).where(or_(Organisation.name == name, Organisation.id == name))
        ).scalar_one_or_none()
        if org is None:
            raise NotFound(f"no organisation named {name!r}")
        ids.append(org.id)
    return ids


def list_collections(db: Database) -> list[tuple[ApiRoot, Collection, list[CollectionAccess]]]:
    """Every collection with its API root and access list (for operators)."""
    with db.read() as session:
        rows = session.execute(select(ApiRoot, Collection).join(Collection, Collection.api_root_id == ApiRoot.id)
                               .order_by(ApiRoot.name, Collection.title)).all()
        out = []
        for root, col in rows:
            acc = list(session.execute(
                select(CollectionAccess).where(CollectionAccess.collection_id == col.id)).scalars())
            out.append((root, col, acc))
        return out
