"""Passive bearing sensors: RF direction finder, acoustic array, EO/IR camera.

All three report a direction only (azimuth, elevation; no range) and share one
scan model, vectorised over targets. For target ``i`` with slant range ``R_i``,
azimuth ``a_i`` and elevation ``e_i`` seen from the sensor:

    sensable_i = active_i & (R_min <= R_i <= R_max,i) & in_fov(a_i, e_i) & senses(i)
    Pd_i       = pd if sensable_i else 0                       (deterministic)
    detected_i = sensable_i & (u_i < pd),         u_i ~ U(0, 1)
    az_i       = (a_i + N(0, σ_az)) mod 360
    el_i       = clip(e_i + N(0, σ_el), -90, 90)   (null when σ_el is null)

plus ``K ~ Poisson(clutter_per_scan)`` false reports with directions uniform
over the field of view's solid angle. Records are shuffled together with their
target index (-1: clutter) by :func:`common.build_output`, so neither order nor
content tells a false report from a true one.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from skyfence.scenario.model import (
    KINDS,
    AcousticSensor,
    BearingSigma,
    EoirSensor,
    Origin,
    RfSensor,
    SensorBase,
)
from skyfence.sim.sensors.base import (
    BoolArray,
    FloatArray,
    IntArray,
    ScanOutput,
    Snapshot,
    TargetAttributes,
    sensor_position,
)
from skyfence.sim.sensors.common import (
    build_output,
    clip_elevation,
    in_fov,
    polar,
    sample_fov_directions,
    wrap_azimuth,
)

CLUTTER_EMITTERS: tuple[str, ...] = ("wifi", "unknown")
"""Emitter types an RF detector's false reports claim, drawn uniformly."""


class _BearingModel:
    """The scan model shared by the passive sensors (see the module docstring).

    Subclasses say which targets they sense and where each appears to be
    (:meth:`_apparent`) and add their own fields (:meth:`_extra_columns`).
    """

    kind: ClassVar[str]

    def __init__(self, config: RfSensor | AcousticSensor | EoirSensor, origin: Origin) -> None:
        self.config: SensorBase = config
        self.origin = origin
        self._sigma: BearingSigma = config.sigma
        self._sensor_enu_m = sensor_position(config)

    # ------------------------------------------------------------ geometry
    def _apparent(
        self, snap: Snapshot, targets: TargetAttributes
    ) -> tuple[BoolArray, FloatArray, FloatArray]:
        """(sensable, azimuth_deg, elevation_deg) of every target, shape (N,)."""
        raise NotImplementedError

    def _gate(
        self, snap: Snapshot, range_m: FloatArray, max_range_m: FloatArray | float,
        az_deg: FloatArray, el_deg: FloatArray,
    ) -> BoolArray:
        """Active, within [min_range_m, max_range_m] and inside the coverage."""
        in_range = (range_m >= self.config.min_range_m) & (range_m <= max_range_m)
        out: BoolArray = snap.active & in_range & in_fov(self.config.coverage, az_deg, el_deg)
        return out

    # ---------------------------------------------------------- interface
    def detection_probability(self, snap: Snapshot, targets: TargetAttributes) -> FloatArray:
        """Pd_i = pd where target i can be sensed, else 0."""
        sensable, _, _ = self._apparent(snap, targets)
        return np.where(sensable, self.config.pd, 0.0)

    def scan(
        self, snap: Snapshot, targets: TargetAttributes, rng: np.random.Generator
    ) -> ScanOutput:
        """One period: Bernoulli(pd) detections with Gaussian bearing noise, plus clutter."""
        sensable, az_deg, el_deg = self._apparent(snap, targets)
        detected = sensable & (rng.random(len(sensable)) < self.config.pd)
        idx = np.flatnonzero(detected).astype(np.int64)
        az_det, el_det = self._noisy_bearings(az_deg[idx], el_deg[idx], rng)
        n_clutter = int(rng.poisson(self.config.clutter_per_scan))
        az_clu, el_clu = sample_fov_directions(self.config.coverage, n_clutter, rng)
        columns: dict[str, Any] = {
            "azimuth_deg": np.concatenate((az_det, az_clu)),
            "elevation_deg": self._elevation_column(np.concatenate((el_det, el_clu))),
        }
        columns.update(self._extra_columns(idx, n_clutter, targets, rng))
        target_index = np.concatenate((idx, np.full(n_clutter, -1, dtype=np.int64)))
        return build_output(snap.t_s, self.config.id, self.kind, columns, target_index, rng)

    # ------------------------------------------------------------ helpers
    def _noisy_bearings(
        self, az_deg: FloatArray, el_deg: FloatArray, rng: np.random.Generator
    ) -> tuple[FloatArray, FloatArray]:
        """az + N(0, σ_az) wrapped to [0, 360); el + N(0, σ_el) clipped (σ_el null: no noise)."""
        az = wrap_azimuth(az_deg + rng.normal(0.0, self._sigma.azimuth_deg, len(az_deg)))
        sigma_el = self._sigma.elevation_deg
        if sigma_el is None:
            return az, el_deg
        return az, clip_elevation(el_deg + rng.normal(0.0, sigma_el, len(el_deg)))

    def _elevation_column(self, el_deg: FloatArray) -> FloatArray | list[None]:
        """The elevation array, or nulls for an azimuth-only sensor."""
        if self._sigma.elevation_deg is None:
            return [None] * len(el_deg)
        return el_deg

    def _extra_columns(
        self, idx: IntArray, n_clutter: int, targets: TargetAttributes, rng: np.random.Generator
    ) -> dict[str, Any]:
        """Fields after azimuth/elevation: detections ``idx`` first, then clutter."""
        return {}


