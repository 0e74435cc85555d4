"""Video detector benchmark: feeds per CPU core, decode vs analysis, motion-gate speed-up, ONNX batch fps.

    .venv/bin/python bench/video_bench.py [--seconds 40] [--core 0] [--skip-onnx]

Measures, pinned to ONE CPU core with OpenCV and ONNX Runtime single-threaded:
1. 720p feeds at 10 analysed frames/s one core sustains with the default analysers (motion-gated):
   vtest.avi upscaled to 1280x720 and re-encoded (MPEG-4 part 2, the codec OpenCV's wheel can write);
   per-frame decode and analysis times are measured separately; feeds/core = 1000 / (10 x (decode + analysis)).
2. The motion gate's speed-up on vtest.avi (768x576): the default chain with the gate vs the same
   analysers with no gate (HOG on the whole frame at the same rate).
3. ONNX detector frames/s at batch 1/8/32 on the CPU provider (nudenet's YOLOv8n, 320x320), one thread,
   and with the runtime's default threads.
Sample media comes from scripts/fetch_media.sh (Debian opencv-doc); the 720p clip is derived into bench/results/.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detectors.config import ZoneConfig, parse_site_config
from detectors.defaults import default_analysers
from detectors.media import sample_video
from detectors.worker import Worker

RESULTS = Path(__file__).resolve().parent / "results"
ZONE = {"name": "fountain", "polygon": [[0.35, 0.45], [0.65, 0.45], [0.65, 0.8], [0.35, 0.8]]}


def make_720p(source: Path, seconds: float) -> Path:
    """vtest upscaled to 1280x720 (looped to `seconds`), encoded MPEG-4 part 2."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"vtest_720p_{int(seconds)}s.mp4"
    if target.is_file():
        return target
    capture = cv2.VideoCapture(str(source))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_LINEAR))
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (1280, 720))
    for i in range(int(seconds * 10)):
        writer.write(frames[i % len(frames)])
    writer.release()
    return target


def run_chain(path: Path, analysers: list[dict[str, Any]], tmp: Path, max_frames: int = 10**9) -> dict[str, Any]:
    """Decode and analyse one file feed at 10 fps in this thread; per-frame times in ms."""
    config = parse_site_config({
        "feeds": [{"id": "cam", "source": {"type": "file", "path": str(path), "analysis_fps": 10.0},
                   "zones": [ZONE], "analysers": analysers}],
        "evidence": {"directory": str(tmp / "evidence")},
    })
    worker = Worker(config)
    runtime = worker.runtimes[0]
    decode = analysis = evidence = 0.0
    frames = gated = 0
    items = runtime.feed.items()
    while True:
        started = time.perf_counter()
        item = next(items, None)
        decoded = time.perf_counter()
        if item is None or frames >= max_frames:
            break
        worker.process([(runtime, item)])
        analysed = time.perf_counter()
        worker.drain()  # evidence runs on the delivery thread: wait, so its time is not hidden in others'
        decode += decoded - started
        analysis += analysed - decoded
        evidence += time.perf_counter() - analysed
        frames += 1
    worker.run_finish()
    stats = worker.stats
    gated = stats.feeds["cam"].gated_frames
    return {
        "frames": frames, "gated": gated, "decode_ms": 1000 * decode / frames, "analysis_ms": 1000 * analysis / frames,
        "per_analyser_ms": {k: round(1000 * v / frames, 2) for k, v in stats.analyser_s.items()},
        "snapshots": stats.snapshots, "evidence_ms": 1000 * stats.evidence_s / max(1, stats.snapshots),
        "evidence_share_ms": 1000 * evidence / frames,
    }


