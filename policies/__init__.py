"""POP-ART Exchange: the sharing policy as code (Rego) and the engines that evaluate it."""

from policies.compare import AudienceChange, audience_diff
from policies.engine import ENGINES, EngineConfig, PolicyEngine, build_engine, register_engine
from policies.errors import (
    EngineConfigError,
    FactsError,
    PolicyError,
    PolicyEvaluationError,
    PolicyLoadError,
)
from policies.facts import object_facts
from policies.models import (
    ActionDecision,
    DecisionContext,
    Grant,
    ObjectFacts,
    Organisation,
    OrgVerdict,
    Recipient,
    SharingDecision,
)

__all__ = [
    "ENGINES",
    "ActionDecision",
    "AudienceChange",
    "DecisionContext",
    "EngineConfig",
    "EngineConfigError",
    "FactsError",
    "Grant",
    "ObjectFacts",
    "OrgVerdict",
    "Organisation",
    "PolicyEngine",
    "PolicyError",
    "PolicyEvaluationError",
    "PolicyLoadError",
    "Recipient",
    "SharingDecision",
    "audience_diff",
    "build_engine",
    "object_facts",
    "register_engine",
]
