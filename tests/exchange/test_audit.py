"""The audit log: writes, decisions and reads are recorded, chained, verifiable and exportable;
edits, deletions and reordering done directly in the database are found."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select, text, update
from typer.testing import CliRunner

from exchange.audit.log import AuditEvent, append, export, verify
from exchange.audit.models import AuditRecord
from exchange.cli import app
from exchange.store.db import Database
from tests.conftest import BACKENDS, RunningHub, migrated_database
from tests.exchange.stixgen import envelope, note

TAXII = "application/taxii+json;version=2.1"


@pytest.fixture(params=BACKENDS)
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with migrated_database(request, tmp_path) as url:
        db = Database(url)
        yield db
        db.dispose()


def fill(db: Database, n: int = 30) -> None:
    with db.write() as session:
        append(session, [AuditEvent("object.read", "ok", actor_org="org-a", actor="client:a",
                                    object_ids=(f"note--{i}",), details={"i": i}) for i in range(n)])


def test_an_untouched_log_verifies(fresh_db: Database) -> None:
    fill(fresh_db)
    fill(fresh_db, 5)  # a second batch continues the same chain
    report = verify(fresh_db)
    assert report.ok and report.records == 35


def test_an_edited_record_is_found(fresh_db: Database) -> None:
    fill(fresh_db)
    with fresh_db.write() as session:
        session.execute(update(AuditRecord).where(AuditRecord.seq == 12).values(actor="client:someone-else"))
    report = verify(fresh_db)
    assert not report.ok and any("record 12 was altered" in p for p in report.problems)


def test_an_edited_record_with_a_recomputed_hash_breaks_the_next_link(fresh_db: Database) -> None:
    from exchange.audit.log import FIELDS, record_hash

    fill(fresh_db)
    with fresh_db.write() as session:
        r = session.get(AuditRecord, 7)
        assert r is not None
        r.details = {"i": 999}
        r.hash = record_hash(r.prev_hash, {name: getattr(r, name) for name in FIELDS})
    report = verify(fresh_db)
    assert any("record 8 does not follow" in p for p in report.problems)


def test_a_deleted_record_is_found(fresh_db: Database) -> None:
    fill(fresh_db)
    with fresh_db.write() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 20))
    report = verify(fresh_db)
    assert any("record 20 is missing" in p for p in report.problems)
    assert any("record 21 does not follow" in p for p in report.problems)


def test_deleting_the_newest_records_is_found(fresh_db: Database) -> None:
    fill(fresh_db)
    with fresh_db.write() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq > 27))
    report = verify(fresh_db)
    assert any("records were removed" in p for p in report.problems)


def test_reordered_records_are_found(fresh_db: Database) -> None:
    fill(fresh_db)
    with fresh_db.write() as session:  # swap records 5 and 6 by renumbering them
        session.execute(update(AuditRecord).where(AuditRecord.seq == 5).values(seq=-5))
        session.execute(update(AuditRecord).where(AuditRecord.seq == 6).values(seq=5))
        session.execute(update(AuditRecord).where(AuditRecord.seq == -5).values(seq=6))
    report = verify(fresh_db)
    assert not report.ok and any("does not follow" in p for p in report.problems)


def test_export_jsonl_and_csv_for_a_period(fresh_db: Database) -> None:
    with fresh_db.write() as session:
        append(session, [AuditEvent("object.read", "ok", actor="a", ts=1_000_000),
                         AuditEvent("object.write", "ok", actor="b", ts=2_000_000, object_ids=("note--x",)),
                         AuditEvent("object.delete", "ok", actor="c", ts=3_000_000)])
    lines = [json.loads(x) for x in export(fresh_db, since=2_000_000, until=3_000_000)]
    assert [(x["seq"], x["action"], x["object_ids"]) for x in lines] == [(2, "object.write", ["note--x"])]
    assert lines[0]["time"] == "1970-01-01T00:00:02.000000Z" and len(lines[0]["hash"]) == 64
    rows = list(csv.reader(io.StringIO("".join(export(fresh_db, since=None, until=None, fmt="csv")))))
    assert rows[0][:3] == ["seq", "time", "action"] and len(rows) == 4


def test_cli_verify_and_export(fresh_db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fill(fresh_db, 3)
    monkeypatch.setenv("POPART_DATABASE_URL", fresh_db.url)
    monkeypatch.setenv("POPART_SECRET_KEY", "k" * 48)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 3 records" in ok.output
    out = tmp_path / "audit.csv"
    assert runner.invoke(app, ["audit", "export", "--format", "csv", "-o", str(out)]).exit_code == 0
    assert len(out.read_text().splitlines()) == 4
    with fresh_db.write() as session:
        session.execute(text("UPDATE audit_log SET outcome = 'deny' WHERE seq = 2"))
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1 and "record 2 was altered" in bad.output


def test_the_hub_records_writes_decisions_reads_and_deletions(hub: RunningHub) -> None:
    cid = hub.new_collection(["*"], ["National Police"])
    objs = [note(), note()]
    with httpx.Client(base_url=hub.url, headers={"Accept": TAXII, "Content-Type": TAXII}) as c:
        c.auth = hub.auth("police")
        assert c.post(f"/api1/collections/{cid}/objects/", content=json.dumps(envelope(*objs))).status_code == 202
        c.auth = hub.auth("foreign")
        assert len(c.get(f"/api1/collections/{cid}/objects/").json()["objects"]) == 2
        c.auth = hub.auth("police")
        assert c.delete(f"/api1/collections/{cid}/objects/{objs[0]['id']}/").status_code == 200
    hub.hub.audit.flush()
    time.sleep(0.3)
    with hub.hub.db.read() as session:
        rows = list(session.execute(select(AuditRecord).where(AuditRecord.collection_id == cid)
                                    .order_by(AuditRecord.seq)).scalars())
    actions = [(r.action, r.actor, sorted(r.object_ids)) for r in rows]
    ids = sorted(o["id"] for o in objs)
    assert ("share.decide", "client:police", ids) in actions
    assert ("object.write", "client:police", ids) in actions
    assert ("object.read", "client:foreign", ids) in actions
    assert ("object.delete", "client:police", [objs[0]["id"]]) in actions
    decision = next(r for r in rows if r.action == "share.decide")
    assert decision.revision and decision.details["grants"]
    assert verify(hub.hub.db).ok


def test_administration_and_refused_credentials_are_in_the_chain(fresh_db: Database,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from exchange.identity import events
    from exchange.services import orgs

    org, _ = orgs.upsert_organisation(fresh_db, name="Guardia Civil", type="national_police", country="ES")
    orgs.upsert_organisation(fresh_db, name="Guardia Civil", type="national_police", country="ES", area="x")
    orgs.create_client(fresh_db, organisation=org.id, client_id="gc", roles=["analyst"])
    orgs.set_client_active(fresh_db, "gc", False)
    events.refused(fresh_db, "basic.refused", "wrong secret", ip="127.0.0.1", subject="client:gc")
    lines = [json.loads(x) for x in export(fresh_db, since=None, until=None)]
    actions = [(x["action"], x["outcome"]) for x in lines]
    assert actions == [("admin.organisation.create", "ok"), ("admin.organisation.update", "ok"),
                       ("admin.client.create", "ok"), ("admin.client.disable", "ok"),
                       ("identity.basic.refused", "refused")]
    assert "secret" not in json.dumps(lines[2]["details"])  # never the credential itself
    assert verify(fresh_db).ok
