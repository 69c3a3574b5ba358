"""Simulated surveillance radar: Swerling-1 detection, radar horizon, noisy plots, clutter.

Detection (one look, square-law detector, Swerling-1 target)
------------------------------------------------------------
With a Rayleigh-fluctuating target in Gaussian noise, the received power in
noise units (signal + noise) is exponential with mean ``1 + SNR``::

    P ~ Exp(mean = 1 + SNR)

A plot is declared when ``P > T``. Noise alone (SNR = 0) crosses with
probability ``exp(-T) = pfa``, so::

    T  = -ln(pfa)
    Pd = P(P > T) = exp(-T / (1 + SNR)) = pfa ** (1 / (1 + SNR))

The SNR follows the radar equation (``SNR ∝ rcs / R^4``), anchored at the
configured reference point where a target of ``rcs_ref`` at ``R_ref`` is
seen with probability ``pd_ref``::

    SNR_ref = ln(pfa) / ln(pd_ref) - 1
    SNR     = SNR_ref * 10^((rcs_dbsm - rcs_ref_dbsm) / 10) * (R_ref / R)^4

so that ``Pd(rcs_ref, R_ref) = pd_ref`` exactly. ``Pd`` is 0 for a target that
is inactive, outside ``[min_range_m, max_range_m]`` (slant range), outside the
coverage (azimuth sector and elevation limits, seen from the radar) or below
the radar horizon.

Radar horizon (flat ENU frame, effective earth of radius k * Re)
----------------------------------------------------------------
A target is above the horizon when its horizontal distance ``d`` from the
radar is below the sum of both horizon distances::

    d < sqrt(2 k Re h_radar) + sqrt(2 k Re h_target),   Re = 6 371 000 m

with heights the ENU ``z`` (height above the flat ground), negatives clamped
to 0, and ``k = k_factor`` (4/3: standard refraction).

Plots
-----
A detected target gives ``range_m, azimuth_deg, elevation_deg,
range_rate_mps`` = truth + N(0, sigma.*); azimuth is wrapped to [0, 360),
elevation clipped to [-90, 90], range kept >= 0. Its RCS estimate inverts the
radar equation with the measured power and the measured range ``R_m``::

    rcs_est = rcs_ref * (P - 1) / SNR_ref * (R_m / R_ref)^4     [m²]

``E[P - 1] = SNR``, so the estimate is unbiased in linear units at the true
range and fluctuates like the target itself; it is floored at
:data:`RCS_FLOOR_M2` before ``10 log10``.

Clutter
-------
``Poisson(clutter_per_scan)`` false plots per scan, uniform over the coverage:
slant range uniform over the annulus area between min and max range, azimuth
uniform over the sector, height ``h ~ U(0, clutter_max_alt_m)`` giving
``sin(el) = (h - h_radar) / R``. Points outside the elevation limits are
drawn again (after :data:`_CLUTTER_ROUNDS` rounds, the rest are clipped into
the limits, so a coverage that no clutter height can reach still gets its
count). Range rate is ``N(0, clutter_moving_sd_mps)`` with probability
``clutter_moving_fraction``, else ``N(0, clutter_static_sd_mps)``; RCS is
``N(clutter_rcs_dbsm_mean, clutter_rcs_dbsm_sd)`` dBsm. Clutter records have
the same fields and rounding as target plots.
"""

from __future__ import annotations

import math

import numpy as np

from skyfence.scenario.model import Origin, RadarSensor, SensorBase
from skyfence.sim.sensors.base import (
    BoolArray,
    FloatArray,
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
    sample_ranges_uniform_area,
    wrap_azimuth,
)

EARTH_RADIUS_M = 6_371_000.0
RCS_FLOOR_M2 = 1e-12
"""Smallest linear RCS estimate written (-120 dBsm): keeps log10 finite."""

_MIN_RANGE_M = 1e-3  # guards R^4 in the SNR against a target on the radar
_CLUTTER_ROUNDS = 16  # rejection rounds before clipping clutter into the limits

KIND = "radar"
COLUMNS = ("range_m", "azimuth_deg", "elevation_deg", "range_rate_mps", "rcs_dbsm")


def reference_snr(pfa: float, pd_ref: float) -> float:
    """SNR (linear) at which a Swerling-1 target is seen with ``pd_ref``.

    ``pd = pfa ** (1 / (1 + SNR))``  ⇒  ``SNR = ln(pfa) / ln(pd) - 1``.
    """
    return math.log(pfa) / math.log(pd_ref) - 1.0