class RfModel(_BearingModel):
    """RF direction finder (kind ``rf``): hears the control link of a drone.

    Senses target i only if ``rf_link_i`` (a drone flying autonomously on GPS
    with its link off is silent) and the common gates hold:

        sensable_i = rf_link_i & active_i & R_min <= R_i <= R_max & in_fov(a_i, e_i)

    Fields: ``azimuth_deg, elevation_deg, emitter``. The default sigma has
    ``elevation_deg: null`` — an azimuth-only direction finder — and then
    ``elevation_deg`` is written as null. ``emitter`` is the target's emitter
    type; false reports (Poisson(clutter_per_scan)) come from other
    transmitters: directions uniform over the field of view, emitter uniform
    over :data:`CLUTTER_EMITTERS`.
    """

    kind: ClassVar[str] = "rf"

    def __init__(self, config: RfSensor, origin: Origin) -> None:
        super().__init__(config, origin)
        self.rf_config = config

    def _apparent(
        self, snap: Snapshot, targets: TargetAttributes
    ) -> tuple[BoolArray, FloatArray, FloatArray]:
        range_m, az, el, _ = polar(self._sensor_enu_m, snap.pos_enu_m)
        sensable = targets.rf_link & self._gate(snap, range_m, self.rf_config.max_range_m, az, el)
        return sensable, az, el

    def _extra_columns(
        self, idx: IntArray, n_clutter: int, targets: TargetAttributes, rng: np.random.Generator
    ) -> dict[str, Any]:
        clutter = rng.integers(0, len(CLUTTER_EMITTERS), n_clutter)
        emitter = [targets.emitter[i] for i in idx] + [CLUTTER_EMITTERS[k] for k in clutter]
        return {"emitter": emitter}


