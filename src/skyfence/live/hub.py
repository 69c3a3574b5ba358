"""The live picture: what the engine publishes each tick, and the deltas between ticks.

The contract between the live engine (``skyfence run``), the event store and
the API. The engine builds one :class:`Snapshot` per output tick and hands it
to :meth:`Hub.publish`; the hub keeps the latest snapshot (what ``GET
/api/tracks`` answers), computes the :func:`delta` from the previous one and
fans it out to every subscriber (one asyncio queue per WebSocket). Records
are plain JSON-ready dicts:

- a track is a tracks.jsonl line (DESIGN.md: ``t, track_id, enu_m, vel_mps,
  pos_cov_m2, class, class_prob, cooperative_id, threat``) plus optional
  detail keys the API may serve (``trail``, ``evidence``, ``zones``,
  ``swarm_id``, ``suspect``, ``operator_enu_m``);
- a swarm: ``swarm_id, count, members, centroid_enu_m, velocity_mps,
  heading_deg, spread_m``;
- trails (:class:`Trails`): each track's recent positions, kept as arrays
  beside the records. Only the full snapshot message carries them (a client
  that joins draws the tracks' past); deltas do not: a client appends each
  upserted track's ``t, enu_m`` to its own copy. Sending the 32-point trail of
  every moving track every tick was ~80 % of a 1000-track delta;
- an alert: an alerts.jsonl record (``alert_id`` … ``reason``, ``t_end``
  null while active, ``acked_by``, ``t_ack``);
- sensor health: ``sensor, silent, low_rate, recent_count, expected_count``.

No I/O and no asyncio here beyond the subscriber queues (put without
waiting; a subscriber that falls more than ``max_queue`` deltas behind is
dropped, finds ``{"type": "dropped"}`` as the last message in its queue, and
must resubscribe for a fresh snapshot) and :func:`follow`, the loop every
output (CoT, CAT062, SAPIENT parent) runs: hand each published snapshot to a
send function until told to stop, resubscribing when dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

Record = dict[str, Any]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Trails:
    """Recent positions of tracks: ``t_s`` (N, K) and ``enu_m`` (N, K, 3), oldest
    first, NaN after each track's ``length`` entries (TrackBank.trails' layout)."""

    track_id: NDArray[np.int64]
    t_s: NDArray[np.float64]
    enu_m: NDArray[np.float64]
    length: NDArray[np.int64]

    def of(self, track_id: int) -> list[list[float]] | None:
        """One track's trail ``[[t, e, n, u], ...]``; None if it has none here."""
        rows = np.flatnonzero(self.track_id == track_id)
        if rows.size == 0:
            return None
        i = int(rows[0])
        return Trails(self.track_id[i:i + 1], self.t_s[i:i + 1], self.enu_m[i:i + 1],
                      self.length[i:i + 1]).records()[str(track_id)]

    def records(self) -> dict[str, list[list[float]]]:
        """``{track_id: [[t, e, n, u], ...]}`` (JSON object keys are text), rounded to
        the centimetre and millisecond."""
        if self.track_id.size == 0:
            return {}
        held = np.nan_to_num(np.concatenate([self.t_s[:, :, None], self.enu_m], axis=2))
        held[:, :, 0] = np.round(held[:, :, 0], 3)  # (the NaN tail, zeroed, is cut below)
        held[:, :, 1:] = np.round(held[:, :, 1:], 2)
        lists = held.tolist()
        return {str(tid): lists[i][:n] for i, (tid, n)
                in enumerate(zip(self.track_id.tolist(), self.length.tolist(), strict=True))}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole picture at one tick, each collection keyed by its id."""

    t_s: float
    tracks: Mapping[int, Record] = field(default_factory=dict)
    swarms: Mapping[int, Record] = field(default_factory=dict)
    alerts: Mapping[str, Record] = field(default_factory=dict)  # active and just ended
    health: Mapping[str, Record] = field(default_factory=dict)
    trails: Trails | None = field(default=None, compare=False)  # not in deltas

    def message(self) -> Record:
        """The full picture as one JSON-ready message (``type: "snapshot"``), with
        the trails."""
        return {"type": "snapshot", "t": self.t_s, "tracks": list(self.tracks.values()),
                "swarms": list(self.swarms.values()), "alerts": list(self.alerts.values()),
                "health": list(self.health.values()),
                "trails": {} if self.trails is None else self.trails.records()}


def _diff(prev: Mapping[Any, Record], cur: Mapping[Any, Record]) -> Record:
    upsert = [r for k, r in cur.items() if prev.get(k) != r]
    remove = [k for k in prev if k not in cur]
    return {"upsert": upsert, "remove": remove}


def delta(prev: Snapshot | None, cur: Snapshot) -> Record:
    """What changed from ``prev`` to ``cur`` (``type: "delta"``): per collection the
    records new or changed (``upsert``) and the ids gone (``remove``)."""
    empty = Snapshot(t_s=cur.t_s)
    p = prev or empty
    return {"type": "delta", "t": cur.t_s,
            "tracks": _diff(p.tracks, cur.tracks), "swarms": _diff(p.swarms, cur.swarms),
            "alerts": _diff(p.alerts, cur.alerts), "health": _diff(p.health, cur.health)}


def apply_delta(snapshot: Snapshot, change: Record) -> Snapshot:
    """``snapshot`` with ``change`` (a :func:`delta` message) applied: a client's
    view of the picture; ``apply_delta(a, delta(a, b)) == b`` (trails aside: a
    client extends its own from the upserted tracks)."""
    keys = {"tracks": "track_id", "swarms": "swarm_id", "alerts": "alert_id",
            "health": "sensor"}
    out: dict[str, dict[Any, Record]] = {}
    for name, key in keys.items():
        col = dict(getattr(snapshot, name))
        for k in change[name]["remove"]:
            col.pop(k, None)
        for r in change[name]["upsert"]:
            col[r[key]] = r
        out[name] = col
    return Snapshot(change["t"], out["tracks"], out["swarms"], out["alerts"], out["health"])


class Hub:
    """Latest snapshot, and the deltas to every subscriber (module doc)."""

    def __init__(self, max_queue: int = 64,
                 on_ack: Callable[[str, str, float], Record] | None = None) -> None:
        self.latest: Snapshot | None = None
        self.max_queue = max_queue
        self.on_ack = on_ack
        self._queues: set[asyncio.Queue[Record]] = set()
        self.published = 0
        self.dropped_subscribers = 0

    def publish(self, snapshot: Snapshot) -> Record:
        """Make ``snapshot`` the latest; send its delta to every subscriber."""
        change = delta(self.latest, snapshot)
        self.latest = snapshot
        self.published += 1
        for q in list(self._queues):
            if q.qsize() >= self.max_queue:
                self._queues.discard(q)
                self.dropped_subscribers += 1
                # tell the reader (else it waits forever): it must resubscribe
                q.put_nowait({"type": "dropped", "t": snapshot.t_s})
                continue
            q.put_nowait(change)
        return change

    def subscribe(self) -> asyncio.Queue[Record]:
        """A queue that first holds the full snapshot, then every delta."""
        q: asyncio.Queue[Record] = asyncio.Queue()
        if self.latest is not None:
            q.put_nowait(self.latest.message())
        self._queues.add(q)
        return q

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def unsubscribe(self, q: asyncio.Queue[Record]) -> None:
        self._queues.discard(q)

    def ack(self, alert_id: str, operator: str, t_s: float) -> Record:
        """Acknowledge an alert through the engine (raises LookupError if unknown)."""
        if self.on_ack is None:
            raise LookupError(f"no engine to acknowledge alert {alert_id!r}")
        return self.on_ack(alert_id, operator, t_s)


async def follow(hub: Hub, stop: asyncio.Event, send: Callable[[Snapshot], Any],
                 name: str = "output") -> None:
    """Call ``send`` (plain or async) with every snapshot the hub publishes, until
    ``stop``; a send that fails is logged and the next tick tried."""
    queue = hub.subscribe()
    halt = asyncio.ensure_future(stop.wait())
    try:
        while True:
            get = asyncio.ensure_future(queue.get())
            await asyncio.wait({get, halt}, return_when=asyncio.FIRST_COMPLETED)
            if not get.done():
                get.cancel()
                return
            if get.result().get("type") == "dropped":
                hub.unsubscribe(queue)
                queue = hub.subscribe()
            snapshot = hub.latest
            if snapshot is None:
                continue
            try:
                sent = send(snapshot)
                if asyncio.iscoroutine(sent):
                    await sent
            except Exception:
                log.exception("%s: sending tick %s failed", name, snapshot.t_s)
    finally:
        halt.cancel()
        hub.unsubscribe(queue)
