r"""Alert engine: per-tick conditions of tracks, swarms and sensors → alert lifecycles.

Pure (no I/O, no clock, no tracker import). Once per tick (say each output
period) the caller passes a :class:`TrackConditions` snapshot of every
confirmed track as arrays, and optionally a
:class:`~skyfence.assess.sensor_health.SensorHealth` snapshot;
:meth:`AlertEngine.update` starts and ends alerts. Each alert is written once,
when it ends: :meth:`AlertEngine.pop_ended` hands over the alerts ended since
its last call, :meth:`AlertEngine.close_all` ends the rest at the end of a run.

Which tracks may alert
    A track is *eligible* when its class decision is drone (or unknown, with
    ``unknown_as_drone``; off by default, so birds and aircraft still being
    classified raise nothing) and it is not *exempt*. A track is exempt when
    it carries a cooperative identity (ADS-B, Remote ID) that is not suspect:
    ADS-B aircraft and compliant Remote ID drones never alert. A suspect
    broadcast exempts nothing and raises its own alert.

Rules (``kind``: start condition / hold condition; key; severity)
    ``predicted_zone_entry``: eligible, outside zone z and predicted to enter
    it within ``horizon_s`` / eligible and inside z or predicted to enter
    within ``horizon_s * horizon_end_factor``; (track, zone); the zone's level.
    ``zone_entry``: eligible and inside z / the same; (track, zone); the
    zone's level.
    ``swarm_detected``: a swarm id with at least ``swarm_min_count`` eligible
    member tracks / its swarms have at least ``swarm_hold_count``; the swarm
    id that started it; critical. An alert *covers* the swarm that started
    it and every *successor*: a swarm id it has not seen whose drone-like
    members (below) are at least half tracks that were already members of
    the alert (a split part, a swarm renumbered by a merge, one that took
    over its members). A successor continues the alert rather than starting
    another, so one raid stays one alert while the swarm ids beneath it split,
    merge and change; a different swarm that a stray member or two joins
    still gets its own. When two alerted swarms merge, the one whose swarm id
    goes ends as usual. *Drone-like* members are those in the swarm, not
    exempt, and classed drone or unknown: they make up ``track_ids`` and the
    alert's ``size`` (the most at one tick) and ``size_history`` ((tick,
    count) at the start and at each change); only eligible ones start and
    hold it (a swarm of unclassified tracks raises nothing).
    ``new_noncooperative_drone``: class decision drone and not exempt, once
    per track / not exempt and class drone or unknown (it ends when the track
    ends, turns cooperative, or is reclassified bird or aircraft); track;
    warning.
    ``suspect_broadcast``: the track's cooperative broadcast is suspect / the
    same; track; warning.
    ``sensor_unhealthy``: silent or rate drop (see
    :mod:`skyfence.assess.sensor_health`) / the same; sensor; warning.

Hysteresis
    Two layers. Thresholds: the predicted-entry horizon to start is
    ``horizon_s`` (120 s) but an alert ends only beyond ``1.25 × horizon_s``;
    a swarm starts at ``swarm_min_count`` (3) members and holds down to
    ``swarm_hold_count`` (2); the rate-drop test has its own recover ratio.
    Debounce: a key starts after its start condition held at ``start_ticks``
    (2) consecutive ticks and ends after its hold condition failed at
    ``end_ticks`` (3) consecutive ticks (``sensor_start_ticks`` 1 and
    ``sensor_end_ticks`` 5 for sensors). A track alert ends at once at the
    first tick its track is gone (track ids are never reused). ``t_start`` is
    the tick at which the alert was raised (after the debounce, not
    backdated); ``t_end`` the tick at which it was ended.

Identity and acknowledgement
    ``alert_id`` is ``id_prefix`` + a counter from 1 (``"A-1"``, ``"A-2"``…),
    unique within one engine. ``track_ids`` lists every track that was part
    of the alert over its life, in order of joining (one for track rules, the
    drone-like members of the swarms it covered for a swarm, none for a
    sensor); a swarm alert's ``swarm_id`` is its largest swarm at the last
    change, ``swarm_ids`` every swarm id it covered. :meth:`AlertEngine.ack` records
    the operator and time on an active alert (the first ack counts; a repeat
    changes nothing); the alert stays active until its condition ends.
    Acknowledging an id that is not active raises :class:`UnknownAlertError`.

Cost: the rules are array programs over (N, Z) conditions; the debounce state
of every rule is kept as sorted int64 key arrays and stepped with
``searchsorted``. Python objects exist only for alerts. For 1000 tracks ×
4 zones and 8 sensors the median tick costs about 0.45 ms holding ~550
active alerts, and about 0.9 ms with ten alerts starting and ten ending
every tick (``bench/alert_engine.py [--static]``, on a shared 2-core
development machine).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from skyfence.assess.sensor_health import SensorHealth

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

KIND_PREDICTED = "predicted_zone_entry"
KIND_ZONE = "zone_entry"
KIND_SWARM = "swarm_detected"
KIND_NEW_DRONE = "new_noncooperative_drone"
KIND_SUSPECT = "suspect_broadcast"
KIND_SENSOR = "sensor_unhealthy"
ALERT_KINDS = (KIND_PREDICTED, KIND_ZONE, KIND_SWARM, KIND_NEW_DRONE, KIND_SUSPECT, KIND_SENSOR)
SEVERITIES = ("warning", "critical")

_EMPTY = np.zeros(0, dtype=np.int64)
_UP_TO = ", up to "  # a swarm alert's reason: "... detected 8.4 km ..., up to 13 drones"


class UnknownAlertError(LookupError):
    """An alert id that names no active alert."""


@dataclass(frozen=True, slots=True)
class AlertParams:
    """Rule thresholds and debounce (see the module doc)."""

    horizon_s: float = 120.0
    horizon_end_factor: float = 1.25
    start_ticks: int = 2
    end_ticks: int = 3
    swarm_min_count: int = 3
    swarm_hold_count: int = 2
    unknown_as_drone: bool = False
    sensor_start_ticks: int = 1
    sensor_end_ticks: int = 5

    def __post_init__(self) -> None:
        if not self.horizon_s > 0 or self.horizon_end_factor < 1:
            raise ValueError("need horizon_s > 0 and horizon_end_factor >= 1")
        if min(self.start_ticks, self.end_ticks, self.sensor_start_ticks,
               self.sensor_end_ticks) < 1:
            raise ValueError("debounce tick counts must be at least 1")
        if not 1 <= self.swarm_hold_count <= self.swarm_min_count:
            raise ValueError("need 1 <= swarm_hold_count <= swarm_min_count")


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert; ``t_end_s`` is None while it is active."""

    alert_id: str
    kind: str
    severity: str
    t_start_s: float
    reason: str
    track_ids: tuple[int, ...] = ()
    swarm_id: int | None = None
    zone: str | None = None
    sensor: str | None = None
    t_end_s: float | None = None
    acked_by: str | None = None
    t_ack_s: float | None = None
    size: int | None = None
    """Swarm alerts: the most drone-like member tracks it had at one tick."""
    size_history: tuple[tuple[float, int], ...] = ()
    """Swarm alerts: (tick, member tracks at that tick) at the start and at each change."""
    swarm_ids: tuple[int, ...] = ()
    """Swarm alerts: every swarm id it covered, in order of joining."""

    @property
    def active(self) -> bool:
        return self.t_end_s is None

    def record(self) -> dict[str, Any]:
        """The alerts.jsonl object of DESIGN.md, plus ``sensor``, ``acked_by``, ``t_ack``
        (and, for swarm alerts, ``size``, ``size_history`` as [t, n] pairs, ``swarm_ids``)."""
        out = {
            "alert_id": self.alert_id, "kind": self.kind, "severity": self.severity,
            "t_start": self.t_start_s, "t_end": self.t_end_s,
            "track_ids": list(self.track_ids), "swarm_id": self.swarm_id,
            "zone": self.zone, "reason": self.reason, "sensor": self.sensor,
            "acked_by": self.acked_by, "t_ack": self.t_ack_s,
        }
        if self.kind == KIND_SWARM:
            out["size"] = self.size
            out["size_history"] = [[t, n] for t, n in self.size_history]
            out["swarm_ids"] = list(self.swarm_ids)
        return out


