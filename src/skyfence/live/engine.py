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
detail keys the API serves (``evidence``, ``zones``, ``swarm_id``, ``suspect``,
``operator_enu_m``) and, beside the records, the tracks' trails.

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
request threads) take a lock shared with the assessment step, and so does a
new configuration (:meth:`LiveEngine.configure`, ``PUT /api/config``), in
effect from the next tick.

When no data come at all, the loop makes the due ticks from the clock
(:meth:`LiveEngine.idle`: held scans fed, tracks coasted and aged out, every
sensor reporting nothing), so the picture goes on and silent sensors show; a
line that comes later for a time at or before such a tick is late. A
restarted engine carries on after the last stored tick
(:meth:`LiveEngine.resume_after`, called by live/restart.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
import numpy as np

from skyfence.assess.alerts import Alert
from skyfence.assess.engine import Assessor, AssessParams, TickAssessment
from skyfence.live.hub import Hub, Record, Snapshot, Trails
from skyfence.live.sources import Batch, Pacer
from skyfence.scenario import Scenario
from skyfence.track_io import ScanReader, track_lines
from skyfence.tracker import Detections, Tracker, TrackerParams
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.evidence import explain_all


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


def quiet_gc(gen0_threshold: int = 50_000) -> None:
    """Tune Python's cyclic garbage collector for a live process (``skyfence run``).

    Every tick builds ~30 000 small containers (track records); with the default
    threshold (700 allocations) that set off dozens of collections a tick, each
    walking every live object — 60-80 % of a 1000-track tick's record building.
    The records hold no reference cycles (reference counting frees them), so
    the collector is let run every ``gen0_threshold`` allocations instead, and
    what exists at start-up (modules, the site) is frozen out of its walks."""
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


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


def _rows_or_none(a: np.ndarray, digits: int, per_value: bool = False) -> list[Any]:
    """Rows of ``a`` (N, k) as rounded lists; a row with a non-finite value as None
    (``per_value``: that value as None, the row kept)."""
    finite = np.isfinite(a)
    rows = np.round(np.where(finite, a, 0.0), digits).tolist()
    if per_value:
        return [[v if ok else None for v, ok in zip(r, f, strict=True)]
                for r, f in zip(rows, finite.tolist(), strict=True)]
    return [r if ok else None for r, ok in zip(rows, finite.all(axis=1).tolist(), strict=True)]


def _trails(bank: TrackBank) -> Trails:
    """The tracks' trails as arrays (copies; lists only if a full snapshot is sent)."""
    t_s, x = bank.trails()
    return Trails(bank.id.astype(np.int64), t_s, np.ascontiguousarray(x[:, :, :3]),
                  bank.trail_len.astype(np.int64))


class LiveEngine:
    """Reader → tracker → assessor → snapshots, one line at a time (module doc)."""

    def __init__(self, site: Scenario, params: TrackerParams | None = None,
                 output_period_s: float = 1.0, reorder_window_s: float = 0.5,
                 sink: TickSink | None = None, idle_after_s: float = 2.0) -> None:
        if not output_period_s > 0:
            raise ValueError("output_period_s must be > 0")
        if not idle_after_s >= 0:
            raise ValueError("idle_after_s must be >= 0")
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
        # no data for idle_after_s past the reorder window: the due ticks are made from
        # the clock (run(): idle ticks)
        self.idle_after_s = idle_after_s
        # what sensors say about themselves (SAPIENT StatusReports), by sensor id; merged
        # into each tick's health records as ``reported`` (live/feeds.py sets it)
        self.reported_health: Callable[[], Mapping[str, Record]] | None = None
        self._newest_s = -math.inf  # the newest batch fed
        self.idle_ticks = self.config_changes = 0
        self.resumed_after_s: float | None = None  # the stored tick a restart carried on from

    # ------------------------------------------------------------ data in
    def feed(self, batch: Batch) -> list[Tick]:
        """Take a batch of measurement lines; the ticks it completed, in order. An empty
        batch is a heartbeat — no data up to its time — and makes the idle ticks due
        by then (:meth:`idle`): a source that blocks waiting for data (a network
        feed) sends one now and then so the picture goes on when sensors fall silent."""
        if not batch.lines:  # a heartbeat: the source says nothing came up to t_s
            return self.idle(batch.t_s) if math.isfinite(batch.t_s) else []
        out: list[Tick] = []
        self._newest_s = max(self._newest_s, batch.t_s)
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

    def resume_after(self, t_s: float) -> None:
        """Carry on after the tick at ``t_s`` (a restart from the event store,
        live/restart.py): the next tick is the one after it, and nothing at or before
        it is read any more (a line there is counted as late)."""
        self.resumed_after_s = t_s
        self._next_k = round(t_s / self.period_s) + 1
        self._newest_s = max(self._newest_s, t_s)
        self.reader.skip_until(t_s)

    def configure(self, params: AssessParams) -> None:
        """New assessment parameters (the admin's ``PUT /api/config``), in effect from
        the next tick: applied under the lock the tick's assessment holds."""
        with self._lock:
            self.assessor.reconfigure(params)
            self.config_changes += 1

    def idle(self, now_s: float) -> list[Tick]:
        """The clock says scenario time ``now_s`` and no data came for the reorder
        window and ``idle_after_s``: the ticks up to then, made with what there is
        (held scans up to each tick fed first; the tracks coasted to it)."""
        out: list[Tick] = []
        quiet_s = now_s - self.reader.window_s - self.idle_after_s
        while self._next_k is not None and self._newest_s <= quiet_s:
            t_s = self._next_k * self.period_s
            if t_s > quiet_s:
                break
            for scan in self.reader.flush(t_s):
                self._step(scan, out)
            if self._next_k * self.period_s > t_s:  # (made by a scan after it)
                continue
            self.reader.skip_until(t_s)  # later lines at or before it: late
            self.tracker.coast(t_s)
            out.append(self._tick(t_s))
            self._next_k += 1
            self.idle_ticks += 1
        return out

    def idle_due_s(self) -> float | None:
        """The scenario time at which the next tick is made from the clock if no more
        data come (None before the first scan)."""
        if self._next_k is None:
            return None
        t_s = max(self._next_k * self.period_s, self._newest_s)
        return t_s + self.reader.window_s + self.idle_after_s

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
        reported = {} if self.reported_health is None else dict(self.reported_health())
        faults = {s for s, r in reported.items() if r.get("system") == "error"}
        with self._lock:
            assessed = self.assessor.assess(t_s, bank, self._reports, faults)
            ended = self.assessor.pop_ended()
            active = self.assessor.alerts.active()
        self._reports[:] = 0
        snapshot = Snapshot(t_s, self._tracks(t_s, bank, assessed), _swarms(assessed),
                            _alerts(active, ended), self._health(reported), _trails(bank))
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
        swarm = assessed.swarm_id.tolist()
        suspect = assessed.trust.suspect.tolist()
        operator = _rows_or_none(bank.operator_enu_m, 2)
        names = assessed.zones.names
        enter = _rows_or_none(assessed.zones.time_to_enter_s, 2, per_value=True)
        evidence = explain_all(bank.class_loglik)
        for i, row in enumerate(rows):
            row["evidence"] = evidence[i]
            row["zones"] = dict(zip(names, enter[i], strict=True))
            row["swarm_id"] = swarm[i] if swarm[i] >= 0 else None
            row["suspect"] = suspect[i]
            row["operator_enu_m"] = operator[i]
        return {row["track_id"]: row for row in rows}

    def _health(self, reported: Mapping[str, Record]) -> dict[str, Record]:
        """Each sensor's health record; ``reported``: what sensors say of themselves."""
        h = self.assessor.last_health
        if h is None:
            return {}
        fault = (h.reported_fault if h.reported_fault is not None
                 else np.zeros(len(h.sensor_id), dtype=bool))
        return {s: {"sensor": s, "silent": bool(h.silent[i]), "low_rate": bool(h.low_rate[i]),
                    "fault": bool(fault[i]), "recent_count": int(h.recent_count[i]),
                    "expected_count": round(float(h.expected_count[i]), 2),
                    **({"reported": reported[s]} if s in reported else {})}
                for i, s in enumerate(h.sensor_id)}

    # ------------------------------------------------------------ the loop
    def summary(self) -> dict[str, Any]:
        c = self.reader.counts
        return {
            "ticks": self.ticks, "scans": self.scans, "measurements": c.accepted,
            "measurements_used": self.associated + self.initiated,
            "bad_lines": c.bad, "bad_line_examples": c.examples[:5], "late_lines": c.late,
            "tracks_confirmed": self.tracker.confirmed_total,
            "alerts_ended": self.alerts_ended, "idle_ticks": self.idle_ticks,
            "config_changes": self.config_changes, "resumed_after_s": self.resumed_after_s,
            "t_first_s": None if math.isnan(self.t_first_s) else self.t_first_s,
            "t_last_s": None if math.isnan(self.t_last_s) else self.t_last_s,
            "latency": self.latency.summary(), "lag": self.lag.summary(),
        }

    def play(self, source: Source, flush_every: int = 60) -> dict[str, Any]:
        """Play ``source`` as fast as it goes, with no clock and no hub (``skyfence
        replay``): every tick to :attr:`sink` (flushed every ``flush_every`` ticks and
        at the end); :meth:`summary`."""
        sink = self.sink
        pending = 0

        def write(ticks: list[Tick]) -> None:
            nonlocal pending
            if sink is None:
                return
            for snap, lines in ticks:
                sink.write_tick(snap, _records(lines))
                pending += 1
            if pending >= flush_every:
                sink.flush()
                pending = 0

        for batch in source.batches():
            write(self.feed(batch))
        write(self.finish())
        if sink is not None:
            sink.flush()
        return self.summary()

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

        def idle(now_s: float) -> list[_Due]:
            """In the worker: the ticks due by the clock with no data (idle ticks)."""
            return written([_Due(clock(), self.idle(now_s))])

        async def pause(seconds: float) -> bool:
            """Wait ``seconds`` (or until ``stop``); whether to stop."""
            if seconds > 0:
                if sleep is not None:
                    await sleep(seconds)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), seconds)
            return stop.is_set()

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
                idle_s = self.idle_due_s()
                if wait > 0 and idle_s is not None and idle_s < pending.t_s:
                    # nothing arrives before the pending batch: the ticks due till then
                    # are made from the clock (coasting tracks age, silent sensors show)
                    if await pause(pacer.wait_s(idle_s)):
                        break
                    now_s = max(pacer.scenario_now() or idle_s, idle_s)
                    handed = clock()
                    publish(await loop.run_in_executor(worker, idle, now_s), handed)
                    continue
                if await pause(wait):
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
