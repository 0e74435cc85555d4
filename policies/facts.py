"""The one place that maps a STIX 2.1 object of the POP-ART profile to the facts the policy decides on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from policies.errors import FactsError
from policies.models import ObjectFacts, Recipient
from stix_profiles.constants import CONTEXT_EXT, KIND_LABELS, PERSONAL_DATA_EXT, TLP_MARKINGS

# Sharing properties the profile carries in an extension payload (whichever profile extension holds them).
RECIPIENTS = "recipients"
EMBARGO_UNTIL = "embargo_until"
WIDENED_AREAS = "widened_areas"
AREAS = "areas"
_PERSONAL_MEDIA = ("image/", "video/", "audio/")
_KIND_BY_LABEL = {label: label.removeprefix("popart-") for label in KIND_LABELS}


def marking_id(level_or_id: str) -> str:
    """Return the marking-definition id of a TLP level name ("amber+strict"), or the id unchanged."""
    return TLP_MARKINGS.get(level_or_id.lower(), level_or_id)


def area_key(name: str) -> str:
    """Normalise a municipality name to an area key ("Sevilla " -> "sevilla")."""
    return "-".join(name.casefold().split())


def object_facts(
    stix_obj: Mapping[str, Any],
    *,
    producer_org: str | None = None,
    received: datetime | None = None,
) -> ObjectFacts:
    """Extract the policy facts of one STIX object; FactsError says what is missing or malformed.

    `producer_org` is the posting organisation when the hub knows it; otherwise the engine resolves
    `created_by_ref` through the organisations' identities. `received` stands in for `created` on
    objects that have none (SCOs such as evidence artifacts).
    """
    try:
        obj_id, stix_type = str(stix_obj["id"]), str(stix_obj["type"])
    except KeyError as exc:
        raise FactsError(f"STIX object without {exc.args[0]!r}") from None
    extensions = stix_obj.get("extensions") or {}
    if not isinstance(extensions, Mapping):
        raise FactsError(f"{obj_id}: extensions must be an object")
    sharing = _sharing_properties(extensions.values())
    context = extensions.get(CONTEXT_EXT) or {}
    try:
        return ObjectFacts(
            id=obj_id,
            kind=_kind(stix_obj, stix_type),
            producer_org=producer_org,
            producer_identity=stix_obj.get("created_by_ref"),
            markings=_markings(stix_obj),
            personal_data=_personal_data(stix_obj, stix_type, extensions),
            recipients=tuple(Recipient.model_validate(r) for r in sharing.get(RECIPIENTS, [])),
            areas=_areas(context, sharing),
            widened_areas=tuple(a if a == "*" else area_key(a) for a in sharing.get(WIDENED_AREAS, [])),
            venues=(str(context["venue"]),) if context.get("venue") else (),
            created=_created(stix_obj, obj_id, received),
            embargo_until=_timestamp(sharing[EMBARGO_UNTIL], obj_id) if sharing.get(EMBARGO_UNTIL) else None,
        )
    except ValidationError as exc:
        raise FactsError(f"{obj_id}: {exc}") from exc


def _sharing_properties(payloads: Iterable[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for payload in payloads:
        if isinstance(payload, Mapping):
            for key in (RECIPIENTS, EMBARGO_UNTIL, WIDENED_AREAS, AREAS):
                if key in payload:
                    found[key] = payload[key]
    return found


def _kind(stix_obj: Mapping[str, Any], stix_type: str) -> str:
    for label in stix_obj.get("labels") or ():
        if label in _KIND_BY_LABEL:
            return _KIND_BY_LABEL[label]
    return "evidence" if stix_type == "artifact" else stix_type


def _markings(stix_obj: Mapping[str, Any]) -> tuple[str, ...]:
    refs = set(stix_obj.get("object_marking_refs") or ())
    refs |= {g["marking_ref"] for g in stix_obj.get("granular_markings") or () if g.get("marking_ref")}
    if not refs and stix_obj.get("type") == "marking-definition":
        # A marking definition is public reference data: everyone must be able to resolve it.
        refs.add(TLP_MARKINGS["clear"])
    return tuple(sorted(refs))


def _personal_data(stix_obj: Mapping[str, Any], stix_type: str, extensions: Mapping[str, Any]) -> bool:
    flag = extensions.get(PERSONAL_DATA_EXT)
    if isinstance(flag, Mapping) and "personal_data" in flag:
        return flag["personal_data"] is True
    # Unflagged media may show people: fail closed.
    return stix_type == "artifact" and str(stix_obj.get("mime_type", "")).startswith(_PERSONAL_MEDIA)


def _areas(context: Mapping[str, Any], sharing: Mapping[str, Any]) -> tuple[str, ...]:
    areas = {area_key(str(a)) for a in sharing.get(AREAS, [])}
    if context.get("municipality"):
        areas.add(area_key(str(context["municipality"])))
    return tuple(sorted(areas))


def _created(stix_obj: Mapping[str, Any], obj_id: str, received: datetime | None) -> datetime:
    if stix_obj.get("created"):
        return _timestamp(stix_obj["created"], obj_id)
    if received is None:
        raise FactsError(f"{obj_id}: no 'created' timestamp; pass received= (the time the hub stored it)")
    return received


def _timestamp(value: Any, obj_id: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise FactsError(f"{obj_id}: {value!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise FactsError(f"{obj_id}: {value!r} has no time zone")
    return parsed
