"""The `popart stix` typer sub-application."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stix_profiles import validate
from stix_profiles.cli import InputError, app, read_documents
from stix_profiles.examples import EXAMPLES

runner = CliRunner()


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_example_output_validates(kind: str, tmp_path: Path) -> None:
    printed = runner.invoke(app, ["example", kind])
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == EXAMPLES[kind]()
    path = tmp_path / f"{kind}.json"
    path.write_text(printed.stdout)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.stdout
    assert "0 errors" in result.stdout


def test_validate_function_reads_a_taxii_envelope() -> None:
    objects = EXAMPLES["guidance"]()["objects"]
    assert validate({"more": False, "objects": objects}) == []
    broken = [dict(objects[0], object_marking_refs=[]), objects[1]]
    assert any(i.path == "object_marking_refs" for i in validate({"objects": broken}))


def test_unknown_example_kind_lists_the_kinds() -> None:
    result = runner.invoke(app, ["example", "parade"])
    assert result.exit_code == 2
    assert "unknown kind 'parade'" in result.output and "best-practice" in result.output


def test_validate_reports_failures_and_exits_non_zero(tmp_path: Path) -> None:
    bundle = EXAMPLES["detection"]()
    bundle["objects"][0]["confidence"] = 300
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bundle))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(EXAMPLES["alert"]()))
    result = runner.invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert "good.json: 4 objects, 0 errors" in result.stdout
    assert bundle["objects"][0]["id"] in result.stdout
    assert "confidence must be an integer in 0..100, not 300" in result.stdout


def test_validate_reads_taxii_envelopes_and_json_lines(tmp_path: Path) -> None:
    objects = EXAMPLES["guidance"]()["objects"]
    envelope = tmp_path / "envelope.json"
    envelope.write_text(json.dumps({"more": False, "objects": objects}))
    lines = tmp_path / "objects.jsonl"
    lines.write_text("\n".join(json.dumps(o) for o in objects) + "\n")
    result = runner.invoke(app, ["validate", str(envelope), str(lines)])
    assert result.exit_code == 0, result.stdout
    assert result.stdout.count("3 objects, 0 errors") == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "empty file", id="empty"),
        pytest.param("{nope", "not JSON", id="garbage"),
        pytest.param('{"type": "note", "id": "note--1"}\n{broken', "line 2 is not JSON", id="bad-line"),
        pytest.param("[1, 2]", "expected STIX objects, found int", id="not-objects"),
    ],
)
def test_unreadable_input_is_explained(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=message):
        read_documents(text, "in.json")
    path = tmp_path / "in.json"
    path.write_text(text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert message in result.stdout


def test_validate_reads_stdin() -> None:
    result = runner.invoke(app, ["validate", "-"], input=json.dumps(EXAMPLES["retraction"]()))
    assert result.exit_code == 0 and "-: 3 objects, 0 errors" in result.stdout


def test_missing_file_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "absent.json")])
    assert result.exit_code == 1 and "cannot read" in result.stdout


def test_lenient_turns_should_rules_into_warnings(tmp_path: Path) -> None:
    bundle = EXAMPLES["best-practice"]()
    bundle["objects"][0]["id"] = "note--" + "1" * 8 + "-1111-5111-8111-" + "1" * 12
    path = tmp_path / "v5.json"
    path.write_text(json.dumps(bundle))
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 1
    lenient = runner.invoke(app, ["validate", "--lenient", str(path)])
    assert lenient.exit_code == 0 and "warning" in lenient.stdout
