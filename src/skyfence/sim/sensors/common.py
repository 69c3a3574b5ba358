"""Geometry and record helpers shared by the sensor models (all vectorised).

Conventions (DESIGN.md): azimuth in degrees clockwise from north in [0, 360);
elevation in degrees above the local horizontal; range is slant range; range
rate is positive moving away.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skyfence.scenario.model import Coverage
from skyfence.sim.sensors.base import BoolArray, FloatArray, IntArray, ScanOutput

# Decimal places written for each field: well below every sensor's noise,
# so rounding adds no visible error while keeping files small and stable.
DECIMALS: dict[str, int] = {
    "t": 3,
    "range_m": 2,
    "azimuth_deg": 5,
    "elevation_deg": 5,
    "range_rate_mps": 3,
    "rcs_dbsm": 2,
    "confidence": 3,
    "lat": 8,
    "lon": 8,
    "alt_m": 2,
    "vel_mps": 3,
    "operator_lat": 8,
    "operator_lon": 8,
}


def polar(
    sensor_enu_m: FloatArray, pos_enu_m: FloatArray, vel_enu_mps: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Slant range (m), azimuth (deg), elevation (deg), range rate (m/s) of each row."""
    d = pos_enu_m - sensor_enu_m
    ground = np.hypot(d[:, 0], d[:, 1])
    range_m = np.sqrt(ground**2 + d[:, 2] ** 2)
    az = np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 360.0
    el = np.degrees(np.arctan2(d[:, 2], ground))
    if vel_enu_mps is None:
        rr = np.zeros_like(range_m)
    else:
        rr = np.einsum("ij,ij->i", d, vel_enu_mps) / np.maximum(range_m, 1e-9)
    return range_m, az, el, rr


def polar_to_enu(
    range_m: FloatArray, azimuth_deg: FloatArray, elevation_deg: FloatArray
) -> FloatArray:
    """Inverse of :func:`polar` (relative to the sensor): rows of (east, north, up)."""
    az = np.radians(azimuth_deg)
    el = np.radians(elevation_deg)
    ground = range_m * np.cos(el)
    return np.column_stack((ground * np.sin(az), ground * np.cos(az), range_m * np.sin(el)))


def wrap_azimuth(az_deg: FloatArray) -> FloatArray:
    return np.mod(az_deg, 360.0)


def clip_elevation(el_deg: FloatArray) -> FloatArray:
    return np.clip(el_deg, -90.0, 90.0)


def in_fov(cov: Coverage, az_deg: FloatArray, el_deg: FloatArray) -> BoolArray:
    """Within the azimuth sector and elevation limits of ``cov``."""
    in_el = (el_deg >= cov.min_elevation_deg) & (el_deg <= cov.max_elevation_deg)
    if cov.fov_az_deg >= 360.0:
        return in_el
    off = (az_deg - cov.boresight_az_deg + 180.0) % 360.0 - 180.0
    return in_el & (np.abs(off) <= cov.fov_az_deg / 2.0)


def sample_fov_directions(
    cov: Coverage, n: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """``n`` azimuths/elevations uniform over the field of view's solid angle."""
    half = min(cov.fov_az_deg, 360.0) / 2.0
    az = (cov.boresight_az_deg + rng.uniform(-half, half, n)) % 360.0
    s0, s1 = np.sin(np.radians([cov.min_elevation_deg, cov.max_elevation_deg]))
    el = np.degrees(np.arcsin(rng.uniform(s0, s1, n)))
    return az, el


def sample_ranges_uniform_area(
    min_m: float, max_m: float, n: int, rng: np.random.Generator
) -> FloatArray:
    """Ranges of points uniform over an annulus (density grows with range)."""
    return np.sqrt(rng.uniform(min_m**2, max_m**2, n))


def build_output(
    t_s: float,
    sensor_id: str,
    kind: str,
    columns: dict[str, Any],
    target_index: IntArray,
    rng: np.random.Generator,
) -> ScanOutput:
    """Records from column arrays, shuffled together with their target index.

    ``columns`` maps field name to an array (M,) or (M, k) or a list of M
    values; float arrays are rounded per :data:`DECIMALS`. Elements may be
    ``None`` (written as JSON null).
    """
    m = len(target_index)
    if m == 0:
        return ScanOutput()
    order = rng.permutation(m)
    cols: dict[str, list[Any]] = {}
    for name, values in columns.items():
        if isinstance(values, np.ndarray):
            arr = values[order]
            if arr.dtype.kind == "f" and name in DECIMALS:
                arr = np.round(arr, DECIMALS[name])
            cols[name] = arr.tolist()
        else:
            cols[name] = [values[i] for i in order]
    t = round(t_s, DECIMALS["t"])
    names = list(cols)
    records = [
        {"t": t, "sensor": sensor_id, "kind": kind, **dict(zip(names, row, strict=True))}
        for row in zip(*(cols[n] for n in names), strict=True)
    ]
    return ScanOutput(records=records, target_index=target_index[order])
