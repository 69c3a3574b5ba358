"""What the tracker knows of each sensor: place, coverage, Pd, clutter, noise.

Built from the site file's sensor entries (:func:`sensor_specs`); the engine
needs no more than these. The clutter density λ used by the likelihood
ratio is the sensor's false reports per scan spread uniformly over its
coverage volume *in measurement space*:

    radar:       V = Δρ · Δaz · Δel · Δṙ      (Δṙ = 2 · max target speed)
    bearing:     V = Δaz · Δel                (Δaz only when azimuth-only)
    cooperative: V = π R² · h_max · (2 v_max)³ (position and velocity)

    λ = max(clutter_per_scan, min_false_per_scan) / V
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skyfence.scenario.model import PositionSigma, RadarSigma, Scenario
from skyfence.tracker.base import BoolArray, Detections, FloatArray, IntArray, MeasurementModel
from skyfence.tracker.measurement import Bearing, Position, RadarPolar
from skyfence.tracker.params import TrackerParams

FULL_DIM = {"radar": 4, "rf": 2, "acoustic": 2, "eoir": 2, "adsb": 6, "remote_id": 6}
"""Length of each sensor type's measurement vector (see measurement.py)."""
REQUIRED = {"radar": (0, 1), "rf": (0,), "acoustic": (0,), "eoir": (0,), "adsb": (0, 1, 2),
            "remote_id": (0, 1, 2)}
"""Components a report cannot do without; the rest are optional (NaN when absent)."""
COOPERATIVE = ("adsb", "remote_id")
BEARING = ("rf", "acoustic", "eoir")


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """One sensor as the engine sees it (SI units, angles in radians)."""

    id: str
    type: str  # radar | rf | acoustic | eoir | adsb | remote_id
    position_enu_m: tuple[float, float, float]
    sigma: tuple[float, ...]  # one per full measurement component, SI
    pd: float
    clutter_per_scan: float
    max_range_m: float
    min_range_m: float = 0.0
    period_s: float = 1.0
    boresight_az_rad: float = 0.0
    fov_az_rad: float = 2.0 * math.pi
    min_el_rad: float = math.radians(-5.0)
    max_el_rad: float = math.radians(85.0)
    propagation_speed_mps: float | None = None  # acoustic: the speed of sound

    @property
    def cooperative(self) -> bool:
        return self.type in COOPERATIVE

    @property
    def bearing_only(self) -> bool:
        return self.type in BEARING

    def model(self, components: Sequence[int] | None = None) -> MeasurementModel:
        """The measurement model over ``components`` (default: all)."""
        if self.type == "radar":
            return RadarPolar(self.position_enu_m, self.sigma, components)
        if self.type in COOPERATIVE:
            return Position(self.position_enu_m, self.sigma, components)
        return Bearing(self.position_enu_m, self.sigma, components, self.propagation_speed_mps)

    def clutter_density(self, components: Sequence[int], params: TrackerParams) -> float:
        """λ: false reports per unit measurement-space volume (see module doc)."""
        extent = self._extent(params)
        volume = float(np.prod([extent[c] for c in components]))
        return max(self.clutter_per_scan, params.min_false_per_scan) / volume

    def _extent(self, params: TrackerParams) -> tuple[float, ...]:
        d_el = self.max_el_rad - self.min_el_rad
        if self.type == "radar":
            return (self.max_range_m - self.min_range_m, self.fov_az_rad, d_el,
                    2.0 * params.max_speed_mps)
        if self.cooperative:
            # area split over e and n so that any subset of components is consistent
            side = math.sqrt(math.pi) * self.max_range_m
            dv = 2.0 * params.cooperative_max_speed_mps
            return (side, side, params.cooperative_max_alt_m, dv, dv, dv)
        return (self.fov_az_rad, d_el)

    def covers(self, x: FloatArray) -> BoolArray:
        """Which states (N, 6) lie in this sensor's range and field of view."""
        d = x[:, :3] - np.asarray(self.position_enu_m)
        ground = np.hypot(d[:, 0], d[:, 1])
        rho = np.hypot(ground, d[:, 2])
        ok = (rho <= self.max_range_m) & (rho >= self.min_range_m)
        if self.cooperative:
            return np.asarray(ok, dtype=np.bool_)
        el = np.arctan2(d[:, 2], ground)
        ok &= (el >= self.min_el_rad) & (el <= self.max_el_rad)
        if self.fov_az_rad < 2.0 * math.pi:
            az = np.arctan2(d[:, 0], d[:, 1])
            off = np.mod(az - self.boresight_az_rad + math.pi, 2.0 * math.pi) - math.pi
            ok &= np.abs(off) <= self.fov_az_rad / 2.0
        return np.asarray(ok, dtype=np.bool_)


