"""Resampling, mono mix-down, gain, sliding windows and the spectral front end."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.audio.frontend import SpectralFrontend
from detectors.audio.history import RollingBackground
from detectors.audio.signal import StreamResampler, gain, resample, to_mono
from detectors.audio.synth import RATE, harmonic, pink_noise, tone
from detectors.audio.windows import SlidingWindows


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000, 16000])
def test_stream_resampler_equals_whole_signal_resampling(rate: int) -> None:
    rng = np.random.default_rng(rate)
    x = rng.standard_normal(rate + 777).astype(np.float32)
    resampler = StreamResampler(rate)
    parts, i = [], 0
    while i < len(x):
        n = int(rng.integers(1, 4000))
        parts.append(resampler.process(x[i:i + n]))
        i += n
    parts.append(resampler.flush())
    np.testing.assert_allclose(np.concatenate(parts), resample(x, rate), atol=1e-5)


def test_to_mono_scales_integers_and_averages_channels() -> None:
    stereo = np.array([[16384, -16384], [32767, 32767]], dtype=np.int16)
    np.testing.assert_allclose(to_mono(stereo), [0.0, 32767 / 32768], atol=1e-6)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        to_mono(np.zeros((2, 2, 2), dtype=np.float32))


def test_gain_in_db() -> None:
    x = np.ones(4, dtype=np.float32)
    np.testing.assert_allclose(gain(x, 20.0), 10.0, rtol=1e-6)
    np.testing.assert_allclose(gain(x, -6.0206), 0.5, rtol=1e-4)


def test_sliding_windows_overlap_and_times() -> None:
    windows = SlidingWindows(1.0, 0.5, rate=10, time0=2.0)
    got = list(windows.push(np.arange(25, dtype=np.float32)))
    assert [t for t, _ in got] == [2.0, 2.5, 3.0, 3.5]
    np.testing.assert_array_equal(got[1][1], np.arange(5, 15))
    tail = list(windows.flush())
    assert [t for t, _ in tail] == [4.0] and tail[0][1][:5].tolist() == list(range(20, 25))


def test_frontend_reads_full_scale_sine_as_0_dbfs_and_finds_pitch() -> None:
    frames = SpectralFrontend().process(tone(1.0, 1000.0, peak=1.0))
    assert frames is not None
    assert abs(float(np.median(frames.level_db)) - 0.0) < 0.1
    t = np.arange(RATE) / RATE
    voiced = SpectralFrontend().process(harmonic(np.full(len(t), 700.0)))
    assert voiced is not None
    assert abs(float(np.median(voiced.f0_hz)) - 700) < 15
    assert float(np.median(voiced.harmonicity)) > 0.9
    noise = SpectralFrontend().process(pink_noise(2.0, 1))
    assert noise is not None and float(np.median(noise.harmonicity)) < 0.2


def test_frontend_frames_continue_across_blocks() -> None:
    x = pink_noise(1.0, 3)
    whole = SpectralFrontend().process(x)
    front = SpectralFrontend()
    parts = [front.process(x[i:i + 1234]) for i in range(0, len(x), 1234)]
    stitched = np.concatenate([p.level_db for p in parts if p is not None])
    assert whole is not None
    np.testing.assert_allclose(stitched, whole.level_db[: len(stitched)], atol=1e-3)
    times = np.concatenate([p.times for p in parts if p is not None])
    np.testing.assert_allclose(np.diff(times), 0.01, atol=1e-9)


def test_background_follows_a_loud_scene_but_not_a_short_event() -> None:
    bg = RollingBackground(1, horizon_s=10.0, step_s=0.25)
    quiet = np.full((1000, 1), -60.0, dtype=np.float32)
    bg.update(quiet)
    burst = bg.update(np.full((50, 1), 0.0, dtype=np.float32))  # half a second of something loud
    assert float(bg.update(quiet[:25])[-1, 0]) == pytest.approx(-60.0)
    assert float(burst.max()) < -55
    concert = bg.update(np.full((1000, 1), -20.0, dtype=np.float32))
    assert float(concert[-1, 0]) == pytest.approx(-20.0)
