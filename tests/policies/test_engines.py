"""Engine behaviour: fail closed, revisions and reload, registry and config, threads."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest

from policies import (
    DecisionContext,
    EngineConfigError,
    ObjectFacts,
    PolicyEngine,
    PolicyLoadError,
    build_engine,
    register_engine,
)
from policies.documents import DEFAULT_ROOT
from policies.embedded import EmbeddedEngine
from policies.facts import marking_id
from tests.policies.opa_data_api import OpaDataApiServer

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
CTX = DecisionContext(now=NOW)
GREEN_ALERT = ObjectFacts(
    id="indicator--0b7f1d2e-3c4a-4b5c-8d6e-7f8091a2b3c4",
    kind="alert",
    producer_org="policia-nacional-es",
    markings=(marking_id("green"),),
    personal_data=True,
    areas=("madrid",),
    created=datetime(2026, 11, 25, 11, tzinfo=UTC),
)


@pytest.fixture
def server() -> Iterator[OpaDataApiServer]:
    """A server of its own, so injected failures touch no other test."""
    with OpaDataApiServer() as srv:
        yield srv


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A writable copy of the packaged policy."""
    root = tmp_path / "policy"
    shutil.copytree(DEFAULT_ROOT / "rego", root / "rego")
    shutil.copytree(DEFAULT_ROOT / "data", root / "data")
    return root


def _assert_denied(engine: PolicyEngine) -> None:
    decision = engine.decide(GREEN_ALERT, CTX)
    assert decision.grants == () and decision.error
    action = engine.allow_action("policia-nacional-es", ["admin"], "administer_collections")
    assert not action.allowed and action.deny == ("engine.error",)


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        pytest.param("fail_status", 500, id="server-error"),
        pytest.param("force_undefined", True, id="undefined-result"),
        pytest.param("delay_s", 1.0, id="timeout"),
    ],
)
def test_opa_engine_fails_closed(server: OpaDataApiServer, knob: str, value: object) -> None:
    engine = build_engine({"type": "opa", "url": server.url, "timeout_s": 0.3})
    assert engine.decide(GREEN_ALERT, CTX).grants  # healthy first: the failure below is what denies
    setattr(server, knob, value)
    _assert_denied(engine)
    engine.close()


def test_opa_engine_fails_closed_when_no_server_answers() -> None:
    with OpaDataApiServer() as srv:
        url = srv.url  # a port that was free a moment ago and now has no listener
    engine = build_engine({"type": "opa", "url": url, "timeout_s": 0.5, "push_policies": False})
    _assert_denied(engine)


def test_opa_engine_refuses_to_start_without_a_server() -> None:
    with OpaDataApiServer() as srv:
        url = srv.url
    with pytest.raises(PolicyLoadError, match="cannot push"):
        build_engine({"type": "opa", "url": url, "timeout_s": 0.5})


def test_opa_engine_without_push_uses_what_the_server_has(server: OpaDataApiServer) -> None:
    build_engine({"type": "opa", "url": server.url}).close()  # stands in for OPA loading the bundle
    engine = build_engine({"type": "opa", "url": server.url, "push_policies": False})
    assert engine.decide(GREEN_ALERT, CTX).grants


def test_revision_is_a_stable_hash_of_policy_and_data(policy_dir: Path) -> None:
    a = build_engine({"type": "embedded"})
    b = build_engine({"type": "embedded", "policy_dir": str(policy_dir)})
    assert a.revision == b.revision and a.revision.startswith("sha256:") and len(a.revision) == 71
    (policy_dir / "rego" / "extra_test.rego").write_text("package popart.extra_test\n")
    assert build_engine({"type": "embedded", "policy_dir": str(policy_dir)}).revision == a.revision


def _narrow_personal_data_roles(policy_dir: Path) -> None:
    settings = policy_dir / "data" / "settings" / "data.yaml"
    old = "personal_data_roles: [analyst, field_officer, coordinator]"
    settings.write_text(settings.read_text().replace(old, "personal_data_roles: [analyst]"))


