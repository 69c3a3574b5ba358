"""GOSPA: hand cases, detectability, blocks, and a cross-check against Stone Soup."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import pytest

from skyfence.evaluate import gospa as gospa_module
from skyfence.evaluate.gospa import GospaParams, GospaResult, gospa, gospa_grouped


def parts(r: GospaResult) -> tuple[float, float, float, float]:
    return (float(r.distance[0]), float(r.localisation[0]), float(r.missed[0]),
            float(r.false[0]))


def test_one_pair_within_cutoff_is_localisation_only() -> None:
    r = gospa([[0, 0, 0]], [[3, 4, 0]], GospaParams(c_m=10))
    assert parts(r) == pytest.approx((5.0, 25.0, 0.0, 0.0))
    assert r.truth_to_track.tolist() == [0]


def test_one_pair_beyond_cutoff_is_missed_and_false() -> None:
    r = gospa([[0, 0, 0]], [[3, 4, 0]], GospaParams(c_m=4))
    assert parts(r) == pytest.approx((4.0, 0.0, 8.0, 8.0))
    assert r.truth_to_track.tolist() == [-1]


def test_empty_sets() -> None:
    assert parts(gospa(np.zeros((0, 3)), np.zeros((0, 3)))) == (0.0, 0.0, 0.0, 0.0)


def test_empty_tracks_all_missed() -> None:
    r = gospa([[0, 0, 0], [500, 0, 0]], np.zeros((0, 3)))
    assert parts(r) == pytest.approx((100.0, 0.0, 10000.0, 0.0))


def test_empty_truths_all_false() -> None:
    r = gospa(np.zeros((0, 3)), [[0, 0, 0], [1, 1, 1], [9, 9, 9]])
    assert parts(r) == pytest.approx((np.sqrt(15000.0), 0.0, 0.0, 15000.0))


def test_two_truths_one_track_takes_the_nearer() -> None:
    r = gospa([[0, 0, 0], [0, 0, 30]], [[0, 0, 20]])
    assert r.truth_to_track.tolist() == [-1, 0]
    assert parts(r) == pytest.approx((np.sqrt(100.0 + 5000.0), 100.0, 5000.0, 0.0))


def test_all_far_apart() -> None:
    truth = [[0, 0, 0], [1000, 0, 0]]
    track = [[0, 500, 0], [0, -500, 0], [0, 0, 800]]
    r = gospa(truth, track)
    assert parts(r) == pytest.approx((np.sqrt(25000.0), 0.0, 10000.0, 15000.0))


def test_assignment_is_optimal_not_greedy() -> None:
    # nearest-first pairs truth 0 with track 0 (d = 1) and strands truth 1 and
    # track 1 (119 m apart): 1 + 5000 + 5000. Crossing pairs cost 2 * 59^2 = 6962.
    truth = [[0, 0, 0], [60, 0, 0]]
    track = [[1, 0, 0], [-59, 0, 0]]
    r = gospa(truth, track)
    assert r.truth_to_track.tolist() == [1, 0]
    assert float(r.localisation[0]) == pytest.approx(59.0**2 + 59.0**2)


def test_undetectable_truth_costs_nothing_when_missed() -> None:
    r = gospa([[0, 0, 0], [5000, 0, 0]], np.zeros((0, 3)), truth_detectable=[True, False])
    assert parts(r) == pytest.approx((np.sqrt(5000.0), 0.0, 5000.0, 0.0))


def test_track_on_undetectable_truth_is_not_false() -> None:
    r = gospa([[0, 0, 0]], [[3, 4, 0]], truth_detectable=[False])
    assert parts(r) == pytest.approx((5.0, 25.0, 0.0, 0.0))
    # beyond c / sqrt(alpha) leaving both is cheaper: the track is false, the truth free
    r = gospa([[0, 0, 0]], [[80, 0, 0]], truth_detectable=[False])
    assert parts(r) == pytest.approx((np.sqrt(5000.0), 0.0, 0.0, 5000.0))


def test_groups_never_match_across_ticks() -> None:
    truth = np.array([[0, 0, 0], [0, 0, 0]], dtype=float)
    track = np.array([[1, 0, 0]], dtype=float)
    r = gospa_grouped(truth, np.array([0, 1]), track, np.array([1]), 3)
    assert r.truth_to_track.tolist() == [-1, 0]
    assert r.localisation.tolist() == [0.0, 1.0, 0.0]
    assert r.missed.tolist() == [5000.0, 0.0, 0.0]
    assert r.distance[2] == 0.0


def random_scene(seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """~10 truths in a 300 m box, most tracked with 40 m noise, a few tracks far off."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(-150, 150, (10, 3))
    near = truth[:8] + rng.normal(0, 40, (8, 3))
    far = rng.uniform(-2000, 2000, (4, 3))
    track = np.concatenate((near, far))
    return truth, track[rng.permutation(len(track))]


def test_grouped_equals_one_tick_at_a_time_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    scenes = [random_scene(s) for s in range(12)]
    truth = np.concatenate([t for t, _ in scenes])
    track = np.concatenate([k for _, k in scenes])
    tg = np.repeat(np.arange(12), [len(t) for t, _ in scenes])
    kg = np.repeat(np.arange(12), [len(k) for _, k in scenes])
    monkeypatch.setattr(gospa_module, "BLOCK_POINTS", 50)  # several blocks
    together = gospa_grouped(truth, tg, track, kg, 12)
    for g, (t, k) in enumerate(scenes):
        alone = gospa(t, k)
        assert together.distance[g] == pytest.approx(alone.distance[0], rel=1e-12)
        assert together.false[g] == alone.false[0]


@pytest.mark.parametrize("dense_max_cells", [4096, 0])
def test_matches_stone_soup(monkeypatch: pytest.MonkeyPatch, dense_max_cells: int) -> None:
    ospa = pytest.importorskip("stonesoup.metricgenerator.ospametric")
    from stonesoup.types.state import State

    monkeypatch.setattr(gospa_module, "DENSE_MAX_CELLS", dense_max_cells)  # 0: sparse solver
    solved = {"dense": 0, "sparse": 0}
    for kind in solved:
        real = getattr(gospa_module, f"_solve_{kind}")

        def counting(*args: Any, _real: Any = real, _kind: str = kind) -> Any:
            solved[_kind] += 1
            return _real(*args)

        monkeypatch.setattr(gospa_module, f"_solve_{kind}", counting)
    metric = ospa.GOSPAMetric(c=100, p=2)
    assert metric.alpha == 2
    now = datetime.datetime(2024, 1, 1)
    for seed in range(20):
        truth, track = random_scene(seed)
        expected, _ = metric.compute_gospa_metric(
            [State(x.reshape(3, 1), timestamp=now) for x in track],
            [State(x.reshape(3, 1), timestamp=now) for x in truth],
        )
        got = gospa(truth, track)
        for name, value in zip(
            ("distance", "localisation", "missed", "false"), parts(got), strict=True
        ):
            assert value == pytest.approx(expected.value[name], rel=1e-9, abs=1e-9), (seed, name)
    assert solved["sparse" if dense_max_cells == 0 else "dense"] > 0
