"""The tracker: holds the parts, runs the loop (predict, associate, update, delete, initiate).

A multi-sensor global-nearest-neighbour (or, with ``association="jpda"``,
joint probabilistic, see jpda.py) tracker with extended Kalman filters
on a nearly-constant-velocity model, all tracks in one :class:`TrackBank`.
It imports no I/O: feed it :class:`Detections` in time order with
:meth:`Tracker.step` and read :meth:`Tracker.confirmed_at`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skyfence.tracker import association, evidence, imm, initiator, jpda, manager
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.base import (
    BoolArray,
    Detections,
    FloatArray,
    IntArray,
    MeasurementModel,
    ObjectArray,
)
from skyfence.tracker.constraint import _UP, truncate_height
from skyfence.tracker.diagnostics import UpdateEvent, UpdateHook
from skyfence.tracker.gating import Hypotheses, gate, gate_threshold, pair_statistics
from skyfence.tracker.measurement import RadarPolar
from skyfence.tracker.motion import predict
from skyfence.tracker.params import TrackerParams
from skyfence.tracker.passive_initiator import PassiveInitiator
from skyfence.tracker.radar_filters import radar_update
from skyfence.tracker.sensors import Batch, SensorSpec, split_batches
from skyfence.tracker.updater import update


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one scan did with its reports."""

    associated: int  # updated a track
    initiated: int  # started a (tentative or cooperative) track
    rejected: int  # refused: out of sequence, or lacking a required component

    @property
    def used(self) -> int:
        return self.associated + self.initiated


class BankPredictor:
    """Keeps a track bank at one common time under the site's motion model (NCV or
    IMM), and the bookkeeping every tracker over it needs (track ids, confirmed
    count, measurement models per sensor and component set); shared by
    :class:`Tracker` and the clairvoyant reference."""

    def __init__(self, sensors: Sequence[SensorSpec], params: TrackerParams | None) -> None:
        self.sensors = list(sensors)
        self.params = p = params or TrackerParams()
        self._imm = imm.ImmModes.from_params(p) if p.motion == "imm" else None
        self._mode_prior = None if self._imm is None else self._imm.initial_prob
        self.bank = TrackBank.empty(self._mode_prior, p.history_length)
        self.t_s = -math.inf
        self.confirmed_total = 0
        self._q = np.array([p.accel_noise_psd_m2ps3] * 2 + [p.vertical_accel_noise_psd_m2ps3])
        self._next_id = 1
        self._models: dict[tuple[int, tuple[int, ...]], MeasurementModel] = {}

    @property
    def tracks_started(self) -> int:
        return self._next_id - 1

    def continue_ids_after(self, last_id: int) -> None:
        """New tracks get ids above ``last_id`` (a restarted engine carrying on from its
        event store never reuses a track id)."""
        self._next_id = max(self._next_id, int(last_id) + 1)

    def predict(self, t_s: float) -> None:
        """Every track to ``t_s`` (the bank keeps one common time)."""
        if t_s > self.t_s and len(self.bank):
            self._predict(self.bank, t_s - self.t_s)
        self.t_s = max(self.t_s, t_s)

    def confirmed_at(self, t_s: float) -> TrackBank:
        """A copy of the confirmed tracks predicted to ``t_s`` (≥ the bank's time)."""
        out = self.bank.take(self.bank.confirmed)
        dt = max(t_s - self.t_s, 0.0) if math.isfinite(self.t_s) else 0.0
        if len(out) and dt > 0:
            self._predict(out, dt)
        return out

    def _predict(self, bank: TrackBank, dt: float) -> None:
        """``bank`` ``dt`` seconds ahead under the motion model (in place)."""
        if self._imm is None:
            bank.x, bank.P = predict(bank.x, bank.P, dt, self._q)
        else:
            imm.predict_bank(bank, dt, self._imm)

    def _constrain(self, rows: IntArray) -> None:
        """The ground constraint (constraint.py; every IMM mode, then their combination)
        on tracks ``rows`` (distinct), those a report has just updated or started,
        and on any track whose predicted height has fallen below the floor.

        Not on the other tracks. The filter keeps a Gaussian, so the constraint is
        "truncate, then match moments", and the matched N(μ', σ'²) has mass below
        the floor again. Truncating it again with nothing new (a scan of a sensor
        that does not see the track, another sensor's scan at the same instant)
        conditions on ``u ≥ floor`` a second time: exact conditioning is
        idempotent (p(x | A, A) = p(x | A)), the moment-matched one is not, and
        every repetition raises μ and shrinks σ. At σ ≈ 150 m (radar elevation at
        8–10 km) that ratchet lifted night-swarm's far tracks by 9–20 m. A predicted
        *mean* below the floor is another matter: every truncated Gaussian has
        μ' = μ + σ λ(α) > floor (the inverse Mills ratio λ(α) > α), so only the
        motion (a descending velocity, coasting) can have put it there, and the
        floor at the new time is then information the last truncation did not
        hold. That rule fires at most once per instant (the result's mean is
        above the floor). The truncation's own test, α > −6, would not do as the
        trigger: it holds for every low far track and would restore the ratchet."""
        floor = self.params.ground_floor_m
        if floor is None:
            return
        bank = self.bank
        rows = np.union1d(rows, np.flatnonzero(bank.x[:, _UP] < floor))
        if rows.size == 0:
            return
        if self._imm is None:
            bank.x[rows], bank.P[rows] = truncate_height(bank.x[rows], bank.P[rows], floor)
        else:
            imm.truncate_modes(bank, floor, rows)


