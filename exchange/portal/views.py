"""Portal pages (server-rendered, assets served by the hub) and the JSON actions behind their buttons."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from exchange.auth.caller import Caller
from exchange.deps import CallerDep, HubDep
from exchange.errors import BadRequest, HubError, NotFound
from exchange.hub import Hub
from exchange.jsonapi import json_object, json_response
from exchange.portal import actions, board, charts
from exchange.portal.i18n import LANGUAGES, pick_language, translator
from exchange.stream import changes
from exchange.stream.views import stream_of

router = APIRouter(prefix="/portal")
HERE = Path(__file__).parent
ASSETS = {"portal.css": "text/css", "board.js": "text/javascript", "publish.js": "text/javascript",
          "compliance.js": "text/javascript"}
LANG_COOKIE = "popart_lang"


@cache
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def _headers(hub: Hub) -> dict[str, str]:
    img = "'self' data:"
    for url in (hub.settings.portal.map_image_url, hub.settings.portal.map_tiles_url):
        if url and url.startswith("http"):
            img += " " + "/".join(url.split("/")[:3])
    return {
        "Content-Security-Policy": f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {img}; "
                                   "connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; "
                                   "form-action 'self'; frame-ancestors 'none'",
        "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def _page_caller(hub: Hub, request: Request) -> tuple[Caller, str] | None:
    """The person logged in with a portal session, and the session's CSRF token (None: go to the login)."""
    identity: Any = hub.extras.get("identity")
    raw = request.cookies.get(identity.sessions.cookie_name) if identity is not None else None
    if not raw:
        return None
    try:
        caller = identity.authenticate(request)
    except HubError:
        return None
    return (caller, identity.sessions.csrf_token(raw)) if caller is not None else None


def _render(hub: Hub, request: Request, template: str, page: str, caller: Caller, csrf: str,
            **context: Any) -> Response:
    lang = pick_language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                         request.headers.get("accept-language"), hub.settings.portal.default_language)
    t = translator(lang)
    html = _templates().get_template(template).render(
        t=t, lang=lang, page=page, title=t(page), caller=caller, csrf=csrf,
        can_publish=any(caller.has_role(r) for r in actions.PUBLISHER_ROLES),
        is_compliance=caller.has_role("compliance"), **context)
    response = Response(html, media_type="text/html; charset=utf-8", headers=_headers(hub))
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, path="/portal", samesite="strict", max_age=365 * 86400)
    return response


def _login() -> Response:
    return RedirectResponse("/portal/login", status_code=303)


@router.get("/assets/{name}", include_in_schema=False)
def asset(name: str) -> Response:
    """The portal's stylesheet and scripts (served by the hub: nothing from a CDN)."""
    if name not in ASSETS:
        raise NotFound("no such asset")
    return Response((HERE / "static" / name).read_bytes(), media_type=ASSETS[name],
                    headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"})


@router.get("/", include_in_schema=False)
@router.get("/board", include_in_schema=False)
async def board_page(request: Request, hub: HubDep) -> Response:
    """The live board of the caller's organisation."""
    found = await run_in_threadpool(_page_caller, hub, request)
    if found is None:
        return _login()
    caller, csrf = found
    # The stream starts where this render's reads begin: an alert stored in between arrives twice at
    # worst (the board replaces a card by id), never not at all.
    position = await run_in_threadpool(stream_of(hub).start_cursor, changes.Reader.of(caller), "now")
    alerts = await run_in_threadpool(_alerts, hub, caller)
    conf = hub.settings.portal
    return _render(hub, request, "board.html", "board", caller, csrf, alerts=alerts, cursor=position.encode(),
                   m=charts.venue_map(alerts, conf.zones, conf.map_image_url or conf.map_tiles_url))


def _alerts(hub: Hub, caller: Caller) -> list[board.AlertCard]:
    return board.cards(board.visible_objects(hub.db, caller), hub.settings.portal.board_limit)


@router.get("/fragments/alert/{alert_id}", include_in_schema=False)
async def alert_fragment(alert_id: str, request: Request, hub: HubDep, caller: CallerDep) -> Response:
    """One alert card (the board inserts it when the stream announces the alert or its guidance/feedback)."""
    alerts = await run_in_threadpool(_alerts, hub, caller)
    card = next((a for a in alerts if a.id == alert_id), None)
    if card is None:
        raise NotFound("no such alert")
    lang = pick_language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                         request.headers.get("accept-language"), hub.settings.portal.default_language)
    html = _templates().get_template("card.html").render(a=card, t=translator(lang))
    return Response(html, media_type="text/html; charset=utf-8", headers=_headers(hub))


