"""Secrets at rest: scrypt hashes with a per-secret salt, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets as _secrets

_N, _R, _P = 2**14, 8, 1


def new_secret() -> str:
    """A fresh API secret with 256 bits of entropy."""
    return _secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """A self-describing scrypt hash of a secret."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when `secret` matches the stored hash (constant time in the digest comparison)."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        secret.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))
