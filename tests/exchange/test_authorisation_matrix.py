"""Authorisation matrix: organisations x roles x TLP x personal data x area x embargo, through every read
endpoint, on SQLite and PostgreSQL and both policy engines. What each caller is served must equal what the
policy decided -- and the rules that must never bend are asserted on their own."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.services import bootstrap as boot
from exchange.store import migrate
from exchange.store.db import Database
from exchange.timestamps import now_micros, to_datetime
from stix_profiles import Recipient as ShareTo
from stix_profiles import Sharing, build_alert
from tests.conftest import RunningHub, create_pg_database, drop_pg_database, start_hub, stop_hub

TAXII = "application/taxii+json;version=2.1"
PN, PSP, MAD, SEV = "policia-nacional-es", "psp-pt", "ayto-madrid", "ayto-sevilla"
SITE = {
    "organisations": [
        {"id": PN, "name": "Policía Nacional", "type": "national_police", "country": "ES"},
        {"id": PSP, "name": "Polícia de Segurança Pública", "type": "associated_lea", "country": "PT"},
        {"id": MAD, "name": "Ayuntamiento de Madrid", "type": "local_authority", "country": "ES", "area": "madrid"},
        {"id": SEV, "name": "Ayuntamiento de Sevilla", "type": "local_authority", "country": "ES",
         "area": "sevilla"},
    ],
    "api_roots": [{"name": "popart", "title": "POP-ART", "default": True, "collections": [
        {"alias": "alerts", "title": "Alerts", "readers": ["*"], "writers": [PN]}]}],
    "clients": [
        {"client_id": "pn-coordinator", "organisation": PN, "roles": ["coordinator"], "secret_env": "S1"},
        {"client_id": "pn-analyst", "organisation": PN, "roles": ["analyst"], "secret_env": "S2"},
        {"client_id": "pn-compliance", "organisation": PN, "roles": ["compliance"], "secret_env": "S3"},
        {"client_id": "psp-analyst", "organisation": PSP, "roles": ["analyst"], "secret_env": "S4"},
        {"client_id": "mad-duty", "organisation": MAD, "roles": ["field_officer"], "secret_env": "S5"},
        {"client_id": "sev-duty", "organisation": SEV, "roles": ["field_officer"], "secret_env": "S6"},
    ],
}
CALLERS = {c["client_id"]: (c["organisation"], tuple(c["roles"])) for c in SITE["clients"]}  # type: ignore[index]
LEVELS = ("clear", "green", "amber", "amber+strict", "red")


@dataclass(frozen=True)
class Case:
    tlp: str
    personal_data: bool
    municipality: str
    embargoed: bool
    to_sevilla: bool

    @property
    def name(self) -> str:
        return (f"{self.tlp}{'-pd' if self.personal_data else ''}-{self.municipality}"
                f"{'-embargo' if self.embargoed else ''}{'-to-sevilla' if self.to_sevilla else ''}")


CASES = [Case(*c) for c in itertools.product(LEVELS, (False, True), ("madrid", "sevilla"), (False, True), (False,))]
CASES += [Case(level, False, "madrid", False, True) for level in ("amber", "amber+strict", "red")]


def alert_for(case: Case) -> dict[str, Any]:
    embargo = datetime.now(UTC) + timedelta(days=2) if case.embargoed else None
    # Naming Sevilla as a recipient satisfies the marking; widening to its area satisfies its jurisdiction.
    sharing = Sharing(recipients=[ShareTo(org=SEV)] if case.to_sevilla else [],
                      widened_areas=["sevilla"] if case.to_sevilla else [], embargo_until=embargo)
    objs = build_alert(name=f"matrix {case.name}", detection_refs=[], venue="Estadio", municipality=case.municipality,
                       personal_data=case.personal_data, tlp=case.tlp,  # type: ignore[arg-type]
                       key=f"{case.name}-{uuid.uuid4()}", sharing=sharing)
    return next(o for o in objs if o["type"] == "incident")


@dataclass
class Matrix:
    hub: RunningHub
    objects: dict[str, tuple[Case, dict[str, Any]]]
    expected: dict[str, set[str]]  # client id -> object ids the policy grants now


@pytest.fixture(scope="module", params=[pytest.param("sqlite", id="sqlite"),
                                        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)])
def matrix(request: pytest.FixtureRequest, policy_settings: dict[str, object],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'm.db'}"
    else:
        admin = request.getfixturevalue("pg_server")
        name, url = create_pg_database(admin)
        drop = (admin, name)
    db = Database(url)
    migrate.upgrade(db)
    secrets = {f"S{i}": uuid.uuid4().hex for i in range(1, 7)}
    boot.apply(db, boot.SiteSpec.model_validate(SITE), env=secrets)
    db.dispose()
    client_secrets = {c["client_id"]: secrets[c["secret_env"]] for c in SITE["clients"]}  # type: ignore[index]
    running = start_hub(url, settings_overrides=policy_settings, secrets=client_secrets, bootstrap=False)
    try:
        objects = {}
        for case in CASES:
            obj = alert_for(case)
            objects[obj["id"]] = (case, obj)
        with httpx.Client(base_url=running.url, auth=running.auth("pn-coordinator"), timeout=60,
                          headers={"Accept": TAXII, "Content-Type": TAXII}) as c:
            r = c.post("/popart/collections/alerts/objects/",
                       content=json.dumps({"objects": [o for _, o in objects.values()]}))
            status = r.json()
            assert status["success_count"] == len(objects), status
        yield Matrix(running, objects, expected_visibility(running, objects))
    finally:
        stop_hub(running)
        if drop:
            drop_pg_database(*drop)


def expected_visibility(running: RunningHub, objects: dict[str, tuple[Case, dict[str, Any]]]) -> dict[str, set[str]]:
    """Ask the hub's own engine, outside the store, what each caller may see now."""
    policy = running.hub.policy
    now = now_micros()
    facts = policy.facts([o for _, o in objects.values()], PN, now)  # type: ignore[attr-defined]
    decisions = policy.decisions(facts, producer_org=PN, now=now)  # type: ignore[attr-defined]
    at = to_datetime(now)
    out: dict[str, set[str]] = {}
    for client, (org, roles) in CALLERS.items():
        out[client] = {d.object_id for d in decisions
                       if (g := d.grant_for(org)) is not None and any(g.admits(r, at=at) for r in roles)}
    return out


