"""Cooperative receivers: ADS-B (manned aircraft) and Remote ID (drones).

A cooperative target broadcasts its own navigation solution; the receiver
only has to hear it. One scan model, vectorised over targets:

    sensable_i = broadcasts_i & active_i & R_min <= R_i <= R_max & in_fov(a_i, e_i)
    Pd_i       = pd if sensable_i else 0                        (deterministic)
    detected_i = sensable_i & (u_i < pd),          u_i ~ U(0, 1)
    enu_i      = p_i + d_i(t) + [N(0, σ_h), N(0, σ_h), N(0, σ_v)]   (σ_h = sigma.position_m)
    lat, lon, alt_m = enu2geodetic(enu_i; site origin)           (pymap3d, WGS-84)
    vel_mps    = v_i + N(0, sigma.velocity_mps) per axis         (ENU, m/s)

The coverage (``config.coverage``) applies as for every sensor; a receiver
that must hear straight overhead needs ``max_elevation_deg: 90``.

Spoofing (``TargetAttributes.broadcast_offset_m``): ``d_i(t)`` is the target's
``spoof_offset_enu_m`` once ``t >= spoof_start_s``, else 0, so a displaced
broadcast claims the true position moved by the offset while its velocity
stays the true one. Range and coverage are judged from the transmitter, which
is where the target really is (for a phantom, ``physical: false``, the
position its broadcast claims: nothing else is there). Honest targets add an
exact 0, so their output and the random draws are those of the model without
spoofing.

``clutter_per_scan`` is ignored here (default 0): a receiver decodes a
checksummed message or nothing. False cooperative reports are not clutter but
targets of their own: a displaced broadcast (above) or a phantom.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pymap3d

from skyfence.scenario.model import AdsbSensor, Origin, PositionSigma, RemoteIdSensor, SensorBase
from skyfence.sim.sensors.base import (
    BoolArray,
    FloatArray,
    IntArray,
    ScanOutput,
    Snapshot,
    TargetAttributes,
    sensor_position,
)
from skyfence.sim.sensors.common import DECIMALS, build_output, in_fov, polar

BROADCAST_SENSOR_TYPES = frozenset({"adsb", "remote_id"})
"""Sensor types that hear broadcasts, and so hear phantoms (``physical: false``)."""


def enu_to_geodetic(
    enu_m: FloatArray, origin: Origin
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(lat_deg, lon_deg, alt_m) WGS-84 of ENU rows around ``origin`` (pymap3d)."""
    lat, lon, alt = pymap3d.enu2geodetic(
        enu_m[:, 0], enu_m[:, 1], enu_m[:, 2], origin.lat, origin.lon, origin.alt_m
    )
    return (
        np.asarray(lat, dtype=np.float64),
        np.asarray(lon, dtype=np.float64),
        np.asarray(alt, dtype=np.float64),
    )


def quantise(values: FloatArray, step: float) -> FloatArray:
    """Round to the nearest multiple of ``step``; ``step`` 0 leaves values as they are."""
    if step <= 0:
        return values
    out: FloatArray = np.round(values / step) * step
    return out


def nullable(values: FloatArray, decimals: int) -> list[float | None]:
    """Values rounded to ``decimals``, ``None`` (JSON null) where not finite."""
    return [round(float(v), decimals) if np.isfinite(v) else None for v in values]


class _CooperativeModel:
    """The scan model shared by the cooperative receivers (see the module docstring)."""

    kind: ClassVar[str]

    def __init__(self, config: AdsbSensor | RemoteIdSensor, origin: Origin) -> None:
        self.config: SensorBase = config
        self.origin = origin
        self._sigma: PositionSigma = config.sigma
        self._sensor_enu_m = sensor_position(config)

    def _broadcasts(self, targets: TargetAttributes) -> BoolArray:
        raise NotImplementedError

    def _vertical_sigma_m(self) -> float:
        return self._sigma.position_m

    def _altitude_step_m(self) -> float:
        return 0.0

    def _sensable(self, snap: Snapshot, targets: TargetAttributes) -> BoolArray:
        range_m, az, el, _ = polar(self._sensor_enu_m, snap.pos_enu_m)
        in_range = (range_m >= self.config.min_range_m) & (range_m <= self.config.max_range_m)
        cov = in_fov(self.config.coverage, az, el)
        out: BoolArray = self._broadcasts(targets) & snap.active & in_range & cov
        return out

    def detection_probability(self, snap: Snapshot, targets: TargetAttributes) -> FloatArray:
        """Pd_i = pd where target i broadcasts and is in range and coverage, else 0."""
        return np.where(self._sensable(snap, targets), self.config.pd, 0.0)

    def scan(
        self, snap: Snapshot, targets: TargetAttributes, rng: np.random.Generator
    ) -> ScanOutput:
        """One period: Bernoulli(pd) receptions with noisy position and velocity."""
        sensable = self._sensable(snap, targets)
        detected = sensable & (rng.random(len(sensable)) < self.config.pd)
        idx = np.flatnonzero(detected).astype(np.int64)
        m = len(idx)
        sigma_m = np.array([self._sigma.position_m, self._sigma.position_m,
                            self._vertical_sigma_m()])
        claimed_m = snap.pos_enu_m[idx] + targets.broadcast_offset_m(snap.t_s)[idx]
        enu_m = claimed_m + rng.normal(0.0, 1.0, (m, 3)) * sigma_m
        lat, lon, alt_m = enu_to_geodetic(enu_m, self.origin)
        alt_m = quantise(alt_m, self._altitude_step_m())
        vel_mps = snap.vel_enu_mps[idx] + rng.normal(0.0, self._sigma.velocity_mps, (m, 3))
        columns = self._columns(idx, targets, lat, lon, alt_m, vel_mps)
        return build_output(snap.t_s, self.config.id, self.kind, columns, idx, rng)

    def _columns(
        self, idx: IntArray, targets: TargetAttributes,
        lat: FloatArray, lon: FloatArray, alt_m: FloatArray, vel_mps: FloatArray,
    ) -> dict[str, Any]:
        raise NotImplementedError


