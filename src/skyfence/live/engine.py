"""The live engine: measurement lines in, one :class:`~skyfence.live.hub.Snapshot` per
output tick out — ``skyfence track``'s pipeline (track_io.run_track) run as the
data arrive.

:class:`LiveEngine` mirrors run_track exactly: the same
:class:`~skyfence.track_io.ScanReader` (lines → scans in time order, bad
lines counted and skipped, a reorder window), the same
:class:`~skyfence.tracker.Tracker` stepped scan by scan, and at every output
tick ``k · output_period_s`` — emitted just before the first scan after it,
as the TickWriter does — the :class:`~skyfence.assess.engine.Assessor`
over the confirmed tracks predicted to the tick. Same inputs, same numbers:
a tick's tracks are the tracks.jsonl lines run_track writes for it, plus the
detail keys the API serves (``trail``, ``evidence``, ``zones``, ``swarm_id``,
``suspect``, ``operator_enu_m``).

:meth:`LiveEngine.run` is the asyncio loop: it waits for each batch's time
(:class:`~skyfence.live.sources.Pacer`), then hands the CPU work — reading,
tracking, assessing, building the snapshot and writing it to the sink (the
event store, before anything is published) — to one worker thread, and
publishes the snapshots to the :class:`~skyfence.live.hub.Hub` on the event
loop. One thread, not a pool: the tracker is not thread-safe and an SQLite
connection belongs to the thread that opened it. Batches already due when
the worker comes back (the engine behind the clock, or a high ``speed``) go
over in one hand-off, so the loop catches up instead of paying a thread
switch per batch — up to the first batch that completes a tick, so each
tick is published (and ``stop`` looked at) as soon as it is made, before the
next batch is read (or simulated).
Acknowledgements (:meth:`Hub.ack` → :meth:`LiveEngine.ack`, from the API's
request threads) take a lock shared with the assessment step.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
import numpy as np

from skyfence.assess.alerts import Alert
from skyfence.assess.engine import Assessor, TickAssessment
from skyfence.live.hub import Hub, Record, Snapshot
from skyfence.live.sources import Batch, Pacer
from skyfence.scenario import Scenario
from skyfence.track_io import ScanReader, track_lines
from skyfence.tracker import Detections, Tracker, TrackerParams
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.evidence import explain


class TickSink(Protocol):
    """Where each tick goes besides the hub: the event store
    (:class:`skyfence.store.EventStore`); measurements as measurements.jsonl objects."""

    def write_tick(self, snapshot: Snapshot, measurements: Sequence[Record] = ()) -> None: ...

    def flush(self) -> None: ...

    def record_ack(self, alert_id: str, operator: str, t_ack: float) -> None: ...


class Source(Protocol):
    """A measurement source (sources.py)."""

    name: str

    def batches(self) -> Iterator[Batch]: ...


_LATER = Batch(math.nan)  # work(): "the next batch is not read yet"

Tick = tuple[Snapshot, list[bytes]]
"""A tick's snapshot and the measurement lines that arrived since the previous one."""


class LatencyStats:
    """Per-tick latency (s) statistics: from the measurements in to the tick published."""

    def __init__(self, keep: int = 100_000) -> None:
        self.samples: deque[float] = deque(maxlen=keep)
        self.count = 0

    def add(self, seconds: float) -> None:
        self.samples.append(max(seconds, 0.0))
        self.count += 1

    def summary(self) -> dict[str, float | int | None]:
        if not self.samples:
            return {"ticks": 0, "mean_ms": None, "p50_ms": None, "p95_ms": None, "max_ms": None}
        a = np.asarray(self.samples) * 1e3
        return {"ticks": self.count, "mean_ms": round(float(a.mean()), 2),
                "p50_ms": round(float(np.percentile(a, 50)), 2),
                "p95_ms": round(float(np.percentile(a, 95)), 2),
                "max_ms": round(float(a.max()), 2)}


@dataclass
class _Due:
    """Ticks made by one batch, with the wall time the batch was due."""

    due: float
    ticks: list[Tick]


def _finite(values: Sequence[float], digits: int) -> list[float] | None:
    return None if not all(math.isfinite(v) for v in values) else [round(v, digits)
                                                                    for v in values]


