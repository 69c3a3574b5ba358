"""ID switches, fragmentations and first ticks, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from skyfence.evaluate.gospa import gospa_grouped
from skyfence.evaluate.identity import IdentityStats, identity_stats


def one_target(states: str) -> IdentityStats:
    """One target over len(states) ticks: 'a'/'b' matched to track 0/1, '-' unmatched
    and detectable, '.' unmatched and not detectable."""
    n = len(states)
    track = np.array([{"a": 0, "b": 1}.get(s, -1) for s in states], dtype=np.int64)
    detectable = np.array([s != "." for s in states])
    return identity_stats(np.zeros(n, dtype=np.int64), np.arange(n), track, detectable, 1)


@pytest.mark.parametrize(
    ("states", "switches", "fragmentations"),
    [
        ("aaaa", 0, 0),
        ("--aa", 0, 0),  # late start is not a fragmentation
        ("aa--", 0, 0),  # lost at the end: not resumed
        ("aa-a", 0, 1),
        ("aa.a", 0, 0),  # the gap was not detectable
        ("a-.-a", 0, 1),  # one gap, partly undetectable
        ("a-a-a", 0, 2),
        ("aabb", 1, 0),
        ("aa-bb", 1, 1),  # lost, then picked up by a new track
        ("abab", 3, 0),
        ("a..b", 1, 0),
    ],
)
def test_hand_sequences(states: str, switches: int, fragmentations: int) -> None:
    stats = one_target(states)
    assert stats.id_switches.tolist() == [switches]
    assert stats.fragmentations.tolist() == [fragmentations]


def test_counts_and_first_ticks() -> None:
    stats = one_target("..-ab-")
    assert stats.ticks.tolist() == [6]
    assert stats.detectable_ticks.tolist() == [4]
    assert stats.matched_ticks.tolist() == [2]
    assert stats.first_detectable_tick.tolist() == [2]
    assert stats.first_match_tick.tolist() == [3]
    assert stats.tracks == [[0, 1]]


def test_rows_in_any_order_and_targets_apart() -> None:
    # target 1: a - a (one fragmentation); target 0: a b (one switch); shuffled rows
    target = np.array([1, 0, 1, 0, 1])
    tick = np.array([2, 1, 0, 0, 1])
    track = np.array([0, 1, 0, 0, -1])
    stats = identity_stats(target, tick, track, np.ones(5, dtype=bool), 3)
    assert stats.id_switches.tolist() == [1, 0, 0]
    assert stats.fragmentations.tolist() == [0, 1, 0]
    assert stats.first_match_tick.tolist() == [0, 0, -1]
    assert stats.matches.tracks_until(0, 0) == {0}
    assert stats.matches.tracks_until(0, 5) == {0, 1}
    assert stats.matches.tracks_until(2, 5) == set()


def test_crossing_tracks_that_swap_ids_count_switches() -> None:
    """Two targets cross head-on 20 m apart; at the crossing the tracker swaps ids."""
    ticks = np.arange(10)
    x_a = -450.0 + 100.0 * ticks  # east-bound, y = 0
    x_b = 450.0 - 100.0 * ticks  # west-bound, y = 20
    truth = np.concatenate(
        [np.column_stack((x_a, 0 * x_a, 0 * x_a + 100)),
         np.column_stack((x_b, 0 * x_b + 20, 0 * x_b + 100))]
    )
    truth_target = np.repeat([0, 1], 10)
    truth_tick = np.tile(ticks, 2)
    swapped = ticks >= 5  # after the crossing, track 0 follows b and track 1 follows a
    offset_m = np.array([0.0, 2.0, 0.0])
    track0 = np.where(swapped[:, None], truth[10:], truth[:10]) + offset_m
    track1 = np.where(swapped[:, None], truth[:10], truth[10:]) + offset_m
    tracks = np.concatenate((track0, track1))
    track_id = np.repeat([0, 1], 10)
    result = gospa_grouped(truth, truth_tick, tracks, np.tile(ticks, 2), 10)
    matched = np.where(result.truth_to_track >= 0, track_id[result.truth_to_track], -1)
    stats = identity_stats(truth_target, truth_tick, matched, np.ones(20, dtype=bool), 2)
    assert stats.id_switches.tolist() == [1, 1]
    assert stats.fragmentations.tolist() == [0, 0]
    assert stats.tracks == [[0, 1], [1, 0]]
    assert result.localisation.tolist() == pytest.approx([8.0] * 10)
