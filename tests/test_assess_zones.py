"""Predicted zone entry, its uncertainty and probability, closest approach."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from skyfence.assess.zones import (
    ZoneParams,
    assess_zones,
    circle_entry_time_s,
    polygon_entry_time_s,
    sampled_p_enter,
)
from skyfence.scenario.model import Zone

CIRCLE = Zone.model_validate({"name": "base", "level": "critical",
                              "circle": {"center_enu_m": [0, 0], "radius_m": 200}})
SQUARE = Zone.model_validate({"name": "yard", "level": "warning",
                              "polygon": [[0, 0], [100, 0], [100, 100], [0, 100]]})
L_SHAPE = Zone.model_validate({"name": "L", "level": "warning",
                               "polygon": [[0, 0], [20, 0], [20, 10], [10, 10], [10, 20], [0, 20]]})


def state(e: float, n: float, ve: float, vn: float, u: float = 100.0) -> list[float]:
    return [e, n, u, ve, vn, 0.0]


def tracks(*rows: list[float], P: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    x = np.array(rows, dtype=float)
    cov = np.zeros((len(rows), 6, 6)) if P is None else np.broadcast_to(P, (len(rows), 6, 6))
    return x, np.array(cov)


def test_straight_at_a_circle() -> None:
    # 800 m from the edge at 20 m/s: enters at 40 s; 900 m up (heights are ignored)
    x, P = tracks(state(-1000, 0, 20, 0, u=900))
    a = assess_zones(x, P, [CIRCLE])
    assert a.names == ("base",) and a.levels == ("critical",)
    assert not a.inside[0, 0]
    assert a.time_to_enter_s[0, 0] == pytest.approx(40.0)
    assert a.distance_m[0, 0] == pytest.approx(800.0)
    assert a.closing_speed_mps[0, 0] == pytest.approx(20.0)
    assert a.closest_distance_m[0, 0] == 0.0 and a.closest_time_s[0, 0] == pytest.approx(40.0)
    assert a.p_enter[0, 0] == 1.0  # no uncertainty
    assert a.time_to_enter_sigma_s[0, 0] == 0.0


def test_tangent_track_touches_once_with_infinite_sigma() -> None:
    x, P = tracks(state(-1000, 200, 20, 0))
    P[0, 1, 1] = 10.0**2  # 10 m across the line: half the draws cross, half miss
    a = assess_zones(x, P, [CIRCLE])
    assert a.time_to_enter_s[0, 0] == pytest.approx(50.0)  # touches (0, 200)
    assert np.isinf(a.time_to_enter_sigma_s[0, 0])
    assert a.p_enter[0, 0] == pytest.approx(0.5, abs=0.06)
    assert a.closest_distance_m[0, 0] == 0.0 and a.closest_time_s[0, 0] == pytest.approx(50.0)


def test_polygon_entered_through_an_edge() -> None:
    # from below through the bottom edge; obliquely through the left edge at (0, 50)
    x, P = tracks(state(50, -300, 0, 10), state(-100, -50, 10, 10))
    a = assess_zones(x, P, [SQUARE])
    assert a.time_to_enter_s[:, 0] == pytest.approx([30.0, 10.0])
    assert a.distance_m[:, 0] == pytest.approx([300.0, np.hypot(100, 50)])
    # the second's nearest point is the corner (0, 0)
    assert a.closing_speed_mps[:, 0] == pytest.approx([10.0, 1500 / np.hypot(100, 50)])
    t, normal = polygon_entry_time_s(x[:, :2], x[:, 3:5], SQUARE.polygon)
    assert t == pytest.approx([30.0, 10.0])
    assert abs(normal[0, 0]) == 0 and abs(normal[1, 1]) == 0  # bottom, left edge


def test_concave_polygon_enters_past_the_notch() -> None:
    # straight down through the L's notch, entering at y = 10 (not at y = 20)
    x, P = tracks(state(15, 30, 0, -1))
    a = assess_zones(x, P, [L_SHAPE], ZoneParams(horizon_s=100))
    assert a.time_to_enter_s[0, 0] == pytest.approx(20.0)


def test_moving_away_never_enters() -> None:
    x, P = tracks(state(-1000, 0, -20, 0), state(-1000, 0, 0, 0), state(50, -300, 0, -10))
    P[:] = np.diag([100.0, 100.0, 0.0, 1.0, 1.0, 0.0])
    a = assess_zones(x, P, [CIRCLE, SQUARE])
    assert np.isinf(a.time_to_enter_s).all() and np.isinf(a.time_to_enter_sigma_s).all()
    assert (a.p_enter == 0).all()
    assert a.closest_distance_m[:, 0] == pytest.approx([800.0, 800.0, a.distance_m[2, 0]])
    assert (a.closest_time_s == 0).all()
    assert a.closing_speed_mps[:, 0] == pytest.approx([-20.0, 0.0, -10 * 300 / np.hypot(50, 300)])
    assert a.closing_speed_mps[2, 1] == pytest.approx(-10.0)


def test_inside_now() -> None:
    x, P = tracks(state(10, 20, 5, 0), state(50, 50, -3, 1))
    P[:] = np.eye(6) * 100
    a = assess_zones(x, P, [CIRCLE, SQUARE])
    assert a.inside.tolist() == [[True, True], [True, True]]
    for arr in (a.time_to_enter_s, a.time_to_enter_sigma_s, a.distance_m, a.closing_speed_mps,
                a.closest_distance_m, a.closest_time_s):
        assert (arr == 0).all()
    assert (a.p_enter == 1).all()


def test_sigma_is_sigma_along_over_speed() -> None:
    # head on: σ_t² = (σ_along² + t² σ_v,along²) / speed²
    x, P = tracks(state(-1000, 0, 20, 0))
    P[0, 0, 0] = 30.0**2
    a = assess_zones(x, P, [CIRCLE])
    assert a.time_to_enter_sigma_s[0, 0] == pytest.approx(30.0 / 20.0)
    P[0, 3, 3] = 1.0
    a = assess_zones(x, P, [CIRCLE])
    assert a.time_to_enter_sigma_s[0, 0] == pytest.approx(np.sqrt(900 + 40**2) / 20)
    # the same through a polygon edge
    x, P = tracks(state(50, -300, 0, 10))
    P[0, 1, 1] = 20.0**2
    a = assess_zones(x, P, [SQUARE])
    assert a.time_to_enter_sigma_s[0, 0] == pytest.approx(2.0)


def test_first_order_sigma_against_monte_carlo_head_on() -> None:
    m = np.array([-1000.0, 0.0, 15.0, 0.0])
    P4 = np.diag([10.0**2, 10.0**2, 0.5**2, 0.5**2])
    t, _ = circle_entry_time_s(m[None, :2], m[None, 2:], [0, 0], 200.0)
    x, P = tracks(state(*m))
    P[0][np.ix_([0, 1, 3, 4], [0, 1, 3, 4])] = P4
    sigma = assess_zones(x, P, [CIRCLE]).time_to_enter_sigma_s[0, 0]
    draws = np.random.default_rng(0).multivariate_normal(m, P4, 20000)
    t_mc, _ = circle_entry_time_s(draws[:, :2], draws[:, 2:], [0, 0], 200.0)
    assert np.isfinite(t_mc).all()
    assert sigma == pytest.approx(t_mc.std(), rel=0.05)
    assert t[0] == pytest.approx(np.median(t_mc), abs=0.25)  # curvature: a small bias


@pytest.mark.parametrize("lateral_m", [0.0, 150.0, 220.0])
@pytest.mark.parametrize("zone", [CIRCLE, SQUARE])
def test_sampled_probability_against_monte_carlo(lateral_m: float, zone: Zone) -> None:
    # near misses included: the normal approximation would say 0 at 220 m
    m = np.array([-1000.0, lateral_m, 15.0, 0.0])
    P4 = np.diag([30.0**2, 30.0**2, 1.0, 1.0])
    p = sampled_p_enter(m[None], P4[None], zone, 60.0, 128)[0]
    draws = np.random.default_rng(1).multivariate_normal(m, P4, 20000)
    if zone.circle is not None:
        t_mc, _ = circle_entry_time_s(draws[:, :2], draws[:, 2:], [0, 0], 200.0)
    else:
        t_mc, _ = polygon_entry_time_s(draws[:, :2], draws[:, 2:], zone.polygon)
    p_mc = (t_mc <= 60.0).mean()
    assert p == pytest.approx(p_mc, abs=0.04)


def test_normal_approximation_when_asked() -> None:
    x, P = tracks(state(-1000, 0, 20, 0), state(-1000, 0, -20, 0))
    P[:, 0, 0] = 100.0**2  # σ_t = 5 s at t = 40 s
    a = assess_zones(x, P, [CIRCLE], ZoneParams(horizon_s=45.0, entry_samples=0))
    assert a.p_enter[:, 0] == pytest.approx([ndtr(1.0), 0.0])


def test_closest_approach_of_a_miss_within_the_horizon() -> None:
    # passes 300 m from the centre at 50 s: 100 m from the edge
    x, P = tracks(state(-1000, 300, 20, 0))
    a = assess_zones(x, P, [CIRCLE])
    assert a.closest_distance_m[0, 0] == pytest.approx(100.0)
    assert a.closest_time_s[0, 0] == pytest.approx(50.0)
    # a 30 s horizon ends first, at (-400, 300)
    a = assess_zones(x, P, [CIRCLE], ZoneParams(horizon_s=30.0))
    assert a.closest_distance_m[0, 0] == pytest.approx(300.0)
    assert a.closest_time_s[0, 0] == pytest.approx(30.0)
    # along the square's top edge, 50 m above it, between 10 s and 20 s
    x, P = tracks(state(-100, 150, 10, 0))
    a = assess_zones(x, P, [SQUARE], ZoneParams(horizon_s=30.0))
    assert a.closest_distance_m[0, 0] == pytest.approx(50.0)
    assert 10.0 <= a.closest_time_s[0, 0] <= 20.0
    # entering beyond the horizon: not 0
    x, P = tracks(state(50, -300, 0, 10))
    a = assess_zones(x, P, [SQUARE], ZoneParams(horizon_s=20.0))
    assert a.closest_distance_m[0, 0] == pytest.approx(100.0)
    assert a.closest_time_s[0, 0] == pytest.approx(20.0)


def test_far_tracks_are_not_sampled_and_empty_inputs() -> None:
    x, P = tracks(state(-50_000, 0, 20, 0))
    P[:] = np.eye(6)
    assert assess_zones(x, P, [CIRCLE, SQUARE]).p_enter.tolist() == [[0.0, 0.0]]
    a = assess_zones(np.zeros((0, 6)), np.zeros((0, 6, 6)), [CIRCLE, SQUARE])
    assert a.inside.shape == (0, 2) and a.p_enter.shape == (0, 2)
    a = assess_zones(x, P, [])
    assert a.time_to_enter_s.shape == (1, 0)
