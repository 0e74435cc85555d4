"""`GET /stream/events`: the live stream, an extension next to TAXII (same credentials, same ACL)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from exchange.deps import CallerDep, HubDep
from exchange.errors import BadRequest, NotFound
from exchange.jsonapi import json_object, json_response
from exchange.stream import changes, cursor
from exchange.stream.service import StreamService
from exchange.stream.webhooks import Webhooks

router = APIRouter()
EVENT_STREAM = "text/event-stream"


def stream_of(hub: object) -> StreamService:
    """The stream service installed in this hub."""
    service = getattr(hub, "extras", {}).get("stream")
    if not isinstance(service, StreamService):
        raise RuntimeError("the live stream is not installed in this hub")
    return service


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@router.get("/stream/events", include_in_schema=False)
async def events(
    request: Request, hub: HubDep, caller: CallerDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    cursor_param: Annotated[str | None, Query(alias="last_event_id")] = None,
    start: Annotated[str, Query(alias="from", pattern="^(now|start)$")] = "now",
    types: Annotated[str | None, Query(max_length=2000)] = None,
    collections: Annotated[str | None, Query(max_length=4000)] = None,
) -> StreamingResponse:
    """New object versions the caller may see, as server-sent events, resuming after `Last-Event-ID`."""
    service = stream_of(hub)
    given = last_event_id or cursor_param  # the header (a reconnect) wins over the URL's first cursor
    if given:
        position = cursor.decode(given.strip())
    else:
        position = await run_in_threadpool(service.start_cursor, changes.Reader.of(caller), start)
    type_list = _split(types)
    if any(len(t) > 250 for t in type_list):
        raise BadRequest("types: a STIX type is at most 250 characters")
    body = service.events(caller, position, types=type_list, collections=_split(collections))
    return StreamingResponse(body, media_type=EVENT_STREAM, headers={
        "Cache-Control": "no-store", "X-Accel-Buffering": "no", "Connection": "keep-alive"})


# --- webhooks ------------------------------------------------------------------------------------------------


def _webhooks(hub: object) -> Webhooks:
    hooks = stream_of(hub).webhooks
    if hooks is None:
        raise NotFound("webhooks are disabled on this hub")
    return hooks




@router.post("/stream/webhooks", include_in_schema=False)
async def create_webhook(request: Request, hub: HubDep, caller: CallerDep) -> Response:
    """Subscribe a URL to the caller's stream; the answer carries the signing secret (shown once)."""
    body = await json_object(request)
    url, types, start = body.get("url"), body.get("types", []), body.get("from", "now")
    if not isinstance(url, str) or not isinstance(types, list) or not all(isinstance(t, str) for t in types) \
            or start not in ("now", "start"):
        raise BadRequest("expected {\"url\": str, \"types\": [str], \"from\": \"now\"|\"start\"}")
    view, secret = await run_in_threadpool(lambda: _webhooks(hub).create(caller, url, types=types, start=start))
    return json_response({**view.as_json(), "secret": secret}, 201)


@router.get("/stream/webhooks", include_in_schema=False)
async def list_webhooks(hub: HubDep, caller: CallerDep) -> Response:
    """The webhook subscriptions of the caller's organisation."""
    views = await run_in_threadpool(_webhooks(hub).subscriptions, caller)
    return json_response({"webhooks": [v.as_json() for v in views]})


@router.get("/stream/webhooks/{sub_id}/deliveries", include_in_schema=False)
async def webhook_deliveries(sub_id: str, hub: HubDep, caller: CallerDep,
                             status: Annotated[str | None, Query(pattern="^(pending|delivered|dead)$")] = None
                             ) -> Response:
    """The latest deliveries of a subscription (`status=dead`: the dead letters)."""
    rows = await run_in_threadpool(_webhooks(hub).deliveries, caller, sub_id, status)
    return json_response({"deliveries": rows})


@router.post("/stream/webhooks/{sub_id}/replay", include_in_schema=False)
async def replay_webhook(sub_id: str, request: Request, hub: HubDep, caller: CallerDep) -> Response:
    """Requeue dead letters (`{"dead": true}`) and/or rewind to a cursor (`{"from": "<event id>"}`)."""
    body = await json_object(request)
    dead, start = bool(body.get("dead", False)), body.get("from")
    if start is not None and not isinstance(start, str):
        raise BadRequest("from must be an event id")
    n = await run_in_threadpool(lambda: _webhooks(hub).replay(caller, sub_id, dead=dead, from_cursor=start))
    return json_response({"requeued": n})


@router.delete("/stream/webhooks/{sub_id}", include_in_schema=False)
async def delete_webhook(sub_id: str, hub: HubDep, caller: CallerDep) -> Response:
    """Unsubscribe."""
    await run_in_threadpool(_webhooks(hub).delete, caller, sub_id)
    return Response(status_code=204)
