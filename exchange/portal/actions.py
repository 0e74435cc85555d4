"""What people do in the portal: field feedback, an audience preview, publishing an alert with guidance.

Everything written goes through the hub's ingest (validation, the sharing policy, the audit log), exactly as
a TAXII POST would; the preview asks the same policy engine without storing anything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from exchange.auth.caller import Caller
from exchange.errors import BadRequest, Forbidden, NotFound
from exchange.hub import Hub
from exchange.portal import board
from exchange.services import collections as collection_service
from exchange.services.policy import RegoSharingPolicy
from exchange.store.models import ApiRoot, Collection, Organisation, StixObject
from exchange.timestamps import now_micros, to_datetime
from stix_profiles import Recipient, Sharing, build_acknowledgement, build_alert, build_guidance
from stix_profiles.constants import CONTEXT_EXT
from stix_profiles.detection import context_extension

ACK_STATUSES = ("acknowledged", "on-scene", "resolved")
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
PUBLISHER_ROLES = ("coordinator", "admin")


def org_identity(org_id: str) -> str:
    """The STIX identity id the portal writes as `created_by_ref` for an organisation."""
    return f"identity--{uuid.uuid5(uuid.NAMESPACE_URL, f'popart-org/{org_id}')}"


@dataclass(frozen=True)
class Target:
    """A collection the caller may write to, with its API root."""

    root: str
    collection_id: str
    title: str


def writable(hub: Hub, caller: Caller) -> list[Target]:
    """The collections the caller may add objects to."""
    out = []
    with hub.db.read() as session:
        for root in collection_service.get_all_api_roots(session):
            out += [Target(root.name, v.id, v.title) for v in collection_service.get_all(session, caller, root)
                    if v.can_write]
    return out


def _target(hub: Hub, caller: Caller, prefer: list[str]) -> Target:
    targets = writable(hub, caller)
    by_key = {t.collection_id: t for t in targets}
    with hub.db.read() as session:
        aliases = {a: i for a, i in session.execute(select(Collection.alias, Collection.id))}
    for key in prefer:
        cid = aliases.get(key, key)
        if cid in by_key:
            return by_key[cid]
    if not targets:
        raise Forbidden("your organisation may not write to any collection")
    return targets[0]


def _ingest(hub: Hub, caller: Caller, target: Target, objects: list[dict[str, Any]]) -> dict[str, Any]:
    status = hub.ingest.add(caller, target.root, target.collection_id, {"objects": objects}, b"")
    if status.get("failure_count"):
        reasons = "; ".join(str(f.get("message", "")) for f in status.get("failures", []))
        raise BadRequest(f"the hub refused the message: {reasons}"[:1000])
    return status


def feedback(hub: Hub, caller: Caller, alert_id: str, status: str, note: str) -> dict[str, Any]:
    """Acknowledge / on scene / resolved (+ note) as a profile acknowledgement shared back to the producer."""
    if status not in ACK_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(ACK_STATUSES)}")
    if len(note) > 4000:
        raise BadRequest("the note is longer than 4000 characters")
    found = board.visible_objects(hub.db, caller, ("incident",), (alert_id,))
    if not found:
        raise NotFound("no such alert")
    cid, alert = found[0]
    with hub.db.read() as session:
        producer = session.execute(select(StixObject.producer_org_id).where(
            StixObject.collection_id == cid, StixObject.stix_id == alert_id).limit(1)).scalar_one_or_none()
    level = board.tlp_of(alert)
    tlp = "amber" if level in ("clear", "green", "red") else level
    objs = build_acknowledgement(alert_ref=alert_id, status=status, created_by_ref=org_identity(caller.org_id),  # type: ignore[arg-type]
                                 comment=note.strip() or None, tlp=tlp)  # type: ignore[arg-type]
    if producer and producer != caller.org_id:
        # Name the alert's producer as a recipient: the policy still decides, but it knows who asked.
        sharing = Sharing(recipients=[Recipient(org=producer)])
        objs[0].setdefault("extensions", {})[CONTEXT_EXT] = context_extension(sharing=sharing)
    target = _target(hub, caller, [cid] + ([hub.settings.portal.feedback_collection]
                                            if hub.settings.portal.feedback_collection else []))
    _ingest(hub, caller, target, objs)
    return {"id": objs[0]["id"], "status": status, "collection": target.collection_id}


@dataclass(frozen=True)
class PublishForm:
    """The coordinator's alert: what, where, how bad, guidance, audience and TLP."""

    name: str
    description: str = ""
    categories: tuple[str, ...] = ()
    criticality: int | None = None
    venue: str | None = None
    zone: str | None = None
    municipality: str | None = None
    tlp: str = "amber"
    recipients: tuple[str, ...] = ()
    widened_areas: tuple[str, ...] = ()
    guidance_title: str = ""
    guidance_text: str = ""
    collection: str | None = None
    detections: tuple[str, ...] = ()

    @classmethod
    def parse(cls, body: dict[str, Any]) -> PublishForm:
        """Validate a submitted form (JSON); BadRequest with the reason."""
        def text(key: str, limit: int = 500) -> str:
            value = body.get(key) or ""
            if not isinstance(value, str) or len(value) > limit:
                raise BadRequest(f"{key}: text of at most {limit} characters")
            return value.strip()

        def items(key: str) -> tuple[str, ...]:
            value = body.get(key) or []
            if isinstance(value, str):
                value = value.split(",")
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > 50:
                raise BadRequest(f"{key}: a list of names")
            return tuple(v.strip() for v in value if v.strip())

        name = text("name", 300)
        if not name:
            raise BadRequest("name: an alert needs a title")
        tlp = text("tlp") or "amber"
        if tlp not in TLP_LEVELS:
            raise BadRequest(f"tlp must be one of {', '.join(TLP_LEVELS)}")
        crit_raw = body.get("criticality")
        criticality = None
        if crit_raw not in (None, ""):
            try:
                criticality = int(str(crit_raw))
            except ValueError:
                raise BadRequest("criticality: a number from 0 to 100") from None
            if not 0 <= criticality <= 100:
                raise BadRequest("criticality: a number from 0 to 100")
        return cls(name=name, description=text("description", 4000), categories=items("categories"),
                   criticality=criticality, venue=text("venue") or None, zone=text("zone") or None,
                   municipality=text("municipality") or None, tlp=tlp, recipients=items("recipients"),
                   widened_areas=items("widened_areas"), guidance_title=text("guidance_title", 300),
                   guidance_text=text("guidance_text", 4000), collection=text("collection") or None,
                   detections=items("detections"))

    def objects(self, org_id: str, key: str) -> list[dict[str, Any]]:
        """The alert (and its guidance) as profile STIX objects."""
        sharing = Sharing(recipients=[Recipient(org=o) for o in self.recipients],
                          widened_areas=list(self.widened_areas))
        author = org_identity(org_id)
        objs = build_alert(name=self.name, detection_refs=self.detections, description=self.description or None,
                           categories=self.categories, criticality=self.criticality, venue=self.venue,
                           zone=self.zone, municipality=self.municipality, tlp=self.tlp,  # type: ignore[arg-type]
                           created_by_ref=author, key=key, sharing=sharing)
        if self.guidance_text:
            # The guidance and its link to the alert concern the alert's area: say so, or the policy's
            # jurisdiction rule keeps them from the local authority that receives the alert.
            areas = [self.municipality] if self.municipality else []
            scoped = Sharing(recipients=sharing.recipients, widened_areas=sharing.widened_areas, areas=areas)
            guidance = build_guidance(alert_ref=objs[0]["id"], name=self.guidance_title or self.name,
                                      description=self.guidance_text, tlp=self.tlp,  # type: ignore[arg-type]
                                      created_by_ref=author, sharing=scoped)
            if scoped.payload():
                guidance[1].setdefault("extensions", {})[CONTEXT_EXT] = context_extension(sharing=scoped)
            objs += guidance
        return objs


