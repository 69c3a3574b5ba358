"""Predictor and updater against hand-computed values and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skyfence.tracker.measurement import Bearing, Position, RadarPolar, wrap_angle
from skyfence.tracker.motion import predict, process_noise, transition_matrix
from skyfence.tracker.updater import innovation, update


def test_transition_and_noise_one_axis() -> None:
    dt, q = 2.0, 0.5
    F = transition_matrix(dt)
    Q = process_noise(dt, np.array([q, 0.0, 0.0]))
    # east position/velocity pair: F = [[1, dt], [0, 1]], Q = q [[dt³/3, dt²/2], [dt²/2, dt]]
    assert F[np.ix_([0, 3], [0, 3])] == pytest.approx(np.array([[1.0, 2.0], [0.0, 1.0]]))
    assert Q[np.ix_([0, 3], [0, 3])] == pytest.approx(np.array([[4 / 3, 1.0], [1.0, 1.0]]))
    assert np.count_nonzero(Q) == 4  # the other axes had q = 0


def test_predict_matches_matrix_form_and_composes() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 6))
    A = rng.normal(size=(5, 6, 6))
    P = A @ A.transpose(0, 2, 1) + np.eye(6)
    q = np.array([1.0, 2.0, 0.5])
    x1, P1 = predict(x, P, 1.5, q)
    F, Q = transition_matrix(1.5), process_noise(1.5, q)
    assert x1 == pytest.approx(x @ F.T)
    assert pytest.approx(F @ P @ F.T + Q) == P1
    # the discretisation is exact: 0.5 s then 1.0 s is the same as 1.5 s
    xa, Pa = predict(*predict(x, P, 0.5, q), 1.0, q)
    assert xa == pytest.approx(x1)
    assert Pa == pytest.approx(P1)


def test_radar_update_due_north_by_hand() -> None:
    """Target 1 km due north, level, receding at 10 m/s: every component decouples."""
    sigma = (5.0, 0.01, 0.01, 1.0)  # range m, az rad, el rad, range rate m/s
    model = RadarPolar((0.0, 0.0, 0.0), sigma)
    x = np.array([[0.0, 1000.0, 0.0, 0.0, 10.0, 0.0]])
    P = np.diag([100.0, 100.0, 100.0, 4.0, 4.0, 4.0])[None]
    H = model.jacobian(x)[0]
    expected_H = np.zeros((4, 6))
    expected_H[0, 1] = 1.0  # ∂ρ/∂n
    expected_H[1, 0] = 1e-3  # ∂az/∂e = n/g²
    expected_H[2, 2] = 1e-3  # ∂el/∂u = g/ρ²
    expected_H[3, 4] = 1.0  # ∂ṙ/∂vn; ∂ṙ/∂p = (v − ṙu)/ρ = 0 here
    assert pytest.approx(expected_H, abs=1e-12) == H
    z = np.array([[1010.0, 0.005, 0.0, 11.0]])
    x_new, P_new, d2 = update(x, P, z, model)
    # range ↔ n: S = 100 + 25, K = 0.8;  az ↔ e: S = 1e-4 + 1e-4, K = 500
    # ṙ ↔ vn: S = 4 + 1, K = 0.8;  el ↔ u: zero innovation
    assert x_new[0] == pytest.approx([2.5, 1008.0, 0.0, 0.0, 10.8, 0.0], abs=1e-6)
    assert np.diag(P_new[0]) == pytest.approx([50.0, 20.0, 50.0, 4.0, 0.8, 4.0], rel=1e-6)
    assert d2[0] == pytest.approx(100 / 125 + 0.005**2 / 2e-4 + 1 / 5)


@pytest.mark.parametrize(
    "model",
    [
        RadarPolar((10.0, -20.0, 5.0), (10.0, 0.01, 0.02, 0.5)),
        RadarPolar((10.0, -20.0, 5.0), (10.0, 0.01, 0.02, 0.5), components=(0, 1, 3)),
        Bearing((100.0, 50.0, 2.0), (0.02, 0.03)),
        Bearing((100.0, 50.0, 2.0), (0.02, 0.03), components=(0,)),
        Position((0.0, 0.0, 0.0), (5.0, 5.0, 6.0, 0.3, 0.3, 0.3), components=(0, 1, 2)),
        Bearing((100.0, 50.0, 2.0), (0.05, 0.08), propagation_speed_mps=343.0),
    ],
)
def test_jacobian_matches_finite_differences(model: RadarPolar | Bearing | Position) -> None:
    rng = np.random.default_rng(11)
    x = np.column_stack((rng.uniform(-3000, 3000, (8, 2)), rng.uniform(50, 500, 8),
                         rng.normal(0, 15, (8, 3))))
    H = model.jacobian(x)
    eps = 1e-4
    for j in range(6):
        dx = np.zeros(6)
        dx[j] = eps
        num = model.residual(model.function(x + dx), model.function(x - dx)) / (2 * eps)
        assert H[:, :, j] == pytest.approx(num, rel=1e-5, abs=1e-8)


def test_azimuth_residual_wraps_through_north() -> None:
    model = Bearing((0.0, 0.0, 0.0), (0.01, 0.01))
    z = np.array([[math.radians(-179.5) + 2 * math.pi, 0.0]])  # 180.5° as a measurement
    z_pred = np.array([[math.radians(179.5), 0.0]])
    assert model.residual(z, z_pred)[0, 0] == pytest.approx(math.radians(1.0))
    assert wrap_angle(np.array([3 * math.pi]))[0] == pytest.approx(math.pi)


def test_innovation_normaliser() -> None:
    model = Position((0.0, 0.0, 0.0), (2.0, 2.0, 2.0, 1.0, 1.0, 1.0), components=(0, 1, 2))
    x = np.zeros((1, 6))
    P = np.eye(6)[None] * 5.0
    inn = innovation(x, P, model)
    S = np.eye(3) * 9.0
    assert inn.S[0] == pytest.approx(S)
    assert inn.log_norm[0] == pytest.approx(-0.5 * math.log(np.linalg.det(2 * math.pi * S)))


def test_acoustic_bearing_points_where_the_sound_left() -> None:
    model = Bearing((0.0, 0.0, 0.0), (0.05, 0.05), propagation_speed_mps=343.0)
    # 686 m due north, flying east at 50 m/s: the sound took 2 s, so it left 100 m west
    x = np.array([[0.0, 686.0, 0.0, 50.0, 0.0, 0.0]])
    az = model.function(x)[0, 0]
    assert az == pytest.approx(math.atan2(-100.0, 686.0))


def test_ground_truncation_by_hand() -> None:
    from scipy.stats import norm

    from skyfence.tracker.constraint import truncate_height

    x = np.array([[0.0, 0.0, -10.0, 0.0, 0.0, 2.0], [0.0, 0.0, 500.0, 0.0, 0.0, 0.0]])
    P = np.stack([np.eye(6) * 100.0, np.eye(6) * 100.0])
    P[0, 2, 5] = P[0, 5, 2] = 5.0  # height and climb rate correlated
    x, P = truncate_height(x, P)
    lam = norm.pdf(1.0) / norm.sf(1.0)  # α = (0 − (−10)) / 10 = 1
    mean, var = -10.0 + 10.0 * lam, 100.0 * (1.0 + lam - lam**2)
    assert x[0, 2] == pytest.approx(mean)
    assert P[0, 2, 2] == pytest.approx(var)
    assert x[0, 5] == pytest.approx(2.0 + 0.05 * (mean + 10.0))  # k = 5/100
    assert x[1, 2] == 500.0 and P[1, 2, 2] == 100.0  # far above ground: untouched
