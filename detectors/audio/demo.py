"""A demo microphone recording: crowd noise with sample sounds at known times, plus its label track.

`popart demo` can add an `audio_file` feed on the file this writes. The sounds are the Debian
recordings that scripts/fetch_audio_media.sh puts in `.media/audio` when present, synthetic ones
otherwise; the Audacity label file beside it makes the folder usable by `evaluate_folder`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from detectors.audio import synth
from detectors.audio.decode import read_audio
from detectors.audio.evaluate import Label
from detectors.audio.signal import ANALYSIS_RATE, FloatArray, resample

#: (seconds into the scene, category, Debian recording, synthetic stand-in, SNR dB)
PROGRAMME: tuple[tuple[float, str, str, str, float], ...] = (
    (6.0, "gunshot", "gunshot.wav", "gunshot", 20.0),
    (14.0, "scream", "human-female-die-3.ogg", "scream", 20.0),
    (22.0, "glass-break", "", "glass_break", 25.0),
    (30.0, "siren", "", "siren", 12.0),
    (44.0, "explosion", "explosion.ogg", "explosion", 20.0),
)


def _sound(name: str, stand_in: str, media: Path | None) -> FloatArray:
    if name and media is not None and (media / name).is_file():
        data, rate = read_audio(media / name)
        return resample(data, rate)
    if stand_in == "siren":
        return synth.siren(8.0, "wail")
    maker = getattr(synth, stand_in)
    out: FloatArray = maker(3)
    return out


def write_demo_scene(path: str | Path, seconds: float = 60.0, media: Path | None = None, seed: int = 7,
                     snr_offset_db: float = 0.0) -> list[Label]:
    """Write the demo WAV (16 kHz) and `<name>.txt` labels; returns the labels.

    Other seeds shift each sound by up to ±2 s and change the crowd; `snr_offset_db` makes all
    sounds quieter (negative) or louder against the crowd.
    """
    path = Path(path)
    rng = np.random.default_rng(seed)
    x = synth.crowd_noise(seconds, rng, 0.02)
    labels: list[Label] = []
    for at, category, name, stand_in, snr in PROGRAMME:
        at = at if seed == 7 else at + float(rng.uniform(-2.0, 2.0))
        snr += snr_offset_db
        sound = _sound(name, stand_in, media)
        if at + 0.5 >= seconds:
            continue
        x = synth.place(x, sound, at, snr)
        labels.append(Label(at, min(seconds, at + len(sound) / ANALYSIS_RATE), category))
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(x, -1, 1), ANALYSIS_RATE, subtype="PCM_16")
    path.with_suffix(".txt").write_text(
        "".join(f"{lab.start:.3f}\t{lab.end:.3f}\t{lab.category}\n" for lab in labels), encoding="utf-8")
    return labels
