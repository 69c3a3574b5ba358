r"""Which truth points some sensor could have reported: only those count as missed.

A truth point (target *k* at tick *g*) is DETECTABLE when

.. math::

    \max_{s \in \text{sensors}} P_D^{(s)}(x_{k,g}) \ge P_{D,\min}

with :math:`P_D^{(s)}` the sensor model's own deterministic
``detection_probability`` (range, field of view, horizon, kind or emission it
senses), evaluated on a :class:`Snapshot` of the truth at that tick: every
scenario target that has a truth line at the tick is active at its truth
position and velocity, the others are inactive. Truth ids that the scenario
does not define are always detectable (nothing says otherwise), and a
scenario with no sensors makes every one of its targets undetectable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from skyfence.evaluate.gospa import runs
from skyfence.sim.sensors.base import SensorModel, Snapshot, TargetAttributes

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def scenario_index(truth_ids: Sequence[str], attributes: TargetAttributes) -> IntArray:
    """For each truth id, its index in the scenario's targets, or -1 if it has none."""
    where = {target_id: k for k, target_id in enumerate(attributes.ids)}
    return np.array([where.get(i, -1) for i in truth_ids], dtype=np.int64)


def detectable_points(
    tick: IntArray,
    tick_t_s: FloatArray,
    scenario_row: IntArray,
    enu_m: FloatArray,
    vel_mps: FloatArray,
    attributes: TargetAttributes,
    models: Sequence[SensorModel],
    min_pd: float,
) -> BoolArray:
    """(R,) True where the truth row could be reported with probability >= ``min_pd``.

    ``tick`` (R,) indexes ``tick_t_s``; ``scenario_row`` (R,) is the row's
    target index in ``attributes`` (-1: not a scenario target, detectable);
    each target appears at most once per tick.
    """
    detectable = scenario_row < 0
    known = np.flatnonzero(~detectable)
    if len(known) == 0:
        return detectable
    order = known[np.argsort(tick[known], kind="stable")]
    for a, b in runs(tick[order]):
        rows = order[a:b]
        snap = _snapshot(
            float(tick_t_s[tick[rows[0]]]), scenario_row[rows], enu_m[rows], vel_mps[rows],
            len(attributes),
        )
        pd = _best_pd(snap, attributes, models)
        detectable[rows] = pd[scenario_row[rows]] >= min_pd
    return detectable


def _snapshot(
    t_s: float, index: IntArray, enu_m: FloatArray, vel_mps: FloatArray, n_targets: int
) -> Snapshot:
    """All scenario targets at one tick; only those given (``index``) are active."""
    pos = np.zeros((n_targets, 3))
    vel = np.zeros((n_targets, 3))
    active = np.zeros(n_targets, dtype=bool)
    pos[index] = enu_m
    vel[index] = np.nan_to_num(vel_mps, nan=0.0)
    active[index] = True
    return Snapshot(t_s=t_s, pos_enu_m=pos, vel_enu_mps=vel, active=active)


def _best_pd(
    snap: Snapshot, attributes: TargetAttributes, models: Sequence[SensorModel]
) -> FloatArray:
    """(N,) the highest detection probability any sensor gives each target."""
    best = np.zeros(len(attributes))
    for model in models:
        best = np.maximum(best, np.asarray(model.detection_probability(snap, attributes)))
    return best
