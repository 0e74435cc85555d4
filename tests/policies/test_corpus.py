"""The decision corpus through every engine: each rule, allowing and denying."""

from __future__ import annotations

from typing import Any

import pytest

from policies import PolicyEngine
from tests.policies import corpus

SHARING = corpus.load("sharing")
ACTIONS = corpus.load("actions")


def _when(value: Any) -> Any:
    return None if value is None else corpus.timestamp(value)


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in SHARING["cases"]])
def test_sharing_corpus(engine: PolicyEngine, case: dict[str, Any]) -> None:
    facts, ctx = corpus.sharing_inputs(SHARING, case)
    decision = engine.decide(facts, ctx)
    expect = case["expect"]
    assert decision.error is None
    assert decision.revision == engine.revision
    audience = {g.org_id: list(g.roles) for g in decision.grants}
    assert audience == {org: sorted(roles) for org, roles in expect["audience"].items()}
    if "levels" in expect:
        assert list(decision.levels) == sorted(expect["levels"])
    for field in ("allow", "deny", "constraints"):
        for org, ids in expect.get(field, {}).items():
            verdict = decision.verdict_for(org)
            assert verdict is not None, f"no verdict for {org}"
            assert set(ids) <= set(getattr(verdict, field)), f"{org} {field}: {getattr(verdict, field)}"
    for org, ids in expect.get("not_deny", {}).items():
        verdict = decision.verdict_for(org)
        assert verdict is not None and not set(ids) & set(verdict.deny)
    for org in expect.get("deny", {}):
        assert decision.grant_for(org) is None
    for field in ("not_before", "not_after"):
        for org, value in expect.get(field, {}).items():
            grant = decision.grant_for(org)
            assert grant is not None, f"{org} has no grant"
            assert getattr(grant, field) == _when(value), f"{org} {field}"
    for org, people in expect.get("individuals", {}).items():
        grant = decision.grant_for(org)
        assert grant is not None and list(grant.individuals) == sorted(people)


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in SHARING["cases"]])
def test_grants_without_explanation_are_the_same(engine: PolicyEngine, case: dict[str, Any]) -> None:
    facts, ctx = corpus.sharing_inputs(SHARING, case)
    explained = engine.decide(facts, ctx)
    quick = engine.decide(facts, ctx.model_copy(update={"explain": False}))
    assert quick.error is None and quick.verdicts == ()
    assert quick.grants == explained.grants and quick.levels == explained.levels


def test_sharing_corpus_as_one_batch(engine: PolicyEngine) -> None:
    """Cases sharing a context decide the same in one batch as one by one, in order."""
    cases = [c for c in SHARING["cases"] if "now" not in c and "organisations" not in c and "context_producer" not in c]
    inputs = [corpus.sharing_inputs(SHARING, c) for c in cases]
    ctx = inputs[0][1]
    batch = engine.decide_batch([facts for facts, _ in inputs], ctx)
    assert [d.object_id for d in batch] == [facts.id for facts, _ in inputs]
    assert batch == [engine.decide(facts, ctx) for facts, _ in inputs]


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in ACTIONS["cases"]])
def test_action_corpus(engine: PolicyEngine, case: dict[str, Any]) -> None:
    decision = engine.allow_action(
        case["org"],
        case["roles"],
        case["action"],
        case.get("resource"),
        organisations=corpus.organisation_set(ACTIONS, case.get("organisations")),
    )
    assert decision.error is None
    assert decision.allowed is case["allowed"]
    assert set(case.get("allow", [])) <= set(decision.allow)
    assert set(case.get("deny", [])) <= set(decision.deny)
    assert decision.allowed == (not decision.deny)
