"""The stream cursor (the SSE event id), opaque to clients.

It holds the last delivered per-collection sequence of every collection the reader reads, and `since`: the time
at which the reader's view of everything up to those sequences was last evaluated. The per-collection `seq` is
commit-ordered (writers lock the collection row), so "everything after seq N" never skips a version committed
later with a smaller number, as a global primary key would; `since` lets a resumed stream also deliver versions
at or below the positions that became visible afterwards (an embargo lifting), and only those.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field

from exchange.errors import BadRequest

PREFIX = "c2."
_ID = re.compile(r"^[0-9a-f-]{36}$")


@dataclass
class Cursor:
    """Positions per collection and the time they were evaluated at (microseconds)."""

    positions: dict[str, int] = field(default_factory=dict)
    since: int = 0

    def copy(self) -> Cursor:
        """An independent copy."""
        return Cursor(dict(self.positions), self.since)

    def encode(self, **overrides: int) -> str:
        """A compact, URL-safe event id (`overrides`: collection -> seq for an event inside a batch)."""
        positions = {**self.positions, **overrides} if overrides else self.positions
        body = json.dumps({"p": sorted(positions.items()), "t": self.since}, separators=(",", ":")).encode()
        return PREFIX + base64.urlsafe_b64encode(body).rstrip(b"=").decode()

    def as_json(self) -> dict[str, object]:
        """The stored form (webhook subscriptions)."""
        return {"p": dict(self.positions), "t": self.since}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Cursor:
        """Back from the stored form."""
        positions = data.get("p", {})
        since = data.get("t", 0)
        assert isinstance(positions, dict) and isinstance(since, int)
        return cls({str(k): int(v) for k, v in positions.items()}, since)


def decode(value: str) -> Cursor:
    """The cursor of an event id; BadRequest when it is not one of ours."""
    if not value.startswith(PREFIX) or len(value) > 8192:
        raise BadRequest("Last-Event-ID is not a stream cursor of this hub")
    raw = value[len(PREFIX):]
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        positions = {str(cid): int(seq) for cid, seq in data["p"]}
        since = int(data["t"])
    except (ValueError, TypeError, KeyError):
        raise BadRequest("Last-Event-ID is not a stream cursor of this hub") from None
    if any(not _ID.match(cid) or seq < 0 for cid, seq in positions.items()) or since < 0:
        raise BadRequest("Last-Event-ID is not a stream cursor of this hub")
    return Cursor(positions, since)