def swerling1_pd(snr: FloatArray, pfa: float) -> FloatArray:
    """``Pd = pfa ** (1 / (1 + SNR))`` (single look, square-law detector)."""
    result: FloatArray = np.power(pfa, 1.0 / (1.0 + snr))
    return result


def horizon_distance_m(height_m: FloatArray | float, k_factor: float) -> FloatArray:
    """Distance to the horizon from ``height_m``: ``sqrt(2 k Re max(h, 0))``."""
    h = np.maximum(np.asarray(height_m, dtype=np.float64), 0.0)
    result: FloatArray = np.sqrt(2.0 * k_factor * EARTH_RADIUS_M * h)
    return result


class RadarModel:
    """Swerling-1 surveillance radar with a 4/3-earth horizon and Poisson clutter.

    See the module docstring for the equations.
    """

    def __init__(self, config: RadarSensor, origin: Origin) -> None:
        # SensorModel declares a settable ``config: SensorBase`` (invariant), so
        # the radar-typed view of the same object is kept as ``radar``.
        self.config: SensorBase = config
        self.radar: RadarSensor = config
        self.origin = origin
        self.sensor_enu_m = sensor_position(config)
        self.snr_ref = reference_snr(config.pfa, config.reference.pd)
        self.threshold = -math.log(config.pfa)  # T, in noise units
        self._horizon_radar_m = float(horizon_distance_m(self.sensor_enu_m[2], config.k_factor))

    # ------------------------------------------------------------ detection
    def snr(self, rcs_dbsm: FloatArray, range_m: FloatArray) -> FloatArray:
        """``SNR_ref * 10^((rcs - rcs_ref)/10) * (R_ref / R)^4`` (linear)."""
        ref = self.radar.reference
        gain = np.power(10.0, (rcs_dbsm - ref.rcs_dbsm) / 10.0)
        spread = (ref.range_m / np.maximum(range_m, _MIN_RANGE_M)) ** 4
        result: FloatArray = self.snr_ref * gain * spread
        return result

    def above_horizon(self, pos_enu_m: FloatArray) -> BoolArray:
        """``d < sqrt(2 k Re h_radar) + sqrt(2 k Re h_target)`` per row."""
        d = pos_enu_m[:, :2] - self.sensor_enu_m[:2]
        ground_m = np.hypot(d[:, 0], d[:, 1])
        horizon_m = self._horizon_radar_m + horizon_distance_m(pos_enu_m[:, 2], self.radar.k_factor)
        result: BoolArray = ground_m < horizon_m
        return result

    def _geometry(
        self, snap: Snapshot
    ) -> tuple[BoolArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Which targets the radar can see, and their true range, az, el, range rate."""
        cfg = self.radar
        range_m, az_deg, el_deg, rr_mps = polar(self.sensor_enu_m, snap.pos_enu_m, snap.vel_enu_mps)
        visible = (
            snap.active
            & (range_m >= cfg.min_range_m)
            & (range_m <= cfg.max_range_m)
            & in_fov(cfg.coverage, az_deg, el_deg)
            & self.above_horizon(snap.pos_enu_m)
        )
        return visible, range_m, az_deg, el_deg, rr_mps

    def _visible_snr(
        self, snap: Snapshot, targets: TargetAttributes
    ) -> tuple[FloatArray, BoolArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        visible, range_m, az_deg, el_deg, rr_mps = self._geometry(snap)
        snr = np.where(visible, self.snr(targets.rcs_dbsm, range_m), 0.0)
        return snr, visible, range_m, az_deg, el_deg, rr_mps

    def detection_probability(self, snap: Snapshot, targets: TargetAttributes) -> FloatArray:
        """(N,) ``pfa ** (1 / (1 + SNR))`` where visible, else 0. Deterministic."""
        snr, visible, *_ = self._visible_snr(snap, targets)
        result: FloatArray = np.where(visible, swerling1_pd(snr, self.radar.pfa), 0.0)
        return result

    # ----------------------------------------------------------------- scan
    def scan(
        self, snap: Snapshot, targets: TargetAttributes, rng: np.random.Generator
    ) -> ScanOutput:
        """Target plots (``P ~ Exp(1 + SNR) > T``) plus Poisson clutter, shuffled."""
        snr, visible, range_m, az_deg, el_deg, rr_mps = self._visible_snr(snap, targets)
        power = rng.standard_exponential(len(snr)) * (1.0 + snr)
        hit = np.flatnonzero(visible & (power > self.threshold))
        plots = self._plots(rng, range_m[hit], az_deg[hit], el_deg[hit], rr_mps[hit], power[hit])
        clutter = self._clutter(rng)
        columns = {name: np.concatenate((plots[name], clutter[name])) for name in COLUMNS}
        target_index = np.concatenate(
            (hit.astype(np.int64), np.full(len(clutter["range_m"]), -1, dtype=np.int64))
        )
        return build_output(snap.t_s, self.config.id, KIND, columns, target_index, rng)

    def _plots(
        self,
        rng: np.random.Generator,
        range_m: FloatArray,
        az_deg: FloatArray,
        el_deg: FloatArray,
        rr_mps: FloatArray,
        power: FloatArray,
    ) -> dict[str, FloatArray]:
        """Noisy measurements and RCS estimates of the detected targets."""
        sig = self.radar.sigma
        noise = rng.standard_normal((len(range_m), 4))
        meas_range_m = np.maximum(range_m + sig.range_m * noise[:, 0], 0.0)
        return {
            "range_m": meas_range_m,
            "azimuth_deg": wrap_azimuth(az_deg + sig.azimuth_deg * noise[:, 1]),
            "elevation_deg": clip_elevation(el_deg + sig.elevation_deg * noise[:, 2]),
            "range_rate_mps": rr_mps + sig.range_rate_mps * noise[:, 3],
            "rcs_dbsm": self.rcs_estimate_dbsm(power, meas_range_m),
        }

    def rcs_estimate_dbsm(self, power: FloatArray, range_m: FloatArray) -> FloatArray:
        """``10 log10(max(rcs_ref * (P - 1) / SNR_ref * (R / R_ref)^4, floor))``."""
        ref = self.radar.reference
        rcs_ref_m2 = 10.0 ** (ref.rcs_dbsm / 10.0)
        rcs_m2 = rcs_ref_m2 * (power - 1.0) / self.snr_ref * (range_m / ref.range_m) ** 4
        result: FloatArray = 10.0 * np.log10(np.maximum(rcs_m2, RCS_FLOOR_M2))
        return result

    # -------------------------------------------------------------- clutter
    def _clutter(self, rng: np.random.Generator) -> dict[str, FloatArray]:
        """``Poisson(clutter_per_scan)`` false plots uniform over the coverage."""
        cfg = self.radar
        n = int(rng.poisson(cfg.clutter_per_scan))
        range_m, az_deg, el_deg = self._clutter_positions(n, rng)
        moving = rng.random(n) < cfg.clutter_moving_fraction
        rr_sd_mps = np.where(moving, cfg.clutter_moving_sd_mps, cfg.clutter_static_sd_mps)
        return {
            "range_m": range_m,
            "azimuth_deg": az_deg,
            "elevation_deg": el_deg,
            "range_rate_mps": rr_sd_mps * rng.standard_normal(n),
            "rcs_dbsm": rng.normal(cfg.clutter_rcs_dbsm_mean, cfg.clutter_rcs_dbsm_sd, n),
        }

    def _clutter_positions(
        self, n: int, rng: np.random.Generator
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``n`` (range, az, el) with heights in [0, clutter_max_alt_m] inside the limits.

        Rejection sampling, a batch per round; whatever is left after
        :data:`_CLUTTER_ROUNDS` rounds is clipped into the elevation limits.
        """
        cfg = self.radar
        cov = cfg.coverage
        parts: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        missing = n
        for round_ in range(_CLUTTER_ROUNDS + 1):
            if missing == 0:
                break
            m = missing if round_ == _CLUTTER_ROUNDS else 2 * missing + 8
            range_m = sample_ranges_uniform_area(cfg.min_range_m, cfg.max_range_m, m, rng)
            az_deg, _ = sample_fov_directions(cov, m, rng)
            height_m = rng.uniform(0.0, cfg.clutter_max_alt_m, m)
            sin_el = (height_m - self.sensor_enu_m[2]) / np.maximum(range_m, _MIN_RANGE_M)
            el_deg = np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))
            if round_ == _CLUTTER_ROUNDS:
                el_deg = np.clip(el_deg, cov.min_elevation_deg, cov.max_elevation_deg)
                ok = np.ones(m, dtype=np.bool_)
            else:
                ok = (np.abs(sin_el) <= 1.0) & in_fov(cov, az_deg, el_deg)
            take = np.flatnonzero(ok)[:missing]
            parts.append((range_m[take], az_deg[take], el_deg[take]))
            missing -= len(take)
        empty = np.zeros(0, dtype=np.float64)
        return (
            np.concatenate([empty, *(p[0] for p in parts)]),
            np.concatenate([empty, *(p[1] for p in parts)]),
            np.concatenate([empty, *(p[2] for p in parts)]),
        )
