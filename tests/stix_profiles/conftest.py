"""Shared helpers for the STIX profile tests."""

from __future__ import annotations

from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_instance

from stix_profiles import SCHEMA_DIR


def strict_validator_errors(instance: dict[str, Any]) -> list[str]:
    """Run stix2-validator itself (strict, our schema_dir) and return its messages."""
    result = validate_instance(instance, ValidationOptions(version="2.1", strict=True, schema_dir=str(SCHEMA_DIR)))
    return [str(e) for e in result.errors] + [str(w) for w in result.warnings]


@pytest.fixture
def strict_errors() -> Any:
    """The strict stix2-validator as a function."""
    return strict_validator_errors
