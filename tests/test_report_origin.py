"""Back-extrapolation of a drone's first states (report/origin.py) and the report's
plan-view geometry (report/geometry.py), on hand-made numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skyfence.report.geometry import Coverage, zone_distance_m
from skyfence.report.origin import (
    CHI2_2D_95,
    STOP_COVERAGE,
    STOP_GROUND,
    STOP_TIME,
    estimate_origin,
    fit_constant_velocity,
)
from skyfence.scenario.model import Zone

T = np.arange(0.0, 11.0)  # 0..10 s, 1 Hz
COV = np.tile(np.diag([4.0, 4.0, 9.0]), (len(T), 1, 1))


def line(p0: list[float], v: list[float], t: np.ndarray) -> np.ndarray:
    return np.asarray(p0)[None, :] + t[:, None] * np.asarray(v)[None, :]


def test_a_straight_line_goes_back_to_its_hand_computed_origin() -> None:
    # first states on a straight line; later states turn away and must be ignored
    later = np.arange(11.0, 30.0)
    t = np.r_[T, later]
    enu = np.vstack([line([1000, 2000, 100], [10, -5, 0], T),
                     line([1110, 1945, 100], [0, 30, 0], later - 11.0)])
    cov = np.tile(np.diag([4.0, 4.0, 9.0]), (len(t), 1, 1))
    est = estimate_origin(7, t, enu, cov, coverage=None, fit_window_s=10.0, back_s=60.0)
    assert est is not None and est.fit.n == 11 and est.stop == STOP_TIME
    np.testing.assert_allclose(est.fit.v_mps, [10, -5, 0], atol=1e-9)
    # 60 s back from t=0 at (10, -5) m/s: (1000 - 600, 2000 + 300)
    np.testing.assert_allclose(est.enu_m, [400, 2300, 100], atol=1e-6)
    assert est.back_s == 60.0 and est.t_s == -60.0
    # no residuals: Σ = diag(4, 4, 9); AᵀA = [[11, 55], [55, 385]], det 1210,
    # h = [1, -60]: hᵀ(AᵀA)⁻¹h = (385 + 2·55·60 + 11·3600) / 1210 = 38.5
    np.testing.assert_allclose(est.cov_m2, 38.5 * np.diag([4.0, 4.0, 9.0]), atol=1e-6)
    a, b, _ = est.ellipse_m()
    assert a == pytest.approx(math.sqrt(CHI2_2D_95 * 154.0))
    assert b == pytest.approx(a)
    assert est.area_km2() == pytest.approx(math.pi * CHI2_2D_95 * 154.0 / 1e6)
    np.testing.assert_allclose(est.path_enu_m[0], [1000, 2000, 100])
    np.testing.assert_allclose(est.path_enu_m[-1], est.enu_m)


def test_the_area_grows_with_time_back_and_with_scatter() -> None:
    enu = line([0, 0, 50], [20, 0, 0], T)
    short = estimate_origin(1, T, enu, COV, back_s=10.0)
    long = estimate_origin(1, T, enu, COV, back_s=120.0)
    assert short is not None and long is not None
    assert long.area_km2() > 20 * short.area_km2()
    noisy = enu.copy()
    noisy[:, :2] += np.random.default_rng(3).normal(0.0, 15.0, (len(T), 2))
    scattered = estimate_origin(1, T, noisy, COV, back_s=120.0)
    assert scattered is not None and scattered.area_km2() > 5 * long.area_km2()
    # the residual covariance is part of Σ: more than the states' own 4 m²
    assert scattered.fit.sigma_m2[0, 0] > 100.0


def test_a_climbing_track_stops_at_the_ground() -> None:
    # climbing at 2 m/s, 20 m up at first detection: it left the ground 10 s before
    enu = line([500, 0, 20], [8, 0, 2], T)
    est = estimate_origin(2, T, enu, COV, back_s=60.0)
    assert est is not None and est.stop == STOP_GROUND
    assert est.back_s == pytest.approx(10.0)
    np.testing.assert_allclose(est.enu_m, [420, 0, 0], atol=1e-6)


def test_leaving_the_covered_area_stops_the_line() -> None:
    coverage = Coverage(np.array([[0.0, 0.0]]), np.array([1500.0]))
    # first seen at (1000, 0) flying west at 10 m/s: 50 s earlier it was at the edge
    enu = line([1000, 0, 80], [-10, 0, 0], T)
    est = estimate_origin(3, T, enu, COV, coverage=coverage, back_s=300.0)
    assert est is not None and est.stop == STOP_COVERAGE
    assert est.back_s == pytest.approx(50.0, abs=1e-3)
    np.testing.assert_allclose(est.enu_m[:2], [1500, 0], atol=0.01)
    # first seen outside every sensor's range: coverage says nothing, time decides
    outside = estimate_origin(3, T, line([3000, 0, 80], [-10, 0, 0], T), COV,
                              coverage=coverage, back_s=30.0)
    assert outside is not None and outside.stop == STOP_TIME


def test_too_few_states_give_no_estimate() -> None:
    assert estimate_origin(4, T[:1], line([0, 0, 0], [1, 0, 0], T[:1]), COV[:1]) is None
    assert estimate_origin(4, np.array([]), np.zeros((0, 3)), np.zeros((0, 3, 3))) is None
    assert fit_constant_velocity(np.array([5.0, 5.0]), np.zeros((2, 3)),
                                 np.zeros((2, 3, 3))) is None
    # two states: an exact line, Σ from the states' covariance alone
    two = estimate_origin(4, T[:2], line([0, 0, 10], [5, 0, 0], T[:2]), COV[:2], back_s=4.0)
    assert two is not None
    np.testing.assert_allclose(two.enu_m, [-20, 0, 10], atol=1e-9)


def test_zone_distances_by_hand() -> None:
    square = Zone(name="sq", level="critical",
                  polygon=[[0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [0.0, 100.0]])
    circle = Zone.model_validate({"name": "c", "level": "warning",
                                  "circle": {"center_enu_m": [0, 0], "radius_m": 50}})
    pts = np.array([[50.0, 50.0, 10.0], [130.0, 50.0, 0.0], [130.0, 140.0, 0.0],
                    [-30.0, -40.0, 0.0]])
    np.testing.assert_allclose(zone_distance_m(pts, square), [0, 30, 50, 50])
    np.testing.assert_allclose(zone_distance_m(pts, circle),
                               [math.hypot(50, 50) - 50, math.hypot(130, 50) - 50,
                                math.hypot(130, 140) - 50, 0.0])
