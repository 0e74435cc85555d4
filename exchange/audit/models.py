"""Audit tables: the hash-chained log, its head (the chain's lock) and periodic anchors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.store.models import Base, BigId


class AuditRecord(Base):
    """One audited event; `hash` chains it to the record before it."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    ts: Mapped[int] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    actor_org: Mapped[str | None] = mapped_column(String(36), index=True)
    actor: Mapped[str | None] = mapped_column(String(200))
    auth_method: Mapped[str | None] = mapped_column(String(40))
    collection_id: Mapped[str | None] = mapped_column(String(36))
    object_ids: Mapped[list[str]] = mapped_column(JSON)
    revision: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """A single row: the last sequence and hash. Appenders lock it, so the chain has one order."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """The chain's head at a point in time; deleting records before an anchor breaks the count."""

    __tablename__ = "audit_anchors"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    ts: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
