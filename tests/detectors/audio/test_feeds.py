"""Audio feeds: files (libsndfile and ffmpeg), video audio tracks, a live stream that drops, bad input."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from detectors.audio import synth
from detectors.audio.decode import find_ffmpeg, read_audio
from detectors.audio.feeds import AudioBlock, AudioFileFeedConfig, RtspAudioFeed, RtspAudioFeedConfig, file_feed
from detectors.backoff import BackoffPolicy
from detectors.errors import FeedDeadError, FeedError
from detectors.feeds.base import FeedHealth, FeedItem, FeedState

from .conftest import write_wav


def blocks(items: list[FeedItem[AudioBlock]]) -> np.ndarray:
    return np.concatenate([i.data.samples for i in items])


@pytest.fixture(scope="module")
def shot_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s at 44.1 kHz stereo with a shot at 2.0 s."""
    x = synth.place(synth.pink_noise(3, 1, 0.01), synth.gunshot(1), 2.0, 30)
    from scipy.signal import resample_poly

    hi = resample_poly(x, 441, 160).astype(np.float32)
    path = tmp_path_factory.mktemp("feeds") / "shot44k.wav"
    sf.write(str(path), np.stack([hi, hi], axis=1), 44100, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def shot_mp4(shot_wav: Path) -> Path:
    """A video clip whose AAC audio track is `shot_wav`."""
    out = shot_wav.with_suffix(".mp4")
    subprocess.run([find_ffmpeg(), "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=duration=3:size=160x120:rate=10", "-i", str(shot_wav), "-shortest",
                    "-c:v", "mpeg4", "-c:a", "aac", str(out)], check=True, timeout=60)
    return out


def test_file_feed_resamples_to_16k_mono_with_continuous_stream_time(shot_wav: Path) -> None:
    items = list(file_feed(shot_wav, block_s=0.25).items())
    total = blocks(items)
    assert len(total) == pytest.approx(3 * 16000, abs=2)
    for a, b in zip(items, items[1:], strict=False):
        assert b.stream_time == pytest.approx(a.stream_time + a.data.duration, abs=1e-9)
    assert items[0].stream_time == 0.0 and all(i.data.rate == 16000 for i in items)
    peak = int(np.argmax(np.abs(total)))
    assert peak / 16000 == pytest.approx(2.0, abs=0.02)


def test_video_audio_track_decoded_by_ffmpeg_keeps_the_clip_clock(shot_wav: Path, shot_mp4: Path) -> None:
    items = list(file_feed(shot_mp4).items())
    audio = blocks(items)
    assert len(audio) / 16000 == pytest.approx(3.0, abs=0.06)
    assert int(np.argmax(np.abs(audio))) / 16000 == pytest.approx(2.0, abs=0.03)


def test_gain_calibration_scales_samples(shot_wav: Path) -> None:
    plain = blocks(list(file_feed(shot_wav).items()))
    louder = blocks(list(file_feed(shot_wav, gain_db=6.0206).items()))
    np.testing.assert_allclose(louder, plain * 2, atol=1e-4)
    item = next(iter(file_feed(shot_wav, spl_at_0dbfs=120.0).items()))
    assert item.data.spl_at_0dbfs == 120.0


def test_missing_bad_and_silent_video_files_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(FeedDeadError, match="no such audio file"):
        list(file_feed(tmp_path / "nope.wav").items())
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 100)
    with pytest.raises(FeedDeadError, match="ffmpeg cannot decode audio"):
        list(file_feed(bad).items())
    silent = tmp_path / "silent.mp4"
    subprocess.run([find_ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=duration=1:size=64x48:rate=5", "-c:v", "mpeg4", str(silent)], check=True, timeout=60)
    with pytest.raises(FeedError, match="no audio stream"):
        read_audio(silent)


def test_audio_feed_refuses_frame_sampling() -> None:
    with pytest.raises(ValueError, match="analysis_fps"):
        AudioFileFeedConfig.model_validate({"path": "x.wav", "analysis_fps": 10})


class WavServer:
    """Serves a WAV stream over TCP `sessions` times, closing each connection at the end (a drop)."""

    def __init__(self, wav: bytes, sessions: int) -> None:
        self.wav, self.sessions = wav, sessions
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for _ in range(self.sessions):
            conn, _ = self.sock.accept()
            with conn:
                conn.sendall(self.wav)
        self.sock.close()  # later connection attempts are refused: the source is gone


@pytest.fixture
def wav_server(tmp_path: Path) -> Iterator[WavServer]:
    path = write_wav(tmp_path / "live.wav", synth.pink_noise(1.0, 5, 0.05))
    server = WavServer(path.read_bytes(), sessions=2)
    yield server
    server.thread.join(timeout=5)


def test_live_feed_reconnects_after_a_drop_then_reports_it_dead(wav_server: WavServer) -> None:
    states: list[FeedHealth] = []
    feed = RtspAudioFeed(RtspAudioFeedConfig(
        url=f"tcp://127.0.0.1:{wav_server.port}", read_timeout_s=2.0, block_s=0.25,
        reconnect=BackoffPolicy(initial_s=0.05, max_s=0.1, jitter=0.0, max_attempts=2)))
    feed.on_health = states.append
    got: list[FeedItem[AudioBlock]] = []
    with pytest.raises(FeedDeadError, match="dead after"):
        for item in feed.items():
            got.append(item)
    kinds = [s.state for s in states]
    assert kinds[:3] == [FeedState.LIVE, FeedState.RECONNECTING, FeedState.LIVE]
    assert kinds[-1] is FeedState.DEAD
    assert len(blocks(got)) / 16000 == pytest.approx(2.0, abs=0.01)  # both sessions, nothing lost
    times = [i.stream_time for i in got]
    assert times[:4] == [0.0, 0.25, 0.5, 0.75]
    # the second session continues after the first one's last sample, plus the real outage
    assert times[4] >= 1.0 and times[4:] == pytest.approx([times[4] + 0.25 * k for k in range(4)])


def test_live_feed_hides_credentials_in_errors() -> None:
    feed = RtspAudioFeed(RtspAudioFeedConfig(url="rtsp://user:secret@127.0.0.1:9/x", read_timeout_s=1.0,
                                             reconnect=BackoffPolicy(initial_s=0.01, max_attempts=1)))
    states: list[FeedHealth] = []
    feed.on_health = states.append
    with pytest.raises(FeedDeadError) as info:
        list(feed.items())
    assert "secret" not in str(info.value) and all("secret" not in (s.error or "") for s in states)


def test_alsa_capture_through_ffmpeg_on_the_null_device() -> None:
    """ALSA's `null` PCM (defined by alsa-lib's own configuration) proves the capture path end to end."""
    import threading

    from detectors.audio.feeds import AlsaFeed, AlsaFeedConfig

    feed = AlsaFeed(AlsaFeedConfig(device="null", sample_rate=48000, channels=2, block_s=0.2))
    stop = threading.Event()
    got: list[FeedItem[AudioBlock]] = []
    for item in feed.items(stop):
        got.append(item)
        if len(got) == 5:
            stop.set()
    assert len(got) == 5 and feed.state is FeedState.ENDED
    assert all(i.data.rate == 16000 and np.isfinite(i.data.samples).all() for i in got)
    assert [len(i.data.samples) for i in got[1:]] == [3200] * 4  # 0.2 s blocks, 2 channels mixed to mono
    assert [round(i.stream_time, 3) for i in got[1:]] == sorted({round(i.stream_time, 3) for i in got[1:]})
    assert got[0].wall_time <= got[-1].wall_time


def test_audio_and_video_of_one_file_share_the_stream_clock(shot_wav: Path, tmp_path: Path) -> None:
    """A flash on screen and a bang on the soundtrack at 2.0 s are found at the same stream time."""
    from detectors.audio.cli import analyse_file
    from detectors.feeds.base import create_feed
    from detectors.feeds.opencv import FileFeedConfig

    clip = tmp_path / "flash_bang.mp4"
    subprocess.run([find_ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=black:s=64x48:r=10:d=3,drawbox=x=0:y=0:w=64:h=48:color=white:t=fill:"
                    "enable='between(t,2,2.09)'", "-i", str(shot_wav), "-shortest", "-c:v", "mpeg4",
                    "-c:a", "aac", str(clip)], check=True, timeout=60)
    video = create_feed(FileFeedConfig(path=clip, analysis_fps=None), "cam")
    flash = [i.stream_time for i in video.items() if float(np.mean(i.data)) > 128]
    bang = [e.start for e in analyse_file(clip).events if e.category == "gunshot"]
    assert len(flash) == 1 and len(bang) == 1
    assert bang[0] == pytest.approx(flash[0], abs=0.1)
