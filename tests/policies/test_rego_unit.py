"""Run the policy's *_test.rego unit tests with rego-cpp (a small `opa test`; the OPA binary is not here)."""

from __future__ import annotations

import json
import re

import pytest
import regopy

from policies.documents import DEFAULT_ROOT, load_source

TEST_FILES = sorted((DEFAULT_ROOT / "rego").glob("*_test.rego"))
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\s+if\b", re.MULTILINE)


def _cases() -> list[tuple[str, str]]:
    cases = []
    for path in TEST_FILES:
        text = path.read_text(encoding="utf-8")
        package = _PACKAGE.search(text)
        assert package, f"{path.name} has no package"
        cases += [(package.group(1), rule) for rule in _TEST_RULE.findall(text)]
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def compiled() -> tuple[regopy.Interpreter, regopy.Bundle]:
    """The policy, its data and every test module, compiled once with each test rule as an entrypoint."""
    source = load_source()
    rego = regopy.Interpreter()
    for name, text in source.modules.items():
        rego.add_module(name, text)
    for path in TEST_FILES:
        rego.add_module(path.name, path.read_text(encoding="utf-8"))
    rego.add_data_json(json.dumps(source.data))
    return rego, rego.build(None, [_entrypoint(p, r) for p, r in CASES])


def _entrypoint(package: str, rule: str) -> str:
    return package.replace(".", "/") + "/" + rule


def test_every_rule_family_has_unit_tests() -> None:
    assert len(CASES) >= 20 and {p for p, _ in CASES} == {"popart.sharing_test", "popart.authz_test"}


@pytest.mark.parametrize(("package", "rule"), [pytest.param(p, r, id=f"{p}.{r}") for p, r in CASES])
def test_rego_unit(compiled: tuple[regopy.Interpreter, regopy.Bundle], package: str, rule: str) -> None:
    interpreter, bundle = compiled
    output = interpreter.query_bundle_entrypoint(bundle, _entrypoint(package, rule))
    assert output.ok(), str(output)
    assert output.results and output.results[0].expressions == [True], f"{rule} failed: {output}"