def onnx_fps(threads: int | None, frames: list[np.ndarray], batches: tuple[int, ...]) -> dict[int, float]:
    """Frames/s of the packaged YOLOv8n at each batch size (letterbox + inference + decode)."""
    from detectors.analysers.onnx_detector import OnnxDetector, OnnxDetectorConfig

    detector = OnnxDetector(OnnxDetectorConfig(model="package:nudenet/320n.onnx", max_batch=64,
                                               runtime={"intra_op_threads": threads}))
    out = {}
    for batch in batches:
        chunk = [frames[i % len(frames)] for i in range(batch)]
        detector.detect(chunk)  # warm-up
        runs, started = 0, time.perf_counter()
        while runs < 3 or time.perf_counter() - started < 3.0:
            detector.detect(chunk)
            runs += 1
        out[batch] = batch * runs / (time.perf_counter() - started)
    return out


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the 720p clip analysed")
    parser.add_argument("--gate-frames", type=int, default=300, help="vtest frames for the gate comparison")
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin to")
    parser.add_argument("--skip-onnx", action="store_true")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    cv2.setNumThreads(1)
    tmp = RESULTS / "tmp"
    vtest = sample_video()
    clip = make_720p(vtest, args.seconds)
    zones = [ZoneConfig.model_validate(ZONE)]
    print(f"pinned to core {args.core}; OpenCV {cv2.__version__}, 1 thread")
    for label, chain in (("default chain", default_analysers(zones, crowd_motion=False)),
                         ("default chain + crowd motion (optical flow)", default_analysers(zones))):
        result = run_chain(clip, chain, tmp)
        per_frame = result["decode_ms"] + result["analysis_ms"]
        with_evidence = per_frame + result["evidence_share_ms"]
        floor = 1000 / (10 * result["decode_ms"])
        print(f"\n[1] {label}: {[a['type'] for a in chain]}")
        print(f"    720p (1280x720, mp4v) at 10 analysed fps, {result['frames']} frames of busy plaza video")
        print(f"    decode   {result['decode_ms']:.1f} ms/frame (the floor: {floor:.1f} feeds)")
        print(f"    analysis {result['analysis_ms']:.1f} ms/frame {result['per_analyser_ms']}")
        print(f"    evidence {result['evidence_share_ms']:.1f} ms/frame ({result['snapshots']} redacted snapshot(s) x "
              f"{result['evidence_ms']:.0f} ms; one per incident, off the analysis thread)")
        print(f"    frames the gate skipped entirely: {result['gated']}/{result['frames']}")
        print(f"    => {1000 / (10 * per_frame):.2f} feeds of 720p at 10 fps per CPU core "
              f"({1000 / (10 * with_evidence):.2f} counting this clip's evidence snapshots)")

    chain = default_analysers(zones)
    gated = run_chain(vtest, chain, tmp, args.gate_frames)
    ungated = run_chain(vtest, [{**a, "gated": False} for a in chain if a["type"] != "motion"], tmp, args.gate_frames)
    print(f"\n[2] motion gate on vtest.avi (768x576, first {gated['frames']} frames), analysis only, full chain")
    print(f"    with gate    {gated['analysis_ms']:.1f} ms/frame  {gated['per_analyser_ms']}")
    print(f"    without gate {ungated['analysis_ms']:.1f} ms/frame  {ungated['per_analyser_ms']}")
    print(f"    => speed-up x{ungated['analysis_ms'] / gated['analysis_ms']:.2f} for the chain; "
          f"x{ungated['per_analyser_ms']['hog-people'] / gated['per_analyser_ms']['hog-people']:.2f} for HOG")

    if not args.skip_onnx:
        capture = cv2.VideoCapture(str(vtest))
        frames = [capture.read()[1] for _ in range(32)]
        print("\n[3] ONNX detector (nudenet YOLOv8n 320x320, CPU provider), frames/s incl. letterbox + decode + NMS")
        one = onnx_fps(1, frames, (1, 8, 32))
        print("    1 thread:        " + "  ".join(f"batch {b}: {fps:.1f}" for b, fps in one.items()))
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        default = onnx_fps(None, frames, (1, 8, 32))
        figures = "  ".join(f"batch {b}: {fps:.1f}" for b, fps in default.items())
        print(f"    default threads ({os.cpu_count()} cores): {figures}")


if __name__ == "__main__":
    main()
