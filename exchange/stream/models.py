"""Tables of the webhooks: subscriptions (with their stream cursor) and the deliveries queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.store.models import AclGrant, Base, BigId


class WebhookSubscription(Base):
    """A partner endpoint that receives the stream of one caller identity, signed with its own secret."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    url: Mapped[str] = mapped_column(String(2000))
    # The signing secret is derived from the hub's secret key and this salt: nothing secret is stored.
    salt: Mapped[str] = mapped_column(String(64))
    types: Mapped[list[str]] = mapped_column(JSON)
    position: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class WebhookDelivery(Base):
    """One event to deliver to one subscription: pending, delivered or dead (after too many tries)."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(Text)
    stix_id: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_webhook_deliveries_subscription_status_id", "subscription_id", "status", "id"),)


# Streams look for grants whose embargo lifted since they last looked: a range over not_before.
GRANTS_BY_NOT_BEFORE = Index("ix_acl_grants_not_before", AclGrant.__table__.c.not_before)
