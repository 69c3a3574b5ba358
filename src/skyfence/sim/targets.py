"""Expand a scenario's ``targets`` into individual targets.

A drone or aircraft entry is one target; a swarm of ``count`` is ``count``
drones; a bird flock of ``count`` is ``count`` birds. Each gets a stable id
(``drone-1``, ``swarm-1-07``, ``flock-2-03``, ``aircraft-1`` unless the entry
names one), its static attributes (:class:`TargetAttributes`) and its motion
plan (:class:`Plan`). Expansion is deterministic for a scenario seed.

Spoofing: a target with ``physical: false`` is a phantom (only its broadcasts
exist); a drone whose ``remote_id`` has ``spoof_offset_enu_m`` broadcasts a
displaced position from ``spoof_start_s`` on. :func:`broadcast_roles` lists
every broadcaster with its role (genuine, displaced, phantom) for scorers.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from skyfence.scenario.model import (
    AircraftTarget,
    BirdFlock,
    DroneTarget,
    PathTarget,
    Scenario,
    SwarmTarget,
)
from skyfence.sim.sensors.base import FloatArray, TargetAttributes

END_CODES = {"continue": 0, "hover": 1, "loiter": 2, "dive": 3, "vanish": 4}


@dataclass
class Plan:
    """How one target moves. Path targets use waypoints; birds use their flock."""

    start_s: float
    speed_mps: float
    max_accel_mps2: float
    accel_noise_mps2: float
    waypoints_enu_m: FloatArray  # (W, 3); unused for birds
    end: int = END_CODES["continue"]
    loiter_radius_m: float = 150.0
    dive_target_enu_m: FloatArray = field(default_factory=lambda: np.full(3, np.nan))
    dive_speed_mps: float = 40.0
    flock: int = -1  # index into Expanded.flocks; -1 for path targets
    flock_offset_m: FloatArray = field(default_factory=lambda: np.zeros(3))


@dataclass
class Expanded:
    attributes: TargetAttributes
    plans: list[Plan]
    flocks: list[BirdFlock]


@dataclass
class _Rows:
    ids: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    rcs: list[float] = field(default_factory=list)
    rf: list[bool] = field(default_factory=list)
    emitter: list[str] = field(default_factory=list)
    adsb: list[bool] = field(default_factory=list)
    icao: list[str | None] = field(default_factory=list)
    callsign: list[str | None] = field(default_factory=list)
    rid: list[bool] = field(default_factory=list)
    uas_id: list[str | None] = field(default_factory=list)
    operator: list[list[float]] = field(default_factory=list)
    physical: list[bool] = field(default_factory=list)
    spoof_offset: list[list[float]] = field(default_factory=list)
    spoof_start: list[float] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)


def expand_targets(scenario: Scenario) -> Expanded:
    rng = np.random.default_rng(np.random.SeedSequence(scenario.seed, spawn_key=(0x7A46,)))
    rows = _Rows()
    counters: dict[str, int] = {}
    flocks: list[BirdFlock] = []
    for entry in scenario.targets:
        counters[entry.type] = counters.get(entry.type, 0) + 1
        prefix = {"bird_flock": "flock"}.get(entry.type, entry.type)
        base_id = entry.id or f"{prefix}-{counters[entry.type]}"
        if isinstance(entry, SwarmTarget):
            _add_swarm(rows, entry, base_id, rng)
        elif isinstance(entry, DroneTarget):
            _add_drone(rows, entry, base_id, _path_plan(entry))
        elif isinstance(entry, AircraftTarget):
            _add_aircraft(rows, entry, base_id)
        else:
            _add_flock(rows, entry, base_id, len(flocks), rng)
            flocks.append(entry)
    attrs = TargetAttributes(
        ids=rows.ids,
        kind=np.array(rows.kind, dtype="<U8"),
        rcs_dbsm=np.array(rows.rcs, dtype=np.float64),
        rf_link=np.array(rows.rf, dtype=bool),
        emitter=rows.emitter,
        adsb=np.array(rows.adsb, dtype=bool),
        icao=rows.icao,
        callsign=rows.callsign,
        remote_id=np.array(rows.rid, dtype=bool),
        uas_id=rows.uas_id,
        operator_enu_m=np.array(rows.operator, dtype=np.float64).reshape(-1, 3),
        physical=np.array(rows.physical, dtype=bool),
        spoof_offset_enu_m=np.array(rows.spoof_offset, dtype=np.float64).reshape(-1, 3),
        spoof_start_s=np.array(rows.spoof_start, dtype=np.float64),
    )
    return Expanded(attributes=attrs, plans=rows.plans, flocks=flocks)


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def _path_plan(entry: PathTarget, waypoints: FloatArray | None = None,
               start_s: float | None = None, speed_mps: float | None = None,
               dive_target: FloatArray | None = None) -> Plan:
    wps = np.array(entry.waypoints_enu_m, dtype=np.float64) if waypoints is None else waypoints
    dive = entry.dive_target_enu_m
    return Plan(
        start_s=entry.start_s if start_s is None else start_s,
        speed_mps=entry.speed_mps if speed_mps is None else speed_mps,
        max_accel_mps2=entry.max_accel_mps2,
        accel_noise_mps2=entry.accel_noise_mps2,
        waypoints_enu_m=wps,
        end=END_CODES[entry.end],
        loiter_radius_m=entry.loiter_radius_m,
        dive_target_enu_m=(
            dive_target if dive_target is not None
            else np.array(dive if dive is not None else [np.nan] * 3, dtype=np.float64)
        ),
        dive_speed_mps=entry.dive_speed_mps,
    )


def _add_common(rows: _Rows, target_id: str, kind: str, rcs: float, plan: Plan,
                physical: bool = True) -> None:
    rows.ids.append(target_id)
    rows.kind.append(kind)
    rows.rcs.append(rcs)
    rows.plans.append(plan)
    rows.physical.append(physical)


def _no_spoof(rows: _Rows) -> None:
    rows.spoof_offset.append([0.0, 0.0, 0.0])
    rows.spoof_start.append(np.inf)


def _add_drone(rows: _Rows, entry: DroneTarget, target_id: str, plan: Plan) -> None:
    _add_common(rows, target_id, "drone", entry.rcs_dbsm, plan, entry.physical)
    rows.rf.append(entry.rf_link)
    rows.emitter.append(entry.emitter)
    rows.adsb.append(False)
    rows.icao.append(None)
    rows.callsign.append(None)
    rid = entry.remote_id
    rows.rid.append(rid is not None)
    if rid is None:
        rows.uas_id.append(None)
        rows.operator.append([np.nan] * 3)
        _no_spoof(rows)
        return
    rows.uas_id.append(rid.uas_id or f"SKYFC{_crc(target_id) % 10**10:010d}")
    first = plan.waypoints_enu_m[0]
    rows.operator.append(rid.operator_enu_m or [float(first[0]), float(first[1]), 0.0])
    if rid.spoof_offset_enu_m is None:
        _no_spoof(rows)
    else:
        rows.spoof_offset.append([float(v) for v in rid.spoof_offset_enu_m])
        rows.spoof_start.append(rid.spoof_start_s)


def _add_aircraft(rows: _Rows, entry: AircraftTarget, target_id: str) -> None:
    _add_common(rows, target_id, "aircraft", entry.rcs_dbsm, _path_plan(entry), entry.physical)
    rows.rf.append(False)
    rows.emitter.append("")
    rows.adsb.append(entry.adsb)
    rows.icao.append((entry.icao or f"{0x400000 | (_crc(target_id) & 0x3FFFFF):06x}").lower())
    rows.callsign.append(entry.callsign or f"SKY{_crc(target_id) % 1000:03d}")
    rows.rid.append(False)
    rows.uas_id.append(None)
    rows.operator.append([np.nan] * 3)
    _no_spoof(rows)


def _formation_offsets(entry: SwarmTarget, rng: np.random.Generator) -> FloatArray:
    """(count, 2) offsets (along-track, cross-track) in metres, centred."""
    n, s = entry.count, entry.spacing_m
    k = np.arange(n, dtype=np.float64)
    if entry.formation == "line":
        return np.column_stack((np.zeros(n), (k - (n - 1) / 2) * s))
    if entry.formation == "column":
        return np.column_stack((-(k - (n - 1) / 2) * s, np.zeros(n)))
    if entry.formation == "wedge":
        rank = np.ceil(k / 2)
        side = np.where(k % 2 == 1, 1.0, -1.0)
        return np.column_stack((-rank * s, side * rank * s))
    radius = s * np.sqrt(n) / 2
    r = radius * np.sqrt(rng.uniform(0, 1, n))
    a = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack((r * np.cos(a), r * np.sin(a)))


def _add_swarm(rows: _Rows, entry: SwarmTarget, base_id: str, rng: np.random.Generator) -> None:
    route = np.array(entry.waypoints_enu_m, dtype=np.float64)
    lead = route[1] - route[0] if len(route) > 1 else np.array([0.0, 1.0, 0.0])
    heading = np.arctan2(lead[1], lead[0]) if np.hypot(lead[0], lead[1]) > 0 else np.pi / 2
    along = np.array([np.cos(heading), np.sin(heading), 0.0])
    cross = np.array([-np.sin(heading), np.cos(heading), 0.0])
    offsets = _formation_offsets(entry, rng)
    noise_scale = np.array([1.0, 1.0, 0.2]) * entry.path_noise_m
    for k in range(entry.count):
        shift = offsets[k, 0] * along + offsets[k, 1] * cross
        wps = route + shift + rng.normal(0.0, 1.0, route.shape) * noise_scale
        wps[:, 2] = np.maximum(wps[:, 2], 5.0)
        dive = None
        if entry.dive_target_enu_m is not None:
            dive = np.array(entry.dive_target_enu_m) + rng.normal(0.0, 1.0, 3) * noise_scale
            dive[2] = min(dive[2], entry.dive_target_enu_m[2])
        speed = entry.speed_mps * max(0.5, 1.0 + entry.speed_spread * rng.normal())
        plan = _path_plan(entry, wps, entry.start_s + k * entry.launch_interval_s, speed, dive)
        _add_drone(rows, entry, f"{base_id}-{k + 1:02d}", plan)


def _add_flock(rows: _Rows, entry: BirdFlock, base_id: str, flock_index: int,
               rng: np.random.Generator) -> None:
    for k in range(entry.count):
        offset = rng.normal(0.0, entry.spread_m, 3) * np.array([1.0, 1.0, 0.3])
        plan = Plan(
            start_s=entry.start_s,
            speed_mps=entry.speed_mps,
            max_accel_mps2=6.0,
            accel_noise_mps2=entry.accel_noise_mps2,
            waypoints_enu_m=np.array([entry.center_enu_m], dtype=np.float64),
            flock=flock_index,
            flock_offset_m=offset,
        )
        _add_common(rows, f"{base_id}-{k + 1:02d}", "bird", entry.rcs_dbsm, plan)
        rows.rf.append(False)
        rows.emitter.append("")
        rows.adsb.append(False)
        rows.icao.append(None)
        rows.callsign.append(None)
        rows.rid.append(False)
        rows.uas_id.append(None)
        rows.operator.append([np.nan] * 3)
        _no_spoof(rows)


BroadcastRole = Literal["genuine", "displaced", "phantom"]


@dataclass(frozen=True)
class Broadcaster:
    """One target's cooperative broadcast and whether it tells the truth.

    ``identity`` is what receivers report: the Remote ID ``uas_id`` (``kind``
    ``remote_id``) or the ADS-B ``icao`` (``kind`` ``adsb``). ``role``:
    *genuine* (the target's own position), *displaced* (true position +
    ``offset_enu_m`` from ``from_s`` on; genuine before) or *phantom* (no
    target at all; no truth lines). ``from_s`` is when the broadcast starts to
    lie: the later of the target's ``start_s`` and ``spoof_start_s``; null for
    a genuine one.
    """

    target_id: str
    kind: Literal["remote_id", "adsb"]
    identity: str
    role: BroadcastRole
    from_s: float | None = None
    offset_enu_m: tuple[float, float, float] | None = None


def broadcast_roles(scenario: Scenario) -> list[Broadcaster]:
    """Every broadcasting target of the scenario, in target order, with its role."""
    expanded = expand_targets(scenario)
    attrs = expanded.attributes
    physical = attrs.physical_mask()
    out: list[Broadcaster] = []
    for i, target_id in enumerate(attrs.ids):
        start_s = expanded.plans[i].start_s
        heard: list[tuple[Literal["remote_id", "adsb"], bool, str | None]] = [
            ("remote_id", bool(attrs.remote_id[i]), attrs.uas_id[i]),
            ("adsb", bool(attrs.adsb[i]), attrs.icao[i]),
        ]
        for kind, on, identity in heard:
            if not on or identity is None:
                continue
            role, from_s, offset = _role(attrs, i, bool(physical[i]), start_s, kind)
            out.append(Broadcaster(target_id, kind, identity, role, from_s, offset))
    return out


def _role(attrs: TargetAttributes, i: int, physical: bool, start_s: float, kind: str
          ) -> tuple[BroadcastRole, float | None, tuple[float, float, float] | None]:
    if not physical:
        return "phantom", start_s, None
    spoof_start = attrs.spoof_start_s
    if kind == "remote_id" and spoof_start is not None and np.isfinite(spoof_start[i]):
        assert attrs.spoof_offset_enu_m is not None
        x, y, z = (float(v) for v in attrs.spoof_offset_enu_m[i])
        return "displaced", max(start_s, float(spoof_start[i])), (x, y, z)
    return "genuine", None, None