@dataclass(frozen=True, slots=True)
class TrackConditions:
    """Conditions of N confirmed tracks against Z zones at one tick.

    ``track_id`` must be unique. ``entry_time_s`` is the predicted time until
    the track enters each zone (``inf``: not predicted to); it is not read
    where ``inside_zone`` is True. ``swarm_id`` is -1 for a track in no
    swarm; swarm ids must be stable from tick to tick.
    """

    track_id: IntArray  # (N,)
    position_enu_m: FloatArray  # (N, 2 or 3), for reasons ("1.2 km north of the site")
    is_drone: BoolArray  # (N,) class decision is drone
    is_unknown: BoolArray  # (N,) class decision is unknown
    cooperative: BoolArray  # (N,) carries a cooperative identity (ADS-B, Remote ID)
    suspect: BoolArray  # (N,) whose broadcast looks suspect
    inside_zone: BoolArray  # (N, Z)
    entry_time_s: FloatArray  # (N, Z)
    swarm_id: IntArray  # (N,)

    @staticmethod
    def build(
        track_id: npt.ArrayLike,
        n_zones: int,
        *,
        position_enu_m: npt.ArrayLike | None = None,
        is_drone: npt.ArrayLike | None = None,
        is_unknown: npt.ArrayLike | None = None,
        cooperative: npt.ArrayLike | None = None,
        suspect: npt.ArrayLike | None = None,
        inside_zone: npt.ArrayLike | None = None,
        entry_time_s: npt.ArrayLike | None = None,
        swarm_id: npt.ArrayLike | None = None,
    ) -> TrackConditions:
        """Arrays from array-likes; an omitted field is False / origin / inf / -1."""
        ids = np.asarray(track_id, dtype=np.int64).reshape(-1)
        n = len(ids)

        def flags(x: npt.ArrayLike | None, shape: tuple[int, ...] = (n,)) -> BoolArray:
            return np.zeros(shape, bool) if x is None else np.asarray(x, bool).reshape(shape)

        return TrackConditions(
            track_id=ids,
            position_enu_m=(np.zeros((n, 3)) if position_enu_m is None or n == 0
                            else np.asarray(position_enu_m, np.float64).reshape(n, -1)),
            is_drone=flags(is_drone),
            is_unknown=flags(is_unknown),
            cooperative=flags(cooperative),
            suspect=flags(suspect),
            inside_zone=flags(inside_zone, (n, n_zones)),
            entry_time_s=(np.full((n, n_zones), np.inf) if entry_time_s is None
                          else np.asarray(entry_time_s, np.float64).reshape(n, n_zones)),
            swarm_id=(np.full(n, -1, np.int64) if swarm_id is None
                      else np.asarray(swarm_id, np.int64).reshape(n)),
        )


