"""The worker: feeds → motion gate → analysers (batched across feeds) → event rules → evidence → sinks.

One reader thread per feed decodes and samples frames into a small queue (live feeds drop the oldest
frame when analysis falls behind; files apply back-pressure and lose nothing). The analysis loop takes
at most one frame per feed per round, runs the analysers stage by stage, hands analysers that share a
model (same `batch_key`) all the round's frames in one call, and turns observations into detections.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from detectors import __version__
from detectors.analysers.base import ANALYSERS, CONTEXT_BUILDERS, Analyser, FrameContext, Zone
from detectors.config import FeedSetup, SiteConfig, zones_at_size
from detectors.errors import FeedDeadError, PluginError
from detectors.events import Detection, EventRules, Evidence, Observation, Phase
from detectors.evidence import EvidenceStore
from detectors.feeds.base import Feed, FeedHealth, FeedItem, FeedState, create_feed
from detectors.sinks.base import SINKS, Sink

log = logging.getLogger(__name__)

FrameHook = Callable[[FrameContext, Sequence[Observation], Sequence[Detection]], None]
_END = object()


@dataclass
class FeedStats:
    """Counters of one feed, for logs, the CLI and the benchmark."""

    frames: int = 0
    dropped: int = 0
    decode_s: float = 0.0
    analysis_s: float = 0.0
    gated_frames: int = 0
    detections: int = 0
    state: FeedState = FeedState.CONNECTING
    error: str | None = None


@dataclass
class WorkerStats:
    """What a worker run did; `analyser_s` is the analysis time per analyser name."""

    feeds: dict[str, FeedStats] = field(default_factory=dict)
    analyser_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    batches: int = 0
    batched_frames: int = 0
    evidence_s: float = 0.0
    snapshots: int = 0


@dataclass
class FeedRuntime:
    """A feed with its analysers, rules and reader thread."""

    setup: FeedSetup
    feed: Feed[Any]
    analysers: list[Analyser[FrameContext]]
    rules: EventRules
    stats: FeedStats
    queue: queue.Queue[Any]
    zones: list[Zone] | None = None
    thread: threading.Thread | None = None
    done: bool = False
    last_time: float = 0.0
    last_wall: datetime = field(default_factory=lambda: datetime.now(UTC))


def build_analysers(setup: FeedSetup) -> list[Analyser[FrameContext]]:
    """One instance of each configured analyser for one feed, in stage order."""
    analysers = [ANALYSERS.create(cfg) for cfg in setup.analysers]
    return sorted(analysers, key=lambda a: type(a.config).stage)


class Worker:
    """Runs every feed of a site config until the feeds end or `stop` is set."""

    def __init__(self, config: SiteConfig, sinks: Iterable[Sink] = (), *, on_frame: FrameHook | None = None) -> None:
        self.config = config
        self.sinks = list(sinks) + [SINKS.create(cfg) for cfg in config.sinks]
        self.on_frame = on_frame
        self.evidence = EvidenceStore(config.evidence)
        self.stats = WorkerStats()
        self._evidence_of: dict[str, tuple[Evidence, ...]] = {}
        self._ready = threading.Event()
        self._outbox: queue.Queue[tuple[Detection, Any, list[Any]]] = queue.Queue()
        self._delivery: threading.Thread | None = None
        self.runtimes = [self._runtime(setup) for setup in config.feeds]

    def _runtime(self, setup: FeedSetup) -> FeedRuntime:
        stats = FeedStats()
        self.stats.feeds[setup.id] = stats
        feed = create_feed(setup.source, setup.id, self._health)
        rules = EventRules(setup.id, "microphone" if setup.source.media == "audio" else "camera", __version__,
                           setup.events, setup.events_per_category)
        return FeedRuntime(setup, feed, build_analysers(setup), rules, stats,
                           queue.Queue(maxsize=self.config.runtime.queue_size))

    def _health(self, health: FeedHealth) -> None:
        stats = self.stats.feeds[health.feed_id]
        stats.state, stats.error = health.state, health.error
        for sink in self.sinks:
            try:
                sink.health(health)
            except Exception:
                log.exception("sink %s failed to take feed health", type(sink).__name__)

    def _read(self, runtime: FeedRuntime, stop: threading.Event) -> None:
        drop_oldest = runtime.feed.live
        iterator = runtime.feed.items(stop)
        try:
            while not stop.is_set():
                started = time.perf_counter()
                item = next(iterator, None)
                runtime.stats.decode_s += time.perf_counter() - started
                if item is None:
                    break
                self._put(runtime, item, stop, drop_oldest)
        except FeedDeadError as exc:
            runtime.stats.error = str(exc)
        except Exception as exc:  # a bug in one feed must not take the others down silently
            log.exception("feed %s reader crashed", runtime.setup.id)
            runtime.stats.state, runtime.stats.error = FeedState.DEAD, repr(exc)
        finally:
            self._put(runtime, _END, stop, False, force=True)

    def _put(self, runtime: FeedRuntime, item: object, stop: threading.Event, drop_oldest: bool,
             force: bool = False) -> None:
        while True:
            try:
                runtime.queue.put(item, timeout=0.1)
                break
            except queue.Full:
                if drop_oldest or (force and stop.is_set()):
                    try:
                        runtime.queue.get_nowait()
                        runtime.stats.dropped += 1
                    except queue.Empty:
                        pass
                elif stop.is_set() and not force:
                    return
        self._ready.set()

    def run(self, stop: threading.Event | None = None) -> WorkerStats:
        """Start the readers and analyse until every feed has ended (or died) or `stop` is set."""
        stop = stop or threading.Event()
        for runtime in self.runtimes:
            runtime.thread = threading.Thread(target=self._read, args=(runtime, stop),
                                              name=f"feed-{runtime.setup.id}", daemon=True)
            runtime.thread.start()
        try:
            while not all(r.done for r in self.runtimes):
                batch: list[tuple[FeedRuntime, FeedItem[Any]]] = []
                for runtime in self.runtimes:
                    if runtime.done:
                        continue
                    try:
                        item = runtime.queue.get_nowait()
                    except queue.Empty:
                        continue
                    if item is _END:
                        self._finish(runtime)
                    else:
                        batch.append((runtime, item))
                if batch:
                    self.process(batch)
                elif stop.is_set():
                    break
                else:
                    self._ready.wait(0.05)
                    self._ready.clear()
        finally:
            stop.set()
            for runtime in self.runtimes:
                if not runtime.done:
                    self._finish(runtime)
            self.drain()
            for sink in self.sinks:
                try:
                    sink.close()
                except Exception:
                    log.exception("sink %s failed to close", type(sink).__name__)
        return self.stats

    def run_finish(self) -> None:
        """End open incidents and close sinks when frames were fed through `process` directly."""
        for runtime in self.runtimes:
            if not runtime.done:
                self._finish(runtime)
        self.drain()
        for sink in self.sinks:
            sink.close()

    def _finish(self, runtime: FeedRuntime) -> None:
        runtime.done = True
        pending = [obs for analyser in runtime.analysers for obs in analyser.finish()]
        due = runtime.rules.step(runtime.last_time, runtime.last_wall, pending) if pending else []
        self._emit(runtime, [*due, *runtime.rules.flush(runtime.last_time)], None)

    def process(self, batch: Sequence[tuple[FeedRuntime, FeedItem[Any]]]) -> list[Detection]:
        """Analyse one round (at most one frame per feed) and emit its detections."""
        contexts: list[Any] = []
        for runtime, item in batch:
            media = runtime.setup.source.media
            if runtime.zones is None:
                shape: tuple[int, ...] = tuple(getattr(item.data, "shape", ()))
                runtime.zones = (zones_at_size(runtime.setup.zones, shape[1], shape[0])
                                 if media == "video" and len(shape) >= 2 else [])
            try:
                build = CONTEXT_BUILDERS[media]
            except KeyError:
                raise PluginError(f"no analyser context registered for {media} feeds") from None
            contexts.append(build(item, runtime.zones))
        observations: list[list[Observation]] = [[] for _ in batch]
        work = sorted(
            ((type(a.config).stage, i, a) for i, (rt, _) in enumerate(batch) for a in rt.analysers),
            key=lambda w: (w[0], w[1]),
        )
        for stage in sorted({w[0] for w in work}):
            groups: dict[Any, list[tuple[int, Analyser[FrameContext]]]] = defaultdict(list)
            for _, i, analyser in (w for w in work if w[0] == stage):
                key = analyser.batch_key()
                groups[key if key is not None else (id(analyser),)].append((i, analyser))
            for members in groups.values():
                self._run_group(members, contexts, observations, batch)
        detections: list[Detection] = []
        for (runtime, item), ctx, found in zip(batch, contexts, observations, strict=True):
            runtime.stats.frames += 1
            runtime.last_time, runtime.last_wall = item.stream_time, item.wall_time
            motion = getattr(ctx, "motion", None)
            if motion is not None and not motion.moving:
                runtime.stats.gated_frames += 1
            due = runtime.rules.step(item.stream_time, item.wall_time, found)
            detections += self._emit(runtime, due, ctx)
            if self.on_frame is not None:
                self.on_frame(ctx, found, due)
        return detections

    def _run_group(self, members: list[tuple[int, Analyser[FrameContext]]], contexts: list[FrameContext],
                   observations: list[list[Observation]], batch: Sequence[tuple[FeedRuntime, Any]]) -> None:
        live: list[tuple[int, Analyser[FrameContext]]] = []
        for i, analyser in members:
            motion = getattr(contexts[i], "motion", None)
            if analyser.config.gated and motion is not None and not motion.moving:
                observations[i] += analyser.hold(contexts[i])
            else:
                live.append((i, analyser))
        if not live:
            return
        started = time.perf_counter()
        if len(live) == 1:
            i, analyser = live[0]
            results = [analyser.analyse(contexts[i])]
        else:
            results = live[0][1].analyse_batch([contexts[i] for i, _ in live])
            self.stats.batches += 1
            self.stats.batched_frames += len(live)
        elapsed = time.perf_counter() - started
        self.stats.analyser_s[live[0][1].name] += elapsed
        for (i, _), found in zip(live, results, strict=True):
            observations[i] += found
            batch[i][0].stats.analysis_s += elapsed / len(live)

    def _emit(self, runtime: FeedRuntime, due: Sequence[Detection], ctx: FrameContext | None) -> list[Detection]:
        """Queue detections for the delivery thread (evidence then sinks), keeping their order."""
        out = []
        for detection in due:
            detection = replace(detection, zone=detection.zone or runtime.setup.area,
                                venue=self.config.site.venue, municipality=self.config.site.municipality)
            runtime.stats.detections += 1
            frame = getattr(ctx, "frame", None)  # video contexts only: audio has no snapshot
            boxes = [*detection.boxes, *getattr(ctx, "objects", [])]
            # the frame is only read (never written) after analysis, so no copy is needed
            self._outbox.put((detection, frame, boxes))
            out.append(detection)
        self._ensure_delivery()
        return out

    def _ensure_delivery(self) -> None:
        if self._delivery is None:
            self._delivery = threading.Thread(target=self._deliver_loop, name="detections", daemon=True)
            self._delivery.start()

    def drain(self) -> None:
        """Wait until every queued detection has its evidence and has reached the sinks."""
        if self._delivery is not None:
            self._outbox.join()

    def _deliver_loop(self) -> None:
        # redaction and hashing run here, off the analysis thread: a Haar pass costs far more than a frame
        while True:
            detection, frame, boxes = self._outbox.get()
            try:
                self._deliver(detection, frame, boxes)
            except Exception:
                log.exception("delivering detection %s failed", detection.incident_id)
            finally:
                self._outbox.task_done()

    def _deliver(self, detection: Detection, frame: Any, boxes: list[Any]) -> None:
        evidence = self._evidence_of.get(detection.incident_id)
        if evidence is None and frame is not None:
            started = time.perf_counter()
            try:
                evidence = (self.evidence.snapshot(frame, boxes),)
            except Exception:
                log.exception("evidence snapshot failed for %s", detection.incident_id)
                evidence = ()
            self.stats.evidence_s += time.perf_counter() - started
            self.stats.snapshots += 1
            self._evidence_of[detection.incident_id] = evidence
        if detection.phase is Phase.END:
            self._evidence_of.pop(detection.incident_id, None)
        detection = detection.with_evidence(*(evidence or ()))
        for sink in self.sinks:
            try:
                sink.emit(detection)
            except Exception:
                log.exception("sink %s failed on detection %s", type(sink).__name__, detection.incident_id)
