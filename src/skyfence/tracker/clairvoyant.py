"""Clairvoyant reference: skyfence's filter fed the true associations.

The practical lower bound on a tracker's error (issue 3, item 9). Everything
that estimates is the real tracker's, chosen by the same
:class:`TrackerParams`: the motion model (``motion``: the
nearly-constant-velocity :func:`~skyfence.tracker.motion.predict`, or the
IMM of :mod:`~skyfence.tracker.imm`), the update (the EKF of
:func:`~skyfence.tracker.updater.update`; radar plots by ``radar_update``,
:func:`~skyfence.tracker.radar_filters.radar_update`; with an IMM every mode
updated by the same report) with the measurement models
:meth:`SensorSpec.model` builds (one per sensor and set of components
present, as :class:`~skyfence.tracker.tracker.Tracker` does), the initial
states of :func:`~skyfence.tracker.initiator.initial_states` and the ground
constraint. What it does NOT do is guess: there is no gate and no
association. Each report comes with the id of the truth target that made it
(``None`` for clutter, which is skipped), and it updates that target's track.

Track management, documented because it is where a reference can cheat:

- **start**: a target's first report from an initiating sensor
  (``params.initiating_sensor_types``: radar and cooperative by default, the
  sensors that start skyfence tracks) starts its track, at the same initial
  state the Tracker would give it. Bearings alone start none: where the
  Tracker's passive triangulation starts a track that no radar sees, the
  reference has none, and can be beaten there;
- **confirm** (``confirm=``): ``"tracker"`` (default) applies the Tracker's
  own test (``params.confirmation``: M hits in the first N detection
  opportunities, or the log-likelihood-ratio score) with opportunities
  counted exactly as the Tracker counts them, so the reference differs from
  skyfence only by association; ``"second_update"`` confirms a track at its
  second report (the fastest a two-point initiator can be sure; on
  night-swarm it scored worse, 65.9 m against 57.6 m, as tracks confirmed
  on two plots carry a poor velocity). Cooperative tracks start confirmed
  in both;
- **delete**: with ``"tracker"``, exactly as the Tracker deletes
  (:func:`~skyfence.tracker.manager.survivors`: a tentative track that can no
  longer pass, a confirmed one whose score fell ``delete_score_drop`` below
  its best or that missed ``delete_after_misses`` in a row, any track not
  updated for ``max_coast_s`` or whose position σ exceeds
  ``max_position_sigma_m``); with ``"second_update"``, only after
  ``tentative_max_coast_s`` (tentative) or ``max_coast_s`` (confirmed)
  without a report, or when too uncertain. Coasting longer does not help a
  reference: on night-swarm, keeping confirmed tracks for the full
  ``max_coast_s`` left each dived drone's track 8 s of false-track cost
  (mean GOSPA 58.7 m against 57.6 m with the Tracker's deletion). The
  target's next report starts a new track.

Only one report per target per scan is used (the first; a simulator gives
at most one). Like the Tracker it imports no I/O: the caller reads the truth ids
(``associations.jsonl``) and passes them with each scan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from skyfence.tracker import imm, initiator, manager
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.base import (
    BoolArray,
    Detections,
    IntArray,
    MeasurementModel,
    ObjectArray,
)
from skyfence.tracker.gating import pair_statistics
from skyfence.tracker.measurement import RadarPolar
from skyfence.tracker.params import TrackerParams
from skyfence.tracker.radar_filters import radar_update
from skyfence.tracker.sensors import SensorSpec, split_batches
from skyfence.tracker.tracker import BankPredictor, StepResult
from skyfence.tracker.updater import update

Confirm = Literal["tracker", "second_update"]


class ClairvoyantTracker(BankPredictor):
    """Tracks fed true associations (see module doc); the Tracker's read interface."""

    def __init__(self, sensors: Sequence[SensorSpec], params: TrackerParams | None = None,
                 confirm: Confirm = "tracker") -> None:
        if confirm not in ("tracker", "second_update"):
            raise ValueError(f"confirm must be 'tracker' or 'second_update', not {confirm!r}")
        super().__init__(sensors, params)
        self.confirm = confirm
        self.truth_id: ObjectArray = np.empty(0, dtype=object)  # (N,) aligned with the bank

    # ----------------------------------------------------------------- the loop
    def step(self, scan: Detections, truth_id: Sequence[str | None] | ObjectArray) -> StepResult:
        """One scan with the truth id of each of its rows (``None``: clutter)."""
        ids = np.asarray(truth_id, dtype=object).reshape(-1)
        if ids.shape[0] != len(scan):
            raise ValueError(f"{ids.shape[0]} truth ids for a scan of {len(scan)} reports")
        if scan.t_s < self.t_s:
            return StepResult(0, 0, len(scan))
        spec = self.sensors[scan.sensor]
        self.predict(scan.t_s)
        confirmed_before = int(self.bank.confirmed.sum())
        usable, batches = split_batches(scan, spec, self._models)
        first = _first_of_each(ids, usable)  # one usable report per target
        row_of = {tid: i for i, tid in enumerate(self.truth_id.tolist())}
        hit = np.zeros(len(self.bank), dtype=np.bool_)
        for batch in batches:
            model = batch.model
            rows = batch.rows[first[batch.rows]]
            known = np.fromiter((ids[r] in row_of for r in rows), dtype=np.bool_,
                                count=rows.size)
            rows = rows[known]
            if rows.size:
                tracks = np.fromiter((row_of[ids[r]] for r in rows), dtype=np.int64,
                                     count=rows.size)
                self._update(scan, spec, model, rows, tracks)
                hit[tracks] = True
        if spec.type in self.params.miss_sensor_types:
            miss_score = math.log1p(-spec.pd * self.params.gate_probability)
            manager.record_opportunities(self.bank, spec.covers(self.bank.x), hit, miss_score)
        new = np.flatnonzero(first & np.fromiter((i not in row_of for i in ids), dtype=np.bool_,
                                                 count=ids.shape[0]))
        before = len(self.bank)
        born = self._initiate(scan, spec, new, ids)
        # the ground constraint on what this scan updated or started only (Tracker too)
        self._constrain(np.concatenate((np.flatnonzero(hit), np.arange(before, len(self.bank)))))
        self._manage(confirmed_before)
        return StepResult(int(hit.sum()), born, int((~usable).sum()))

    # ------------------------------------------------------------------ parts

    def _update(self, scan: Detections, spec: SensorSpec, model: MeasurementModel,
                rows: IntArray, tracks: IntArray) -> None:
        """EKF-update track rows ``tracks`` with scan rows ``rows`` (pairwise)."""
        bank, p = self.bank, self.params
        z = scan.z[rows][:, list(model.components)]
        pair = np.arange(rows.size, dtype=np.int64)
        _, loglik = pair_statistics(bank.x, bank.P, z, model, tracks, pair)
        method = p.radar_update
        if self._imm is not None:  # every mode by the same report
            if isinstance(model, RadarPolar) and method != "ekf":
                radar = model
                mode_update = imm.pairwise(
                    lambda x, P, zz: radar_update(x, P, zz, radar, method), z, model)
            else:
                mode_update = imm.ekf(z, model)
            imm.update_bank(bank, tracks, mode_update)
        elif isinstance(model, RadarPolar):
            bank.x[tracks], bank.P[tracks], _ = radar_update(bank.x[tracks], bank.P[tracks], z,
                                                             model, method)
        else:
            bank.x[tracks], bank.P[tracks], _ = update(bank.x[tracks], bank.P[tracks], z, model)
        pd = min(max(spec.pd, 1e-6), 1.0 - 1e-6)
        lam = spec.clutter_density(model.components, p)
        manager.record_hits(bank, tracks, self.t_s, math.log(pd) + loglik - math.log(lam))
        if spec.cooperative and scan.cooperative_id is not None:
            bank.cooperative_id[tracks] = scan.cooperative_id[rows]
            bank.confirmed[tracks] = True

    def _initiate(self, scan: Detections, spec: SensorSpec, rows: IntArray,
                  ids: ObjectArray) -> int:
        """Start tracks on scan rows ``rows`` (targets without a track); how many."""
        if spec.type not in self.params.initiating_sensor_types or rows.size == 0:
            return 0
        x, P, ok = initiator.initial_states(scan.z[rows], spec, self.params)
        rows, x, P = rows[ok], x[ok], P[ok]
        n = rows.size
        if n == 0:
            return 0
        new = TrackBank.new(x, P, self.t_s, np.arange(self._next_id, self._next_id + n,
                                                      dtype=np.int64), self._mode_prior,
                           self.params.history_length)
        self._next_id += n
        if spec.type in self.params.miss_sensor_types:
            new.opportunities[:] = 1
            new.history[:] = 1
        if spec.cooperative:
            new.confirmed[:] = True
            if scan.cooperative_id is not None:
                new.cooperative_id[:] = scan.cooperative_id[rows]
        self.bank.extend(new)
        self.truth_id = np.concatenate((self.truth_id, ids[rows]))
        return n

    def _manage(self, confirmed_before: int) -> None:
        """Confirmation, deletion (see module doc)."""
        p, bank = self.params, self.bank
        bank.record_trail(np.flatnonzero(bank.t_update_s == self.t_s), self.t_s)
        if self.confirm == "tracker":
            manager.confirm(bank, p)
        else:
            bank.confirmed |= bank.hits >= 2
        self.confirmed_total += int(bank.confirmed.sum()) - confirmed_before
        coast = self.t_s - bank.t_update_s
        pos_sigma = np.sqrt(bank.P[:, 0, 0] + bank.P[:, 1, 1] + bank.P[:, 2, 2])
        if self.confirm == "tracker":
            dead = ~manager.survivors(bank, self.t_s, p)
        else:
            dead = ((~bank.confirmed & (coast > p.tentative_max_coast_s))
                    | (bank.confirmed & (coast > p.max_coast_s))
                    | ~np.isfinite(pos_sigma) | (pos_sigma > p.max_position_sigma_m))
        keep = np.asarray(~dead, dtype=np.bool_)
        bank.keep(keep)
        self.truth_id = self.truth_id[keep]


def _first_of_each(ids: ObjectArray, usable: BoolArray) -> BoolArray:
    """True at the first usable row of each non-None id."""
    out = np.zeros(ids.shape[0], dtype=np.bool_)
    seen: set[object] = set()
    for i, tid in enumerate(ids.tolist()):
        if tid is not None and usable[i] and tid not in seen:
            seen.add(tid)
            out[i] = True
    return out
