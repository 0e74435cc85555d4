"""Tables of the hub. Times are integer microseconds since the epoch (exact and portable)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {dict[str, Any]: JSON, list[str]: JSON, list[Any]: JSON}


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    country: Mapped[str | None] = mapped_column(String(2))
    area: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[int] = mapped_column(BigInteger)


class ApiClient(Base):
    """A machine credential of an organisation (HTTP Basic: client_id / secret, stored as a salted hash)."""

    __tablename__ = "api_clients"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    secret_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class ApiRoot(Base):
    __tablename__ = "api_roots"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    max_content_length: Mapped[int] = mapped_column(BigInteger)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Collection(Base):
    __tablename__ = "collections"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    api_root_id: Mapped[str] = mapped_column(ForeignKey("api_roots.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    media_types: Mapped[list[str]] = mapped_column(JSON)
    # Per-collection sequence: the keyset of pagination. Writers lock the row and bump it.
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_added: Mapped[int] = mapped_column(BigInteger, default=0)
    __table_args__ = (UniqueConstraint("api_root_id", "alias"),)


class CollectionAccess(Base):
    """Which organisations may read/write a collection; org_id '*' means every member organisation."""

    __tablename__ = "collection_access"
    collection_id: Mapped[str] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    can_read: Mapped[bool] = mapped_column(Boolean, default=False)
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)


class StixObject(Base):
    """One version of one STIX object in one collection."""

    __tablename__ = "stix_objects"
    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    collection_id: Mapped[str] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    stix_id: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(250))
    spec_version: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(BigInteger)
    date_added: Mapped[int] = mapped_column(BigInteger)
    is_first: Mapped[bool] = mapped_column(Boolean)
    is_last: Mapped[bool] = mapped_column(Boolean)
    is_spec_latest: Mapped[bool] = mapped_column(Boolean)
    content_hash: Mapped[str] = mapped_column(String(64))
    producer_org_id: Mapped[str | None] = mapped_column(String(36))
    status_id: Mapped[str | None] = mapped_column(String(36))
    raw: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("collection_id", "seq"),
        UniqueConstraint("collection_id", "stix_id", "version"),
        Index("ix_stix_objects_collection_type_seq", "collection_id", "type", "seq"),
    )


class Audience(Base):
    """A set of (organisation, role) members; many object versions share one audience."""

    __tablename__ = "audiences"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)


class AudienceMember(Base):
    __tablename__ = "audience_members"
    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # '*' = every organisation
    role: Mapped[str] = mapped_column(String(64), primary_key=True)  # '*' = any role
    __table_args__ = (Index("ix_audience_members_org_role", "org_id", "role"),)


class AclGrant(Base):
    """The audience of an object version, decided at write time, valid in [not_before, not_after)."""

    __tablename__ = "acl_grants"
    object_pk: Mapped[int] = mapped_column(
        ForeignKey("stix_objects.pk", ondelete="CASCADE"), primary_key=True
    )
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id"), primary_key=True)
    not_before: Mapped[int | None] = mapped_column(BigInteger)
    not_after: Mapped[int | None] = mapped_column(BigInteger)


class Status(Base):
    """The status resource of one Add Objects request (kept at least 24 hours)."""

    __tablename__ = "statuses"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    api_root_id: Mapped[str] = mapped_column(ForeignKey("api_roots.id", ondelete="CASCADE"), index=True)
    collection_id: Mapped[str] = mapped_column(String(36))
    org_id: Mapped[str] = mapped_column(String(36))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))
    request_timestamp: Mapped[int] = mapped_column(BigInteger)
    total_count: Mapped[int] = mapped_column(Integer)
    success_count: Mapped[int] = mapped_column(Integer, default=0)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    # [outcome, id, version, message] per posted object, in request order (one write, not one row each).
    details: Mapped[list[Any]] = mapped_column(JSON)
    # The request body, kept only while the add is pending, so a restart resumes it instead of losing it.
    envelope: Mapped[str | None] = mapped_column(Text)


class Deletion(Base):
    """A record that versions of an object were deleted from a collection (for change feeds and audit)."""

    __tablename__ = "deletions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    collection_id: Mapped[str] = mapped_column(String(36), index=True)
    stix_id: Mapped[str] = mapped_column(String(300))
    versions: Mapped[list[str]] = mapped_column(JSON)
    deleted_at: Mapped[int] = mapped_column(BigInteger)
    org_id: Mapped[str] = mapped_column(String(36))
    subject: Mapped[str] = mapped_column(String(200))