class AcousticModel(_BearingModel):
    """Acoustic array (kind ``acoustic``): hears drones and manned aircraft.

    Sound travels at ``c = speed_of_sound_mps``, so the sound arriving now left
    the target ``τ`` seconds ago, where ``τ`` solves

        c τ = | p - v τ - s |          (p, v: target position, velocity now;
                                        s: sensor; constant velocity over τ)

    solved by one fixed-point step from ``τ0 = |p - s| / c``:

        τ = | p - v τ0 - s | / c,      p_emit = p - v τ

    The step contracts by the radial Mach number ``M = |v·u| / c``, so the
    delay error is about ``M² τ`` (a 70 m/s aircraft at 5 km: ~0.6 s, ~40 m;
    far below the bearing noise). Bearings point at ``p_emit``, and the range
    gates use ``|p_emit - s|``: the distance the sound travelled. Birds are
    never heard; drones up to ``max_range_m``, aircraft (much louder) up to
    ``aircraft_max_range_m``:

        sensable_i = active_i & R_min <= |p_emit,i - s| <= R_max(kind_i) & in_fov

    Fields: ``azimuth_deg, elevation_deg`` (null if ``sigma.elevation_deg`` is
    null). False reports: Poisson(clutter_per_scan), directions uniform over
    the field of view.
    """

    kind: ClassVar[str] = "acoustic"

    def __init__(self, config: AcousticSensor, origin: Origin) -> None:
        super().__init__(config, origin)
        self.acoustic_config = config

    def emission_positions(self, snap: Snapshot) -> FloatArray:
        """(N, 3) where each target was when the sound now arriving left it."""
        c = self.acoustic_config.speed_of_sound_mps
        rel = snap.pos_enu_m - self._sensor_enu_m
        tau0_s = np.linalg.norm(rel, axis=1) / c
        tau_s = np.linalg.norm(rel - snap.vel_enu_mps * tau0_s[:, None], axis=1) / c
        emit: FloatArray = snap.pos_enu_m - snap.vel_enu_mps * tau_s[:, None]
        return emit

    def _max_range_by_kind(self, targets: TargetAttributes) -> FloatArray:
        """R_max(kind): drone → max_range_m, aircraft → aircraft_max_range_m, else -1."""
        cfg = self.acoustic_config
        return np.select(
            [targets.kind == "drone", targets.kind == "aircraft"],
            [cfg.max_range_m, cfg.aircraft_max_range_m],
            default=-1.0,
        ).astype(np.float64)

    def _apparent(
        self, snap: Snapshot, targets: TargetAttributes
    ) -> tuple[BoolArray, FloatArray, FloatArray]:
        range_m, az, el, _ = polar(self._sensor_enu_m, self.emission_positions(snap))
        sensable = self._gate(snap, range_m, self._max_range_by_kind(targets), az, el)
        return sensable, az, el


class EoirModel(_BearingModel):
    """EO/IR camera (kind ``eoir``): sees every kind, says what it thinks it is.

        sensable_i = active_i & R_min <= R_i <= R_max & in_fov(a_i, e_i)

    Fields: ``azimuth_deg, elevation_deg, label, confidence``. The label is
    drawn from the confusion row of the true kind, ``P(label | kind)``, by one
    uniform per detection against the row's cumulative probabilities:

        label = min{ j : u < Σ_{k<=j} P(label_k | kind) },   u ~ U(0, 1)

    False reports (Poisson(clutter_per_scan), directions uniform over the field
    of view) take their label from the ``clutter`` row. The confidence is

        confidence ~ Beta(*confidence_correct)   if label == true kind
                     Beta(*confidence_wrong)     otherwise (clutter: always)
    """

    kind: ClassVar[str] = "eoir"

    def __init__(self, config: EoirSensor, origin: Origin) -> None:
        super().__init__(config, origin)
        self.eoir_config = config
        rows = (*KINDS, "clutter")
        probs = np.array([[config.confusion[r].get(k, 0.0) for k in KINDS] for r in rows])
        # (4, 3): rows drone, bird, aircraft, clutter; cumulative over labels
        self._cum_prob = np.cumsum(probs, axis=1)
        self._clutter_row = len(KINDS)

    def _apparent(
        self, snap: Snapshot, targets: TargetAttributes
    ) -> tuple[BoolArray, FloatArray, FloatArray]:
        range_m, az, el, _ = polar(self._sensor_enu_m, snap.pos_enu_m)
        sensable = self._gate(snap, range_m, self.eoir_config.max_range_m, az, el)
        return sensable, az, el

    def _kind_rows(self, kind: np.ndarray[Any, np.dtype[np.str_]]) -> IntArray:
        """Confusion-row index of each true kind (unknown kinds use the clutter row)."""
        conds = [kind == k for k in KINDS]
        rows = np.select(conds, list(range(len(KINDS))), default=self._clutter_row)
        return rows.astype(np.int64)

    def _extra_columns(
        self, idx: IntArray, n_clutter: int, targets: TargetAttributes, rng: np.random.Generator
    ) -> dict[str, Any]:
        rows = np.concatenate(
            (self._kind_rows(targets.kind[idx]), np.full(n_clutter, self._clutter_row))
        )
        u = rng.random(len(rows))
        label_idx = np.minimum((u[:, None] >= self._cum_prob[rows]).sum(axis=1), len(KINDS) - 1)
        correct = label_idx == rows  # never true for clutter (row 3)
        cfg = self.eoir_config
        a = np.where(correct, cfg.confidence_correct[0], cfg.confidence_wrong[0])
        b = np.where(correct, cfg.confidence_correct[1], cfg.confidence_wrong[1])
        confidence = rng.beta(a, b) if len(rows) else np.zeros(0)
        return {"label": np.array(KINDS)[label_idx].tolist(), "confidence": confidence}
