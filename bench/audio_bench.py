"""Real-time factor of the audio detectors: seconds of audio analysed per second of CPU, on one core.

    .venv/bin/python bench/audio_bench.py [--seconds 120] [--repeat 3] [--eval]

Builds a synthetic scene (steady crowd babble with a shot, a scream, breaking glass, a siren and a
blast every few seconds), then times, single-threaded (BLAS and ONNX Runtime pinned to one thread,
CPU time of the process): the front end alone, each detector alone, the default set (with the
Silero speech gate on its candidates), Silero VAD over the whole stream, and ffmpeg decoding of the
scene from an AAC/MP4 file (the floor below any analysis). Target: default set >= 50x real time.
With --eval it also builds a labelled folder (demo scenes with the Debian recordings at three SNRs and
ten seeds, plus ten minutes of unlabelled crowd noise) and prints the evaluation table.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from detectors.audio import synth  # noqa: E402
from detectors.audio.analyzer import AudioAnalysisConfig, analyse_signal  # noqa: E402
from detectors.audio.decode import find_ffmpeg, read_audio  # noqa: E402
from detectors.audio.frontend import SpectralFrontend  # noqa: E402
from detectors.audio.vad import SpeechGate  # noqa: E402


def scene(seconds: float) -> np.ndarray:
    """Crowd babble with an event every 6 s, cycling through the categories."""
    x = synth.crowd_noise(seconds, 1, 0.02)
    makers: list[tuple[Callable[[int], np.ndarray], float]] = [
        (lambda s: synth.gunshot(s), 25), (lambda s: synth.scream(1.2, 900 + 30 * (s % 10), s), 18),
        (lambda s: synth.glass_break(s), 25), (lambda s: synth.siren(4, "yelp"), 12),
        (lambda s: synth.explosion(s), 25),
    ]
    for k, at in enumerate(np.arange(3.0, seconds - 5.0, 6.0)):
        make, snr = makers[k % len(makers)]
        x = synth.place(x, make(k), float(at), snr)
    return x


def cpu_rtf(audio_s: float, run: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Best real-time factor over `repeat` runs (CPU seconds of this process)."""
    best, result = 0.0, None
    for _ in range(repeat):
        started = time.process_time()
        result = run()
        best = max(best, audio_s / max(time.process_time() - started, 1e-9))
    return best, result


def main() -> None:
    """Print the real-time factors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--block", type=float, default=0.5, help="seconds per block fed to the analyser")
    parser.add_argument("--eval", action="store_true", help="also evaluate on a generated labelled folder")
    args = parser.parse_args()
    if args.eval:
        evaluation()
    x = scene(args.seconds)
    seconds = len(x) / 16000
    print(f"scene: {seconds:.0f} s of synthetic crowd audio with {int((seconds - 8) // 6) + 1} events, "
          f"blocks of {args.block} s, 1 thread, best of {args.repeat}")

    def frontend() -> object:
        f = SpectralFrontend()
        step = round(args.block * 16000)
        return [f.process(x[i:i + step]) for i in range(0, len(x), step)]

    rtf, _ = cpu_rtf(seconds, frontend, args.repeat)
    print(f"  front end (STFT + features)        {rtf:8.0f}x real time")
    for name in ("impulse", "glass", "scream", "siren", "crowd"):
        cfg = AudioAnalysisConfig(detectors=[{"type": name}], speech_gate=False)
        rtf, _ = cpu_rtf(seconds, lambda cfg=cfg: analyse_signal(x, cfg, args.block), args.repeat)
        print(f"  front end + {name:<24} {rtf:8.0f}x real time")
    SpeechGate.shared()  # load once, outside the timing
    rtf, events = cpu_rtf(seconds, lambda: analyse_signal(x, AudioAnalysisConfig(), args.block), args.repeat)
    found = sorted({e.category for e in events})  # type: ignore[attr-defined]
    print(f"  DEFAULT SET (+ speech gate)        {rtf:8.0f}x real time   "
          f"({len(events)} events: {', '.join(found)})")  # type: ignore[arg-type]
    print(f"    -> one core serves about {int(rtf)} microphones (target >= 50x)")
    gate = SpeechGate.shared()
    rtf, _ = cpu_rtf(seconds, lambda: gate.frame_probabilities(x), args.repeat)
    print(f"  Silero VAD on the whole stream     {rtf:8.0f}x real time (only candidates are checked by default)")
    with tempfile.TemporaryDirectory() as tmp:
        wav, mp4 = Path(tmp) / "scene.wav", Path(tmp) / "scene.mp4"
        sf.write(str(wav), x, 16000)
        subprocess.run([find_ffmpeg(), "-loglevel", "error", "-y", "-i", str(wav), "-ar", "44100", "-c:a", "aac",
                        str(mp4)], check=True)

        def decode() -> object:
            return read_audio(mp4)

        started = time.perf_counter()
        children = os.times()
        for _ in range(args.repeat):
            decode()
        after = os.times()
        wall = (time.perf_counter() - started) / args.repeat
        cpu = (after.children_user + after.children_system - children.children_user - children.children_system
               + after.user + after.system - children.user - children.system) / args.repeat
        print(f"  ffmpeg decode of AAC 44.1 kHz      {seconds / cpu:8.0f}x real time (CPU, child + parent), "
              f"{seconds / wall:.0f}x wall")


def evaluation() -> None:
    """Precision, recall and false alarms per hour on a generated labelled folder."""
    from detectors.audio.demo import write_demo_scene
    from detectors.audio.evaluate import evaluate_folder

    media = Path(__file__).resolve().parents[1] / ".media" / "audio"
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(10):
            for offset in (0.0, -6.0, -12.0):
                write_demo_scene(Path(tmp) / f"scene-{seed}-{int(-offset)}.wav", media=media, seed=100 + seed,
                                 snr_offset_db=offset)
        for seed in range(10):
            sf.write(str(Path(tmp) / f"crowd-{seed}.wav"), synth.crowd_noise(60, 1000 + seed, 0.01 * (1 + seed)),
                     16000)
        started = time.perf_counter()
        report = evaluate_folder(tmp)
        print(f"evaluation ({time.perf_counter() - started:.0f} s wall): 30 demo scenes (event SNR 20-25, 14-19 and "
              "8-13 dB over the crowd, Debian recordings where fetched) + 10 min of unlabelled crowd noise")
        print(report.format())


if __name__ == "__main__":
    main()
