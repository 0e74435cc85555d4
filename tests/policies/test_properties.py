"""Property-based tests: random organisations x markings x personal data x jurisdiction x embargo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import DecisionContext, ObjectFacts, Organisation, PolicyEngine, Recipient, SharingDecision
from policies.documents import load_source
from policies.facts import marking_id

SOURCE = load_source()
DEMO = tuple(SOURCE.organisations.values())
DATA = SOURCE.data["popart"]
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
AREAS = ("madrid", "sevilla", "bilbao")
LEVELS = ("clear", "green", "amber", "amber+strict", "red")
ROLES = ("analyst", "field_officer", "coordinator", "compliance", "admin")

random_orgs = st.lists(
    st.builds(
        Organisation,
        id=st.sampled_from(["org-a", "org-b", "org-c", "org-d", "org-e"]),
        name=st.just("Random organisation"),
        type=st.sampled_from(["national_police", "associated_lea", "local_authority", "private_security"]),
        country=st.sampled_from(["ES", "PT", "FR"]),
        area=st.sampled_from(AREAS),
        member=st.booleans(),
        active=st.booleans(),
    ),
    max_size=4,
    unique_by=lambda o: o.id,
)
ORG_IDS = [o.id for o in DEMO] + ["org-a", "org-b", "org-c", "org-d", "org-e"]
recipients = st.lists(
    st.builds(
        Recipient,
        org=st.sampled_from(ORG_IDS),
        role=st.none() | st.sampled_from(ROLES),
        individual=st.none() | st.sampled_from(["user-1", "user-2"]),
    ),
    max_size=3,
)
objects = st.builds(
    ObjectFacts,
    id=st.uuids().map(lambda u: f"indicator--{u}"),
    kind=st.sampled_from(["alert", "detection", "evidence", "guidance"]),
    producer_org=st.none() | st.sampled_from(ORG_IDS),
    markings=st.lists(st.sampled_from(LEVELS).map(marking_id), max_size=2).map(tuple),
    personal_data=st.booleans(),
    recipients=recipients.map(tuple),
    areas=st.lists(st.sampled_from(AREAS), max_size=2).map(tuple),
    widened_areas=st.lists(st.sampled_from((*AREAS, "*")), max_size=1).map(tuple),
    venues=st.lists(st.just("Estadio Metropolitano"), max_size=1).map(tuple),
    created=st.integers(min_value=0, max_value=40 * 24).map(lambda h: NOW - timedelta(hours=h)),
    embargo_until=st.none() | st.integers(min_value=-48, max_value=48).map(lambda h: NOW + timedelta(hours=h)),
)


def _named_members(obj: ObjectFacts, org_id: str) -> tuple[set[str], set[str]]:
    roles = {r.role for r in obj.recipients if r.org == org_id and r.role}
    people = {r.individual for r in obj.recipients if r.org == org_id and r.individual}
    return roles, people


def check_invariants(obj: ObjectFacts, orgs: dict[str, Organisation], decision: SharingDecision) -> None:
    """The promises of the policy, whatever the case."""
    assert decision.error is None
    assert {v.org_id for v in decision.verdicts} == set(orgs)
    for verdict in decision.verdicts:
        assert verdict.allowed == (not verdict.deny)
        assert (decision.grant_for(verdict.org_id) is not None) == verdict.allowed
    levels = set(decision.levels)
    retention_days = DATA["retention"]["personal_data_days_by_kind"].get(
        obj.kind, DATA["retention"]["personal_data_days"]
    )
    expiry = obj.created + timedelta(days=retention_days)
    for grant in decision.grants:
        org = orgs[grant.org_id]
        producer = grant.org_id == obj.producer_org
        named = {r.org for r in obj.recipients}
        assert org.active and org.type in DATA["org_types"]
        if "amber+strict" in levels:
            assert producer or grant.org_id in named, "AMBER+STRICT outside the producer and recipients"
        if "red" in levels:
            roles, people = _named_members(obj, grant.org_id)
            assert set(grant.roles) <= roles and set(grant.individuals) <= people
            assert grant.roles or grant.individuals
        if "green" in levels and not producer:
            assert org.member, "GREEN to a non-member"
        if obj.personal_data:
            assert DATA["org_types"][org.type]["lea"] or producer, "personal data to a non-LEA"
            assert set(grant.roles) <= set(DATA["settings"]["personal_data_roles"])
            assert NOW < expiry and grant.not_after is not None and grant.not_after <= expiry
            if not producer:
                assert any(b["org"] == grant.org_id for b in DATA["legal_bases"].values())
        elif levels - {"clear"} and org.type == "local_authority" and not producer:
            assert org.area in obj.areas or org.area in obj.widened_areas or "*" in obj.widened_areas
        if obj.embargo_until is not None and obj.embargo_until > NOW and not producer:
            assert grant.not_before == obj.embargo_until, "embargoed object visible before not_before"
        if obj.embargo_until is None or obj.embargo_until <= NOW or producer:
            assert grant.not_before is None
    if obj.personal_data and NOW >= expiry:
        assert not decision.grants


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extra=random_orgs, batch=st.lists(objects, min_size=1, max_size=5, unique_by=lambda o: o.id))
def test_embedded_decisions_obey_the_invariants(
    embedded_engine: PolicyEngine, extra: list[Organisation], batch: list[ObjectFacts]
) -> None:
    orgs = {o.id: o for o in (*DEMO, *extra)}
    ctx = DecisionContext(now=NOW, organisations=tuple(orgs.values()))
    decisions = embedded_engine.decide_batch(batch, ctx)
    assert [d.object_id for d in decisions] == [o.id for o in batch]
    for obj, decision in zip(batch, decisions, strict=True):
        check_invariants(obj, orgs, decision)
    quick = embedded_engine.decide_batch(batch, ctx.model_copy(update={"explain": False}))
    assert [d.grants for d in quick] == [d.grants for d in decisions]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extra=random_orgs, batch=st.lists(objects, min_size=1, max_size=5, unique_by=lambda o: o.id))
def test_both_engines_agree(
    embedded_engine: PolicyEngine, opa_engine: PolicyEngine, extra: list[Organisation], batch: list[ObjectFacts]
) -> None:
    ctx = DecisionContext(now=NOW, organisations=(*DEMO, *extra))
    assert embedded_engine.decide_batch(batch, ctx) == opa_engine.decide_batch(batch, ctx)
