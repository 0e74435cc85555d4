#!/usr/bin/env bash
# Fetch the sample media the detector demo, tests and benchmarks use, from Debian's opencv-doc package,
# into .media/ (git-ignored). Idempotent: does nothing when the files are already there.
#   scripts/fetch_media.sh [DEST]      (DEST defaults to <repo>/.media)
# Needs apt-get (Debian/Ubuntu) and dpkg-deb; `apt-get update` must have run once on the machine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-${POPART_MEDIA_DIR:-$here/.media}}"
# files taken from opencv-doc's examples/data: pedestrians on a plaza (768x576, 10 fps), and a still with a face
files=(vtest.avi messi5.jpg)

missing=()
for f in "${files[@]}"; do
  [[ -s "$dest/$f" ]] || missing+=("$f")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "media already present in $dest"
  exit 0
fi

mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  # `apt-get download` fetches the .deb without installing it (no root needed for the download itself)
  if ! apt-get download opencv-doc >/dev/null 2>"$work/apt.err"; then
    echo "apt-get download opencv-doc failed (run 'apt-get update' first?):" >&2
    cat "$work/apt.err" >&2
    exit 1
  fi
)
deb="$(ls "$work"/opencv-doc_*.deb)"
patterns=()
for f in "${missing[@]}"; do patterns+=("*/examples/data/$f"); done
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards "${patterns[@]}"
for f in "${missing[@]}"; do
  src="$(find "$work" -path "*/examples/data/$f" -print -quit)"
  if [[ -z "$src" ]]; then
    echo "opencv-doc has no examples/data/$f" >&2
    exit 1
  fi
  # write then rename, so an interrupted run never leaves a truncated file that looks present
  cp "$src" "$dest/.$f.part" && mv "$dest/.$f.part" "$dest/$f"
done
echo "fetched ${missing[*]} into $dest"
