"""Extension definitions and their JSON schemas."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from stix_profiles import SCHEMA_DIR, extension_definitions
from stix_profiles.constants import INCIDENT_CORE_EXT, PROFILE_EXTENSIONS
from stix_profiles.extensions import load_schema, profile_identity


def walk(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [node, *(x for v in node.values() for x in walk(v))]
    if isinstance(node, list):
        return [x for v in node for x in walk(v)]
    return []


def test_schema_dir_holds_only_extension_schemas() -> None:
    names = sorted(p.name for p in SCHEMA_DIR.rglob("*") if p.is_file() and p.suffix != ".py")
    assert names == sorted(f"{e}.json" for e in (*PROFILE_EXTENSIONS, INCIDENT_CORE_EXT))


@pytest.mark.parametrize("ext_id", [*PROFILE_EXTENSIONS, INCIDENT_CORE_EXT])
def test_schemas_are_valid_and_offline(ext_id: str) -> None:
    schema = load_schema(ext_id)
    Draft202012Validator.check_schema(schema)
    assert not [n["$ref"] for n in walk(schema) if "$ref" in n]
    assert ext_id in schema["properties"]["extensions"]["properties"]


def test_extension_definitions_match_schemas(strict_errors: Any) -> None:
    definitions = extension_definitions()
    assert [d["id"] for d in definitions] == list(PROFILE_EXTENSIONS)
    for definition in definitions:
        assert definition["extension_types"] == ["property-extension"]
        assert definition["id"] in definition["schema"]
        assert uuid.UUID(definition["id"].split("--")[1]).version == 4
        assert strict_errors(definition) == []
    assert strict_errors(profile_identity()) == []


def test_schema_files_are_plain_json() -> None:
    for path in SCHEMA_DIR.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
