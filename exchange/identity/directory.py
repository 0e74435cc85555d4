"""Short-lived in-memory views of organisations and API clients, so a token check costs no query."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from exchange.store.db import Database
from exchange.store.models import ApiClient, Organisation


@dataclass(frozen=True)
class OrgInfo:
    """What a Caller carries about its organisation."""

    id: str
    name: str
    type: str
    country: str | None
    area: str | None


@dataclass(frozen=True)
class ClientInfo:
    """An API client as the token endpoint and the Bearer check see it."""

    client_id: str
    org_id: str
    roles: tuple[str, ...]
    secret_hash: str
    active: bool


class Directory:
    """Organisations by id or name and API clients by client_id, each cached for `ttl` seconds."""

    def __init__(self, db: Database, *, ttl: float = 30.0) -> None:
        self.db = db
        self.ttl = ttl
        self._lock = threading.Lock()
        self._orgs: dict[str, tuple[float, OrgInfo | None]] = {}
        self._clients: dict[str, tuple[float, ClientInfo | None]] = {}

    def org(self, id_or_name: str) -> OrgInfo | None:
        """An organisation by id or name, or None."""
        now = time.monotonic()
        hit = self._orgs.get(id_or_name)
        if hit and hit[0] > now:
            return hit[1]
        with self.db.read() as session:
            row = session.execute(select(Organisation).where(
                (Organisation.id == id_or_name) | (Organisation.name == id_or_name))).scalar_one_or_none()
        info = OrgInfo(row.id, row.name, row.type, row.country, row.area) if row else None
        with self._lock:
            self._orgs[id_or_name] = (now + self.ttl, info)
        return info

    def client(self, client_id: str) -> ClientInfo | None:
        """An API client by client_id, or None."""
        now = time.monotonic()
        hit = self._clients.get(client_id)
        if hit and hit[0] > now:
            return hit[1]
        with self.db.read() as session:
            row = session.execute(select(ApiClient).where(ApiClient.client_id == client_id)).scalar_one_or_none()
        info = ClientInfo(row.client_id, row.org_id, tuple(row.roles), row.secret_hash, row.active) if row else None
        with self._lock:
            self._clients[client_id] = (now + self.ttl, info)
        return info

    def forget(self) -> None:
        """Drop every cached entry (after a change made in this process)."""
        with self._lock:
            self._orgs.clear()
            self._clients.clear()
