"""The services of one hub process, wired together once (no globals, nothing built at import)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from exchange.audit.log import AuditBuffer
from exchange.auth.basic import BasicAuthenticator
from exchange.auth.caller import Caller
from exchange.config import Settings
from exchange.services import status as status_service
from exchange.services.cursor import CursorCodec
from exchange.services.ingest import IngestService
from exchange.services.objects import ObjectReader
from exchange.services.sharing import CollectionReadersPolicy, SharingPolicy
from exchange.services.validation import ObjectValidator, ProfileCheck
from exchange.store.db import Database

log = logging.getLogger(__name__)


@dataclass
class Hub:
    """Settings, database and services shared by the routers of one process."""

    settings: Settings
    db: Database
    policy: SharingPolicy
    validator: ObjectValidator
    ingest: IngestService
    reader: ObjectReader
    basic: BasicAuthenticator
    audit: AuditBuffer
    # Further ways in (Bearer tokens, client certificates): each returns a Caller or None.
    authenticators: list[Callable[[Request], Caller | None]] = field(default_factory=list)
    extras: dict[str, object] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, *, policy: SharingPolicy | None = None,
              profile_check: ProfileCheck | None = None) -> Hub:
        """Wire the services for these settings."""
        db = Database(settings.database_url)
        policy = policy or build_policy(settings, db)
        if profile_check is None:
            profile_check = _profile_check()
        validator = ObjectValidator(deep=settings.ingest_validation == "full", profile_check=profile_check,
                                    workers=settings.validation_workers)
        cursors = CursorCodec(settings.secret_key.get_secret_value().encode())
        audit = AuditBuffer(db)
        hub = cls(
            settings=settings,
            db=db,
            policy=policy,
            validator=validator,
            ingest=IngestService(db, settings, policy, validator),
            reader=ObjectReader(db, cursors, default_limit=settings.default_page_size,
                                max_limit=settings.max_page_size, audit=audit),
            audit=audit,
            basic=BasicAuthenticator(db),
        )
        from exchange.identity.service import install as install_identity

        install_identity(hub)  # Bearer tokens, portal sessions, client certificates
        from exchange.stream.service import install as install_stream

        install_stream(hub)  # the live stream and webhooks (exchange.stream)
        return hub

    def start(self) -> None:
        """Resume adds left pending by a previous process and drop expired statuses."""
        self.audit.start()
        threading.Thread(target=self.validator.warm_up, name="validator-warm-up", daemon=True).start()
        self._stopping = threading.Event()
        self._purge_statuses()
        threading.Thread(target=self._maintenance, name="hub-maintenance", daemon=True).start()
        if self.settings.policy_reload_seconds > 0 and hasattr(self.policy, "engine"):
            self._watch = threading.Event()
            threading.Thread(target=self._watch_policy, name="policy-reload", daemon=True).start()
        for status_id in status_service.pending_ids(self.db):
            log.info("resuming pending add %s", status_id)
            self.ingest.resume(status_id)
        self.extras["stream"].start()  # type: ignore[attr-defined]

    def _purge_statuses(self) -> None:
        try:
            removed = status_service.purge_expired(self.db)
        except Exception:
            log.exception("purging expired status resources failed")
            return
        if removed:
            log.info("purged %s expired status resources", removed)

    def _maintenance(self) -> None:
        while not self._stopping.wait(3600):
            self._purge_statuses()

    def _watch_policy(self) -> None:
        # A new revision on disk is loaded without a restart; every stored version is then re-decided
        # under it (a tracked, audited job), so ACL rows never lag the policy for long.
        from exchange.audit.log import AuditEvent
        from exchange.audit.log import append as audit_append
        from exchange.services.compliance import reevaluate
        from exchange.services.policy import RegoSharingPolicy

        policy = self.policy
        assert isinstance(policy, RegoSharingPolicy)
        while not self._watch.wait(self.settings.policy_reload_seconds):
            old = policy.revision
            try:
                if not policy.engine.reload():
                    continue
            except Exception as exc:  # a bad revision: keep deciding with the old one, loudly
                log.error("policy revision on disk refused, keeping %s: %s", old, exc)
                with self.db.write() as session:
                    audit_append(session, [AuditEvent.by(None, "policy.revision", "refused", revision=old,
                                                         details={"error": str(exc)[:2000]})])
                continue
            with self.db.write() as session:
                audit_append(session, [AuditEvent.by(None, "policy.revision", "loaded", revision=policy.revision,
                                                     details={"previous": old})])
            log.info("policy revision %s loaded; re-deciding stored versions", policy.revision)
            result = reevaluate(self.db, policy, progress=lambda done, total: log.info(
                "re-evaluation %s/%s", done, total) if done % 10000 == 0 or done == total else None)
            log.info("re-evaluation under %s done: %s", policy.revision, result)

    def stop(self) -> None:
        """Finish background work and close the database."""
        if hasattr(self, "_watch"):
            self._watch.set()
        if hasattr(self, "_stopping"):
            self._stopping.set()
        self.extras["stream"].stop()  # type: ignore[attr-defined]
        self.ingest.shutdown()
        self.audit.stop()
        self.validator.close()
        self.db.dispose()


def build_policy(settings: Settings, db: Database) -> SharingPolicy:
    """The sharing policy the settings name; an engine that cannot load stops the hub with the reason."""
    if settings.policy_engine == "builtin":
        return CollectionReadersPolicy()
    from exchange.services.policy import RegoSharingPolicy
    from policies import build_engine

    config: dict[str, object] = {"type": settings.policy_engine, "policy_dir": settings.policy_dir}
    if settings.policy_engine == "opa":
        config.update(url=settings.opa_url, timeout_s=settings.opa_timeout_s, token=settings.opa_token,
                      push_policies=settings.opa_push_policies)
    return RegoSharingPolicy(build_engine(config), db)


def _profile_check() -> ProfileCheck | None:
    try:
        from stix_profiles import check_ingest  # the POP-ART profile rules, when that package provides them
    except ImportError:
        return None
    return check_ingest
