"""Radar updates beside the EKF (radar_filters.py): hand-computed values, limits, consistency."""

from __future__ import annotations

import math
from typing import get_args

import numpy as np
import pytest
from scipy.stats import chi2

from skyfence.sim.sensors.common import polar
from skyfence.tracker import Detections, Tracker, TrackerParams
from skyfence.tracker.initiator import initial_states
from skyfence.tracker.measurement import Position, RadarPolar
from skyfence.tracker.motion import predict, process_noise, transition_matrix
from skyfence.tracker.radar_filters import (
    RadarUpdate,
    conversion_covariance,
    converted_update,
    ekf2_update,
    radar_update,
    second_order_terms,
    sigma_points,
    ukf_update,
    unbiased_conversion,
    unscented_weights,
)
from skyfence.tracker.updater import update
from tracker_synth import RADAR_SIGMA, radar_spec

SIGMA = np.asarray(RADAR_SIGMA)


def _north(rho: float = 10000.0, v: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    return np.array([[0.0, rho, 0.0, *v]])


# ------------------------------------------------------------------ converted
def test_conversion_on_the_north_axis_by_hand() -> None:
    s_r, s_a, s_e = 10.0, math.radians(0.5), math.radians(1.0)
    la, le = math.exp(-s_a**2 / 2), math.exp(-s_e**2 / 2)
    rho = 10000.0
    p = unbiased_conversion(np.array([[rho, 0.0, 0.0]]), s_a, s_e)[0]
    assert p == pytest.approx([0.0, rho / (la * le), 0.0])
    R = conversion_covariance(np.array([rho]), np.zeros(1), np.zeros(1), SIGMA)[0]
    m2 = rho**2 + s_r**2  # az = el = 0: E[sin² aₘ] = (1 − λa⁴)/2, E[cos² aₘ] = (1 + λa⁴)/2
    expected = np.diag([
        m2 * (1 + le**4) * (1 - la**4) / (4 * la**2 * le**2),
        m2 * (1 + le**4) * (1 + la**4) / (4 * la**2 * le**2) - rho**2,
        m2 * (1 - le**4) / (2 * le**2),
    ])
    assert pytest.approx(expected, abs=1e-9) == R
    # to first order: cross-range ρσa, height ρσe, range σr (plus ~ρ²σ⁴ terms)
    assert math.sqrt(R[0, 0]) == pytest.approx(rho * s_a, rel=1e-3)
    assert math.sqrt(R[2, 2]) == pytest.approx(rho * s_e, rel=1e-3)
    assert math.sqrt(R[1, 1]) == pytest.approx(s_r, rel=0.05)


def test_conversion_is_unbiased_and_its_covariance_exact() -> None:
    """Large angle errors make the classic conversion's bias visible."""
    rng = np.random.default_rng(11)
    sigma = np.array([10.0, math.radians(5.0), math.radians(8.0), 0.5])
    rho, az, el, n = 8000.0, 2.3, 0.3, 400_000
    z = np.column_stack((rho, az, el)) + rng.standard_normal((n, 3)) * sigma[:3]
    truth = rho * np.array([math.cos(el) * math.sin(az), math.cos(el) * math.cos(az),
                            math.sin(el)])
    R = conversion_covariance(np.array([rho]), np.array([az]), np.array([el]), sigma)[0]
    se = np.sqrt(np.diag(R) / n)
    debiased = unbiased_conversion(z, sigma[1], sigma[2])
    assert np.all(np.abs(debiased.mean(axis=0) - truth) < 4 * se)
    classic = unbiased_conversion(z, 0.0, 0.0)  # λ = 1: no debiasing
    assert np.linalg.norm(classic.mean(axis=0) - truth) > 20 * se.max()
    assert np.cov(debiased.T) == pytest.approx(R, rel=0.01, abs=0.01 * R.max())


def test_converted_update_on_the_north_axis_by_hand() -> None:
    model = RadarPolar((0.0, 0.0, 0.0), SIGMA)
    x, P = _north(), np.diag([1e4, 1e4, 1e4, 100.0, 100.0, 100.0])[None]
    z = np.array([[10010.0, 0.0, 0.0, 0.0]])
    x1, P1, d2 = converted_update(x, P, z, model)
    R = conversion_covariance(np.array([1e4]), np.zeros(1), np.zeros(1), SIGMA)[0]
    la, le = math.exp(-SIGMA[1] ** 2 / 2), math.exp(-SIGMA[2] ** 2 / 2)
    y = 10010.0 / (la * le) - 1e4  # the debiased plot minus the predicted n
    k = 1e4 / (1e4 + R[1, 1])
    assert x1[0, :3] == pytest.approx([0.0, 1e4 + k * y, 0.0])
    assert np.diag(P1[0])[:3] == pytest.approx([1e4 * R[0, 0] / (1e4 + R[0, 0]),
                                                1e4 * R[1, 1] / (1e4 + R[1, 1]),
                                                1e4 * R[2, 2] / (1e4 + R[2, 2])])
    # ṙ = 0 measured at zero velocity: no velocity change; north velocity variance
    # 100 with σṙ² = 0.25 → 100·0.25/100.25 (∂ṙ/∂v = û = north)
    assert x1[0, 3:] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert P1[0, 4, 4] == pytest.approx(100 * 0.25 / 100.25)
    assert d2[0] == pytest.approx(y**2 / (1e4 + R[1, 1]))


def test_converted_without_elevation_is_the_ekf() -> None:
    model = RadarPolar((0.0, 0.0, 0.0), SIGMA, (0, 1, 3))
    x, P = _north(5000.0, (3.0, -2.0, 0.0)), np.diag([400.0] * 3 + [25.0] * 3)[None]
    z = model.function(x) + np.array([[5.0, 0.002, 0.3]])
    for got, want in zip(converted_update(x, P, z, model), update(x, P, z, model), strict=True):
        assert got == pytest.approx(want)


# ------------------------------------------------------------------ second order
def test_second_order_terms_on_the_north_axis_by_hand() -> None:
    """û = north, so M = diag(1, 0, 1)/ρ: only east and up spread count."""
    model = RadarPolar((0.0, 0.0, 0.0), SIGMA)
    rho, c = 10000.0, 30.0
    P = np.diag([6400.0, 100.0, 2500.0, 25.0, 16.0, 9.0])
    P[:3, 3:] = P[3:, :3] = c * np.eye(3)  # position-velocity correlation
    dz, dR = second_order_terms(_north(rho), P[None], model)
    e, u, ve, vu = 6400.0, 2500.0, 25.0, 9.0
    assert dz[0] == pytest.approx([(e + u) / (2 * rho), 0.0, 0.0, 2 * c / rho])
    expected = np.zeros((4, 4))
    expected[0, 0] = (e**2 + u**2) / (2 * rho**2)
    expected[3, 3] = (e * ve + u * vu + 2 * c**2) / rho**2
    expected[0, 3] = expected[3, 0] = (e * c + u * c) / rho**2
    assert pytest.approx(expected) == dR[0]


def test_second_order_terms_match_monte_carlo_moments() -> None:
    """E[ρ], E[ṙ], var ṙ over N(x, P) from samples against h + Δẑ and HPHᵀ + ΔR."""
    rng = np.random.default_rng(5)
    model = RadarPolar((0.0, 0.0, 0.0), SIGMA, (0, 3))
    x = np.array([[3000.0, 9000.0, 300.0, 20.0, -5.0, 1.0]])
    A = rng.normal(size=(6, 6)) * np.array([150.0, 150.0, 150.0, 20.0, 20.0, 20.0])[:, None]
    P = (A @ A.T)[None]
    samples = rng.multivariate_normal(x[0], P[0], 1_000_000)
    h = model.function(samples)
    dz, dR = second_order_terms(x, P, model)
    H = model.jacobian(x)[0]
    mean2 = model.function(x)[0] + dz[0]
    cov2 = H @ P[0] @ H.T + dR[0]
    se = np.sqrt(np.diag(np.cov(h.T)) / len(h))
    assert np.all(np.abs(h.mean(axis=0) - mean2) < 4 * se)
    assert np.cov(h.T)[1, 1] == pytest.approx(cov2[1, 1], rel=0.02)
    assert abs(h.mean(axis=0)[0] - model.function(x)[0, 0]) > 10 * se[0]  # the EKF's miss


def test_ekf2_is_the_ekf_when_the_spread_is_small() -> None:
    model = RadarPolar((0.0, 0.0, 0.0), SIGMA)
    x, P = _north(8000.0, (5.0, 3.0, 0.0)), np.diag([1.0, 1.0, 1.0, 0.01, 0.01, 0.01])[None]
    z = model.function(x) + np.array([[3.0, 1e-3, -2e-3, 0.2]])
    for got, want in zip(ekf2_update(x, P, z, model), update(x, P, z, model), strict=True):
        assert got == pytest.approx(want, rel=1e-4, abs=1e-6)  # Δẑ_ρ = 1/8000 m


# ------------------------------------------------------------------ unscented
def test_sigma_points_reproduce_mean_and_covariance() -> None:
    rng = np.random.default_rng(2)
    A = rng.normal(size=(3, 6, 6))
    x, P = rng.normal(size=(3, 6)), A @ A.transpose(0, 2, 1) + np.eye(6)
    spread, Wm, Wc = unscented_weights(6)
    assert Wm.sum() == pytest.approx(1.0) and Wc[0] == pytest.approx(2.0)  # β = 2
    assert Wm[0] == 0.0 and np.all(Wm[1:] == pytest.approx(1 / 12))
    X = sigma_points(x, P, spread)
    assert np.einsum("m,pmi->pi", Wm, X) == pytest.approx(x)
    D = X - x[:, None, :]
    assert pytest.approx(P) == np.einsum("m,pmi,pmj->pij", Wm, D, D)


def test_ukf_is_the_kalman_filter_for_a_linear_model() -> None:
    rng = np.random.default_rng(4)
    model = Position((0.0, 0.0, 0.0), (5.0, 5.0, 8.0, 0.5, 0.5, 0.5), (0, 1, 2))
    A = rng.normal(size=(4, 6, 6)) * 10
    x, P = rng.normal(size=(4, 6)) * 100, A @ A.transpose(0, 2, 1) + np.eye(6)
    z = x[:, :3] + rng.normal(size=(4, 3)) * 5
    for got, want in zip(ukf_update(x, P, z, model), update(x, P, z, model), strict=True):
        assert got == pytest.approx(want, rel=1e-9, abs=1e-8)


@pytest.mark.parametrize("az_deg", [0.0, 135.0, 180.0, -90.0])
def test_ukf_matches_ekf_in_the_near_linear_case(az_deg: float) -> None:
    """10 km out, 2 m of spread: the UKF is the EKF, azimuth ±180° included."""
    a = math.radians(az_deg)
    x = np.array([[1e4 * math.sin(a), 1e4 * math.cos(a), 200.0, 10.0, -4.0, 0.5]])
    P = np.diag([4.0, 4.0, 4.0, 0.25, 0.25, 0.25])[None]
    model = RadarPolar((0.0, 0.0, 0.0), SIGMA)
    z = model.function(x) + np.array([[4.0, 0.004, -0.01, 0.3]])
    z[:, 1] = np.mod(z[:, 1] + math.pi, 2 * math.pi) - math.pi
    xu, Pu, du = ukf_update(x, P, z, model)
    xe, Pe, de = update(x, P, z, model)
    assert xu == pytest.approx(xe, abs=1e-3)
    assert pytest.approx(Pe, rel=1e-3, abs=1e-6) == Pu
    assert du == pytest.approx(de, rel=1e-3)


def test_ukf_azimuth_mean_does_not_collapse_across_south() -> None:
    """Sigma points on both sides of ±180°: a naive mean of azimuths would be ~0."""
    x = np.array([[-1.0, -3000.0, 100.0, 0.0, 0.0, 0.0]])  # az just past −180°+
    P = np.diag([200.0**2, 100.0, 100.0, 1.0, 1.0, 1.0])[None]
    model = RadarPolar((0.0, 0.0, 0.0), SIGMA, (0, 1, 2))
    z = model.function(x)
    x1, _, d2 = ukf_update(x, P, z, model)
    assert np.linalg.norm(x1[0, :3] - x[0, :3]) < 2.0
    assert d2[0] < 0.1


def test_every_update_accepts_each_component_subset() -> None:
    x, P = _north(6000.0, (4.0, -8.0, 0.0)), np.diag([900.0] * 3 + [25.0] * 3)[None]
    for comps in [(0, 1), (0, 1, 2), (0, 1, 3), (0, 1, 2, 3)]:
        model = RadarPolar((0.0, 0.0, 0.0), SIGMA, comps)
        z = model.function(x)
        for method in ("ekf", "ekf2", "ukf", "converted"):
            assert method in get_args(RadarUpdate)
            x1, P1, d2 = radar_update(x, P, z, model, method)
            assert np.all(np.isfinite(x1)) and np.all(np.linalg.eigvalsh(P1) > 0)
            assert np.linalg.norm(x1[0, :3] - x[0, :3]) < 2.0 and d2[0] < 0.1


# ------------------------------------------------------------------ consistency
@pytest.mark.parametrize("method", ["ekf2", "ukf", "converted"])
def test_nees_at_10_km_inside_the_chi_square_band(method: RadarUpdate) -> None:
    """150 seeded runs, one track each, all in one batch; NCV truth with the
    tracker's process noise; 10 km crossing; one-plot initiation."""
    runs, steps, burn_in = 150, 60, 15
    params = TrackerParams()
    spec = radar_spec(pd=1.0, max_range_m=30000.0)
    q = np.array([params.accel_noise_psd_m2ps3] * 2 + [params.vertical_accel_noise_psd_m2ps3])
    rng = np.random.default_rng(314)
    L = np.linalg.cholesky(process_noise(1.0, q) + 1e-12 * np.eye(6))
    truth = np.tile([7071.0, 7071.0, 300.0, 14.1, -14.1, 0.0], (runs, 1))
    model = RadarPolar(spec.position_enu_m, spec.sigma)

    def plot(states: np.ndarray) -> np.ndarray:
        r, az, el, rr = polar(np.zeros(3), states[:, :3], states[:, 3:])
        z = np.column_stack((r, np.radians(az), np.radians(el), rr))
        return np.asarray(z + rng.standard_normal(z.shape) * SIGMA, dtype=np.float64)

    x, P, _ = initial_states(plot(truth), spec, params)
    nees = np.empty((steps - burn_in, runs))
    for k in range(1, steps):
        truth = truth @ transition_matrix(1.0).T + rng.standard_normal((runs, 6)) @ L.T
        x, P = predict(x, P, 1.0, q)
        x, P, _ = radar_update(x, P, plot(truth), model, method)
        if k >= burn_in:
            e = x - truth
            nees[k - burn_in] = np.einsum("ri,ri->r", e, np.linalg.solve(P, e[:, :, None])[..., 0])
    lo, hi = chi2.ppf([0.025, 0.975], 6 * runs) / runs
    per_time = nees.mean(axis=1)
    assert lo <= per_time.mean() <= hi, f"ANEES {per_time.mean():.2f} not in [{lo:.2f}, {hi:.2f}]"
    assert np.mean((per_time >= lo) & (per_time <= hi)) >= 0.8


def test_every_radar_update_choice_tracks_in_the_tracker() -> None:
    assert TrackerParams().radar_update == "ekf2"  # the study's choice
    spec = radar_spec(pd=1.0)
    methods: tuple[RadarUpdate, ...] = ("ekf", "ekf2", "ukf", "converted")
    for method in methods:
        rng = np.random.default_rng(8)
        tracker = Tracker([spec], TrackerParams(radar_update=method))
        state = np.array([2000.0, 6000.0, 200.0, -10.0, 5.0, 0.0])
        for k in range(15):
            r, az, el, rr = polar(np.zeros(3), state[None, :3], state[None, 3:])
            z = np.column_stack((r, np.radians(az), np.radians(el), rr))
            tracker.step(Detections(float(k), 0, z + rng.standard_normal(z.shape) * SIGMA))
            state = state + np.r_[state[3:], 0.0, 0.0, 0.0]
        assert tracker.bank.confirmed.sum() == 1, method
        assert np.linalg.norm(tracker.bank.x[0, :3] - (state[:3] - state[3:])) < 60.0, method
