"""STIX/TAXII timestamps as integer microseconds since the epoch: sortable, exact and the same on every backend."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp(value: object) -> int:
    """Parse an RFC 3339 UTC timestamp ending in Z (STIX rules) into microseconds; ValueError if malformed."""
    if not isinstance(value, str):
        raise ValueError("timestamp must be a string")
    m = _TS.match(value)
    if not m:
        raise ValueError(f"{value!r} is not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac = m.group(7) or ""
    try:
        dt = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None
    micros = int((frac + "000000")[:6]) if frac else 0
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + micros


def format_timestamp(micros: int) -> str:
    """Format microseconds as a TAXII timestamp with microsecond precision."""
    seconds, us = divmod(micros, 1_000_000)
    dt = datetime.fromtimestamp(seconds, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{us:06d}Z"


def now_micros() -> int:
    """The current time in microseconds since the epoch."""
    delta = datetime.now(UTC) - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def to_datetime(micros: int) -> datetime:
    """Microseconds since the epoch as an aware datetime."""
    seconds, us = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=us)