class AdsbModel(_CooperativeModel):
    """ADS-B receiver (kind ``adsb``): hears aircraft with ``adsb`` on.

    Fields, in order: ``icao, lat, lon, alt_m, vel_mps``. Horizontal position
    noise is ``N(0, sigma.position_m)`` on east and north; the altitude gets
    ``N(0, sigma.position_m / 2)`` (barometric altitude is better than the
    horizontal fix) and is then broadcast in steps, as Mode S encodes it:

        alt_m = step · round(h / step),   h = geodetic height of the noisy fix,
        step  = altitude_step_m (7.62 m = 25 ft; 0: no quantisation)

    so reported altitudes are multiples of the step, relative to the WGS-84
    ellipsoid. ``vel_mps`` is ``[ve, vn, vu]`` ENU truth + ``N(0,
    sigma.velocity_mps)`` per axis. ``clutter_per_scan`` is ignored (see the
    module docstring).
    """

    kind: ClassVar[str] = "adsb"

    def __init__(self, config: AdsbSensor, origin: Origin) -> None:
        super().__init__(config, origin)
        self.adsb_config = config

    def _broadcasts(self, targets: TargetAttributes) -> BoolArray:
        return targets.adsb

    def _vertical_sigma_m(self) -> float:
        return self._sigma.position_m / 2.0

    def _altitude_step_m(self) -> float:
        return self.adsb_config.altitude_step_m

    def _columns(
        self, idx: IntArray, targets: TargetAttributes,
        lat: FloatArray, lon: FloatArray, alt_m: FloatArray, vel_mps: FloatArray,
    ) -> dict[str, Any]:
        return {
            "icao": [targets.icao[i] for i in idx],
            "lat": lat,
            "lon": lon,
            "alt_m": alt_m,
            "vel_mps": vel_mps,
        }


class RemoteIdModel(_CooperativeModel):
    """Remote ID receiver (kind ``remote_id``): hears drones with Remote ID on.

    Fields, in order: ``uas_id, lat, lon, alt_m, vel_mps, operator_lat,
    operator_lon``. The drone's position gets isotropic noise ``N(0,
    sigma.position_m)`` on each ENU axis (a GNSS fix; no altitude steps), its
    velocity ``N(0, sigma.velocity_mps)`` per axis. The operator position is
    ``operator_enu_m`` converted to geodetic exactly, without noise (a fixed
    ground station); null where a target has none.
    """

    kind: ClassVar[str] = "remote_id"

    def __init__(self, config: RemoteIdSensor, origin: Origin) -> None:
        super().__init__(config, origin)
        self.remote_id_config = config

    def _broadcasts(self, targets: TargetAttributes) -> BoolArray:
        return targets.remote_id

    def _columns(
        self, idx: IntArray, targets: TargetAttributes,
        lat: FloatArray, lon: FloatArray, alt_m: FloatArray, vel_mps: FloatArray,
    ) -> dict[str, Any]:
        op_lat, op_lon, _ = enu_to_geodetic(targets.operator_enu_m[idx], self.origin)
        return {
            "uas_id": [targets.uas_id[i] for i in idx],
            "lat": lat,
            "lon": lon,
            "alt_m": alt_m,
            "vel_mps": vel_mps,
            "operator_lat": nullable(op_lat, DECIMALS["operator_lat"]),
            "operator_lon": nullable(op_lon, DECIMALS["operator_lon"]),
        }
