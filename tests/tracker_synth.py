"""Synthetic truth and sensor reports for the tracker tests (seeded, no simulator).

Truth follows the tracker's own nearly-constant-velocity model (process noise
drawn from Q), so a consistent filter has NEES ~ chi-square(6).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from skyfence.scenario.model import Scenario
from skyfence.sim.sensors.common import polar
from skyfence.tracker import Detections, SensorSpec
from skyfence.tracker.motion import process_noise, transition_matrix

RADAR_SIGMA = (10.0, math.radians(0.5), math.radians(1.0), 0.5)


def radar_spec(position: tuple[float, float, float] = (0.0, 0.0, 0.0), pd: float = 0.95,
               clutter: float = 0.0, max_range_m: float = 10000.0) -> SensorSpec:
    return SensorSpec(id="radar1", type="radar", position_enu_m=position, sigma=RADAR_SIGMA,
                      pd=pd, clutter_per_scan=clutter, max_range_m=max_range_m,
                      min_range_m=100.0, period_s=1.0)


def cv_truth(x0: np.ndarray, steps: int, dt: float, q: float | tuple[float, float, float],
             rng: np.random.Generator) -> np.ndarray:
    """(steps, 6) states from x0, one per dt, white acceleration PSD q (per axis)."""
    F = transition_matrix(dt)
    qa = np.broadcast_to(np.asarray(q, dtype=float), (3,))
    L = np.linalg.cholesky(process_noise(dt, qa) + 1e-12 * np.eye(6))
    out = np.empty((steps, 6))
    x = np.asarray(x0, dtype=float)
    for k in range(steps):
        out[k] = x
        x = F @ x + L @ rng.standard_normal(6)
    return out


def radar_scan(states: np.ndarray, spec: SensorSpec, rng: np.random.Generator,
               t_s: float, clutter: int = 0, index: int = 0) -> Detections:
    """One radar scan of ``states`` (rows), each detected with spec.pd, plus clutter."""
    s = np.asarray(spec.position_enu_m)
    detected = rng.random(states.shape[0]) < spec.pd
    st = states[detected]
    r, az, el, rr = polar(s, st[:, :3], st[:, 3:])
    z = np.column_stack((r, np.radians(az), np.radians(el), rr))
    z += rng.standard_normal(z.shape) * np.asarray(spec.sigma)
    if clutter:
        z = np.vstack((z, clutter_plots(clutter, spec, rng)))
    z = z[rng.permutation(z.shape[0])]
    return Detections(t_s, index, z)


def clutter_plots(n: int, spec: SensorSpec, rng: np.random.Generator) -> np.ndarray:
    """Uniform in area to max range, heights 0–300 m; 70 % static (ṙ ~ N(0, 0.3))."""
    ground = np.sqrt(rng.uniform(spec.min_range_m**2, spec.max_range_m**2, n))
    height = rng.uniform(0.0, 300.0, n)
    rng_m = np.hypot(ground, height)
    az = rng.uniform(-math.pi, math.pi, n)
    el = np.arctan2(height, ground)
    moving = rng.random(n) < 0.3
    rr = np.where(moving, rng.normal(0, 8.0, n), rng.normal(0, 0.3, n))
    return np.column_stack((rng_m, az, el, rr))


def site(sensors: list[dict[str, Any]]) -> Scenario:
    return Scenario.model_validate({
        "name": "synthetic", "duration_s": 100.0,
        "site": {"origin": {"lat": 52.0, "lon": 4.0, "alt_m": 0.0}},
        "sensors": sensors,
    })


def radar_line(t_s: float, sensor: str, z: np.ndarray) -> dict[str, Any]:
    return {"t": round(t_s, 3), "sensor": sensor, "kind": "radar", "range_m": float(z[0]),
            "azimuth_deg": float(np.degrees(z[1]) % 360.0),
            "elevation_deg": float(np.degrees(z[2])), "range_rate_mps": float(z[3]),
            "rcs_dbsm": -20.0}


def monte_carlo_nees(params: Any, q: float | tuple[float, float, float], seed0: int,
                     runs: int = 30, steps: int = 80,
                     burn_in: int = 15) -> tuple[np.ndarray, float, float]:
    """Monte Carlo NEES (Bar-Shalom) of one constant-velocity target seen by a Pd 0.9
    radar with 10 clutter plots a scan: the (runs, steps − burn_in) NEES of the
    confirmed track nearest the truth, and the 95 % chi-square(6R)/R band."""
    from scipy.stats import chi2

    from skyfence.tracker import Tracker

    nees = np.empty((runs, steps - burn_in))
    for r in range(runs):
        rng = np.random.default_rng(seed0 + r)
        spec = radar_spec(pd=0.9, clutter=10)
        truth = cv_truth(np.array([-1500.0, 3000.0, 300.0, 15.0, -5.0, 0.0]), steps, 1.0, q,
                         rng)
        tracker = Tracker([spec], params)
        for k in range(steps):
            tracker.step(radar_scan(truth[k:k + 1], spec, rng, float(k), clutter=10))
            if k >= burn_in:
                b = tracker.bank
                rows = np.flatnonzero(b.confirmed)
                assert rows.size, "no confirmed track"
                i = rows[np.argmin(np.linalg.norm(b.x[rows, :3] - truth[k, :3], axis=1))]
                d = b.x[i] - truth[k]
                nees[r, k - burn_in] = d @ np.linalg.solve(b.P[i], d)
    lo, hi = chi2.ppf([0.025, 0.975], 6 * runs) / runs
    return nees, float(lo), float(hi)


CrossingIds = dict[int, dict[int, int]]  # scan → {target: track id}


def crossing_ids(params: Any, seed: int, checks: tuple[int, ...]) -> tuple[CrossingIds, int]:
    """Two targets crossing at 12 m/s (both pass (500, 3000, 100) at t = 60 s), one
    radar with P_D 0.9 and 10 clutter plots a scan, 120 scans. At each scan of
    ``checks`` both targets must have a confirmed track within 100 m: returns
    {scan: {target: track id}} and the tracker's ``confirmed_total``."""
    from scipy.optimize import linear_sum_assignment

    from skyfence.tracker import Tracker

    rng = np.random.default_rng(seed)
    spec = radar_spec(pd=0.9, clutter=10)
    centre = np.array([500.0, 3000.0, 100.0])
    va, vb = np.array([12.0, 12.0, 0.0]), np.array([-12.0, 12.0, 0.0])
    level = (0.05, 0.05, 0.0)  # manoeuvring a little, at constant height
    ta = cv_truth(np.r_[centre - 60 * va, va], 120, 1.0, level, rng)
    tb = cv_truth(np.r_[centre - 60 * vb, vb], 120, 1.0, level, rng)
    tracker = Tracker([spec], params)
    ids: CrossingIds = {}
    for k in range(120):
        tracker.step(radar_scan(np.vstack((ta[k], tb[k])), spec, rng, float(k), clutter=10))
        if k in checks:
            b = tracker.bank
            rows = np.flatnonzero(b.confirmed)
            cost = np.linalg.norm(b.x[rows, None, :3] - np.stack((ta[k, :3], tb[k, :3])), axis=2)
            r, c = linear_sum_assignment(cost)
            assert len(r) == 2 and cost[r, c].max() < 100.0
            ids[k] = {int(ci): int(b.id[rows[ri]]) for ri, ci in zip(r, c, strict=True)}
    return ids, tracker.confirmed_total
