#!/usr/bin/env bash
# Install what the audio detectors need beyond pyproject's dependencies, and fetch the real recordings
# the audio tests use, from Debian and PyPI only. Idempotent: skips what is already there.
#   scripts/fetch_audio_media.sh [DEST]      (DEST defaults to <repo>/.media/audio)
# - ffmpeg (Debian package): decodes video containers, RTSP and ALSA for the audio feeds;
# - silero-vad (PyPI) WITHOUT its dependencies: we only use the ONNX models it ships (its own
#   Python code imports torch, which we never import);
# - espeak-ng (Debian package): speaks the speech samples the VAD tests use;
# - wesnoth-1.16-data (Debian package, downloaded and unpacked, never installed): real shot, blast,
#   musket and cry recordings from data/core/sounds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-${POPART_AUDIO_MEDIA_DIR:-$here/.media/audio}}"
python="${PYTHON:-$here/.venv/bin/python}"
[[ -x "$python" ]] || python="$(command -v python3)"
sounds=(gunshot.wav explosion.ogg thunderstick.ogg human-die-1.ogg human-female-die-3.ogg)
updated=0

apt_update_once() {
  if [[ $updated -eq 0 ]]; then
    apt-get update -qq >/dev/null
    updated=1
  fi
}

apt_install() {  # apt_install PACKAGE...: install Debian packages (root), updating the index if needed
  if [[ $(id -u) -ne 0 ]]; then
    echo "need root to apt-get install $*; install them and run this again" >&2
    exit 1
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "installing ${need[*]} (Debian)"
  apt_install "${need[@]}"
fi

if ! "$python" -c "import importlib.util as u, sys; s = u.find_spec('silero_vad'); sys.exit(0 if s else 1)"; then
  echo "installing silero-vad without dependencies (ONNX models only, no torch)"
  "$python" -m pip install -q --no-deps 'silero-vad>=6.2,<7'
fi

mkdir -p "$dest"
if [[ ! -s "$dest/speech.wav" ]]; then
  espeak-ng -w "$dest/.speech.wav.part" -s 150 \
    "Good evening everyone. Please keep moving towards the north exit, the show will resume in ten minutes." \
    && mv "$dest/.speech.wav.part" "$dest/speech.wav"
fi

if [[ ! -s "$dest/shout.wav" ]]; then  # high-pitched shouted words: harmonic and high, yet speech
  espeak-ng -w "$dest/.shout.wav.part" -v en+f5 -p 99 -a 200 \
    "Help! Somebody help me! Please! Get away from me! Stop it now!" \
    && mv "$dest/.shout.wav.part" "$dest/shout.wav"
fi

missing=()
for f in "${sounds[@]}"; do
  [[ -s "$dest/$f" ]] || missing+=("$f")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "audio media present in $dest"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download wesnoth-1.16-data >/dev/null 2>&1); then
  apt_update_once
  (cd "$work" && apt-get download wesnoth-1.16-data >/dev/null)
fi
deb="$(ls "$work"/wesnoth-1.16-data_*.deb)"
patterns=()
for f in "${missing[@]}"; do patterns+=("*/data/core/sounds/$f"); done
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards "${patterns[@]}"
for f in "${missing[@]}"; do
  src="$(find "$work" -path "*/data/core/sounds/$f" -print -quit)"
  if [[ -z "$src" ]]; then
    echo "wesnoth-1.16-data has no data/core/sounds/$f" >&2
    exit 1
  fi
  cp "$src" "$dest/.$f.part" && mv "$dest/.$f.part" "$dest/$f"
done
echo "fetched ${missing[*]} into $dest"
