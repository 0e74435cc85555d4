"""Checks every posted object before it is stored: structure first (cheap), then stix2, then the profile."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import stix2
import stix2.exceptions

from exchange.timestamps import parse_timestamp

_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate",
})
MAX_ID_LENGTH = 300

ProfileCheck = Callable[[dict[str, Any]], list[str]]


@dataclass(frozen=True)
class ValidObject:
    """A posted object that passed every check, ready to store."""

    stix_id: str
    type: str
    spec_version: str
    version: int | None  # None: no created/modified, the hub's date_added becomes the version
    raw: str
    content_hash: str
    obj: dict[str, Any]


@dataclass(frozen=True)
class InvalidObject:
    """A posted object that failed; reported in the status `failures`."""

    stix_id: str
    version: str | None
    message: str


PARALLEL_MIN_OBJECTS = 256


class ObjectValidator:
    """Validates posted objects; `deep` adds a stix2 parse, `profile_check` the POP-ART profile rules.

    A stix2 parse costs ~200 µs an object, so large envelopes are checked by a pool of `workers` processes.
    """

    def __init__(self, *, deep: bool = True, profile_check: ProfileCheck | None = None, workers: int = 0) -> None:
        self.deep = deep
        self.profile_check = profile_check
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def warm_up(self) -> None:
        """Start the worker processes now rather than on the first large envelope."""
        if self.workers > 1 and self.deep:
            for future in [self._get_pool().submit(_check_chunk, self.deep, self.profile_check is not None, [])
                           for _ in range(self.workers)]:
                future.result()

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                # spawn: the hub process holds threads and database connections a fork must not copy
                self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def check_many(self, objects: Sequence[object]) -> list[ValidObject | InvalidObject]:
        """Validate a batch, in parallel when it is large enough to pay for it; results in order."""
        if self.workers <= 1 or not self.deep or len(objects) < PARALLEL_MIN_OBJECTS:
            return [self.check(o) for o in objects]
        size = max(64, -(-len(objects) // (self.workers * 4)))
        chunks = [list(objects[i:i + size]) for i in range(0, len(objects), size)]
        pool = self._get_pool()
        futures = [pool.submit(_check_chunk, self.deep, self.profile_check is not None, c) for c in chunks]
        return [result for f in futures for result in f.result()]

    def check(self, obj: object) -> ValidObject | InvalidObject:
        """Validate one object."""
        if not isinstance(obj, dict):
            return InvalidObject("", None, "an object must be a JSON object")
        stix_id = id_text(obj)
        version_text = version_of(obj)
        try:
            valid = self._check(obj, stix_id)
        except _Invalid as exc:
            return InvalidObject(stix_id, version_text, str(exc))
        return valid

    def _check(self, obj: dict[str, Any], stix_id: str) -> ValidObject:
        otype = obj.get("type")
        if not isinstance(otype, str) or not _TYPE.match(otype):
            raise _Invalid("'type' must be 3-250 characters of a-z, 0-9 and '-'")
        if not stix_id:
            raise _Invalid("'id' is required (at most 300 characters)")
        prefix, sep, ident = stix_id.partition("--")
        if not sep or prefix != otype or not _UUID.match(ident):
            raise _Invalid(f"'id' must be '{otype}--<lowercase RFC 4122 UUID>'")
        spec = obj.get("spec_version")
        if spec is None:
            if otype not in SCO_TYPES:
                raise _Invalid("'spec_version' is required and must be '2.1'")
            spec = "2.1"
        if spec != "2.1":
            raise _Invalid(f"spec_version {spec!r} is not accepted: this hub stores STIX 2.1")
        version = None
        try:
            created = parse_timestamp(obj["created"]) if "created" in obj else None
            modified = parse_timestamp(obj["modified"]) if "modified" in obj else None
        except ValueError as exc:
            raise _Invalid(f"bad timestamp: {exc}") from None
        if created is not None and modified is not None and modified < created:
            raise _Invalid("'modified' is earlier than 'created'")
        version = modified if modified is not None else created
        if otype not in SCO_TYPES and version is None:
            raise _Invalid("'created' and 'modified' are required")
        if self.deep:
            _deep_check(obj)
        if self.profile_check is not None:
            problems = self.profile_check(obj)
            if problems:
                raise _Invalid("; ".join(problems))
        raw = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(raw.encode()).hexdigest()
        return ValidObject(stix_id, otype, spec, version, raw, digest, obj)


class _Invalid(Exception):
    pass


_WORKER_VALIDATORS: dict[tuple[bool, bool], ObjectValidator] = {}


def _check_chunk(deep: bool, profile: bool, objects: list[object]) -> list[ValidObject | InvalidObject]:
    validator = _WORKER_VALIDATORS.get((deep, profile))
    if validator is None:
        check = None
        if profile:
            from stix_profiles import check_ingest

            check = check_ingest
        validator = _WORKER_VALIDATORS[(deep, profile)] = ObjectValidator(deep=deep, profile_check=check)
    return [validator.check(o) for o in objects]


def id_text(obj: object) -> str:
    """The posted object's id as reported in a status ("" when missing, not a string or too long)."""
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) and len(value) <= MAX_ID_LENGTH else ""


def version_of(obj: object) -> str | None:
    """The posted object's version text (modified, else created) as reported in a status."""
    value = obj.get("modified", obj.get("created")) if isinstance(obj, dict) else None
    return value if isinstance(value, str) and len(value) <= 40 else None


def _deep_check(obj: dict[str, Any]) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stix2.parse(obj, allow_custom=True, version="2.1")
    except (stix2.exceptions.STIXError, ValueError, TypeError, KeyError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _Invalid(f"invalid STIX 2.1: {message[:500]}") from None
    except Exception as exc:  # stix2 raises assorted errors on hostile input; none may crash an ingest
        raise _Invalid(f"invalid STIX 2.1: {type(exc).__name__}") from None
