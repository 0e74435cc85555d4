"""Opaque keyset cursors for `next`: the last sequence served, bound to its collection by an HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac

from exchange.errors import BadRequest


class CursorCodec:
    """Encodes and checks `next` values; any hub replica with the same secret can read them."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"popart-cursor\0" + secret).digest()

    def _mac(self, scope: str, seq: int) -> bytes:
        return hmac.new(self._key, f"{scope}\0{seq}".encode(), hashlib.sha256).digest()[:12]

    def encode(self, scope: str, seq: int) -> str:
        """The `next` value that resumes after `seq` in `scope` (a collection, or an object in it)."""
        token = seq.to_bytes(8, "big") + self._mac(scope, seq)
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def decode(self, scope: str, value: str) -> int:
        """The sequence a `next` value resumes after; BadRequest if it was not made here for this scope."""
        try:
            token = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (ValueError, TypeError):
            raise BadRequest("'next' is not a value this server gave out") from None
        if len(token) != 20:
            raise BadRequest("'next' is not a value this server gave out")
        seq = int.from_bytes(token[:8], "big")
        if not hmac.compare_digest(token[8:], self._mac(scope, seq)):
            raise BadRequest("'next' is not a value this server gave out for this request")
        return seq
