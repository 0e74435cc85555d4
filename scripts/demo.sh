#!/usr/bin/env bash
# The first command of the README: install POP-ART Exchange into .venv, fetch the sample media from
# Debian's packages (install time, never at run time), and run `popart demo` on the embedded defaults
# (SQLite, in-process Rego, a detector worker on the sample plaza video and microphone).
# Usage: bash scripts/demo.sh [popart demo options, e.g. --port 6100]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
bash scripts/fetch_media.sh
bash scripts/fetch_audio_media.sh
exec .venv/bin/popart demo "$@"
