"""The OPA bundle and sidecar files: what real OPA would load equals what the embedded engine evaluates."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import yaml

from policies.bundle import bundle_files, write_bundle_dir, write_bundle_tarball
from policies.documents import DATA_ROOT_KEY, DEFAULT_ROOT, load_source

REPO = DEFAULT_ROOT.parent
DEPLOY = REPO / "deploy" / "opa"


def _opa_data(files: dict[str, bytes]) -> dict[str, object]:
    """Data as OPA builds it from a bundle: <dir>/data.yaml lands at data.<dir path>."""
    data: dict[str, object] = {}
    for rel, content in files.items():
        if rel.endswith("/data.yaml"):
            node = data
            *parents, leaf = rel.split("/")[:-1]
            for key in parents:
                node = node.setdefault(key, {})  # type: ignore[assignment]
            node[leaf] = yaml.safe_load(content)
    return data


def test_bundle_data_is_what_the_embedded_engine_sees() -> None:
    source = load_source()
    files = bundle_files(source)
    assert _opa_data(files) == source.data
    manifest = json.loads(files[".manifest"])
    assert manifest == {"revision": source.revision, "roots": [DATA_ROOT_KEY], "rego_version": 1}
    packages = {m.group(1) for t in source.modules.values() for m in re.finditer(r"^package (\S+)", t, re.M)}
    assert packages and all(p.startswith(DATA_ROOT_KEY + ".") for p in packages)
    assert not any(name.endswith("_test.rego") for name in files)


def test_bundle_dir_and_tarball(tmp_path: Path) -> None:
    source = load_source()
    out = write_bundle_dir(source, tmp_path / "bundle")
    assert (out / ".manifest").is_file() and (out / "popart" / "releases" / "data.yaml").is_file()
    first = write_bundle_tarball(source, tmp_path / "a.tar.gz").read_bytes()
    assert write_bundle_tarball(source, tmp_path / "b.tar.gz").read_bytes() == first  # reproducible
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        names = tar.getnames()
    assert "/.manifest" in names and "/popart/rego/sharing.rego" in names


def test_sidecar_compose_mounts_the_policy_as_a_bundle() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    opa = compose["services"]["opa"]
    assert "--bundle" in opa["command"] and "--ignore=*_test.rego" in opa["command"]
    mounts = {m.split(":")[1]: (DEPLOY / m.split(":")[0]).resolve() for m in opa["volumes"]}
    assert mounts["/bundle/rego"] == (DEFAULT_ROOT / "rego").resolve()
    assert mounts["/bundle/popart"] == (DEFAULT_ROOT / "data").resolve()
    assert json.loads(mounts["/bundle/.manifest"].read_text())["roots"] == [DATA_ROOT_KEY]


def test_hub_policy_example_is_a_valid_engine_config() -> None:
    from policies.opa_rest import OpaRestEngineConfig

    config = OpaRestEngineConfig.model_validate(yaml.safe_load((DEPLOY / "hub-policy.yaml").read_text())["policy"])
    assert config.push_policies is False
    opa_config = yaml.safe_load((DEPLOY / "opa-config.yaml").read_text())
    assert opa_config["bundles"]["popart"]["service"] in opa_config["services"]
