"""docs/stix-profile.md: one example per kind, each identical to the builders' output and valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stix_profiles import validate
from stix_profiles.constants import PROFILE_EXTENSIONS, PROFILE_IDENTITY_ID
from stix_profiles.examples import EXAMPLES, doc_examples

DOC = Path(__file__).resolve().parents[2] / "docs" / "stix-profile.md"
BLOCKS = doc_examples(DOC.read_text(encoding="utf-8"))


def test_every_kind_has_an_example() -> None:
    assert sorted(BLOCKS) == sorted(EXAMPLES)


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_documented_example_is_current_and_valid(kind: str) -> None:
    documented = json.loads(BLOCKS[kind])
    assert documented == EXAMPLES[kind](), "run: popart stix update-docs docs/stix-profile.md"
    assert validate(documented) == []


def test_documented_ids_are_the_real_ones() -> None:
    text = DOC.read_text(encoding="utf-8")
    for ext_id in PROFILE_EXTENSIONS:
        assert "### " in text and f"`{ext_id}`" in text
    assert PROFILE_IDENTITY_ID in text
