"""Stone Soup on skyfence's radar plots: conversions, the four configurations, an adapter.

Bench/test-only (Stone Soup is an optional extra). Everything here maps
skyfence's conventions onto Stone Soup's and back:

- State: skyfence ``[e, n, u, ve, vn, vu]``; Stone Soup ``[x, vx, y, vy, z, vz]``
  with x = east, y = north, z = up (mapping (0, 2, 4), velocity (1, 3, 5)).
- Radar plot: skyfence ``[range_m, az, el, range_rate]`` with azimuth
  clockwise from north; Stone Soup's ``CartesianToElevationBearingRangeRate``
  measures ``[elevation, bearing, range, range_rate]`` with bearing
  ``atan2(y, x)``, counter-clockwise from east: ``bearing = π/2 − az``
  (wrapped by Stone Soup's :class:`Bearing` type). Elevation is the same
  angle (``asin(z/ρ)`` = ``atan2(z, ground)``), range rate the same sign
  (positive receding). :func:`check_round_trip` verifies it noiselessly.
- Motion: ``ConstantVelocity(q)`` per axis gives exactly skyfence's
  discretised white-noise-acceleration ``Q(dt)``, with the same q.

Configurations (see :func:`build`): GNN (``GNNWith2DAssignment`` over a
Mahalanobis ``DistanceHypothesiser``) and JPDA (``JPDAwithEHM2``, the exact
JPDA marginals by efficient hypothesis management, over a
``PDAHypothesiser`` with the same P_D, P_G and clutter density λ skyfence
uses), each with an ``ExtendedKalmanUpdater`` or ``UnscentedKalmanUpdater``.
Both associators search candidates with Stone Soup's detection k-d tree
(``DetectionKDTreeMixIn``, in Stone Soup's own measurement space) so they
are not quadratic in the number of plots; :data:`KD_MAX_DISTANCE` is wide
enough never to drop a pair inside the χ² gate (checked against the
exhaustive associator in ``--quick`` runs). Tentative tracks:
``MultiMeasurementInitiator`` (3 plots to confirm, like skyfence's 3 of 5;
dropped after ``tentative_max_coast_s`` of misses); confirmed tracks:
``UpdateTimeStepsDeleter`` after the run of misses at which skyfence's score
deletes (P_D aware, at most ``max_coast_s``) or when the position
covariance trace exceeds ``max_position_sigma_m²``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import chi2
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.dataassociator.probability import JPDAwithEHM2
from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D, DetectionKDTreeMixIn
from stonesoup.deleter.error import CovarianceBasedDeleter
from stonesoup.deleter.multi import CompositeDeleter
from stonesoup.deleter.time import UpdateTimeStepsDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.hypothesiser.probability import PDAHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRangeRate
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel,
    ConstantVelocity,
)
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.tracker.simple import MultiTargetMixtureTracker, MultiTargetTracker
from stonesoup.types.angle import Bearing, Elevation
from stonesoup.types.detection import Detection
from stonesoup.types.state import GaussianState, State, StateVector
from stonesoup.updater.kalman import ExtendedKalmanUpdater, UnscentedKalmanUpdater

from skyfence.tracker import Detections, SensorSpec, TrackerParams
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.measurement import RadarPolar
from skyfence.tracker.motion import predict

EPOCH = dt.datetime(2000, 1, 1)
SS_ORDER = [0, 3, 1, 4, 2, 5]
"""Stone Soup state index → skyfence state index: ss = x[SS_ORDER]."""
SKY_ORDER = np.argsort(SS_ORDER)
KD_MAX_DISTANCE = 500.0
"""k-d tree search radius in Stone Soup's raw measurement space (el, bearing in
rad; range in m; range rate in m/s): it is dominated by range and range rate,
whose 99.9 % χ² gate is well under 100 m and 20 m/s here."""
CONFIGS = ("ss-gnn-ekf", "ss-gnn-ukf", "ss-jpda-ekf", "ss-jpda-ukf")


class KDTreeJPDAwithEHM2(DetectionKDTreeMixIn, JPDAwithEHM2):
    """JPDA-EHM2 with Stone Soup's detection k-d tree (composed as tree.py composes
    its own KDTreeJPDA)."""


def timestamp(t_s: float) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=t_s)


def radar_model(spec: SensorSpec) -> CartesianToElevationBearingRangeRate:
    s_r, s_az, s_el, s_rr = spec.sigma
    return CartesianToElevationBearingRangeRate(
        ndim_state=6, mapping=(0, 2, 4), velocity_mapping=(1, 3, 5),
        noise_covar=np.diag([s_el**2, s_az**2, s_r**2, s_rr**2]),
        translation_offset=StateVector(list(spec.position_enu_m)),
    )


def to_stonesoup(z: np.ndarray) -> list[StateVector]:
    """skyfence radar rows [ρ, az, el, ṙ] (rad) → Stone Soup [el, bearing, ρ, ṙ]."""
    return [StateVector([Elevation(row[2]), Bearing(math.pi / 2 - row[1]), row[0], row[3]])
            for row in z]


def detections(scan: Detections, model: Any) -> set[Detection]:
    when = timestamp(scan.t_s)
    return {Detection(v, timestamp=when, measurement_model=model)
            for v in to_stonesoup(scan.z)}


def check_round_trip(spec: SensorSpec, seed: int = 0) -> float:
    """Largest |difference| between skyfence's and Stone Soup's noiseless radar
    measurement of random states (angles compared wrapped); should be ~1e-9."""
    rng = np.random.default_rng(seed)
    x = np.column_stack((rng.uniform(-9000, 9000, (50, 2)), rng.uniform(10, 2000, 50),
                         rng.normal(0, 30, (50, 3))))
    ours = RadarPolar(spec.position_enu_m, spec.sigma).function(x)
    model = radar_model(spec)
    worst = 0.0
    for xi, zi in zip(x, ours, strict=True):
        theirs = np.asarray(model.function(State(StateVector(xi[SS_ORDER]))), dtype=float)[:, 0]
        mine = np.asarray(to_stonesoup(zi[None])[0], dtype=float)[:, 0]
        diff = theirs - mine
        diff[:2] = (diff[:2] + math.pi) % (2 * math.pi) - math.pi
        worst = max(worst, float(np.abs(diff).max()))
    return worst


def build(name: str, spec: SensorSpec, params: TrackerParams, kd_tree: bool = True) -> Any:
    """One of :data:`CONFIGS` as a Stone Soup tracker (driven with ``update_tracker``)."""
    _, assoc, filt = name.split("-")
    q_h, q_v = params.accel_noise_psd_m2ps3, params.vertical_accel_noise_psd_m2ps3
    transition = CombinedLinearGaussianTransitionModel(
        [ConstantVelocity(q_h), ConstantVelocity(q_h), ConstantVelocity(q_v)])
    predictor = KalmanPredictor(transition)
    model = radar_model(spec)
    updater = (ExtendedKalmanUpdater(model) if filt == "ekf" else UnscentedKalmanUpdater(model))
    gate = math.sqrt(chi2.ppf(params.gate_probability, 4))
    distance = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(),
                                    missed_distance=gate)

    def gnn() -> Any:
        if kd_tree:
            return DetectionKDTreeGNN2D(hypothesiser=distance, predictor=predictor,
                                        updater=updater, max_distance=KD_MAX_DISTANCE)
        return GNNWith2DAssignment(distance)

    var_v = params.max_speed_mps**2 / 3.0
    prior = GaussianState(StateVector(np.zeros(6)), np.diag([0.0, var_v] * 3))
    tentative_steps = max(1, round(params.tentative_max_coast_s / spec.period_s))
    initiator = MultiMeasurementInitiator(
        prior_state=prior, measurement_model=model,
        deleter=UpdateTimeStepsDeleter(tentative_steps), data_associator=gnn(),
        updater=updater, min_points=params.confirm_m)
    deleter = CompositeDeleter([
        UpdateTimeStepsDeleter(confirmed_misses(spec, params)),
        CovarianceBasedDeleter(covar_trace_thresh=params.max_position_sigma_m**2,
                               mapping=[0, 2, 4]),
    ], intersect=False)
    if assoc == "gnn":
        return MultiTargetTracker(initiator=initiator, deleter=deleter, detector=None,
                                  data_associator=gnn(), updater=updater)
    pda = PDAHypothesiser(predictor, updater,
                          clutter_spatial_density=spec.clutter_density((0, 1, 2, 3), params),
                          prob_detect=min(spec.pd, 0.999), prob_gate=params.gate_probability)
    jpda = (KDTreeJPDAwithEHM2(hypothesiser=pda, predictor=predictor, updater=updater,
                               max_distance=KD_MAX_DISTANCE)
            if kd_tree else JPDAwithEHM2(pda))
    return MultiTargetMixtureTracker(initiator=initiator, deleter=deleter, detector=None,
                                     data_associator=jpda, updater=updater)


def confirmed_misses(spec: SensorSpec, params: TrackerParams) -> int:
    """Consecutive misses after which skyfence's score deletes a confirmed track:
    each costs ln(1 − P_D P_G) of the allowed drop, at most max_coast_s of them."""
    per_miss = -math.log1p(-min(spec.pd, 0.999) * params.gate_probability)
    steps = math.ceil(params.delete_score_drop / per_miss)
    cap = max(1, math.floor(params.max_coast_s / spec.period_s))
    return int(min(steps, cap, params.delete_after_misses))


class StoneSoupSource:
    """A Stone Soup tracker read like skyfence's (the TickWriter's TrackSource)."""

    def __init__(self, tracker: Any, params: TrackerParams) -> None:
        self.tracker, self.params = tracker, params
        self._ids: dict[str, int] = {}

    def step(self, scan: Detections, dets: set[Detection]) -> None:
        self.tracker.update_tracker(timestamp(scan.t_s), dets)

    def confirmed_at(self, t_s: float) -> TrackBank:
        tracks = list(self.tracker.tracks)
        if not tracks:
            return TrackBank.empty()
        x = np.array([np.asarray(tr.state_vector, dtype=float)[:, 0] for tr in tracks])
        P = np.array([np.asarray(tr.covar, dtype=float) for tr in tracks])
        x, P = x[:, SKY_ORDER], P[:, SKY_ORDER][:, :, SKY_ORDER]
        ages = np.array([(timestamp(t_s) - tr.timestamp).total_seconds() for tr in tracks])
        q = np.array([self.params.accel_noise_psd_m2ps3] * 2
                     + [self.params.vertical_accel_noise_psd_m2ps3])
        for age in np.unique(ages):  # tracks share their last scan time: usually one group
            rows = ages == age
            if age > 0:
                x[rows], P[rows] = predict(x[rows], P[rows], float(age), q)
        ids = np.array([self._ids.setdefault(tr.id, len(self._ids) + 1) for tr in tracks],
                       dtype=np.int64)
        bank = TrackBank.new(x, P, t_s, ids)
        bank.confirmed[:] = True
        return bank


def radar_specs(specs: Sequence[SensorSpec]) -> list[int]:
    return [i for i, s in enumerate(specs) if s.type == "radar"]
