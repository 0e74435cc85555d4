"""The stream cursor: the last delivered per-collection sequence, opaque to clients (the SSE event id).

The per-collection `seq` is commit-ordered (writers lock the collection row), so "everything after seq N"
never skips a version committed later with a smaller number; a global primary key would.
"""

from __future__ import annotations

import base64
import json
import re

from exchange.errors import BadRequest

PREFIX = "c1."
_ID = re.compile(r"^[0-9a-f-]{36}$")


def encode(positions: dict[str, int]) -> str:
    """A compact, URL-safe cursor for these positions."""
    body = json.dumps(sorted(positions.items()), separators=(",", ":")).encode()
    return PREFIX + base64.urlsafe_b64encode(body).rstrip(b"=").decode()


def decode(value: str) -> dict[str, int]:
    """Positions of a cursor; BadRequest when it is not one of ours."""
    if not value.startswith(PREFIX) or len(value) > 8192:
        raise BadRequest("Last-Event-ID is not a stream cursor of this hub")
    raw = value[len(PREFIX):]
    try:
        pairs = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        out = {str(cid): int(seq) for cid, seq in pairs}
    except (ValueError, TypeError):
        raise BadRequest("Last-Event-ID is not a stream cursor of this hub") from None
    if any(not _ID.match(cid) or seq < 0 for cid, seq in out.items()):
        raise BadRequest("Last-Event-ID is not a stream cursor of this hub")
    return out