def served(m: Matrix, client: str) -> set[str]:
    with httpx.Client(base_url=m.hub.url, auth=m.hub.auth(client), headers={"Accept": TAXII}) as c:
        body = c.get("/popart/collections/alerts/objects/", params={"limit": 1000}).json()
    return {o["id"] for o in body.get("objects", [])}


@pytest.mark.parametrize("client", list(CALLERS))
def test_objects_endpoint_serves_exactly_the_policy_decision(matrix: Matrix, client: str) -> None:
    assert served(matrix, client) == matrix.expected[client]


@pytest.mark.parametrize("client", list(CALLERS))
def test_object_versions_and_manifest_agree_with_the_objects_endpoint(matrix: Matrix, client: str) -> None:
    allowed = matrix.expected[client]
    with httpx.Client(base_url=matrix.hub.url, auth=matrix.hub.auth(client), headers={"Accept": TAXII}) as c:
        manifest = c.get("/popart/collections/alerts/manifest/", params={"limit": 1000}).json()
        assert {m["id"] for m in manifest.get("objects", [])} == allowed
        for oid in matrix.objects:
            one = c.get(f"/popart/collections/alerts/objects/{oid}/")
            versions = c.get(f"/popart/collections/alerts/objects/{oid}/versions/")
            if oid in allowed:
                assert one.status_code == 200 and one.json()["objects"][0]["id"] == oid
                assert versions.status_code == 200
            else:  # not "forbidden": the object does not exist for this caller
                assert one.status_code == 404 and versions.status_code == 404, oid
        assert c.get("/popart/collections/").json()["collections"][0]["can_read"] is True