class LiveEngine:
    """Reader → tracker → assessor → snapshots, one line at a time (module doc)."""

    def __init__(self, site: Scenario, params: TrackerParams | None = None,
                 output_period_s: float = 1.0, reorder_window_s: float = 0.5,
                 sink: TickSink | None = None) -> None:
        if not output_period_s > 0:
            raise ValueError("output_period_s must be > 0")
        self.site = site
        self.reader = ScanReader(site, reorder_window_s)
        self.tracker = Tracker(self.reader.specs, params or TrackerParams())
        self.assessor = Assessor(self.reader.specs, site.site.zones,
                                 self.tracker.params.evidence)
        self.period_s = output_period_s
        self.sink = sink
        self.latency = LatencyStats()  # hand-off (or due, if later) → published: the engine's work
        self.lag = LatencyStats()  # due → published: how far behind the clock the picture is
        self.latest: Snapshot | None = None
        self.scans = self.ticks = self.alerts_ended = 0
        self.associated = self.initiated = self.rejected = 0
        self.t_first_s = self.t_last_s = math.nan
        self._next_k: int | None = None
        self._reports = np.zeros(len(self.reader.specs), dtype=np.int64)
        self._lines: list[bytes] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------ data in
    def feed(self, batch: Batch) -> list[Tick]:
        """Take a batch of measurement lines; the ticks it completed, in order."""
        out: list[Tick] = []
        for k, raw in enumerate(batch.lines):
            self._lines.append(raw)
            for scan in self.reader.feed(raw, batch.origin, batch.first_line + k):
                self._step(scan, out)
        return out

    def finish(self) -> list[Tick]:
        """The end of the data: every held scan, and the ticks up to the last one
        (as run_track's last ``until``). Active alerts stay active."""
        out: list[Tick] = []
        for scan in self.reader.flush():
            self._step(scan, out)
        if math.isfinite(self.t_last_s):
            self._ticks_until(self.t_last_s, out)
        return out

    def ack(self, alert_id: str, operator: str, t_s: float) -> Record:
        """Acknowledge an active alert (the hub's ``on_ack``): its record, acked.
        Unknown or ended: LookupError; no operator: ValueError."""
        with self._lock:
            before = self.assessor.alerts.get(alert_id).acked_by
            record = self.assessor.alerts.ack(alert_id, operator, t_s).record()
        if before is None and self.sink is not None:  # the first ack is the one kept
            self.sink.record_ack(alert_id, operator, t_s)
        return record

    def _step(self, scan: Detections, out: list[Tick]) -> None:
        if self._next_k is None:
            self._next_k = math.ceil(scan.t_s / self.period_s - 1e-9)
        self._ticks_until(scan.t_s - 1e-9, out)  # the ticks before this scan
        result = self.tracker.step(scan)
        self._reports[scan.sensor] += len(scan)
        self.scans += 1
        self.associated += result.associated
        self.initiated += result.initiated
        self.rejected += result.rejected
        self.t_first_s = scan.t_s if math.isnan(self.t_first_s) else self.t_first_s
        self.t_last_s = scan.t_s

    def _ticks_until(self, t_s: float, out: list[Tick]) -> None:
        while self._next_k is not None and self._next_k * self.period_s <= t_s:
            out.append(self._tick(self._next_k * self.period_s))
            self._next_k += 1

    def _tick(self, t_s: float) -> Tick:
        bank = self.tracker.confirmed_at(t_s)
        with self._lock:
            assessed = self.assessor.assess(t_s, bank, self._reports)
            ended = self.assessor.pop_ended()
            active = self.assessor.alerts.active()
        self._reports[:] = 0
        snapshot = Snapshot(t_s, self._tracks(t_s, bank, assessed), _swarms(assessed),
                            _alerts(active, ended), self._health())
        lines, self._lines = self._lines, []
        self.latest = snapshot
        self.ticks += 1
        self.alerts_ended += len(ended)
        return snapshot, lines

    # ------------------------------------------------------------ the picture
    def _tracks(self, t_s: float, bank: TrackBank,
                assessed: TickAssessment) -> dict[int, Record]:
        rows = track_lines(t_s, bank, self.tracker.params, assessed)
        if not rows:
            return {}
        trail_t, trail_x = bank.trails()
        trails = np.round(np.concatenate([trail_t[:, :, None], trail_x[:, :, :3]], axis=2),
                          2).tolist()
        lengths = bank.trail_len.tolist()
        swarm = assessed.swarm_id.tolist()
        suspect = assessed.trust.suspect.tolist()
        operator = bank.operator_enu_m.tolist()
        names = assessed.zones.names
        enter = np.round(assessed.zones.time_to_enter_s, 2).tolist()
        for i, row in enumerate(rows):
            row["trail"] = trails[i][: lengths[i]]
            row["evidence"] = explain(bank.class_loglik[i])
            row["zones"] = {z: (e if math.isfinite(e) else None)
                            for z, e in zip(names, enter[i], strict=True)}
            row["swarm_id"] = swarm[i] if swarm[i] >= 0 else None
            row["suspect"] = bool(suspect[i])
            row["operator_enu_m"] = _finite(operator[i], 2)
        return {row["track_id"]: row for row in rows}

    def _health(self) -> dict[str, Record]:
        h = self.assessor.last_health
        if h is None:
            return {}
        return {s: {"sensor": s, "silent": bool(h.silent[i]), "low_rate": bool(h.low_rate[i]),
                    "recent_count": int(h.recent_count[i]),
                    "expected_count": round(float(h.expected_count[i]), 2)}
                for i, s in enumerate(h.sensor_id)}

    # ------------------------------------------------------------ the loop
    def summary(self) -> dict[str, Any]:
        c = self.reader.counts
        return {
            "ticks": self.ticks, "scans": self.scans, "measurements": c.accepted,
            "measurements_used": self.associated + self.initiated,
            "bad_lines": c.bad, "bad_line_examples": c.examples[:5], "late_lines": c.late,
            "tracks_confirmed": self.tracker.confirmed_total,
            "alerts_ended": self.alerts_ended,
            "t_first_s": None if math.isnan(self.t_first_s) else self.t_first_s,
            "t_last_s": None if math.isnan(self.t_last_s) else self.t_last_s,
            "latency": self.latency.summary(), "lag": self.lag.summary(),
        }

    async def run(self, source: Source, hub: Hub, stop: asyncio.Event | None = None,
                  pacer: Pacer | None = None,
                  sleep: Callable[[float], Any] | None = None, duration_s: float | None = None,
                  on_tick: Callable[[Snapshot], None] | None = None,
                  max_batches_per_handoff: int = 1000) -> dict[str, Any]:
        """Play ``source`` in real time (``pacer``; default 1×) until it ends, ``stop``
        is set or ``duration_s`` of scenario time has passed; publish every tick to
        ``hub`` (after writing it to :attr:`sink`); return :meth:`summary` with
        ``wall_s``. ``sleep`` (an awaitable, for tests) replaces waiting on ``stop``."""
        loop = asyncio.get_running_loop()
        sink = self.sink
        stop = stop or asyncio.Event()
        pacer = pacer or Pacer(1.0)
        clock = pacer.clock
        started = time.perf_counter()
        batches = iter(source.batches())
        end_s = math.inf

        def next_batch() -> Batch | None:
            nonlocal end_s
            batch = next(batches, None)
            if batch is not None and end_s == math.inf and duration_s is not None:
                end_s = batch.t_s + duration_s
            return None if batch is None or batch.t_s > end_s else batch

        def written(done: list[_Due]) -> list[_Due]:
            if sink is not None:
                for d in done:
                    for snap, lines in d.ticks:
                        sink.write_tick(snap, _records(lines))
            return done

        def pull() -> tuple[list[_Due], Batch | None]:
            """In the worker: the next batch; at the end, the last ticks."""
            nxt = next_batch()
            return ([] if nxt is not None else written([_Due(clock(), self.finish())])), nxt

        def work(batch: Batch) -> tuple[list[_Due], Batch | None]:
            """In the worker: this batch and those due after it, up to the first tick;
            the next batch (None: the end; _LATER: not read yet)."""
            done: list[_Due] = []
            nxt: Batch | None = batch
            for _ in range(max_batches_per_handoff):
                done.append(_Due(pacer.due_at(batch.t_s), self.feed(batch)))
                if done[-1].ticks:  # publish it now; the next batch on the next hand-off
                    nxt = _LATER
                    break
                ended, nxt = pull()
                if nxt is None:
                    done.extend(ended)
                    break
                batch = nxt
                if pacer.wait_s(batch.t_s) > 0:
                    break
            return written(done), nxt

        def publish(done: list[_Due], handed: float) -> None:
            for d in done:
                for snap, _ in d.ticks:
                    hub.publish(snap)
                    now = clock()
                    self.latency.add(now - max(d.due, handed))
                    self.lag.add(now - d.due)
                    if on_tick is not None:
                        on_tick(snap)

        with ThreadPoolExecutor(1, thread_name_prefix="skyfence-engine") as worker:
            hub.on_ack = self.ack
            handed = clock()
            done, pending = await loop.run_in_executor(worker, pull)
            publish(done, handed)
            while pending is not None and not stop.is_set():
                wait = pacer.wait_s(pending.t_s)
                if wait > 0:
                    if sleep is not None:
                        await sleep(wait)
                    else:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), wait)
                    if stop.is_set():
                        break
                handed = clock()
                done, pending = await loop.run_in_executor(worker, work, pending)
                publish(done, handed)
                if pending is _LATER and not stop.is_set():
                    handed = clock()
                    done, pending = await loop.run_in_executor(worker, pull)
                    publish(done, handed)
            if sink is not None:
                await loop.run_in_executor(worker, sink.flush)
        result = self.summary()
        result["wall_s"] = round(time.perf_counter() - started, 3)
        return result


def _swarms(assessed: TickAssessment) -> dict[int, Record]:
    s = assessed.swarms
    centroid = np.round(s.centroid_enu_m, 2).tolist()
    velocity = np.round(s.velocity_mps, 2).tolist()
    out: dict[int, Record] = {}
    for k, sid in enumerate(s.id.tolist()):
        heading = float(s.heading_deg[k])
        out[sid] = {"swarm_id": sid, "count": int(s.count[k]), "members": s.members(k).tolist(),
                    "centroid_enu_m": centroid[k], "velocity_mps": velocity[k],
                    "heading_deg": round(heading, 1) if math.isfinite(heading) else None,
                    "spread_m": round(float(s.spread_m[k]), 2)}
    return out


def _records(lines: list[bytes]) -> list[Record]:
    """Measurement lines as objects for the store (the bad ones, counted by the reader,
    left out)."""
    out: list[Record] = []
    for raw in lines:
        try:
            obj = _decode(raw)
        except msgspec.DecodeError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


_decode = msgspec.json.Decoder().decode


def _alerts(active: list[Alert], ended: list[Alert]) -> dict[str, Record]:
    """Active alerts and those ended this tick, as alert records."""
    return {a.alert_id: a.record() for a in [*active, *ended]}
