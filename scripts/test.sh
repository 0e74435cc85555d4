#!/usr/bin/env bash
# Installs everything the tests need into .venv, fetches sample media from Debian, and runs the test suite.
# Usage: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
for step in scripts/fetch_media.sh scripts/fetch_audio_media.sh scripts/install_chromium.sh scripts/install_extras.sh; do
    if [ -f "$step" ]; then bash "$step"; fi
done
exec .venv/bin/python -m pytest "$@"
