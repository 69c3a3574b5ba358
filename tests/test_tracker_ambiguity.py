"""The margin test for bearing pairs (skyfence.tracker.ambiguity), by hand."""

from __future__ import annotations

import numpy as np

from skyfence.tracker.ambiguity import clear_winners


def _ints(*v: int) -> np.ndarray:
    return np.asarray(v, dtype=np.int64)


def test_a_lone_pair_always_clears() -> None:
    track, meas, cost = _ints(0), _ints(0), np.array([-2.0])
    assert clear_winners(track, meas, cost, _ints(0), 100.0).tolist() == [0]


def test_competitor_for_the_same_bearing() -> None:
    # bearing 0 gated by tracks 0 (cost -5) and 1 (cost -3): margin 2 exactly
    track, meas, cost = _ints(0, 1), _ints(0, 0), np.array([-5.0, -3.0])
    assert clear_winners(track, meas, cost, _ints(0), 2.0).tolist() == [0]
    assert clear_winners(track, meas, cost, _ints(0), 2.01).tolist() == []


def test_competitor_for_the_same_track() -> None:
    # track 0 gates bearings 0 (cost -6) and 1 (cost -5.5); track 1 gates bearing 1 (-1)
    track, meas = _ints(0, 0, 1), _ints(0, 1, 1)
    cost = np.array([-6.0, -5.5, -1.0])
    chosen = _ints(0, 2)  # what GNN would pick
    # pair 0: its track's other bearing costs -5.5 (margin 0.5); pair 2: its
    # bearing's other track costs -5.5 against its -1 (worse, margin negative)
    assert clear_winners(track, meas, cost, chosen, 0.5).tolist() == [0]
    assert clear_winners(track, meas, cost, chosen, 0.6).tolist() == []
    assert clear_winners(track, meas, cost, chosen, 0.0).tolist() == [0]


def test_ties_are_ambiguous_and_zero_margin_is_gnn() -> None:
    track, meas, cost = _ints(0, 1), _ints(0, 0), np.array([-4.0, -4.0])
    assert clear_winners(track, meas, cost, _ints(0), 1e-9).tolist() == []
    assert clear_winners(track, meas, cost, _ints(0), 0.0).tolist() == [0]


def test_many_pairs_against_brute_force() -> None:
    rng = np.random.default_rng(7)
    track = rng.integers(0, 6, 40)
    meas = rng.integers(0, 8, 40)
    cost = rng.normal(-3.0, 2.0, 40)
    chosen = np.arange(0, 40, 3)
    for margin in (0.0, 0.5, 2.0):
        got = clear_winners(track, meas, cost, chosen, margin).tolist()
        want = [i for i in chosen
                if all(cost[i] + margin <= cost[k] for k in range(40)
                       if k != i and (track[k] == track[i] or meas[k] == meas[i]))]
        assert got == want
