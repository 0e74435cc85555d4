"""Load the decision corpus (YAML) into engine inputs."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from policies import DecisionContext, ObjectFacts, Organisation
from policies.documents import load_source
from policies.facts import marking_id

CORPUS_DIR = Path(__file__).parent / "corpus"
DEFAULT_NOW = "2026-11-25T12:00:00Z"


def timestamp(value: Any) -> datetime:
    """A corpus timestamp (YAML may already have parsed it)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def load(name: str) -> dict[str, Any]:
    """The parsed corpus file `name`.yaml."""
    doc: dict[str, Any] = yaml.safe_load((CORPUS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    return doc


def organisation_set(doc: dict[str, Any], name: str | None) -> tuple[Organisation, ...] | None:
    """None for the data documents' organisations, else those plus the named set."""
    if name is None or name == "demo":
        return None
    demo = tuple(load_source().organisations.values())
    return demo + tuple(Organisation.model_validate(o) for o in doc["organisation_sets"][name])


def sharing_inputs(doc: dict[str, Any], case: dict[str, Any]) -> tuple[ObjectFacts, DecisionContext]:
    """The facts and context of one sharing case, with the corpus defaults filled in."""
    now = timestamp(case.get("now", DEFAULT_NOW))
    spec = dict(case["object"])
    spec.setdefault("id", f"indicator--{case['id']}")
    spec.setdefault("kind", "alert")
    spec.setdefault("producer_org", "policia-nacional-es")
    spec.setdefault("markings", ["green"])
    spec.setdefault("areas", ["madrid"])
    spec["markings"] = [marking_id(m) for m in spec["markings"]]
    spec["created"] = timestamp(spec["created"]) if "created" in spec else now - timedelta(hours=1)
    if "embargo_until" in spec:
        spec["embargo_until"] = timestamp(spec["embargo_until"])
    ctx = DecisionContext(
        now=now,
        organisations=organisation_set(doc, case.get("organisations")),
        producer_org=case.get("context_producer"),
    )
    return ObjectFacts.model_validate(spec), ctx
