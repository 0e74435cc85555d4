"""The hand-built detectors on synthetic signals of known truth."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.audio import synth
from detectors.audio.analyzer import AudioAnalysisConfig, analyse_signal
from detectors.audio.base import AudioEvent

from .conftest import near

SHOTS = (4.0, 9.0, 14.5)


def categories(events: list[AudioEvent]) -> set[str]:
    return {e.category for e in events}


@pytest.mark.parametrize("snr_db", [pytest.param(30, id="snr30"), pytest.param(20, id="snr20"),
                                    pytest.param(12, id="snr12")])
def test_gunshots_found_at_their_times_in_noise(snr_db: float) -> None:
    x = synth.crowd_noise(20, 1, 0.02)
    for i, at in enumerate(SHOTS):
        x = synth.place(x, synth.gunshot(i), at, snr_db)
    events = analyse_signal(x)
    assert [e.category for e in events] == ["gunshot"] * 3
    for at in SHOTS:
        assert len(near(events, "gunshot", at, 0.03)) == 1
    assert all(0.5 <= e.confidence <= 1 for e in events)


def test_confidence_grows_with_snr() -> None:
    conf = []
    for snr in (12, 18, 24):
        events = analyse_signal(synth.place(synth.pink_noise(10, 2, 0.02), synth.gunshot(1), 5.0, snr))
        conf.append(events[0].confidence)
    assert conf[0] < conf[1] < conf[2]


def test_a_burst_of_shots_is_one_event_counting_them() -> None:
    x = synth.pink_noise(10, 3, 0.01)
    for k in range(5):
        x = synth.place(x, synth.gunshot(k, decay_s=0.02), 4.0 + 0.12 * k, 30)
    events = analyse_signal(x)
    assert len(events) == 1 and events[0].category == "gunshot"
    assert events[0].attributes["impulses"] == 5


def test_explosion_is_told_from_gunshot() -> None:
    events = analyse_signal(synth.place(synth.pink_noise(12, 4, 0.02), synth.explosion(2), 6.0, 25))
    assert [e.category for e in events] == ["explosion"]
    assert abs(events[0].start - 6.0) < 0.05
    assert float(events[0].attributes["low_share"]) > 0.65


def test_same_shot_fires_in_a_quiet_street_but_not_inside_a_loud_concert() -> None:
    """The adaptive background: a sound 30 dB over a quiet scene is nothing in a 40 dB louder one."""
    shot = synth.gunshot(5, peak=0.1)
    quiet = synth.place(synth.crowd_noise(20, 6, 0.002), shot, 12.0)
    loud = synth.place(synth.crowd_noise(20, 6, 0.2), shot, 12.0)
    assert categories(analyse_signal(quiet)) == {"gunshot"}
    assert analyse_signal(loud) == []


def test_scream_found_and_not_mistaken_for_impulse() -> None:
    x = synth.place(synth.crowd_noise(16, 7, 0.02), synth.scream(1.2, 900, 1), 5.0, 18)
    x = synth.place(x, synth.scream(0.8, 1400, 2), 11.0, 15)
    events = analyse_signal(x)
    assert [e.category for e in events] == ["scream", "scream"]
    assert len(near(events, "scream", 5.0)) == 1 and len(near(events, "scream", 11.0)) == 1
    assert abs(events[0].end - 6.2) < 0.15


def test_steady_tone_is_neither_scream_nor_siren() -> None:
    x = synth.place(synth.pink_noise(15, 8, 0.02), synth.tone(3.0, 1000.0), 5.0, 15)
    assert analyse_signal(x) == []


@pytest.mark.parametrize("kind", ["wail", "yelp", "hilo"])
def test_sirens_found_while_they_sound(kind: str) -> None:
    x = synth.place(synth.crowd_noise(20, 9, 0.02), synth.siren(10, kind), 5.0, 12)
    events = analyse_signal(x)
    assert categories(events) == {"siren"}
    assert min(e.start for e in events) == pytest.approx(5.0, abs=0.3)
    assert max(e.end for e in events) == pytest.approx(15.0, abs=0.3)
    assert len(events) >= 2  # a long siren is reported in segments while it lasts


def test_glass_break_found_and_a_shot_is_not_glass() -> None:
    x = synth.place(synth.pink_noise(14, 10, 0.01), synth.glass_break(3), 4.0, 25)
    x = synth.place(x, synth.gunshot(4), 10.0, 25)
    events = analyse_signal(x)
    assert [(e.category, round(e.start)) for e in events] == [("glass-break", 4), ("gunshot", 10)]


def test_crowd_surge_reported_and_steady_crowd_is_quiet() -> None:
    x = synth.crowd_noise(40, 11, 0.01)
    x[20 * synth.RATE:] *= 5.0  # +14 dB from t = 20 s: the crowd roars
    events = analyse_signal(x)
    assert categories(events) == {"crowd-noise"}
    assert events[0].start == pytest.approx(20.0, abs=0.6)
    assert all(e.attributes["kind"] == "surge" for e in events)
    assert float(events[0].attributes["change_db"]) == pytest.approx(14.0, abs=1.5)


def test_a_minute_of_steady_crowd_noise_gives_no_detection() -> None:
    assert analyse_signal(synth.crowd_noise(60, 12, 0.05)) == []


def test_disabled_detector_and_min_confidence_are_honoured() -> None:
    x = synth.place(synth.pink_noise(10, 13, 0.02), synth.gunshot(1), 5.0, 15)
    off = AudioAnalysisConfig(detectors=[{"type": "impulse", "enabled": False}, {"type": "scream"}])
    strict = AudioAnalysisConfig(detectors=[{"type": "impulse", "min_confidence": 0.95}])
    assert analyse_signal(x, off) == []
    assert analyse_signal(x, strict) == []
    assert len(analyse_signal(x, AudioAnalysisConfig(detectors=[{"type": "impulse"}]))) == 1


def test_block_size_does_not_change_the_result() -> None:
    x = synth.place(synth.crowd_noise(20, 14, 0.02), synth.gunshot(2), 7.0, 20)
    x = synth.place(x, synth.scream(1.0, 1000, 3), 12.0, 18)
    a = [(e.category, e.start, e.end) for e in analyse_signal(x, block_s=0.1)]
    b = [(e.category, e.start, e.end) for e in analyse_signal(x, block_s=2.0)]
    assert a == b
    assert [(c, round(start, 1)) for c, start, _ in a] == [("gunshot", 7.0), ("scream", 12.0)]
    assert np.isfinite([e.confidence for e in analyse_signal(x)]).all()


def test_a_loud_concert_fires_nothing_but_a_shot_over_it_is_found() -> None:
    """Chords, sung notes, kick and snare every half second: the backgrounds absorb the show."""
    show = synth.concert(40, 1, level=0.05)
    assert analyse_signal(show) == []
    events = analyse_signal(synth.place(show, synth.gunshot(3, peak=0.6), 21.3))
    assert [(e.category, round(e.start, 1)) for e in events] == [("gunshot", 21.3)]


def test_sounds_cut_by_the_end_of_the_stream_are_still_reported() -> None:
    x = synth.place(synth.pink_noise(8, 15, 0.01), synth.scream(1.5, 1000, 4), 6.8, 20)  # runs past the end
    y = synth.place(synth.pink_noise(10, 16, 0.01), synth.siren(6, "yelp"), 6.0, 12)
    assert [e.category for e in analyse_signal(x)] == ["scream"]
    assert max(e.end for e in analyse_signal(y)) == pytest.approx(10.0, abs=0.1)
