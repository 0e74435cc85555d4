"""Fixtures: every decision test runs through both engines (embedded regopy and OPA REST)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from policies import PolicyEngine, build_engine
from tests.policies.opa_data_api import OpaDataApiServer


@pytest.fixture(scope="session")
def opa_server() -> Iterator[OpaDataApiServer]:
    """A local HTTP server speaking OPA's Data API on a free port of 127.0.0.1."""
    with OpaDataApiServer() as server:
        yield server


@pytest.fixture(scope="session")
def embedded_engine() -> Iterator[PolicyEngine]:
    """The default in-process engine over the packaged policy."""
    engine = build_engine({"type": "embedded"})
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def opa_engine(opa_server: OpaDataApiServer) -> Iterator[PolicyEngine]:
    """The OPA REST engine, pushing the packaged policy to the local server."""
    engine = build_engine({"type": "opa", "url": opa_server.url, "timeout_s": 10.0})
    yield engine
    engine.close()


@pytest.fixture(params=["embedded", "opa"])
def engine(request: pytest.FixtureRequest) -> PolicyEngine:
    """Each engine in turn."""
    fixture: PolicyEngine = request.getfixturevalue(f"{request.param}_engine")
    return fixture
