"""TAXII 2.1 endpoints. Routers only parse, call a service and shape the response."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from exchange.deps import CallerDep, HubDep
from exchange.errors import BadRequest, PayloadTooLarge
from exchange.services import collections as collection_service
from exchange.services import status as status_service
from exchange.services.objects import Page
from exchange.taxii import filters
from exchange.taxii.media import TAXII_21, check_accept, check_content_type

HEADER_FIRST = "X-TAXII-Date-Added-First"
HEADER_LAST = "X-TAXII-Date-Added-Last"


def accept_taxii(request: Request) -> None:
    """Every TAXII endpoint answers TAXII 2.1 JSON only."""
    check_accept(request.headers.get("accept"))


router = APIRouter(dependencies=[Depends(accept_taxii)])


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":"), ensure_ascii=False), status_code=status_code,
                    media_type=TAXII_21)


def _page(page: Page) -> Response:
    from exchange.timestamps import format_timestamp

    response = Response(page.body, media_type=TAXII_21)
    if page.first_added is not None and page.last_added is not None:
        response.headers[HEADER_FIRST] = format_timestamp(page.first_added)
        response.headers[HEADER_LAST] = format_timestamp(page.last_added)
    return response


def _base_url(request: Request, hub: HubDep) -> str:
    return hub.settings.public_url or str(request.base_url).rstrip("/")


@router.get("/taxii2/")
def discovery(request: Request, hub: HubDep, caller: CallerDep) -> Response:
    """Server discovery: the API roots of this hub."""
    with hub.db.read() as session:
        roots = collection_service.get_all_api_roots(session)
    base = _base_url(request, hub)
    body: dict[str, Any] = {"title": hub.settings.title, "description": hub.settings.description}
    if hub.settings.contact:
        body["contact"] = hub.settings.contact
    default = next((r for r in roots if r.is_default), None)
    if default is not None:
        body["default"] = f"{base}/{default.name}/"
    body["api_roots"] = [f"{base}/{r.name}/" for r in roots]
    return _json(body)


@router.get("/{api_root}/")
def api_root_information(api_root: str, hub: HubDep, caller: CallerDep) -> Response:
    """API root information."""
    with hub.db.read() as session:
        root = collection_service.get_api_root(session, api_root)
    body: dict[str, Any] = {"title": root.title}
    if root.description:
        body["description"] = root.description
    body.update(versions=[TAXII_21], max_content_length=root.max_content_length)
    return _json(body)


@router.get("/{api_root}/status/{status_id}/")
def get_status(api_root: str, status_id: str, hub: HubDep, caller: CallerDep) -> Response:
    """The status of an Add Objects request made by the caller's organisation."""
    with hub.db.read() as session:
        root = collection_service.get_api_root(session, api_root)
        return _json(status_service.get(session, caller, root, status_id))


@router.get("/{api_root}/collections/")
def get_collections(api_root: str, hub: HubDep, caller: CallerDep) -> Response:
    """The collections the caller may read or write."""
    with hub.db.read() as session:
        root = collection_service.get_api_root(session, api_root)
        views = collection_service.get_all(session, caller, root)
    return _json({"collections": [v.as_taxii() for v in views]} if views else {})


@router.get("/{api_root}/collections/{collection_id}/")
def get_collection(api_root: str, collection_id: str, hub: HubDep, caller: CallerDep) -> Response:
    """One collection (404 when the caller may not know of it)."""
    with hub.db.read() as session:
        root = collection_service.get_api_root(session, api_root)
        view = collection_service.get(session, caller, root, collection_id)
    return _json(view.as_taxii())


@router.get("/{api_root}/collections/{collection_id}/manifest/")
def get_manifest(api_root: str, collection_id: str, request: Request, hub: HubDep, caller: CallerDep) -> Response:
    """Manifest entries of the visible object versions."""
    listing = filters.parse(request.query_params, "manifest")
    return _page(hub.reader.manifest(caller, api_root, collection_id, listing.query, listing.limit, listing.next))


@router.get("/{api_root}/collections/{collection_id}/objects/")
def get_objects(api_root: str, collection_id: str, request: Request, hub: HubDep, caller: CallerDep) -> Response:
    """An envelope of the visible objects matching the filters."""
    listing = filters.parse(request.query_params, "objects")
    return _page(hub.reader.objects(caller, api_root, collection_id, listing.query, listing.limit, listing.next))


@router.post("/{api_root}/collections/{collection_id}/objects/")
async def add_objects(api_root: str, collection_id: str, request: Request, hub: HubDep,
                      caller: CallerDep) -> Response:
    """Add an envelope of objects; answers 202 with a status resource."""
    from starlette.concurrency import run_in_threadpool

    check_content_type(request.headers.get("content-type"))
    with hub.db.read() as session:
        limit = collection_service.get_api_root(session, api_root).max_content_length
    body = await _read_limited(request, limit)
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects", []), list):
        raise BadRequest("the body must be a TAXII envelope: a JSON object with an 'objects' list")
    status = await run_in_threadpool(hub.ingest.add, caller, api_root, collection_id, envelope, body)
    return _json(status, status_code=202)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None
        if size > limit:
            raise PayloadTooLarge(f"the body is {size} bytes; this API root accepts at most {limit}")
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"the body exceeds this API root's max_content_length of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/")
def get_object(api_root: str, collection_id: str, object_id: str, request: Request, hub: HubDep,
               caller: CallerDep) -> Response:
    """The visible versions of one object (default: the last)."""
    filters.check_object_id(object_id)
    listing = filters.parse(request.query_params, "object", object_id=object_id)
    return _page(hub.reader.objects(caller, api_root, collection_id, listing.query, listing.limit, listing.next,
                                    object_id=object_id))


@router.delete("/{api_root}/collections/{collection_id}/objects/{object_id}/")
def delete_object(api_root: str, collection_id: str, object_id: str, request: Request, hub: HubDep,
                  caller: CallerDep) -> Response:
    """Delete an object's versions (all, or those matching match[version] / match[spec_version])."""
    filters.check_object_id(object_id)
    listing = filters.parse(request.query_params, "delete", object_id=object_id)
    query = listing.query
    if not request.query_params.get("match[version]"):
        from dataclasses import replace

        from exchange.store.objects import VersionMatch

        query = replace(query, versions=VersionMatch(all=True, last=False))
    hub.reader.delete(caller, api_root, collection_id, object_id, query)
    return Response(status_code=200, media_type=TAXII_21)


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/versions/")
def get_versions(api_root: str, collection_id: str, object_id: str, request: Request, hub: HubDep,
                 caller: CallerDep) -> Response:
    """The versions of one object visible to the caller."""
    filters.check_object_id(object_id)
    listing = filters.parse(request.query_params, "versions", object_id=object_id)
    return _page(hub.reader.versions(caller, api_root, collection_id, object_id, listing.query, listing.limit,
                                     listing.next))