def sensor_specs(scenario: Scenario) -> list[SensorSpec]:
    """The tracker's view of every sensor in a site/scenario file."""
    specs = []
    for s in scenario.sensors:
        sigma: tuple[float, ...]
        sg = s.sigma
        if isinstance(sg, RadarSigma):
            sigma = (sg.range_m, math.radians(sg.azimuth_deg), math.radians(sg.elevation_deg),
                     sg.range_rate_mps)
        elif isinstance(sg, PositionSigma):
            # ADS-B altitude comes in 25 ft steps: add the quantisation variance step²/12
            step = float(getattr(s, "altitude_step_m", 0.0))
            s_up = math.sqrt(sg.position_m**2 + step**2 / 12.0)
            sigma = (sg.position_m, sg.position_m, s_up, *(3 * (sg.velocity_mps,)))
        else:
            el = sg.elevation_deg if sg.elevation_deg is not None else sg.azimuth_deg
            sigma = (math.radians(sg.azimuth_deg), math.radians(el))
        cov = s.coverage
        specs.append(SensorSpec(
            id=s.id, type=s.type,
            position_enu_m=(s.position_enu_m[0], s.position_enu_m[1], s.position_enu_m[2]),
            sigma=sigma, pd=s.pd, clutter_per_scan=s.clutter_per_scan,
            max_range_m=s.max_range_m, min_range_m=s.min_range_m, period_s=s.period_s,
            boresight_az_rad=math.radians(cov.boresight_az_deg),
            fov_az_rad=math.radians(min(cov.fov_az_deg, 360.0)),
            min_el_rad=math.radians(cov.min_elevation_deg),
            max_el_rad=math.radians(cov.max_elevation_deg),
            propagation_speed_mps=getattr(s, "speed_of_sound_mps", None),
        ))
    return specs


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows of one scan that carry the same components, with their model."""

    rows: IntArray  # rows of the scan
    model: MeasurementModel
    components: tuple[int, ...]


ModelCache = dict[tuple[int, tuple[int, ...]], MeasurementModel]


def split_batches(scan: Detections, spec: SensorSpec,
                  models: ModelCache) -> tuple[BoolArray, list[Batch]]:
    """Usable rows, and the rows of each set of present components with its model.

    A report lacking a required component is unusable; a missing optional one
    (NaN) is left out of that report's model. Models are built once per
    (sensor, components) and kept in ``models``.
    """
    finite = np.isfinite(scan.z[:, : FULL_DIM[spec.type]])
    usable = finite[:, list(REQUIRED[spec.type])].all(axis=1)
    if spec.type == "radar":  # a radar plot is polar: range and azimuth at least
        usable &= scan.z[:, 0] > 0
    code = (finite * (1 << np.arange(finite.shape[1]))).sum(axis=1)
    present = code[usable]
    one = present.size > 0 and bool((present == present[0]).all())  # the usual scan
    codes = present[:1] if one else np.unique(present)
    batches = []
    for c in codes:
        components = tuple(int(i) for i in np.flatnonzero((int(c) >> np.arange(64)) & 1))
        key = (scan.sensor, components)
        if key not in models:
            models[key] = spec.model(components)
        rows = np.flatnonzero(usable & (code == c)).astype(np.int64)
        batches.append(Batch(rows, models[key], components))
    return np.asarray(usable, dtype=np.bool_), batches
