"""Gating finds every pair brute force finds; GNN picks the cheapest assignment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skyfence.tracker.association import gnn, miss_cost, pair_costs
from skyfence.tracker.gating import gate, gate_threshold, pair_statistics
from skyfence.tracker.measurement import Bearing, Position, RadarPolar


def _random_tracks(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.column_stack((rng.uniform(-2000, 2000, (n, 2)), rng.uniform(20, 400, n),
                         rng.normal(0, 15, (n, 3))))
    A = rng.normal(size=(n, 6, 6)) * rng.uniform(1, 40, (n, 1, 1))
    return x, A @ A.transpose(0, 2, 1) + np.eye(6)


@pytest.mark.parametrize(
    "model",
    [
        RadarPolar((0.0, 0.0, 10.0), (10.0, 0.01, 0.02, 0.5)),
        RadarPolar((0.0, 0.0, 10.0), (10.0, 0.01, 0.02, 0.5), components=(0, 1)),
        Bearing((300.0, -100.0, 5.0), (0.03, 0.05)),
        Bearing((300.0, -100.0, 5.0), (0.03, 0.05), components=(0,)),
        Position((0.0, 0.0, 0.0), (5.0, 5.0, 6.0, 0.3, 0.3, 0.3)),
        Bearing((300.0, -100.0, 5.0), (0.03, 0.05), propagation_speed_mps=343.0),
    ],
)
def test_kdtree_gate_equals_brute_force(model: RadarPolar | Bearing | Position) -> None:
    rng = np.random.default_rng(5)
    x, P = _random_tracks(rng, 60)
    # measurements: noisy copies of some tracks plus scattered ones
    z_true = model.function(x[:40])
    z = z_true + rng.standard_normal(z_true.shape) * np.sqrt(np.diag(model.R)) * 3
    z = np.vstack((z, model.function(_random_tracks(rng, 40)[0])))
    g2 = gate_threshold(0.999, model.dim)
    hyp = gate(x, P, z, model, g2)
    tt, mm = np.meshgrid(np.arange(len(x)), np.arange(len(z)), indexing="ij")
    d2, _ = pair_statistics(x, P, z, model, tt.ravel(), mm.ravel())
    brute = {(int(t), int(m)) for t, m, d in zip(tt.ravel(), mm.ravel(), d2, strict=True)
             if d <= g2}
    assert brute  # the test means something
    assert set(zip(hyp.track.tolist(), hyp.meas.tolist(), strict=True)) == brute


def test_gnn_resolves_a_shared_measurement_and_decides_singles() -> None:
    # tracks 0 and 1 both gate measurement 5; track 1 also gates 6; track 2 alone gates 7
    track = np.array([0, 1, 1, 2, 3])
    meas = np.array([5, 5, 6, 7, 8])
    cost = np.array([1.0, 0.5, 2.0, -3.0, 9.0])
    miss = np.full(4, 4.0)
    chosen = set(gnn(track, meas, cost, miss).tolist())
    # cluster {0,1 | 5,6}: 0→5 and 1→6 costs 3.0 < 1→5 + 0 missed (0.5 + 4) → pairs 0 and 2
    # single 2→7 taken (−3 < 4); single 3→8 refused (9 > miss 4)
    assert chosen == {0, 2, 3}


def test_gnn_cluster_prefers_miss_when_cheaper() -> None:
    track = np.array([0, 1])
    meas = np.array([3, 3])
    chosen = gnn(track, meas, np.array([1.0, 2.0]), np.array([10.0, 10.0]))
    assert chosen.tolist() == [0]


def test_costs_are_negative_log_likelihood_ratios() -> None:
    c = pair_costs(np.array([math.log(2.0)]), pd=0.5, clutter_density=0.25)
    assert c[0] == pytest.approx(-math.log(0.5 * 2.0 / 0.25))
    assert miss_cost(0.9, 0.999) == pytest.approx(-math.log(1 - 0.9 * 0.999))