@pytest.mark.parametrize("kind", ["embedded", "opa"])
def test_reload_switches_revision_without_restart(kind: str, policy_dir: Path, server: OpaDataApiServer) -> None:
    config = {"type": kind, "policy_dir": str(policy_dir)} | ({"url": server.url} if kind == "opa" else {})
    engine = build_engine(config)
    before = engine.revision
    assert engine.decide(GREEN_ALERT, CTX).grant_for("policia-nacional-es").roles == (  # type: ignore[union-attr]
        "analyst",
        "coordinator",
        "field_officer",
    )
    assert engine.reload() is False
    _narrow_personal_data_roles(policy_dir)
    assert engine.reload() is True and engine.revision != before
    decision = engine.decide(GREEN_ALERT, CTX)
    assert decision.revision == engine.revision
    assert decision.grant_for("policia-nacional-es").roles == ("analyst",)  # type: ignore[union-attr]


def test_a_broken_revision_is_refused_and_the_old_one_stays(policy_dir: Path) -> None:
    engine = build_engine({"type": "embedded", "policy_dir": str(policy_dir)})
    before = engine.revision
    (policy_dir / "rego" / "sharing.rego").write_text("package popart.sharing\n\ndecisions := [x | ")
    with pytest.raises(PolicyLoadError, match="does not compile"):
        engine.reload()
    assert engine.revision == before and engine.decide(GREEN_ALERT, CTX).grants


@pytest.mark.parametrize(
    ("document", "old", "new", "message"),
    [
        pytest.param("releases", '"2027-06-30T23:59:59+00:00"', '"2027-06-30T23:59:59Z"', "explicit offset", id="z"),
        pytest.param("releases", "to: psp-pt", "to: nobody", "unknown organisation 'nobody'", id="unknown-org"),
        pytest.param("organisations", "type: local_authority", "type: club", "unknown type 'club'", id="type"),
        pytest.param("settings", "\noperator_org:", "\noperater_org:", "Extra inputs", id="typo"),
        pytest.param("markings", "unmarked: amber", "unmarked: orange", "unmarked must be", id="level"),
    ],
)
def test_bad_data_documents_get_a_clear_error(
    policy_dir: Path, document: str, old: str, new: str, message: str
) -> None:
    path = policy_dir / "data" / document / "data.yaml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(PolicyLoadError, match=message):
        build_engine({"type": "embedded", "policy_dir": str(policy_dir)})


def test_registry_refuses_a_second_engine_with_the_same_name() -> None:
    class Impostor(EmbeddedEngine):
        name: ClassVar[str] = "embedded"

    with pytest.raises(EngineConfigError, match="already registered"):
        register_engine(Impostor)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param({"type": "wasm"}, "unknown policy engine 'wasm'", id="unknown"),
        pytest.param({"type": "opa", "timeout": 3}, "Extra inputs", id="extra-key"),
        pytest.param({"type": "opa", "url": "ftp://opa"}, "http", id="bad-url"),
    ],
)
def test_bad_engine_config_is_refused(config: dict[str, object], message: str) -> None:
    with pytest.raises(EngineConfigError, match=message):
        build_engine(config)


def test_embedded_engine_gives_the_same_decisions_across_threads(embedded_engine: PolicyEngine) -> None:
    expected = embedded_engine.decide_batch([GREEN_ALERT] * 3, CTX)
    results: list[object] = []

    def work() -> None:
        for _ in range(20):
            results.append(embedded_engine.decide_batch([GREEN_ALERT] * 3, CTX))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 80 and all(r == expected for r in results)


def test_empty_batch_needs_no_engine_call(embedded_engine: PolicyEngine) -> None:
    assert embedded_engine.decide_batch([], CTX) == []


def test_audience_diff_between_two_revisions(policy_dir: Path) -> None:
    """What would change if a revision replaced the running one, before rolling it out."""
    from policies.compare import audience_diff

    current = build_engine({"type": "embedded"})
    releases = policy_dir / "data" / "releases" / "data.yaml"
    releases.write_text(releases.read_text().replace("kinds: [alert, guidance, best-practice]", "kinds: [guidance]"))
    _narrow_personal_data_roles(policy_dir)
    candidate = build_engine({"type": "embedded", "policy_dir": str(policy_dir)})
    plain = GREEN_ALERT.model_copy(update={"id": "indicator--plain", "personal_data": False})
    objects = [GREEN_ALERT, plain]
    ctx = CTX.model_copy(update={"explain": False})
    changes = audience_diff(current.decide_batch(objects, ctx), candidate.decide_batch(objects, ctx))
    summary = {(c.object_id, c.org_id, c.change) for c in changes}
    assert summary == {
        (GREEN_ALERT.id, "policia-nacional-es", "changed"),
        ("indicator--plain", "psp-pt", "lost"),
    }
    assert audience_diff(current.decide_batch(objects, ctx), current.decide_batch(objects, ctx)) == []