def require_publisher(caller: Caller) -> None:
    """Coordinators (and administrators) publish alerts."""
    if not any(caller.has_role(r) for r in PUBLISHER_ROLES):
        raise Forbidden("publishing alerts needs the coordinator role")


def _check_detections(hub: Hub, caller: Caller, form: PublishForm) -> None:
    if any(not d.startswith("observed-data--") for d in form.detections):
        raise BadRequest("detections: observed-data ids")
    if form.detections:
        seen = {o["id"] for _, o in board.visible_objects(hub.db, caller, ("observed-data",), form.detections)}
        if missing := sorted(set(form.detections) - seen):
            raise NotFound(f"no detection {missing[0]!r}")


def preview(hub: Hub, caller: Caller, form: PublishForm) -> list[dict[str, Any]]:
    """Which organisations (and roles) the policy would grant the alert to, if it were sent now."""
    require_publisher(caller)
    _check_detections(hub, caller, form)
    policy = hub.policy
    objs = form.objects(caller.org_id, f"preview-{uuid.uuid4()}")
    names = _org_names(hub)
    if not isinstance(policy, RegoSharingPolicy):
        return [{"org_id": o, "name": n, "roles": ["*"], "from": None} for o, n in sorted(names.items())]
    now = now_micros()
    facts = policy.facts([objs[0]], caller.org_id, now)
    if isinstance(facts[0], str):
        raise BadRequest(f"sharing facts: {facts[0]}")
    decision = policy.decisions([facts[0]], producer_org=caller.org_id, now=now)[0]
    if decision.error:
        raise BadRequest(f"the policy could not decide: {decision.error}")
    at = to_datetime(now)
    out = []
    for g in decision.grants:
        out.append({"org_id": g.org_id, "name": names.get(g.org_id, g.org_id), "roles": sorted(g.roles),
                    "from": g.not_before.isoformat() if g.not_before and g.not_before > at else None})
    return sorted(out, key=lambda r: r["name"])


def publish(hub: Hub, caller: Caller, form: PublishForm) -> dict[str, Any]:
    """Send the alert (and its guidance) through ingest; returns the alert id and the collection."""
    require_publisher(caller)
    _check_detections(hub, caller, form)
    objs = form.objects(caller.org_id, f"portal-{uuid.uuid4()}")
    target = _target(hub, caller, [form.collection] if form.collection else ["alerts"])
    _ingest(hub, caller, target, objs)
    return {"id": objs[0]["id"], "collection": target.collection_id, "objects": len(objs)}


def _org_names(hub: Hub) -> dict[str, str]:
    with hub.db.read() as session:
        return {i: n for i, n in session.execute(select(Organisation.id, Organisation.name))}


def organisations(hub: Hub) -> list[tuple[str, str, str | None]]:
    """(id, name, area) of every organisation, for the audience picker."""
    with hub.db.read() as session:
        rows = session.execute(select(Organisation.id, Organisation.name, Organisation.area)
                               .order_by(Organisation.name)).all()
    return [(i, n, a) for i, n, a in rows]


def root_of(hub: Hub, collection_id: str) -> str:
    """The API root name of a collection."""
    with hub.db.read() as session:
        name = session.execute(select(ApiRoot.name).join(Collection, Collection.api_root_id == ApiRoot.id)
                               .where(Collection.id == collection_id)).scalar_one_or_none()
    if name is None:
        raise NotFound("no such collection")
    return name
