"""Lay out one policy revision as an OPA bundle (directory or .tar.gz) for the OPA sidecar."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from policies.documents import DATA_ROOT_KEY, DOCUMENTS, PolicySource

MANIFEST = ".manifest"


def bundle_files(source: PolicySource) -> dict[str, bytes]:
    """Path -> content of the bundle: .manifest (revision, roots), the Rego modules and data documents."""
    manifest = {"revision": source.revision, "roots": [DATA_ROOT_KEY], "rego_version": 1}
    files = {MANIFEST: json.dumps(manifest, indent=2).encode()}
    for name, text in source.modules.items():
        files[f"{DATA_ROOT_KEY}/rego/{name}"] = text.encode()
    for name in DOCUMENTS:
        # data.yaml in <root>/<document>/ becomes data.popart.<document>, as the embedded engine sees it.
        files[f"{DATA_ROOT_KEY}/{name}/data.yaml"] = (source.root / "data" / name / "data.yaml").read_bytes()
    return files


def write_bundle_dir(source: PolicySource, out: Path) -> Path:
    """Write the bundle as a directory (for `opa run --bundle <dir>`)."""
    for rel, content in bundle_files(source).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return out


def write_bundle_tarball(source: PolicySource, out: Path) -> Path:
    """Write the bundle as bundle.tar.gz (for a bundle server polled by OPA); deterministic bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rel, content in sorted(bundle_files(source).items()):
            info = tarfile.TarInfo(f"/{rel}")
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
    out.write_bytes(buffer.getvalue())
    return out
