"""What the portal shows: alert cards (guidance, feedback, evidence), the library and the dashboard figures.

Everything is read through the store's ACL join (`store.page` with the caller's audiences), as TAXII does.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from exchange.auth.caller import Caller
from exchange.store import objects as store
from exchange.store.db import Database
from exchange.stream import changes
from exchange.timestamps import now_micros
from stix_profiles.constants import (
    CATEGORY_LABEL_PREFIX,
    CONTEXT_EXT,
    INCIDENT_CORE_EXT,
    LABEL_ACK,
    LABEL_BEST_PRACTICE,
    LABEL_DETECTION,
    STATUS_LABEL_PREFIX,
    TLP_BY_MARKING,
)

BOARD_TYPES = ("incident", "course-of-action", "relationship", "note", "observed-data", "artifact")
PAGE = 1000
MAX_PAGES = 20


@dataclass
class AlertCard:
    """One alert as the board shows it."""

    id: str
    collection_id: str
    name: str
    description: str
    created: str
    modified: str
    severity: str
    criticality: int | None
    categories: list[str]
    venue: str | None
    zone: str | None
    municipality: str | None
    tlp: str
    producer: str | None
    guidance: list[dict[str, str]] = field(default_factory=list)
    feedback: list[dict[str, str]] = field(default_factory=list)
    evidence: list[dict[str, str]] = field(default_factory=list)  # visible, redacted evidence

    @property
    def status(self) -> str:
        """The latest field status reported on this alert, if any."""
        return self.feedback[-1]["status"] if self.feedback else "new"


def severity_of(criticality: int | None) -> str:
    """high / medium / low from the Incident Core criticality (0..100)."""
    if criticality is None:
        return "medium"
    return "high" if criticality >= 70 else "medium" if criticality >= 40 else "low"


def tlp_of(obj: dict[str, Any]) -> str:
    """The TLP level of an object (amber when unmarked)."""
    for ref in obj.get("object_marking_refs", []):
        if ref in TLP_BY_MARKING:
            return TLP_BY_MARKING[ref]
    return "amber"


def visible_objects(db: Database, caller: Caller, types: tuple[str, ...] = BOARD_TYPES,
                    ids: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    """Latest visible versions of these types in every collection the caller reads: (collection, object)."""
    reader = changes.Reader.of(caller)
    out: list[tuple[str, dict[str, Any]]] = []
    with db.read() as session:
        sc = changes.scope(session, reader)
        for cid in sc.collections:
            out += [(cid, o) for o in _latest(session, cid, sc.audiences, types, ids)]
    return out


def _latest(session: Session, cid: str, audiences: tuple[int, ...], types: tuple[str, ...],
            ids: tuple[str, ...]) -> list[dict[str, Any]]:
    query = store.ObjectQuery(types=types, ids=ids)
    after: int | None = None
    found: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        rows = store.page(session, cid, query, audiences, now_micros(), after, PAGE)
        found += [json.loads(r.raw) for r in rows[:PAGE]]
        if len(rows) <= PAGE:
            break
        after = rows[PAGE - 1].seq
    return found


def _card(cid: str, inc: dict[str, Any]) -> AlertCard:
    ext = inc.get("extensions", {})
    core, ctx = ext.get(INCIDENT_CORE_EXT, {}), ext.get(CONTEXT_EXT, {})
    labels = inc.get("labels", [])
    cats = list(core.get("incident_types", [])) or [
        lbl.removeprefix(CATEGORY_LABEL_PREFIX) for lbl in labels if lbl.startswith(CATEGORY_LABEL_PREFIX)]
    crit = core.get("criticality")
    return AlertCard(
        id=inc["id"], collection_id=cid, name=str(inc.get("name", "")), description=str(inc.get("description", "")),
        created=inc.get("created", ""), modified=inc.get("modified", ""), severity=severity_of(crit),
        criticality=crit, categories=cats, venue=ctx.get("venue"), zone=ctx.get("zone"),
        municipality=ctx.get("municipality"), tlp=tlp_of(inc), producer=inc.get("created_by_ref"))


def cards(objects: list[tuple[str, dict[str, Any]]], limit: int) -> list[AlertCard]:
    """Alert cards, newest first, with their guidance, field feedback and evidence attached."""
    by_id = {o["id"]: o for _, o in objects}
    alerts = {o["id"]: _card(cid, o) for cid, o in objects if o["type"] == "incident" and not o.get("revoked")}
    for _, o in objects:
        if o["type"] == "relationship" and o.get("target_ref") in alerts:
            coa = by_id.get(o.get("source_ref", ""))
            if coa is not None and coa["type"] == "course-of-action":
                alerts[o["target_ref"]].guidance.append(
                    {"id": coa["id"], "name": str(coa.get("name", "")), "description": str(coa.get("description", ""))})
        elif o["type"] == "note" and LABEL_ACK in o.get("labels", []):
            status = next((lbl.removeprefix(STATUS_LABEL_PREFIX) for lbl in o["labels"]
                           if lbl.startswith(STATUS_LABEL_PREFIX)), "acknowledged")
            for ref in o.get("object_refs", []):
                if ref in alerts:
                    alerts[ref].feedback.append({"status": status, "note": str(o.get("content", "")),
                                                 "by": str(o.get("created_by_ref", "")), "at": o.get("created", "")})
    for card in alerts.values():
        card.feedback.sort(key=lambda f: f["at"])
        card.evidence = _evidence(by_id, by_id[card.id])
    ordered = sorted(alerts.values(), key=lambda c: c.created, reverse=True)
    return ordered[:limit]


def _evidence(by_id: dict[str, dict[str, Any]], inc: dict[str, Any]) -> list[dict[str, str]]:
    """The caller-visible evidence of an alert (through its detections): inline images, links, or hashes."""
    refs = list(inc.get("extensions", {}).get(INCIDENT_CORE_EXT, {}).get("other_object_refs", []))
    for ref in list(refs):
        observed = by_id.get(ref)
        if observed is not None and observed["type"] == "observed-data":
            refs += observed.get("object_refs", [])
    found = []
    for ref in refs:
        art = by_id.get(ref)
        if art is None or art["type"] != "artifact":
            continue
        mime, url = str(art.get("mime_type", "")), str(art.get("url", ""))
        if art.get("payload_bin") and mime.startswith("image/"):
            found.append({"kind": "image", "src": f"data:{mime};base64,{art['payload_bin']}"})
        elif url.startswith(("https://", "http://")):
            found.append({"kind": "link", "href": url})
        else:
            digest = str(art.get("hashes", {}).get("SHA-256", ""))
            found.append({"kind": "held", "ref": digest[:16]})
    return found[:3]


def detections(objects: list[tuple[str, dict[str, Any]]], limit: int) -> list[dict[str, Any]]:
    """Recent detections the caller may see (newest first), to promote one to an alert."""
    out = []
    for _, o in objects:
        if o["type"] != "observed-data" or LABEL_DETECTION not in o.get("labels", []):
            continue
        ctx = o.get("extensions", {}).get(CONTEXT_EXT, {})
        category = next((lbl.removeprefix(CATEGORY_LABEL_PREFIX) for lbl in o.get("labels", [])
                         if lbl.startswith(CATEGORY_LABEL_PREFIX)), "")
        out.append({"id": o["id"], "category": category, "zone": ctx.get("zone") or "",
                    "venue": ctx.get("venue") or "", "municipality": ctx.get("municipality") or "",
                    "confidence": o.get("confidence"), "observed": o.get("first_observed", "")})
    return sorted(out, key=lambda d: str(d["observed"]), reverse=True)[:limit]


def library(db: Database, caller: Caller, q: str, topic: str = "") -> list[dict[str, str]]:
    """Guidance and best practices (training material included) the caller may see, matching every word of `q`
    and, when given, the topic."""
    words = [w for w in q.lower().split() if w]
    items = []
    for _, o in visible_objects(db, caller, ("course-of-action", "note")):
        if o["type"] == "note" and LABEL_BEST_PRACTICE not in o.get("labels", []):
            continue
        title = str(o.get("name") or o.get("abstract") or "")
        text = str(o.get("description") or o.get("content") or "")
        kind = "best-practice" if o["type"] == "note" else "guidance"
        topics = [lbl.split(":", 1)[1] for lbl in o.get("labels", []) if lbl.startswith("popart-topic:")]
        hay = " ".join([title, text, *topics]).lower()
        if all(w in hay for w in words) and (not topic or topic in topics):
            items.append({"id": o["id"], "kind": kind, "title": title, "text": text, "topics": ", ".join(topics),
                          "tlp": tlp_of(o), "created": o.get("created", "")})
    return sorted(items, key=lambda i: i["created"], reverse=True)


@dataclass(frozen=True)
class Dashboard:
    """Alerts over time by category, and by zone."""

    days: list[str]
    categories: list[str]
    by_day: dict[str, dict[str, int]]
    by_zone: list[tuple[str, int]]
    total: int


def dashboard(items: list[tuple[str, list[str], str]]) -> Dashboard:
    """Counts per day and category, and per zone, of (timestamp, categories, zone) items."""
    by_day: dict[str, Counter[str]] = {}
    zones: Counter[str] = Counter()
    cats: set[str] = set()
    for created, categories, zone in items:
        day = created[:10]
        for cat in categories or ["uncategorised"]:
            by_day.setdefault(day, Counter())[cat] += 1
            cats.add(cat)
        zones[zone or "—"] += 1
    days = sorted(by_day)
    return Dashboard(days, sorted(cats), {d: dict(by_day[d]) for d in days}, zones.most_common(12), len(items))


