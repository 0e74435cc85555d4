"""Compliance endpoints (JSON, next to TAXII): audience of an object, explanations, the audit log."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from exchange.audit.log import AuditEvent, export, verify
from exchange.auth.caller import Caller
from exchange.deps import CallerDep, HubDep
from exchange.errors import BadRequest, NotFound
from exchange.hub import Hub
from exchange.services import compliance
from exchange.services.policy import RegoSharingPolicy
from exchange.taxii.filters import check_object_id
from exchange.timestamps import parse_timestamp

router = APIRouter(prefix="/compliance")


def _require_compliance(hub: Hub, caller: Caller) -> None:
    """Compliance officers only; everyone else is told the resource does not exist."""
    policy = hub.policy
    if isinstance(policy, RegoSharingPolicy):
        allowed = policy.engine.allow_action(caller.org_id, sorted(caller.roles), "read_audit_log",
                                             organisations=policy.organisations()).allowed
    else:
        allowed = caller.has_role("compliance")
    hub.audit.add(AuditEvent.by(caller, "compliance.access", "allow" if allowed else "deny"))
    if not allowed:
        raise NotFound("no such resource")


def _json(body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


@router.get("/objects/{object_id}/audience")
def audience(object_id: str, hub: HubDep, caller: CallerDep) -> Response:
    """Who can see each stored version of an object, and when."""
    _require_compliance(hub, caller)
    check_object_id(object_id)
    hub.audit.add(AuditEvent.by(caller, "compliance.who_can_see", "ok", object_ids=(object_id,)))
    return _json({"object_id": object_id, "versions": compliance.who_can_see(hub.db, object_id)})


@router.get("/objects/{object_id}/explain")
def explain(object_id: str, org: str, hub: HubDep, caller: CallerDep) -> Response:
    """Why organisation `org` is allowed or denied an object under the current revision (which rules)."""
    _require_compliance(hub, caller)
    check_object_id(object_id)
    policy = compliance.require_rego(hub.policy)
    hub.audit.add(AuditEvent.by(caller, "compliance.explain", "ok", object_ids=(object_id,), details={"org": org}))
    return _json(compliance.explain(hub.db, policy, object_id, org))


@router.get("/audit")
def audit_export(request: Request, hub: HubDep, caller: CallerDep, since: str | None = None,
                 until: str | None = None, format: str = "jsonl") -> StreamingResponse:
    """Export the audit records of a period (JSON lines or CSV)."""
    _require_compliance(hub, caller)
    if format not in ("jsonl", "csv"):
        raise BadRequest("format must be jsonl or csv")
    try:
        start = parse_timestamp(since) if since else None
        end = parse_timestamp(until) if until else None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    hub.audit.add(AuditEvent.by(caller, "compliance.audit_export", "ok", details={"since": since, "until": until}))
    hub.audit.flush()
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(export(hub.db, since=start, until=end, fmt=format), media_type=media)


@router.get("/audit/verify")
async def audit_verify(hub: HubDep, caller: CallerDep) -> Response:
    """Check the audit log's hash chain."""
    _require_compliance(hub, caller)
    report = await run_in_threadpool(verify, hub.db)
    return _json({"ok": report.ok, "records": report.records, "problems": report.problems})
