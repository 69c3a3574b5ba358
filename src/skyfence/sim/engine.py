"""The streaming simulator: a scenario in, time-ordered truth and measurements out.

:func:`simulate` is a generator of :class:`SimStep`, one per instant at which
anything happens (a truth tick or a sensor report), in time order, so the same
stream can be written to files (``skyfence simulate``) or fed live to the
engine. Sensors report at ``offset_s + k * period_s``; truth is sampled every
``truth_period_s`` from 0 to ``duration_s`` inclusive. Sensor reports at the
same instant come in the scenario's sensor order.

Randomness: one independent stream for target motion and one per sensor,
each derived from the scenario seed and the sensor's id, so adding a sensor
changes no other sensor's noise. Same seed, same bytes.

Phantoms (``physical: false``): only the cooperative receivers
(:data:`BROADCAST_SENSOR_TYPES`) are shown them; every other sensor gets a
snapshot in which they are not in the air, and they have no truth lines.
Their broadcasts still name them in ``sources`` (and so in associations.jsonl).
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from skyfence.scenario.model import Scenario
from skyfence.sim.motion import Motion
from skyfence.sim.sensors import SensorModel, make_sensor
from skyfence.sim.sensors.base import Snapshot, TargetAttributes
from skyfence.sim.sensors.cooperative import BROADCAST_SENSOR_TYPES
from skyfence.sim.targets import expand_targets

_T_DECIMALS = 6  # instants closer than a microsecond are the same instant


@dataclass
class SimStep:
    """Everything that happens at ``t_s``.

    ``truth`` is None unless ``t_s`` is a truth tick; ``sources[i]`` is the id
    of the target that made ``measurements[i]`` (None for clutter), for the
    scorer and clairvoyant benchmarks only — never for a tracker.
    """

    t_s: float
    truth: list[dict[str, Any]] | None = None
    measurements: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)


def _stream(seed: int, key: str) -> np.random.Generator:
    key_int = zlib.crc32(key.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key_int,)))


def _schedule(scenario: Scenario) -> Iterator[tuple[float, int]]:
    """(t, who) in time order; who = -1 for truth, else the sensor's index."""
    duration = scenario.duration_s
    sources: list[Iterator[tuple[float, int]]] = [
        _ticks(0.0, scenario.truth_period_s, duration, -1)
    ]
    for i, sensor in enumerate(scenario.sensors):
        sources.append(_ticks(sensor.offset_s, sensor.period_s, duration, i))
    return heapq.merge(*sources)


def _ticks(offset: float, period: float, duration: float, who: int) -> Iterator[tuple[float, int]]:
    k = 0
    while (t := round(offset + k * period, _T_DECIMALS)) <= duration + 1e-9:
        yield t, who
        k += 1


def simulate(scenario: Scenario) -> Iterator[SimStep]:
    """The scenario as a time-ordered stream of :class:`SimStep`."""
    expanded = expand_targets(scenario)
    targets = expanded.attributes
    motion = Motion(expanded, _stream(scenario.seed, "motion"))
    origin = scenario.site.origin
    models: list[SensorModel] = [make_sensor(s, origin) for s in scenario.sensors]
    rngs = [_stream(scenario.seed, f"sensor:{s.id}") for s in scenario.sensors]
    hears_phantoms = [s.type in BROADCAST_SENSOR_TYPES for s in scenario.sensors]
    physical = targets.physical_mask()
    step: SimStep | None = None
    snap: Snapshot | None = None
    real: Snapshot | None = None  # snap without the phantoms
    for t, who in _schedule(scenario):
        if step is None or t != step.t_s:
            if step is not None:
                yield step
            motion.advance_to(t)
            snap = motion.snapshot()
            real = snap if physical.all() else replace(snap, active=snap.active & physical)
            step = SimStep(t_s=t)
        assert snap is not None and real is not None
        if who < 0:
            step.truth = truth_records(real, targets)
            continue
        out = models[who].scan(snap if hears_phantoms[who] else real, targets, rngs[who])
        step.measurements.extend(out.records)
        step.sources.extend(targets.ids[i] if i >= 0 else None for i in out.target_index.tolist())
    if step is not None:
        yield step


def truth_records(snap: Snapshot, targets: TargetAttributes) -> list[dict[str, Any]]:
    """Truth lines (DESIGN.md) for the targets in the air at this instant (no phantoms)."""
    idx = np.flatnonzero(snap.active & targets.physical_mask())
    t = round(snap.t_s, 3)
    pos = np.round(snap.pos_enu_m[idx], 3).tolist()
    vel = np.round(snap.vel_enu_mps[idx], 3).tolist()
    kinds = targets.kind[idx].tolist()
    return [
        {"t": t, "id": targets.ids[i], "kind": k, "enu_m": p, "vel_mps": v}
        for i, k, p, v in zip(idx.tolist(), kinds, pos, vel, strict=True)
    ]