@dataclass(frozen=True, slots=True)
class AlertChanges:
    """What one :meth:`AlertEngine.update` did."""

    started: list[Alert] = field(default_factory=list)
    ended: list[Alert] = field(default_factory=list)


# ------------------------------------------------------------------ debounce
def _member(a: IntArray, b_sorted: IntArray) -> BoolArray:
    """``a`` in ``b_sorted`` (sorted, unique), elementwise."""
    if b_sorted.size == 0:
        return np.zeros(a.shape, dtype=bool)
    i = np.minimum(np.searchsorted(b_sorted, a), b_sorted.size - 1)
    found: BoolArray = b_sorted[i] == a
    return found


class KeyedHysteresis:
    """Debounced on/off state of many int64 keys, all kept as sorted arrays.

    A key turns on after its start condition held at ``start_ticks``
    consecutive ticks, and off after its hold condition failed at
    ``end_ticks`` consecutive ticks, or at once when its owner
    (``key // stride``) is not among ``alive``. A start implies a hold.
    """

    def __init__(self, start_ticks: int, end_ticks: int, stride: int = 1) -> None:
        self.start_ticks, self.end_ticks, self.stride = start_ticks, end_ticks, max(stride, 1)
        self.reset()

    def reset(self) -> None:
        self.active, self.miss = _EMPTY, _EMPTY  # on keys, ticks their hold has failed
        self.pending, self.count = _EMPTY, _EMPTY  # off keys, ticks their start has held

    def step(
        self, start: IntArray, hold: IntArray, alive: IntArray | None = None
    ) -> tuple[IntArray, IntArray]:
        """Advance one tick; answer the keys (started, ended).

        ``start`` and ``hold`` hold unique keys (any order); ``alive`` is
        sorted and unique.
        """
        start, hold = np.sort(start), np.sort(hold)
        held = _member(self.active, hold) | _member(self.active, start)
        miss = np.where(held, 0, self.miss + 1)
        end = miss >= self.end_ticks
        if alive is not None:
            end |= ~_member(self.active // self.stride, alive)
        ended = self.active[end]
        active, miss = self.active[~end], miss[~end]
        cand = start[~_member(start, active)]
        known = _member(cand, self.pending)
        count = np.ones(len(cand), dtype=np.int64)
        if known.any():
            count[known] += self.count[np.searchsorted(self.pending, cand[known])]
        go = count >= self.start_ticks
        started = cand[go]
        self.pending, self.count = cand[~go], count[~go]
        if started.size:
            active = np.concatenate((active, started))
            miss = np.concatenate((miss, np.zeros(len(started), dtype=np.int64)))
            order = np.argsort(active, kind="stable")
            active, miss = active[order], miss[order]
        self.active, self.miss = active, miss
        return started, ended


# ------------------------------------------------------------------ engine
class AlertEngine:
    """Alert lifecycles from per-tick conditions; see the module doc.

    ``zones`` are (name, level) pairs, level ``warning`` or ``critical``, in
    the column order of ``TrackConditions.inside_zone`` / ``entry_time_s``.
    """

    def __init__(
        self,
        zones: Sequence[tuple[str, str]] = (),
        params: AlertParams | None = None,
        *,
        id_prefix: str = "A-",
    ) -> None:
        self.zone_names = [name for name, _ in zones]
        self.zone_levels = [level for _, level in zones]
        bad = [lv for lv in self.zone_levels if lv not in SEVERITIES]
        if bad:
            raise ValueError(f"zone level must be warning or critical, not {bad[0]!r}")
        self.params = p = params or AlertParams()
        self.id_prefix = id_prefix
        z = len(self.zone_names)
        self._rules = {
            KIND_PREDICTED: KeyedHysteresis(p.start_ticks, p.end_ticks, stride=z),
            KIND_ZONE: KeyedHysteresis(p.start_ticks, p.end_ticks, stride=z),
            KIND_SWARM: KeyedHysteresis(p.start_ticks, p.end_ticks),
            KIND_NEW_DRONE: KeyedHysteresis(p.start_ticks, p.end_ticks),
            KIND_SUSPECT: KeyedHysteresis(p.start_ticks, p.end_ticks),
            KIND_SENSOR: KeyedHysteresis(p.sensor_start_ticks, p.sensor_end_ticks),
        }
        self._open: dict[tuple[str, int], Alert] = {}
        self._key_of: dict[str, tuple[str, int]] = {}
        self._ended: list[Alert] = []
        self._fired_new = _EMPTY  # tracks that have had their new-drone alert
        self._swarm_members: dict[int, IntArray] = {}  # sorted track ids of each swarm alert
        self._alert_of_swarm: dict[int, int] = {}  # swarm id → key of the swarm alert covering it
        self._sensor_index: dict[str, int] = {}
        self._sensor_names: list[str] = []
        self._count = 0
        self._t_s = -math.inf

    # ------------------------------------------------------------ queries
    def active(self) -> list[Alert]:
        """Active alerts, oldest first."""
        return list(self._open.values())

    def get(self, alert_id: str) -> Alert:
        """The active alert ``alert_id``; :class:`UnknownAlertError` if none."""
        key = self._key_of.get(alert_id)
        if key is None:
            raise UnknownAlertError(f"no active alert {alert_id!r}")
        return self._open[key]

    def pop_ended(self) -> list[Alert]:
        """Alerts ended since the last call (each handed over once), in order of ending."""
        out, self._ended = self._ended, []
        return out

    def ack(self, alert_id: str, operator: str, t_s: float) -> Alert:
        """Record ``operator``'s acknowledgement at ``t_s``; the first ack counts."""
        if not operator:
            raise ValueError("an acknowledgement needs the operator's name")
        alert = self.get(alert_id)
        if alert.acked_by is None:
            alert = replace(alert, acked_by=operator, t_ack_s=float(t_s))
            self._open[self._key_of[alert_id]] = alert
        return alert

    # ------------------------------------------------------------ set-up
    def reconfigure(self, params: AlertParams) -> None:
        """Judge by ``params`` from the next :meth:`update` on (between ticks): the
        rules' thresholds and debounce counts. Active alerts stay active, and a key's
        debounce progress so far counts toward the new tick counts."""
        self.params = params
        for kind, rule in self._rules.items():
            sensor = kind == KIND_SENSOR
            rule.start_ticks = params.sensor_start_ticks if sensor else params.start_ticks
            rule.end_ticks = params.sensor_end_ticks if sensor else params.end_ticks

    def restore(
        self,
        t_s: float,
        alerts: Sequence[Alert],
        *,
        used_ids: Iterable[str] = (),
        new_drone_alerted: Iterable[int] = (),
    ) -> int:
        """Carry on where an engine of the same zones stopped at its last tick ``t_s``
        (a restart from the event store); meant for a fresh engine, before its first
        :meth:`update`. Answers how many of ``alerts`` were restored.

        ``alerts`` (active ones; ended ones are skipped) become active again with
        their ids, start times, members and acknowledgements, as if raised by this
        engine and held at ``t_s``: they go on or end by their rules (after
        ``end_ticks`` ticks whose hold condition fails) and are not raised again.
        One whose key cannot be placed (a zone this engine does not know, a track
        alert with no track, a sensor alert with no sensor) is skipped. New alert
        ids go on after the largest number among ``used_ids`` (ids this engine's
        ``id_prefix`` wrote, e.g. every id in the store) and the restored alerts.
        ``new_drone_alerted`` replaces the tracks that have had their new
        non-cooperative drone alert (they get no other). The next update must come
        after ``t_s``.
        """
        number = re.compile(re.escape(self.id_prefix) + r"(\d+)$")
        found = [int(m.group(1)) for i in (*used_ids, *(a.alert_id for a in alerts))
                 if (m := number.match(i))]
        self._count = max([self._count, *found])
        self._t_s = t_s
        keys: dict[str, list[int]] = {}
        restored = 0
        for alert in alerts:
            if not alert.active:
                continue
            key = self._restored_key(alert)
            if key is None:
                continue
            self._open[(alert.kind, key)] = alert
            self._key_of[alert.alert_id] = (alert.kind, key)
            keys.setdefault(alert.kind, []).append(key)
            if alert.kind == KIND_SWARM:
                self._swarm_members[key] = np.unique(np.asarray(alert.track_ids, dtype=np.int64))
                for s in alert.swarm_ids or (key,):
                    self._alert_of_swarm[int(s)] = key
            restored += 1
        for kind, on in keys.items():
            rule = self._rules[kind]
            rule.active = np.unique(np.concatenate((rule.active, np.asarray(on, dtype=np.int64))))
            rule.miss = np.zeros(len(rule.active), dtype=np.int64)
        self._fired_new = np.unique(np.asarray(list(new_drone_alerted), dtype=np.int64))
        return restored

    # ------------------------------------------------------------ ticks
    def update(
        self, t_s: float, tracks: TrackConditions, sensors: SensorHealth | None = None
    ) -> AlertChanges:
        """One tick: step every rule with the conditions at ``t_s``."""
        if t_s <= self._t_s:
            raise ValueError(f"alert ticks must move forward: {t_s} after {self._t_s}")
        z = len(self.zone_names)
        if tracks.inside_zone.shape != (len(tracks.track_id), z):
            raise ValueError(f"inside_zone is {tracks.inside_zone.shape}, expected "
                             f"({len(tracks.track_id)}, {z})")
        self._t_s = t_s
        changes = AlertChanges()
        c, p = tracks, self.params
        ids = c.track_id
        alive = np.sort(ids)
        exempt = c.cooperative & ~c.suspect
        eligible = self._eligible(c)
        # zone rules over (N, Z)
        keys = ids[:, None] * max(z, 1) + np.arange(z)
        inside = c.inside_zone & eligible[:, None]
        soon = c.entry_time_s <= p.horizon_s
        not_late = c.entry_time_s <= p.horizon_s * p.horizon_end_factor
        pred_start = eligible[:, None] & ~c.inside_zone & soon
        pred_hold = eligible[:, None] & (c.inside_zone | not_late)
        self._step(changes, KIND_PREDICTED, keys[pred_start], keys[pred_hold], c, alive)
        self._step(changes, KIND_ZONE, keys[inside], keys[inside], c, alive)
        # track rules
        self._fired_new = self._fired_new[_member(self._fired_new, alive)]
        new = c.is_drone & ~exempt & ~_member(ids, self._fired_new)
        keep = ~exempt & (c.is_drone | c.is_unknown)
        started = self._step(changes, KIND_NEW_DRONE, ids[new], ids[keep], c, alive)
        if started.size:
            self._fired_new = np.sort(np.concatenate((self._fired_new, started)))
        suspect = ids[c.suspect]
        self._step(changes, KIND_SUSPECT, suspect, suspect, c, alive)
        self._swarm_rule(changes, c, eligible)
        if sensors is not None:
            index = np.array([self._sensor_key(s) for s in sensors.sensor_id], dtype=np.int64)
            bad = index[sensors.unhealthy]
            self._step(changes, KIND_SENSOR, bad, bad, sensors, None)
        return changes

    def close_all(self, t_s: float) -> list[Alert]:
        """End every active alert at ``t_s``; answer all ended alerts not yet popped."""
        if t_s < self._t_s:
            raise ValueError(f"close_all at {t_s} is before the last tick {self._t_s}")
        for key in list(self._open):
            self._end(key, t_s)
        for rule in self._rules.values():
            rule.reset()
        return self.pop_ended()

    # ------------------------------------------------------------ internals
    def _step(
        self,
        changes: AlertChanges,
        kind: str,
        start: IntArray,
        hold: IntArray,
        facts: TrackConditions | SensorHealth,
        alive: IntArray | None,
    ) -> IntArray:
        started, ended = self._rules[kind].step(start, hold, alive)
        for key in ended.tolist():
            changes.ended.append(self._end((kind, key), self._t_s))
        for key in started.tolist():
            changes.started.append(self._start(kind, key, facts))
        return started

    def _eligible(self, c: TrackConditions) -> BoolArray:
        """Drone (or unknown, with ``unknown_as_drone``) and not cooperative-and-genuine."""
        drone = c.is_drone | (c.is_unknown & self.params.unknown_as_drone)
        eligible: BoolArray = drone & ~(c.cooperative & ~c.suspect)
        return eligible

    def _restored_key(self, alert: Alert) -> int | None:
        """The rule key of an alert to :meth:`restore`; None if it cannot be placed."""
        if alert.kind == KIND_SENSOR:
            return None if alert.sensor is None else self._sensor_key(alert.sensor)
        if alert.kind == KIND_SWARM:
            return alert.swarm_ids[0] if alert.swarm_ids else alert.swarm_id
        if not alert.track_ids:
            return None
        tid = alert.track_ids[0]
        if alert.kind in (KIND_PREDICTED, KIND_ZONE):
            if alert.zone not in self.zone_names:
                return None
            return tid * max(len(self.zone_names), 1) + self.zone_names.index(alert.zone)
        return tid

    def _sensor_key(self, name: str) -> int:
        if name not in self._sensor_index:
            self._sensor_index[name] = len(self._sensor_names)
            self._sensor_names.append(name)
        return self._sensor_index[name]

    def _end(self, key: tuple[str, int], t_s: float) -> Alert:
        alert = replace(self._open.pop(key), t_end_s=float(t_s))
        if key[0] == KIND_SWARM:
            del self._swarm_members[key[1]]
            self._alert_of_swarm = {s: k for s, k in self._alert_of_swarm.items() if k != key[1]}
        del self._key_of[alert.alert_id]
        self._ended.append(alert)
        return alert

    def _start(self, kind: str, key: int, facts: TrackConditions | SensorHealth) -> Alert:
        self._count += 1
        alert_id = f"{self.id_prefix}{self._count}"
        if isinstance(facts, SensorHealth):
            alert = self._sensor_alert(alert_id, key, facts)
        elif kind == KIND_SWARM:
            alert = self._swarm_alert(alert_id, key, facts)
        else:
            alert = self._track_alert(alert_id, kind, key, facts)
        self._open[(kind, key)] = alert
        self._key_of[alert_id] = (kind, key)
        return alert

    def _track_alert(self, alert_id: str, kind: str, key: int, c: TrackConditions) -> Alert:
        zoned = kind in (KIND_PREDICTED, KIND_ZONE)
        tid, zi = divmod(key, max(len(self.zone_names), 1)) if zoned else (key, -1)
        row = int(np.flatnonzero(c.track_id == tid)[0])
        what = "drone" if c.is_drone[row] else "unclassified"
        where = _place(c.position_enu_m[row])
        zone = self.zone_names[zi] if zoned else None
        severity = self.zone_levels[zi] if zoned else "warning"
        if kind == KIND_PREDICTED:
            reason = (f"{what} track {tid} predicted to enter {zone} ({severity} zone) "
                      f"in {c.entry_time_s[row, zi]:.0f} s, now {where}")
        elif kind == KIND_ZONE:
            reason = f"{what} track {tid} entered {zone} ({severity} zone)"
        elif kind == KIND_NEW_DRONE:
            reason = f"new non-cooperative drone track {tid}, {where}"
        else:
            reason = (f"track {tid} broadcasts a suspect cooperative identity "
                      f"(inconsistent with what the sensors see), {where}")
        return Alert(alert_id, kind, severity, self._t_s, reason, track_ids=(tid,), zone=zone)

    def _swarm_rule(self, changes: AlertChanges, c: TrackConditions,
                    eligible: BoolArray) -> None:
        """Swarm alerts (module doc): keyed by the swarm id that started them, continued
        by the swarms that take over their member tracks."""
        p = self.params
        rows = np.flatnonzero(self._swarm_like(c))
        swarm, track, drone = c.swarm_id[rows], c.track_id[rows], eligible[rows]
        present = np.unique(swarm)
        for sid in present.tolist():  # a swarm id new to the alerts: a successor?
            if sid in self._alert_of_swarm or not self._swarm_members:
                continue
            tracks = track[swarm == sid]
            best, shared = -1, 0
            for key, known in self._swarm_members.items():  # oldest alert first
                n = int(_member(tracks, known).sum())
                if n > shared and 2 * n >= len(tracks):
                    best, shared = key, n
            if best >= 0:
                self._alert_of_swarm[sid] = best
        alert = self._alert_of(present)[np.searchsorted(present, swarm)]
        free, n_free = np.unique(swarm[drone & (alert < 0)], return_counts=True)
        held, n_held = np.unique(alert[drone & (alert >= 0)], return_counts=True)
        self._step(changes, KIND_SWARM, free[n_free >= p.swarm_min_count],
                   held[n_held >= p.swarm_hold_count], c, None)
        self._grow_swarms(swarm, track, self._alert_of(present)[np.searchsorted(present, swarm)])

    def _alert_of(self, swarm_ids: IntArray) -> IntArray:
        """(S,) key of the active swarm alert covering each swarm id, -1 none."""
        get = self._alert_of_swarm.get
        return np.array([get(s, -1) for s in swarm_ids.tolist()], dtype=np.int64)

    def _swarm_alert(self, alert_id: str, swarm: int, c: TrackConditions) -> Alert:
        rows = np.flatnonzero(self._swarm_like(c) & (c.swarm_id == swarm))
        centre = c.position_enu_m[rows].mean(axis=0)
        n = len(rows)
        reason = f"swarm {swarm} of {n} drones detected {_place(centre)}"
        self._swarm_members[swarm] = np.unique(c.track_id[rows])
        self._alert_of_swarm[swarm] = swarm
        return Alert(alert_id, KIND_SWARM, "critical", self._t_s, reason,
                     track_ids=tuple(c.track_id[rows].tolist()), swarm_id=swarm, size=n,
                     size_history=((self._t_s, n),), swarm_ids=(swarm,))

    def _swarm_like(self, c: TrackConditions) -> BoolArray:
        """(N,) tracks a swarm alert counts: in a swarm, drone or unknown, not exempt."""
        like: BoolArray = ((c.swarm_id >= 0) & ~(c.cooperative & ~c.suspect)
                           & (c.is_drone | c.is_unknown))
        return like

    def _grow_swarms(self, swarm: IntArray, track: IntArray, alert: IntArray) -> None:
        """Each active swarm alert's member tracks this tick (the drone-like tracks of
        the swarms it covers): new ones join ``track_ids``; their number is its size."""
        active = self._rules[KIND_SWARM].active
        if active.size == 0:
            return
        order = np.lexsort((track, alert))
        swarm, track, alert = swarm[order], track[order], alert[order]
        lo = np.searchsorted(alert, active, side="left")
        hi = np.searchsorted(alert, active, side="right")
        for key, a, b in zip(active.tolist(), lo.tolist(), hi.tolist(), strict=True):
            old = self._open[(KIND_SWARM, key)]
            known, now = self._swarm_members[key], track[a:b]
            new = now[~_member(now, known)]
            ids, counts = np.unique(swarm[a:b], return_counts=True)
            biggest = int(ids[np.argmax(counts)]) if ids.size else old.swarm_id
            joined = tuple(s for s in ids.tolist() if s not in old.swarm_ids)
            size = b - a
            if not (new.size or joined or biggest != old.swarm_id
                    or old.size_history[-1][1] != size):
                continue
            if new.size:
                self._swarm_members[key] = np.union1d(known, new)
            history = old.size_history
            if history[-1][1] != size:
                history = (*history, (self._t_s, size))
            peak = max(old.size or 0, size)
            reason = old.reason.split(_UP_TO)[0]
            if peak > history[0][1]:
                reason += f"{_UP_TO}{peak} drones"
            self._open[(KIND_SWARM, key)] = replace(
                old, track_ids=old.track_ids + tuple(new.tolist()), swarm_id=biggest,
                swarm_ids=old.swarm_ids + joined, size=peak, size_history=history,
                reason=reason)

    def _sensor_alert(self, alert_id: str, key: int, h: SensorHealth) -> Alert:
        name = self._sensor_names[key]
        i = h.sensor_id.index(name)
        if h.reported_fault is not None and h.reported_fault[i]:
            reason = f"sensor {name} reports a fault (its own status message)"
        elif h.silent[i]:
            reason = f"sensor {name} silent for {h.silent_for_s[i]:.0f} s"
        else:
            reason = (f"sensor {name} reported {h.recent_count[i]} detections in the last "
                      f"{h.window_s[i]:.0f} s, about {h.expected_count[i]:.0f} expected")
        return Alert(alert_id, KIND_SENSOR, "warning", self._t_s, reason, sensor=name)


_COMPASS = ("north", "north-east", "east", "south-east", "south", "south-west", "west",
            "north-west")


def _place(enu_m: FloatArray) -> str:
    """Plain words for a position relative to the site origin: "2.1 km north-east of the site"."""
    x, y = float(enu_m[0]), float(enu_m[1])
    d = math.hypot(x, y)
    if d < 50.0:
        return "over the site"
    side = _COMPASS[round(math.degrees(math.atan2(x, y)) / 45.0) % 8]
    far = f"{d:.0f} m" if d < 1000.0 else f"{d / 1000.0:.1f} km"
    return f"{far} {side} of the site"
