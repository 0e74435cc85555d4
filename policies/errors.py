"""Errors of the policy package."""

from __future__ import annotations


class PolicyError(Exception):
    """Base class of policy errors."""


class PolicyLoadError(PolicyError):
    """The policy files or data documents could not be loaded or compiled (the old revision stays)."""


class PolicyEvaluationError(PolicyError):
    """An engine failed to evaluate, or returned an undefined or malformed result (callers fail closed)."""


class FactsError(PolicyError, ValueError):
    """A STIX object lacks what the policy needs to decide on it."""


class EngineConfigError(PolicyError):
    """An engine is unknown, registered twice or cannot start with its configuration."""
