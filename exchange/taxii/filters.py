"""TAXII 2.1 URL filters (match[...], added_after, limit, next) parsed into a store query."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import QueryParams

from exchange.errors import BadRequest
from exchange.services.validation import _TYPE, _UUID
from exchange.store.objects import ObjectQuery, VersionMatch
from exchange.timestamps import parse_timestamp

KNOWN = {"added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"}
ALLOWED = {
    "objects": KNOWN,
    "manifest": KNOWN,
    "object": {"added_after", "limit", "next", "match[version]", "match[spec_version]"},
    "versions": {"added_after", "limit", "next", "match[spec_version]"},
    "delete": {"match[version]", "match[spec_version]"},
}


@dataclass(frozen=True)
class Listing:
    """The parsed filters plus paging parameters of a request."""

    query: ObjectQuery
    limit: int | None
    next: str | None


def _values(params: QueryParams, name: str) -> list[str]:
    out: list[str] = []
    for raw in params.getlist(name):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return out


def check_object_id(object_id: str) -> None:
    """BadRequest unless `object_id` is a well-formed STIX identifier (no path tricks reach the store)."""
    prefix, sep, ident = object_id.partition("--")
    if not sep or not _TYPE.match(prefix) or not _UUID.match(ident):
        raise BadRequest(f"{object_id[:100]!r} is not a STIX identifier (type--uuid)")


def parse(params: QueryParams, kind: str, *, object_id: str | None = None) -> Listing:
    """Parse the filters allowed on endpoint `kind`; unknown or malformed ones are a 400."""
    for name in params:
        if name not in ALLOWED[kind]:
            raise BadRequest(f"filter {name[:60]!r} is not supported on this endpoint")
    added_after = None
    if "added_after" in params:
        try:
            added_after = parse_timestamp(params["added_after"])
        except ValueError as exc:
            raise BadRequest(f"added_after: {exc}") from None
    limit = None
    if "limit" in params:
        try:
            limit = int(params["limit"])
        except ValueError:
            raise BadRequest("limit must be a positive integer") from None
        if limit < 1:
            raise BadRequest("limit must be a positive integer")
    ids = tuple(_values(params, "match[id]"))
    for i in ids:
        check_object_id(i)
    if object_id is not None:
        ids = (object_id,)
    types = tuple(_values(params, "match[type]"))
    for t in types:
        if not _TYPE.match(t):
            raise BadRequest(f"match[type]: {t[:60]!r} is not a STIX type")
    versions = _version_match(_values(params, "match[version]"), default_all=(kind == "versions"))
    spec = tuple(_values(params, "match[spec_version]"))
    for s in spec:
        if s not in ("2.0", "2.1"):
            raise BadRequest(f"match[spec_version]: {s[:20]!r} is not a STIX version")
    nxt = params.get("next") or None
    return Listing(ObjectQuery(added_after, ids, types, versions, spec), limit, nxt)


def _version_match(values: list[str], *, default_all: bool) -> VersionMatch:
    if not values:
        return VersionMatch(all=True, last=False) if default_all else VersionMatch()
    first = last = every = False
    stamps: list[int] = []
    for v in values:
        if v == "all":
            every = True
        elif v == "first":
            first = True
        elif v == "last":
            last = True
        else:
            try:
                stamps.append(parse_timestamp(v))
            except ValueError:
                raise BadRequest(f"match[version]: {v[:40]!r} is not first, last, all or a timestamp") from None
    return VersionMatch(all=every, first=first, last=last, timestamps=tuple(stamps))
