"""Declarative set-up from a site file: organisations, API roots, collections and clients; idempotent."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from exchange.errors import BadRequest
from exchange.services import collections as collection_service
from exchange.services import orgs as org_service
from exchange.store.db import Database

COLLECTION_NAMESPACE = uuid.UUID("5a0c1d2e-7f3b-4c9a-9e1d-2b6f0a4c8e11")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganisationSpec(_Strict):
    name: str
    id: str | None = Field(default=None, description="stable slug the policy data documents use")
    type: Literal["national_police", "associated_lea", "local_authority", "hub_operator", "other"]
    country: str | None = None
    area: str | None = None


class CollectionSpec(_Strict):
    alias: str
    title: str
    description: str | None = None
    id: str | None = None
    readers: list[str] = Field(default_factory=list, description="organisation names, or '*' for everyone")
    writers: list[str] = Field(default_factory=list)


class ApiRootSpec(_Strict):
    name: str
    title: str
    description: str | None = None
    default: bool = False
    max_content_length: int = Field(default=10 * 1024 * 1024, ge=1024)
    collections: list[CollectionSpec] = Field(default_factory=list)


class ClientSpec(_Strict):
    client_id: str
    organisation: str
    name: str | None = None
    roles: list[str]
    secret_env: str = Field(description="name of the environment variable holding the secret")


class SiteSpec(_Strict):
    organisations: list[OrganisationSpec] = Field(default_factory=list)
    api_roots: list[ApiRootSpec] = Field(default_factory=list)
    clients: list[ClientSpec] = Field(default_factory=list)


def load(path: Path) -> SiteSpec:
    """Parse and check a site file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return SiteSpec.model_validate(data)


def apply(db: Database, site: SiteSpec, env: dict[str, str] | None = None) -> list[str]:
    """Create or update everything the site file names; returns one line per change (none on a rerun)."""
    env = dict(os.environ) if env is None else env
    changes: list[str] = []
    missing = [c.secret_env for c in site.clients if not env.get(c.secret_env)]
    if missing:
        raise BadRequest(f"environment variables not set for client secrets: {', '.join(missing)}")
    for o in site.organisations:
        _, changed = org_service.upsert_organisation(db, name=o.name, type=o.type, country=o.country, area=o.area,
                                                     org_id=o.id)
        if changed:
            changes.append(f"organisation {o.name}")
    for r in site.api_roots:
        _, changed = collection_service.upsert_api_root(
            db, name=r.name, title=r.title, description=r.description, max_content_length=r.max_content_length,
            is_default=r.default)
        if changed:
            changes.append(f"api root {r.name}")
        for c in r.collections:
            cid = c.id or str(uuid.uuid5(COLLECTION_NAMESPACE, f"{r.name}/{c.alias}"))
            _, changed = collection_service.upsert_collection(
                db, root_name=r.name, collection_id=cid, alias=c.alias, title=c.title, description=c.description,
                readers=c.readers, writers=c.writers)
            if changed:
                changes.append(f"collection {r.name}/{c.alias}")
    for cl in site.clients:
        _, changed = org_service.upsert_client(db, organisation=cl.organisation, client_id=cl.client_id,
                                               name=cl.name, roles=cl.roles, secret=env[cl.secret_env])
        if changed:
            changes.append(f"client {cl.client_id}")
    return changes
