"""Filter diagnostics: what each track update saw, for consistency tests (off by default).

Set :attr:`Tracker.on_update` to any callable taking an :class:`UpdateEvent`
and the tracker hands it every (track, report) pair it is about to update
with — every update that takes one report per track: radar and cooperative
reports by GNN, bearings by their rule (``bearing_update``). JPDA's
probabilistic update has no single innovation and is not reported. With
``on_update`` left ``None`` the tracker builds nothing: one attribute test
per update batch.

:class:`InnovationLog` is such a callable: it records the normalised
innovation squared (NIS) of every pair, ``d² = yᵀ S⁻¹ y`` with ``y`` and
``S`` exactly as the filter forms them (for radar plots the chosen
``radar_update``: the second-order EKF adds its curvature terms to ``ẑ`` and
``S``; with an IMM, on the moment-matched combined prediction that gating
uses too), with the number of components of the report (its χ² degrees of
freedom), the sensor, the track id and the scan row, so a test can keep the
pairs whose report truly came from the target the track follows.

Unlike everything in the track bank, the log grows with the run: it is for
tests and benchmarks, not for a tracker that runs for days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from skyfence.tracker.base import FloatArray, IntArray, MeasurementModel
from skyfence.tracker.measurement import RadarPolar
from skyfence.tracker.radar_filters import RadarUpdate, radar_update
from skyfence.tracker.updater import update


@dataclass(frozen=True, slots=True)
class UpdateEvent:
    """K (track, report) pairs of one scan about to update, with the predictions."""

    t_s: float
    sensor: int  # index into Tracker.sensors
    model: MeasurementModel  # over the components the reports carry
    track_id: IntArray  # (K,) TrackBank.id of the tracks
    rows: IntArray  # (K,) rows of the scan (Detections.z) that update them
    z: FloatArray  # (K, k) those reports, model.components only
    x: FloatArray  # (K, 6) predicted states (copies)
    P: FloatArray  # (K, 6, 6) predicted covariances (copies)
    radar_update: RadarUpdate  # the tracker's radar filter (TrackerParams.radar_update)


UpdateHook = Callable[[UpdateEvent], None]
"""What :attr:`Tracker.on_update` takes."""


def normalised_innovation(event: UpdateEvent) -> FloatArray:
    """(K,) NIS ``yᵀ S⁻¹ y`` of the event's pairs as the tracker's filter forms it."""
    if event.track_id.size == 0:
        return np.zeros(0)
    if isinstance(event.model, RadarPolar):
        _, _, d2 = radar_update(event.x, event.P, event.z, event.model, event.radar_update)
    else:
        _, _, d2 = update(event.x, event.P, event.z, event.model)
    return np.asarray(d2, dtype=np.float64)


@dataclass
class InnovationLog:
    """Records the NIS of every update the tracker makes (module doc); grows with the run."""

    _parts: list[tuple[FloatArray, ...]] = field(default_factory=list)

    def __call__(self, event: UpdateEvent) -> None:
        k = event.track_id.size
        if k == 0:
            return
        self._parts.append((np.full(k, event.t_s), np.full(k, float(event.sensor)),
                            event.track_id.astype(np.float64), event.rows.astype(np.float64),
                            normalised_innovation(event), np.full(k, float(event.model.dim))))

    def table(self) -> dict[str, FloatArray | IntArray]:
        """Every recorded pair in update order: ``t_s``, ``sensor``, ``track_id``,
        ``row``, ``nis``, ``dof`` (arrays of equal length)."""
        cols = [np.concatenate(c) if c else np.zeros(0) for c in zip(*self._parts, strict=True)]
        if not cols:
            cols = [np.zeros(0)] * 6
        t_s, sensor, track_id, row, nis, dof = cols
        return {"t_s": t_s, "sensor": sensor.astype(np.int64),
                "track_id": track_id.astype(np.int64), "row": row.astype(np.int64),
                "nis": nis, "dof": dof.astype(np.int64)}