class Tracker(BankPredictor):
    """Multi-sensor GNN/EKF tracker over a track bank (see module doc)."""

    def __init__(self, sensors: Sequence[SensorSpec], params: TrackerParams | None = None):
        super().__init__(sensors, params)
        p = self.params
        self._passive = PassiveInitiator(self.sensors, p) if p.passive_initiation else None
        self._coalesced: list[IntArray] = []  # ids of tracks JPDA merged into others
        self._touched: list[IntArray] = []  # rows a report updated this scan (_constrain)
        self._reacquire = manager.Reacquirer(p) if p.reacquire else None
        self.on_update: UpdateHook | None = None  # diagnostics.py: sees each GNN update

    # ----------------------------------------------------------------- the loop
    def step(self, scan: Detections) -> StepResult:
        """One sensor's reports at one time (not earlier than the last scan).

        An empty scan still counts: every track the sensor covers missed it.
        """
        if scan.t_s < self.t_s:  # out of sequence: not handled yet
            return StepResult(0, 0, len(scan))
        spec = self.sensors[scan.sensor]
        self.predict(scan.t_s)
        confirmed_before = int(self.bank.confirmed.sum())
        hit = np.zeros(len(self.bank), dtype=np.bool_)
        spare = np.zeros(len(scan), dtype=np.bool_)
        batches, rejected = self._batches(scan)
        for batch in batches:  # gate, associate, update
            tracks, free = self._associate_update(scan, spec, batch)
            hit[tracks] = True
            spare[batch.rows[free]] = True
        self._record_opportunities(spec, hit)
        before = len(self.bank)
        born = self._initiate(scan, spec, spare)
        born += self._triangulate(scan, spec, hit, spare)
        self._touched.append(np.arange(before, len(self.bank)))  # births
        touched = np.unique(np.concatenate(self._touched))
        self._touched.clear()
        self._manage(confirmed_before, touched)
        return StepResult(int(hit.sum()), born, rejected)

    def coast(self, t_s: float) -> None:
        """No reports up to ``t_s`` (every sensor silent): predict there and delete the
        tracks that coasted too long, as a scan would; later scans before ``t_s`` are
        out of sequence."""
        if t_s > self.t_s:
            self.predict(t_s)
            self._manage(int(self.bank.confirmed.sum()), _empty_int())

    # ------------------------------------------------------------------ parts
    def _batches(self, scan: Detections) -> tuple[list[Batch], int]:
        """Split rows by which optional components they carry; count unusable rows."""
        usable, batches = split_batches(scan, self.sensors[scan.sensor], self._models)
        return batches, int((~usable).sum())

    def _associate_update(
        self, scan: Detections, spec: SensorSpec, batch: Batch
    ) -> tuple[IntArray, BoolArray]:
        """Gate, assign and update one batch. Returns the updated track rows and
        which of the batch's rows may start a track."""
        p = self.params
        z = scan.z[batch.rows][:, list(batch.components)]
        gate_d2 = gate_threshold(p.gate_probability, len(batch.components))
        lam = spec.clutter_density(batch.components, p)
        pd = min(max(spec.pd, 1e-6), 1.0 - 1e-6)
        pairs_t, pairs_m, reinit = _empty_int(), _empty_int(), np.zeros(0, dtype=np.bool_)
        eligible: BoolArray | None = None
        todo = np.arange(len(batch.rows))
        if spec.cooperative and scan.cooperative_id is not None:
            pairs_t, pairs_m = self._identity_matches(scan.cooperative_id[batch.rows])
            eligible = ~self.bank.has_identity()
            todo = np.setdiff1d(todo, pairs_m)
        if self._imm is None or not self.params.imm_gate_modes:
            hyp = gate(self.bank.x, self.bank.P, z[todo], batch.model, gate_d2, eligible)
        else:  # the union of the modes' gates, scored by their mixture
            hyp = imm.gate_modes(self.bank, z[todo], batch.model, gate_d2, eligible)
        hyp = Hypotheses(hyp.track, todo[hyp.meas], hyp.d2, hyp.log_likelihood)
        if not spec.cooperative and jpda.selected(spec.bearing_only, p):
            return self._jpda_update(scan, spec, batch, z, hyp, pd, lam)
        miss = np.full(len(self.bank), association.miss_cost(pd, p.gate_probability))
        cost = association.pair_costs(hyp.log_likelihood, pd, lam)
        if spec.bearing_only and p.bearing_update == "unambiguous":
            chosen = np.flatnonzero(_alone(hyp) & (cost < miss[hyp.track]))
        elif spec.bearing_only and p.bearing_update == "margin":
            # the margin keeps a pair by its costs alone: only clusters holding such a
            # pair need the assignment (in a swarm, most bearings' one big cluster)
            clear = association.clear_pairs(hyp.track, hyp.meas, cost, p.bearing_margin)
            chosen = association.gnn(hyp.track, hyp.meas, cost, miss, solve=clear)
            chosen = chosen[clear[chosen]]
        else:
            chosen = association.gnn(hyp.track, hyp.meas, cost, miss)
        loglik = hyp.log_likelihood[chosen]
        if pairs_t.size:
            d2, ll = pair_statistics(self.bank.x, self.bank.P, z, batch.model, pairs_t, pairs_m)
            reinit = d2 > gate_d2
            ll = np.where(reinit, ll + 0.5 * d2, ll)  # a restarted track: as if on the report
            loglik = np.concatenate((ll, loglik))
        tracks = np.concatenate((pairs_t, hyp.track[chosen]))
        meas = np.concatenate((pairs_m, hyp.meas[chosen]))
        reinit = np.concatenate((reinit, np.zeros(chosen.size, dtype=np.bool_)))
        self._update(scan, spec, batch, z, tracks, meas, reinit, loglik, pd, lam)
        spare = np.ones(len(batch.rows), dtype=np.bool_)
        spare[meas] = False
        if not spec.cooperative:
            spare[hyp.meas] = False  # inside some track's gate: not a new target
        return tracks, spare

    def _update(
        self, scan: Detections, spec: SensorSpec, batch: Batch, z: FloatArray,
        tracks: IntArray, meas: IntArray, reinit: BoolArray, loglik: FloatArray,
        pd: float, lam: float,
    ) -> None:
        if tracks.size == 0:
            return
        bank = self.bank
        jumped = reinit.copy()  # a broadcast far off its track: evidence for trust.py
        if reinit.any():
            off_m = np.linalg.norm(z[meas[reinit], :3] - bank.x[tracks[reinit], :3], axis=1)
            jumped[reinit] = off_m > self.params.coop_jump_min_m
        if self.on_update is not None:
            self.on_update(UpdateEvent(self.t_s, scan.sensor, batch.model, bank.id[tracks],
                                       batch.rows[meas], z[meas], bank.x[tracks], bank.P[tracks],
                                       self.params.radar_update))
        if self._imm is None and isinstance(batch.model, RadarPolar):
            x, P, _ = radar_update(bank.x[tracks], bank.P[tracks], z[meas], batch.model,
                                   self.params.radar_update)
        elif self._imm is None:
            x, P, _ = update(bank.x[tracks], bank.P[tracks], z[meas], batch.model)
        else:  # every mode updated by the same pairs
            imm.update_bank(bank, tracks, self._mode_update(z[meas], batch.model))
            x, P = bank.x[tracks], bank.P[tracks]
        if reinit.any():  # a cooperative track that jumped: restart it on the report
            full = scan.z[batch.rows[meas[reinit]]]
            x[reinit], P[reinit], _ = initiator.initial_states(full, spec, self.params)
        bank.x[tracks], bank.P[tracks] = x, P
        self._touched.append(tracks)
        if self._imm is not None and reinit.any():
            imm.restart_rows(bank, tracks[reinit], self._imm.initial_prob)
        manager.record_hits(bank, tracks, self.t_s, math.log(pd) + loglik - math.log(lam))
        evidence.add_contributions(bank.class_loglik, tracks,
                                   self._evidence(scan, spec, batch.rows[meas]),
                                   self.params.evidence)
        if spec.cooperative and scan.cooperative_id is not None:
            bank.cooperative_id[tracks] = scan.cooperative_id[batch.rows[meas]]
            bank.confirmed[tracks] = True
            bank.t_coop_jump_s[tracks[jumped]] = self.t_s
            if scan.operator_enu_m is not None:
                bank.operator_enu_m[tracks] = scan.operator_enu_m[batch.rows[meas]]

    def _mode_update(self, z: FloatArray, model: MeasurementModel) -> imm.ModeUpdate:
        """The IMM's update of one mode by reports ``z``: radar plots by the chosen
        radar filter, everything else by the EKF."""
        method = self.params.radar_update
        if isinstance(model, RadarPolar) and method != "ekf":
            return imm.radar(z, model, method)
        return imm.ekf(z, model)

    def _jpda_update(
        self, scan: Detections, spec: SensorSpec, batch: Batch, z: FloatArray,
        hyp: Hypotheses, pd: float, lam: float,
    ) -> tuple[IntArray, BoolArray]:
        """JPDA (jpda.py): every track with a gated report gets the PDA update
        and the score ``ln(L_i0 + Σ_j L_ij)``; those detected with probability
        above ½ count as hit. Returns the hit tracks and the reports that may
        start a track (those no track claims with probability above ½)."""
        bank = self.bank
        log_ratio = math.log(pd) + hyp.log_likelihood - math.log(lam)
        log_miss = np.full(len(bank), math.log1p(-pd * self.params.gate_probability))
        beta, beta0 = jpda.marginals(hyp.track, hyp.meas, log_ratio, log_miss)
        self._pda_states(z, batch.model, hyp, beta, beta0, pd, lam)
        gated = np.unique(hyp.track)
        hit = 1.0 - beta0[gated] > jpda.HIT_PROBABILITY
        gain = jpda.score_gain(hyp.track, log_ratio, log_miss)[gated] - log_miss[gated]
        if spec.type in self.params.miss_sensor_types:  # the rest get ln L_i0 as a miss
            gain[hit] += log_miss[gated[hit]]
        manager.record_hits(bank, gated[hit], self.t_s, gain[hit])
        bank.score[gated[~hit]] += gain[~hit]
        bank.score_max[gated] = np.maximum(bank.score_max[gated], bank.score[gated])
        shared = self._evidence(scan, spec, batch.rows[hyp.meas]) * beta[:, None, None]
        evidence.add_contributions(bank.class_loglik, hyp.track, shared, self.params.evidence)
        if self.params.jpda_merge_d2 > 0:
            gone = jpda.coalesced(bank, hyp.track, hyp.meas, self.params.jpda_merge_d2)
            self._coalesced.append(bank.id[gone])
        claimed = np.bincount(hyp.meas, beta, minlength=len(batch.rows))
        return gated[hit], np.asarray(claimed <= jpda.SPAWN_MAX_PROBABILITY, dtype=np.bool_)

    def _pda_states(self, z: FloatArray, model: MeasurementModel, hyp: Hypotheses,
                    beta: FloatArray, beta0: FloatArray, pd: float, lam: float) -> None:
        """The PDA update of the bank's states (with an IMM: of every mode's, IMM-PDA)."""
        bank = self.bank
        self._touched.append(hyp.track)  # every gated track: the PDA moved its state
        if self._imm is None:
            bank.x, bank.P = jpda.pda_update(bank.x, bank.P, z, model, hyp.track, hyp.meas,
                                             beta, beta0)
            return
        rows, local = np.unique(hyp.track, return_inverse=True)
        log_miss = math.log1p(-pd * self.params.gate_probability)
        imm.update_bank(bank, rows, jpda.mode_update(
            z, model, local, hyp.meas, beta, beta0[rows], math.log(pd / lam), log_miss))

    def _record_opportunities(self, spec: SensorSpec, hit: BoolArray) -> None:
        """A scan of a miss-counting sensor: covered tracks not hit missed it."""
        if spec.type in self.params.miss_sensor_types:
            n = hit.shape[0]  # the tracks there were before this scan's births
            miss_score = math.log1p(-spec.pd * self.params.gate_probability)
            manager.record_opportunities(self.bank, spec.covers(self.bank.x[:n]), hit,
                                         miss_score)

    def _kinematic_evidence(self, rows: IntArray) -> None:
        """What the flight of the tracks updated now says of their class (evidence.py);
        agility is 1 − P(quietest IMM mode)."""
        bank = self.bank
        agility = None if self._imm is None else 1.0 - bank.mode_prob[:, 0]
        evidence.add_kinematics(bank.class_loglik, bank.t_kinematics_s, rows, self.t_s,
                                bank.x, bank.P, agility, self.params.evidence)

    def _manage(self, confirmed_before: int, touched: IntArray) -> None:
        """Ground constraint on the tracks ``touched`` (updated or started by this scan;
        see _constrain), trail (bank.py), confirmation, deletion (and merging when
        enabled)."""
        p = self.params
        self._constrain(touched)
        updated = np.flatnonzero(self.bank.t_update_s == self.t_s)
        self.bank.record_trail(updated, self.t_s)
        self._kinematic_evidence(updated)
        fresh = ~self.bank.confirmed
        manager.confirm(self.bank, p)
        fresh &= self.bank.confirmed
        self.confirmed_total += int(self.bank.confirmed.sum()) - confirmed_before
        keep = manager.survivors(self.bank, self.t_s, p)
        deleted = ~keep
        if p.merge_d2 > 0:
            keep &= ~manager.duplicates(self.bank, p)
        if self._coalesced:
            keep &= ~np.isin(self.bank.id, np.concatenate(self._coalesced))
            self._coalesced.clear()
        if self._reacquire is not None:  # new tracks that continue broken ones keep their id
            self.confirmed_total -= self._reacquire.step(self.bank, fresh, keep, deleted,
                                                         self.t_s, self._predict)
        self.bank.keep(keep)

    def _initiate(self, scan: Detections, spec: SensorSpec, free: BoolArray) -> int:
        """Start tracks on the spare reports of an initiating sensor; how many."""
        if spec.type not in self.params.initiating_sensor_types or not free.any():
            return 0
        rows = np.flatnonzero(free)
        if spec.cooperative and scan.cooperative_id is not None:  # one track per identity
            _, first = np.unique(scan.cooperative_id[rows].astype(str), return_index=True)
            rows = rows[np.sort(first)]
        x, P, usable = initiator.initial_states(scan.z[rows], spec, self.params)
        rows, x, P = rows[usable], x[usable], P[usable]
        n = rows.size
        if n == 0:
            return 0
        ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
        self._next_id += n
        new = TrackBank.new(x, P, self.t_s, ids, self._mode_prior, self.params.history_length)
        if spec.type in self.params.miss_sensor_types:
            new.opportunities[:] = 1
            new.history[:] = 1
        evidence.add_contributions(new.class_loglik, np.arange(n),
                                   self._evidence(scan, spec, rows), self.params.evidence)
        if scan.operator_enu_m is not None:
            new.operator_enu_m[:] = scan.operator_enu_m[rows]
        if spec.cooperative:
            new.confirmed[:] = True
            if scan.cooperative_id is not None:
                new.cooperative_id[:] = scan.cooperative_id[rows]
        self.bank.extend(new)
        return n

    def _triangulate(self, scan: Detections, spec: SensorSpec, hit: BoolArray,
                     free: BoolArray) -> int:
        """Passive initiation (passive_initiator.py): count this scan as an opportunity
        for passive tentative tracks, buffer its spare bearings, and start tracks
        where bearings of several sensors cross; how many bearings that used."""
        if self._passive is None or not spec.bearing_only:
            return 0
        rows = np.flatnonzero(free)
        self._passive.record_opportunities(self.bank, scan.sensor, hit)
        said = self._evidence(scan, spec, rows).reshape(rows.size, evidence.EVIDENCE_WIDTH)
        self._passive.observe(self.bank, scan, rows, said, self.t_s)
        births = self._passive.initiate(self.t_s)
        n = len(births)
        if n == 0:
            return 0
        new = TrackBank.new(births.x, births.P, self.t_s,
                            np.arange(self._next_id, self._next_id + n, dtype=np.int64),
                            self._mode_prior, self.params.history_length)
        self._next_id += n
        evidence.add_contributions(new.class_loglik, np.arange(n),
                                   births.evidence.reshape(new.class_loglik.shape),
                                   self.params.evidence)
        new.passive_sensors[:] = births.heard
        self.bank.extend(new)
        return births.bearings

    def _identity_matches(self, ids: ObjectArray) -> tuple[IntArray, IntArray]:
        """(track rows, report indices) where a report's identity names a track."""
        known = {c: i for i, c in enumerate(self.bank.cooperative_id) if c is not None}
        pairs, seen = [], set()
        for j, c in enumerate(ids):
            if c is not None and c in known and c not in seen:  # one report per track
                seen.add(c)
                pairs.append((known[c], j))
        if not pairs:
            return _empty_int(), _empty_int()
        arr = np.asarray(pairs, dtype=np.int64)
        return arr[:, 0], arr[:, 1]

    def _evidence(self, scan: Detections, spec: SensorSpec, rows: IntArray) -> FloatArray:
        """(len(rows), len(SOURCES), 4) class evidence the reports ``rows`` add to their
        tracks (evidence.py)."""
        return evidence.report_contributions(spec.type, scan, rows, self.params.evidence)


def _alone(hyp: Hypotheses) -> BoolArray:
    """Pairs that are the only gated pair of both their track and their measurement."""
    if len(hyp) == 0:
        return np.zeros(0, dtype=np.bool_)
    per_track = np.bincount(hyp.track)
    per_meas = np.bincount(hyp.meas)
    return np.asarray((per_track[hyp.track] == 1) & (per_meas[hyp.meas] == 1), dtype=np.bool_)


def _empty_int() -> IntArray:
    return np.zeros(0, dtype=np.int64)