@router.get("/fragments/map", include_in_schema=False)
async def map_fragment(request: Request, hub: HubDep, caller: CallerDep) -> Response:
    """The venue map with the current markers."""
    alerts = await run_in_threadpool(_alerts, hub, caller)
    conf = hub.settings.portal
    lang = pick_language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                         request.headers.get("accept-language"), conf.default_language)
    html = _templates().get_template("map.html").render(
        m=charts.venue_map(alerts, conf.zones, conf.map_image_url or conf.map_tiles_url), t=translator(lang))
    return Response(html, media_type="text/html; charset=utf-8", headers=_headers(hub))




@router.post("/alerts/{alert_id}/feedback", include_in_schema=False)
async def feedback(alert_id: str, request: Request, hub: HubDep, caller: CallerDep) -> Response:
    """Acknowledge / on scene / resolved with a note (a session needs the X-CSRF-Token header)."""
    body = await json_object(request)
    status, note = body.get("status"), body.get("note") or ""
    if not isinstance(status, str) or not isinstance(note, str):
        raise BadRequest("expected {\"status\": str, \"note\": str}")
    done = await run_in_threadpool(actions.feedback, hub, caller, alert_id, status, note)
    return json_response(done, 201)


@router.get("/publish", include_in_schema=False)
async def publish_page(request: Request, hub: HubDep) -> Response:
    """The coordinator's form: alert, guidance, audience and TLP, with a preview of the audience."""
    found = await run_in_threadpool(_page_caller, hub, request)
    if found is None:
        return _login()
    caller, csrf = found
    actions.require_publisher(caller)
    targets = await run_in_threadpool(actions.writable, hub, caller)
    orgs = await run_in_threadpool(actions.organisations, hub)
    found_detections = await run_in_threadpool(
        lambda: board.detections(board.visible_objects(hub.db, caller, ("observed-data",)), 50))
    return _render(hub, request, "publish.html", "publish", caller, csrf, targets=targets, orgs=orgs,
                   tlp_levels=actions.TLP_LEVELS, detections=found_detections)


@router.post("/publish/preview", include_in_schema=False)
async def publish_preview(request: Request, hub: HubDep, caller: CallerDep) -> Response:
    """Which organisations the policy would grant this alert to (nothing is stored)."""
    form = actions.PublishForm.parse(await json_object(request))
    return json_response({"audience": await run_in_threadpool(actions.preview, hub, caller, form)})


@router.post("/publish", include_in_schema=False)
async def publish(request: Request, hub: HubDep, caller: CallerDep) -> Response:
    """Send the alert and its guidance through ingest."""
    form = actions.PublishForm.parse(await json_object(request))
    return json_response(await run_in_threadpool(actions.publish, hub, caller, form), 201)


@router.get("/library", include_in_schema=False)
async def library_page(request: Request, hub: HubDep, q: Annotated[str, Query(max_length=200)] = "",
                       topic: Annotated[str, Query(max_length=100)] = "") -> Response:
    """Guidance and best practices, searchable."""
    found = await run_in_threadpool(_page_caller, hub, request)
    if found is None:
        return _login()
    caller, csrf = found
    items = await run_in_threadpool(board.library, hub.db, caller, q, topic)
    topics = sorted({t.strip() for i in await run_in_threadpool(board.library, hub.db, caller, "")
                     for t in i["topics"].split(",") if t.strip()})
    return _render(hub, request, "library.html", "library", caller, csrf, items=items, q=q, topic=topic,
                   topics=topics)


@router.get("/dashboard", include_in_schema=False)
async def dashboard_page(request: Request, hub: HubDep) -> Response:
    """Alerts over time by category, and by zone."""
    found = await run_in_threadpool(_page_caller, hub, request)
    if found is None:
        return _login()
    caller, csrf = found
    objects = await run_in_threadpool(board.visible_objects, hub.db, caller, ("incident", "observed-data"))
    alerts = board.cards(objects, 100_000)
    d = board.dashboard([(a.created, a.categories, charts.zone_of(a)) for a in alerts])
    seen = board.detections(objects, 100_000)
    dd = board.dashboard([(str(x["observed"]), [x["category"]], x["zone"] or x["municipality"]) for x in seen])
    return _render(hub, request, "dashboard.html", "dashboard", caller, csrf, d=d, c=charts.stacked_bars(d),
                   dd=dd, cd=charts.stacked_bars(dd), zone_max=max((n for _, n in d.by_zone), default=1))


@router.get("/compliance", include_in_schema=False)
async def compliance_page(request: Request, hub: HubDep) -> Response:
    """Who can see an object and why, audit search and export (the /compliance API behind it)."""
    found = await run_in_threadpool(_page_caller, hub, request)
    if found is None:
        return _login()
    caller, csrf = found
    if not caller.has_role("compliance"):
        raise NotFound("no such page")
    orgs = await run_in_threadpool(actions.organisations, hub)
    return _render(hub, request, "compliance.html", "compliance", caller, csrf, orgs=orgs)