def test_rules_that_never_bend(matrix: Matrix) -> None:
    seen = {client: served(matrix, client) for client in CALLERS}
    by_case = {oid: case for oid, (case, _) in matrix.objects.items()}
    for oid, case in by_case.items():
        if case.personal_data:  # personal data: never to a local authority, never abroad without a release
            assert oid not in seen["mad-duty"] | seen["sev-duty"] | seen["psp-analyst"], case.name
        if case.embargoed:  # embargo: nobody outside the producer before it lifts
            assert oid not in seen["mad-duty"] | seen["sev-duty"] | seen["psp-analyst"], case.name
        if case.tlp == "clear" and not case.embargoed and not case.personal_data:
            assert all(oid in s for s in seen.values()), case.name
        if case.tlp in ("amber+strict", "red") and not case.to_sevilla:
            assert oid not in seen["mad-duty"] | seen["sev-duty"] | seen["psp-analyst"], case.name
        if case.tlp != "clear" and case.municipality == "madrid" and not case.to_sevilla:
            assert oid not in seen["sev-duty"], case.name  # another municipality's area
        if not case.embargoed and not case.personal_data and case.tlp in ("clear", "green", "amber"):
            assert oid in seen["pn-analyst"], case.name  # the producer's own analysts
    assert seen["sev-duty"] & {o for o, c in by_case.items() if c.to_sevilla and c.tlp == "amber"}


def test_grants_are_stored_with_the_revision_that_made_them(matrix: Matrix) -> None:
    from sqlalchemy import select

    from exchange.audit.models import AuditRecord

    matrix.hub.hub.audit.flush()
    with matrix.hub.hub.db.read() as session:
        decisions = list(session.execute(select(AuditRecord).where(AuditRecord.action == "share.decide")).scalars())
    recorded = {oid for d in decisions for oid in d.object_ids}
    assert recorded == set(matrix.objects)
    assert {d.revision for d in decisions} == {matrix.hub.hub.policy.revision}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tlp=st.sampled_from(LEVELS), personal_data=st.booleans(), municipality=st.sampled_from(["madrid", "sevilla"]),
       embargoed=st.booleans(), recipients=st.sets(st.sampled_from([PSP, MAD, SEV])),
       widened=st.sets(st.sampled_from(["madrid", "sevilla", "*"])))
def test_property_served_equals_decided(matrix: Matrix, tlp: str, personal_data: bool, municipality: str,
                                        embargoed: bool, recipients: set[str], widened: set[str]) -> None:
    """Random objects: what every caller is served equals the engine's decision, object by object."""
    embargo = datetime.now(UTC) + timedelta(days=1) if embargoed else None
    sharing = Sharing(recipients=[ShareTo(org=o) for o in sorted(recipients)], widened_areas=sorted(widened),
                      embargo_until=embargo)
    built = build_alert(name="random", detection_refs=[], municipality=municipality, tlp=tlp,  # type: ignore[arg-type]
                        personal_data=personal_data, key=str(uuid.uuid4()), sharing=sharing)
    obj = next(o for o in built if o["type"] == "incident")
    with httpx.Client(base_url=matrix.hub.url, auth=matrix.hub.auth("pn-coordinator"),
                      headers={"Accept": TAXII, "Content-Type": TAXII}) as c:
        assert c.post("/popart/collections/alerts/objects/",
                      content=json.dumps({"objects": [obj]})).json()["success_count"] == 1
    expected = expected_visibility(matrix.hub, {obj["id"]: (CASES[0], obj)})
    for client in CALLERS:
        with httpx.Client(base_url=matrix.hub.url, auth=matrix.hub.auth(client), headers={"Accept": TAXII}) as c:
            got = c.get(f"/popart/collections/alerts/objects/{obj['id']}/").status_code == 200
        assert got == (obj["id"] in expected[client]), (client, tlp, personal_data, municipality, recipients)
