"""Real recordings from Debian's wesnoth-1.16-data and espeak-ng, mixed into crowd noise at known times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detectors.audio import synth
from detectors.audio.analyzer import AudioAnalysisConfig, analyse_signal
from detectors.audio.vad import SpeechGate

from .conftest import load16k, near

AT = 5.0


def mixed(path: Path, snr_db: float | None, seed: int = 1) -> np.ndarray:
    sound = load16k(path)
    background = synth.crowd_noise(12, seed, 0.01)
    return synth.place(background, sound, AT, snr_db)


@pytest.mark.parametrize("snr_db", [None, 20])
def test_wesnoth_gunshot_found_at_its_time(audio_media: Path, snr_db: float | None) -> None:
    events = analyse_signal(mixed(audio_media / "gunshot.wav", snr_db))
    assert [e.category for e in events] == ["gunshot"]
    assert len(near(events, "gunshot", AT, 0.06)) == 1


@pytest.mark.parametrize("snr_db", [None, 20, 10])
def test_wesnoth_explosion_found_as_explosion(audio_media: Path, snr_db: float | None) -> None:
    events = analyse_signal(mixed(audio_media / "explosion.ogg", snr_db))
    assert [e.category for e in events] == ["explosion"]
    assert len(near(events, "explosion", AT, 0.1)) == 1


def test_wesnoth_musket_is_an_impulsive_event(audio_media: Path) -> None:
    events = analyse_signal(mixed(audio_media / "thunderstick.ogg", 20))
    assert len(events) == 1 and events[0].category in {"gunshot", "explosion"}
    assert abs(events[0].start - AT) < 0.15


@pytest.mark.parametrize("name", ["human-die-1.ogg", "human-female-die-3.ogg"])
def test_wesnoth_cries_are_screams(audio_media: Path, name: str) -> None:
    events = analyse_signal(mixed(audio_media / name, 20))
    assert [e.category for e in events] == ["scream"]
    assert AT <= events[0].start <= AT + 0.4


def test_vad_finds_speech_and_nothing_in_noise_or_tones(audio_media: Path) -> None:
    gate = SpeechGate.shared()
    speech = load16k(audio_media / "speech.wav")
    assert gate.probability(speech) > 0.6
    padded = np.concatenate([np.zeros(16000, np.float32), speech, np.zeros(16000, np.float32)])
    segments = gate.segments(padded)
    assert segments and segments[0][0] == pytest.approx(1.0, abs=0.2)
    assert segments[-1][1] == pytest.approx(1.0 + len(speech) / 16000, abs=0.4)
    assert gate.probability(synth.crowd_noise(3, 2, 0.05)) < 0.2
    assert gate.probability(synth.tone(2, 800)) < 0.2


@pytest.mark.parametrize("crowd", [0.05, 0.02])
def test_speech_over_a_crowd_is_neither_scream_nor_shot(audio_media: Path, crowd: float) -> None:
    speech = load16k(audio_media / "speech.wav")
    x = synth.place(synth.crowd_noise(len(speech) / 16000 + 8, 3, crowd), speech, 4.0)
    found = {e.category for e in analyse_signal(x)}
    assert not found & {"scream", "gunshot", "explosion"}
    ungated = {e.category for e in analyse_signal(x, AudioAnalysisConfig(speech_gate=False))}
    assert crowd > 0.02 or ungated & {"gunshot", "glass-break"}, "the plosives of close talk look impulsive"


def test_speech_gate_vetoes_high_pitched_shouted_words(audio_media: Path) -> None:
    """Shouted words in a high voice are harmonic and high like a scream; the VAD knows they are talk."""
    shout = load16k(audio_media / "shout.wav")
    x = synth.place(synth.crowd_noise(len(shout) / 16000 + 8, 4, 0.01), shout, 4.0)
    ungated = [e for e in analyse_signal(x, AudioAnalysisConfig(speech_gate=False)) if e.category == "scream"]
    assert ungated, "without the gate the shout looks like screaming"
    assert [e for e in analyse_signal(x) if e.category == "scream"] == []
