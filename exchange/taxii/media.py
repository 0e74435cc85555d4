"""Content negotiation for TAXII 2.1 (Accept → 406, Content-Type → 415)."""

from __future__ import annotations

from exchange.errors import NotAcceptable, UnsupportedMediaType

TAXII_21 = "application/taxii+json;version=2.1"


def _ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        params = {}
        for p in pieces[1:]:
            key, _, value = p.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        out.append((pieces[0].lower(), params))
    return out


def _is_taxii21(mtype: str, params: dict[str, str]) -> bool:
    return mtype == "application/taxii+json" and params.get("version", "2.1") == "2.1"


def check_accept(header: str | None) -> None:
    """Raise NotAcceptable unless the Accept header admits TAXII 2.1 JSON."""
    if not header:
        return
    for mtype, params in _ranges(header):
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if _is_taxii21(mtype, params) or mtype in ("*/*", "application/*"):
            return
    raise NotAcceptable(f"this server answers {TAXII_21}; the Accept header asked for {header[:200]!r}")


def check_content_type(header: str | None) -> None:
    """Raise UnsupportedMediaType unless the body is declared as TAXII 2.1 JSON."""
    ranges = _ranges(header or "")
    if len(ranges) != 1 or not _is_taxii21(*ranges[0]):
        raise UnsupportedMediaType(f"send the envelope as {TAXII_21}; got {(header or 'no Content-Type')[:200]!r}")
