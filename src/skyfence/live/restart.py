"""A restarted live engine carries on from its event store.

"A crash loses at most the last second, and the engine restarts and carries
on from the store." :func:`resume` takes a fresh :class:`LiveEngine` and the
store the crashed one wrote, and puts the engine where the store stops — the
last stored tick ``T``:

1. **Ids.** New tracks get ids above the largest the store ever held
   (pruned ones included); the alert counter goes on after the largest stored
   alert number; swarm ids after the largest stored.
2. **Warm-up.** The stored measurements of ``(T − warm_s, T]`` go through the
   engine's reader and tracker (not the assessor; nothing is published or
   written again), so the tracks re-form; the sensor-health monitor counts
   their reports tick by tick, so a sensor is not called silent for want of
   history.
3. **Same tracks, same ids.** The re-formed confirmed tracks are matched one
   to one with the tracks stored at ``T`` (nearest position, within
   ``gate_m``) and take the stored ids: the operator sees the same track go on
   and its alerts continue. Unmatched ones keep new ids.
4. **Assessment state.** The stored swarms at ``T`` seed the swarm tracker
   (same ids, same members); the drone decision's dwell is taken from the
   stored track states (P(drone) at or above the threshold since when); the
   alerts active at ``T`` go back into the alert engine with their ids, start
   times, members and acknowledgements (an ack recorded after ``T`` too), so
   they go on or end by their rules and are never raised twice; tracks that
   had a new-drone alert do not get another.
5. **Where to go on.** The engine's next tick is ``T + period``; a line at or
   before ``T`` is late. The source is told to skip what it already gave
   (``after_s``), and measurements stored after ``T`` (with the lost ticks)
   are deleted, so nothing is stored twice.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec
import numpy as np
from scipy.optimize import linear_sum_assignment

from skyfence.assess.alerts import KIND_NEW_DRONE, Alert, AlertEngine
from skyfence.assess.engine import Assessor
from skyfence.assess.swarm import SwarmTracker
from skyfence.live.engine import LiveEngine
from skyfence.live.hub import Record
from skyfence.store.base import EventStore
from skyfence.tracker import Detections

WARM_S = 30.0
GATE_M = 100.0


@dataclass(frozen=True, slots=True)
class Resumed:
    """What :func:`resume` did."""

    after_s: float  # the last stored tick: the engine carries on after it
    warm_lines: int  # stored measurement lines replayed through the tracker
    tracks_stored: int  # tracks stored at the last tick
    tracks_matched: int  # of those, re-formed and given their stored id back
    alerts_restored: int  # alerts active at the last tick, restored
    first_new_track_id: int

    def line(self) -> str:
        return (f"resuming after t={self.after_s:g} s: {self.warm_lines} stored measurements "
                f"replayed, {self.tracks_matched} of {self.tracks_stored} tracks re-formed, "
                f"{self.alerts_restored} active alerts restored, new track ids from "
                f"{self.first_new_track_id}")


def resume(engine: LiveEngine, store: EventStore, warm_s: float = WARM_S,
           gate_m: float = GATE_M) -> Resumed | None:
    """Put the fresh ``engine`` where ``store`` stops (module doc); None for a store
    with no tick (nothing to resume)."""
    last = store.last_tick_t()
    if last is None:
        return None
    store.forget_after(last)
    first_id = store.max_track_id() + 1
    engine.tracker.continue_ids_after(first_id - 1)
    warm = _warm_up(engine, store.measurements(last - warm_s, last), last)
    stored = store.tracks_at(last)
    matched = _match_ids(engine, stored, last, gate_m)
    assessor = engine.assessor
    _seed_swarms(assessor.swarms, store.swarms_at(last), store.alerts(), last)
    _seed_dwell(assessor, store.track_states(last - assessor.params.drone_dwell_s
                                             - 2 * engine.period_s, last), last)
    restored = _restore_alerts(assessor.alerts, store.alerts(t_from=last, t_to=last),
                               store.alerts(), store.acks(), store.alert_ids(), last,
                               {int(r["track_id"]) for r in stored})
    engine.resume_after(last)
    return Resumed(last, warm, len(stored), matched, restored, first_id)


def _warm_up(engine: LiveEngine, measurements: Sequence[Record], last: float) -> int:
    """The stored lines through the reader and tracker (and the health monitor's
    counts, tick by tick); nothing assessed, published or written."""
    reader, tracker, period = engine.reader, engine.tracker, engine.period_s
    health = engine.assessor.health
    counts = np.zeros(len(reader.specs), dtype=np.int64)
    encode = msgspec.json.Encoder().encode
    next_tick = math.nan

    def ticks_until(t_s: float) -> None:
        nonlocal next_tick
        while next_tick <= t_s:
            health.observe(next_tick, counts)
            counts[:] = 0
            next_tick += period

    def step(scans: Iterable[Detections]) -> None:
        nonlocal next_tick
        for scan in scans:
            if math.isnan(next_tick):
                next_tick = math.ceil(scan.t_s / period - 1e-9) * period
            ticks_until(scan.t_s - 1e-9)
            tracker.step(scan)
            counts[scan.sensor] += len(scan)

    for number, m in enumerate(measurements, start=1):
        step(reader.feed(encode(m), "store", number))
    step(reader.flush(last))
    if not math.isnan(next_tick):
        ticks_until(last)  # up to tick T: the first live tick counts from there
    reader.counts = type(reader.counts)()  # the live counts start afresh
    return len(measurements)


def _match_ids(engine: LiveEngine, stored: Sequence[Record], last: float,
               gate_m: float) -> int:
    """Give re-formed confirmed tracks the id of the stored track at ``last`` they
    are nearest to (one to one, within ``gate_m``); how many."""
    bank = engine.tracker.bank
    rows = np.flatnonzero(bank.confirmed)
    if not stored or rows.size == 0:
        return 0
    now = engine.tracker.confirmed_at(last)  # the confirmed rows, in bank order
    theirs = np.array([r["enu_m"] for r in stored], dtype=np.float64)
    ids = np.array([int(r["track_id"]) for r in stored], dtype=np.int64)
    d = np.linalg.norm(now.x[:, None, :3] - theirs[None, :, :], axis=2)
    cost = np.where(d <= gate_m, d, 1e9)
    mine, other = linear_sum_assignment(cost)
    ok = cost[mine, other] <= gate_m
    bank.id[rows[mine[ok]]] = ids[other[ok]]
    engine.tracker.confirmed_total -= int(ok.sum())  # they go on; not new in this run
    return int(ok.sum())


def _seed_swarms(swarms: SwarmTracker, stored: Sequence[Record],
                 alerts: Sequence[Record], last: float) -> None:
    """The swarms stored at the last tick, remembered with their ids; new ids above
    every stored one (:meth:`SwarmTracker.seed`)."""
    named: list[int] = []  # swarm ids the stored alerts name
    for a in alerts:
        named.extend(int(s) for s in a.get("swarm_ids") or ())
        if a.get("swarm_id") is not None:
            named.append(int(a["swarm_id"]))
    swarms.seed(last, [(int(r["swarm_id"]), r["members"]) for r in stored], used_ids=named)


def _seed_dwell(assessor: Assessor, states: Sequence[Record], last: float) -> None:
    """Since when each track stored at the last tick has been at P(drone) ≥ the
    threshold (the drone decision's dwell), from the stored track states."""
    threshold = assessor.params.drone_alert_probability
    by_track: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for r in states:
        by_track[int(r["track_id"])].append((float(r["t"]), float(r["class_prob"]["drone"])))
    ids: list[int] = []
    since: list[float] = []
    for tid, rows in by_track.items():
        rows.sort()
        if not rows or rows[-1][0] < last - 1e-6 or rows[-1][1] < threshold:
            continue
        start = rows[-1][0]
        for t, p in reversed(rows):
            if p < threshold:
                break
            start = t
        if start == rows[0][0]:  # at the threshold all the window: long enough
            start = last - assessor.params.drone_dwell_s
        ids.append(tid)
        since.append(start)
    assessor.restore_drone_dwell(ids, since)


def _restore_alerts(engine: AlertEngine, active: Sequence[Record], every: Sequence[Record],
                    acks: Sequence[Record], alert_ids: Sequence[str], last: float,
                    tracks: set[int]) -> int:
    """The alerts active at the last tick back into ``engine`` (module doc); how many."""
    first_ack: dict[str, Record] = {}
    for a in acks:
        first_ack.setdefault(str(a["alert_id"]), a)
    restore = [_alert(r, first_ack.get(str(r["alert_id"]))) for r in active
               if r.get("t_end") is None]
    fired = [int(r["track_ids"][0]) for r in every
             if r.get("kind") == KIND_NEW_DRONE and r.get("track_ids")
             and int(r["track_ids"][0]) in tracks]
    return engine.restore(last, restore, used_ids=alert_ids, new_drone_alerted=fired)


def _alert(r: Record, ack: Record | None) -> Alert:
    acked_by, t_ack = r.get("acked_by"), r.get("t_ack")
    if acked_by is None and ack is not None:
        acked_by, t_ack = str(ack["operator"]), float(ack["t_ack"])
    return Alert(
        str(r["alert_id"]), str(r["kind"]), str(r["severity"]), float(r["t_start"]),
        str(r.get("reason") or ""), tuple(int(t) for t in r.get("track_ids") or ()),
        None if r.get("swarm_id") is None else int(r["swarm_id"]), r.get("zone"),
        r.get("sensor"), None, acked_by, None if t_ack is None else float(t_ack),
        r.get("size"), tuple((float(t), int(n)) for t, n in r.get("size_history") or ()),
        tuple(int(s) for s in r.get("swarm_ids") or ()))
