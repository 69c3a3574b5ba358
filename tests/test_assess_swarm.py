"""Swarm grouping by position and velocity; swarm ids over time."""

from __future__ import annotations

import numpy as np
import pytest

from skyfence.assess.swarm import (
    SwarmParams,
    Swarms,
    SwarmTracker,
    swarm_components,
    swarm_eligible,
)


def formation(n: int, center: tuple[float, float], vel: tuple[float, float],
              spacing_m: float = 50.0, across: bool = False) -> np.ndarray:
    """``n`` drones in a line through ``center`` at 100 m, all at ``vel``."""
    x = np.zeros((n, 6))
    offset = (np.arange(n) - (n - 1) / 2) * spacing_m
    x[:, 0 if not across else 1] = offset
    x[:, 0] += center[0]
    x[:, 1] += center[1]
    x[:, 2] = 100.0
    x[:, 3:5] = vel
    return x


def step(tracker: SwarmTracker, t: float, ids: list[int], x: np.ndarray) -> Swarms:
    return tracker.update(t, np.array(ids), x, np.ones(len(ids), dtype=bool))


def test_formation_keeps_its_id_while_members_come_and_go() -> None:
    tracker = SwarmTracker()
    ids = list(range(10))
    first = step(tracker, 0.0, ids, formation(10, (0, 0), (15, 0)))
    assert len(first) == 1 and first.count.tolist() == [10]
    swarm_id = int(first.id[0])
    for k in range(1, 16):  # one leaves, a new one joins, every second: all replaced
        ids = [*ids[1:], 100 + k]
        out = step(tracker, float(k), ids, formation(10, (15.0 * k, 0), (15, 0)))
        assert out.id.tolist() == [swarm_id]
        assert sorted(out.members(0).tolist()) == sorted(ids)
        assert out.first_seen_s.tolist() == [0.0]
    assert not set(ids) & set(range(10))


def test_two_formations_far_apart_are_two_swarms() -> None:
    x = np.concatenate((formation(5, (0, 0), (10, 0)), formation(6, (5000, 0), (10, 0))))
    out = step(SwarmTracker(), 0.0, list(range(11)), x)
    assert out.count.tolist() == [5, 6]
    assert out.swarm_of_track.tolist() == [out.id[0]] * 5 + [out.id[1]] * 6
    assert out.members(1).tolist() == list(range(5, 11))


def test_crossing_formations_stay_apart_by_velocity() -> None:
    # east-bound and north-bound lines that cross at the origin at t = 20 s
    tracker = SwarmTracker()
    ids = list(range(12))
    seen: list[list[int]] = []
    for t in np.arange(0.0, 41.0, 2.0):
        east = formation(6, (15 * (t - 20), 0), (15, 0))
        north = formation(6, (0, 15 * (t - 20)), (0, 15), across=True)
        out = step(tracker, float(t), ids, np.concatenate((east, north)))
        assert out.count.tolist() == [6, 6]
        seen.append(out.id.tolist())
        assert sorted(out.members(0).tolist()) in (list(range(6)), list(range(6, 12)))
    assert all(s == seen[0] for s in seen)


def test_centroid_heading_and_spread() -> None:
    x = np.zeros((4, 6))
    x[:, :2] = [[10, 10], [-10, 10], [10, -10], [-10, -10]]
    x[:, 2] = 100.0
    x[:, 3:5] = [10, 10]
    x[0, 3:5] = [12, 8]  # mean velocity still (10.5, 9.5)
    out = step(SwarmTracker(), 0.0, [1, 2, 3, 4], x)
    assert out.centroid_enu_m[0] == pytest.approx([0, 0, 100])
    assert out.spread_m[0] == pytest.approx(np.sqrt(200))
    assert out.velocity_mps[0] == pytest.approx([10.5, 9.5, 0])
    assert out.heading_deg[0] == pytest.approx(np.degrees(np.arctan2(10.5, 9.5)))
    for vel, heading in (((-10, 0), 270.0), ((0, -5), 180.0), ((0, 3), 0.0)):
        x[:, 3:5] = vel
        assert step(SwarmTracker(), 0.0, [1, 2, 3, 4], x).heading_deg[0] == pytest.approx(heading)
    x[:, 3:5] = 0.1  # hovering: no heading
    assert np.isnan(step(SwarmTracker(), 0.0, [1, 2, 3, 4], x).heading_deg[0])


def test_split_keeps_the_id_on_the_larger_part() -> None:
    tracker = SwarmTracker()
    old = step(tracker, 0.0, list(range(10)), formation(10, (0, 0), (15, 0)))
    x = formation(10, (0, 0), (15, 0))
    x[:3, 1] += 3000.0  # three of them peel off
    out = step(tracker, 1.0, list(range(10)), x)
    assert len(out) == 2
    big = int(np.argmax(out.count))
    assert out.id[big] == old.id[0] and out.count[big] == 7
    assert out.id[1 - big] != old.id[0] and out.first_seen_s[1 - big] == 1.0


def test_merge_keeps_the_older_id() -> None:
    tracker = SwarmTracker()
    a = formation(3, (0, 0), (15, 0))
    a_only = step(tracker, 0.0, [1, 2, 3], a)
    b = formation(6, (0, 3000), (15, 0))
    both = step(tracker, 1.0, [1, 2, 3, 4, 5, 6, 7, 8, 9], np.concatenate((a, b)))
    assert both.id[0] == a_only.id[0] and len(both) == 2
    b_id = both.id[1]
    b[:, 1] = 200.0  # the larger, younger swarm closes in and joins
    merged = step(tracker, 2.0, [1, 2, 3, 4, 5, 6, 7, 8, 9], np.concatenate((a, b)))
    assert merged.id.tolist() == [a_only.id[0]] and merged.count.tolist() == [9]
    assert b_id not in merged.id


def test_a_stray_member_does_not_carry_the_older_id() -> None:
    # an old swarm loses sight of all but one member, which joins a younger swarm
    tracker = SwarmTracker()
    old = step(tracker, 0.0, [1, 2, 3, 4], formation(4, (0, 0), (15, 0)))
    young_x = formation(5, (0, 3000), (15, 0))
    both = step(tracker, 1.0, [1, 2, 3, 4, 10, 11, 12, 13, 14],
                np.concatenate((formation(4, (0, 0), (15, 0)), young_x)))
    young = both.id[1]
    stray = formation(1, (0, 3000 + 10), (15, 0))
    out = step(tracker, 2.0, [1, 10, 11, 12, 13, 14], np.concatenate((stray, young_x)))
    assert out.id.tolist() == [young] and old.id[0] != young


def test_hysteresis_below_min_members() -> None:
    p = SwarmParams(hold_s=5.0)
    tracker = SwarmTracker(p)
    x = formation(3, (0, 0), (15, 0))
    first = step(tracker, 0.0, [1, 2, 3], x)
    swarm_id = first.id[0]
    eligible = np.array([True, True, False])  # one member looks like a bird for a while
    for t in (1.0, 2.0, 3.0, 4.0):
        out = tracker.update(t, np.array([1, 2, 3]), x, eligible)
        assert out.id.tolist() == [swarm_id] and out.held.tolist() == [True]
        assert out.count.tolist() == [2] and out.swarm_of_track.tolist() == [swarm_id] * 2 + [-1]
    back = step(tracker, 4.5, [1, 2, 3], x)
    assert back.id.tolist() == [swarm_id] and back.held.tolist() == [False]
    # too long below: the id goes, and a new one comes when it is a swarm again
    for t in (5.0, 7.0, 9.0, 9.6):
        out = tracker.update(t, np.array([1, 2, 3]), x, eligible)
    assert len(out) == 0
    again = step(tracker, 10.0, [1, 2, 3], x)
    assert again.id[0] != swarm_id and again.first_seen_s[0] == 10.0


def test_members_out_of_sight_pick_up_their_id_again() -> None:
    tracker = SwarmTracker()
    x = formation(4, (0, 0), (15, 0))
    first = step(tracker, 0.0, [1, 2, 3, 4], x)
    gone = tracker.update(1.0, np.array([1, 2, 3, 4]), x, np.zeros(4, dtype=bool))
    assert len(gone) == 0
    back = step(tracker, 3.0, [1, 2, 3, 4], x)
    assert back.id.tolist() == first.id.tolist() and back.first_seen_s[0] == 0.0


def test_components_and_eligibility() -> None:
    # a slow chain linked step by step (250 m) is one component; a different velocity
    # cuts it (too slow for stream links: these are close links only)
    x = formation(5, (0, 0), (4, 0), spacing_m=250.0)
    x[4, 3] = 12.0
    labels = swarm_components(x, np.array([True, True, True, True, True]), SwarmParams())
    assert labels.tolist() == [0, 0, 0, 0, 1]
    labels = swarm_components(x, np.array([True, True, False, True, True]), SwarmParams())
    assert labels.tolist() == [0, 0, -1, 1, 2]
    prob = np.array([[0.1, 0.1, 0.0, 0.8], [0.0, 0.9, 0.0, 0.1], [0.6, 0.0, 0.0, 0.4]])
    assert swarm_eligible(np.array([True, True, False]), prob).tolist() == [True, False, False]


def test_a_stream_on_one_route_is_one_swarm() -> None:
    # five drones in trail 900 m apart at 45 m/s, speeds within 10 %: one swarm;
    # the same line at 8 m/s (too slow for a stream) falls apart, and one drone on a
    # heading 30° off (crossing, not in the stream) is left out
    x = formation(5, (0, 0), (45, 0), spacing_m=900.0)
    x[:, 3] *= [1.0, 0.95, 1.05, 1.0, 0.92]
    eligible = np.ones(5, dtype=bool)
    assert swarm_components(x, eligible, SwarmParams()).tolist() == [0] * 5
    slow = x.copy()
    slow[:, 3:5] = [8.0, 0.0]
    assert len(set(swarm_components(slow, eligible, SwarmParams()).tolist())) == 5
    turned = x.copy()
    turned[2, 3:5] = 45.0 * np.array([np.cos(np.radians(30)), np.sin(np.radians(30))])
    # (its neighbours, 1.8 km apart, still link past it)
    assert swarm_components(turned, eligible, SwarmParams()).tolist() == [0, 0, 1, 0, 0]
    # 2.5 km apart: beyond stream_link_distance_m
    far = formation(3, (0, 0), (45, 0), spacing_m=2500.0)
    assert swarm_components(far, np.ones(3, dtype=bool), SwarmParams()).tolist() == [0, 1, 2]
    # the stream keeps one id as members drop out and come back with new track ids
    tracker = SwarmTracker()
    first = step(tracker, 0.0, [1, 2, 3, 4, 5], x)
    assert first.count.tolist() == [5]
    out = step(tracker, 1.0, [1, 2, 4, 5], x[[0, 1, 3, 4]])  # the middle one lost: 1.8 km
    assert out.id.tolist() == first.id.tolist() and out.count.tolist() == [4]
    out = step(tracker, 2.0, [1, 2, 6, 4, 5], x)  # ... and re-acquired as track 6
    assert out.id.tolist() == first.id.tolist() and out.count.tolist() == [5]


def test_empty() -> None:
    out = SwarmTracker().update(0.0, np.zeros(0, dtype=np.int64), np.zeros((0, 6)),
                                np.zeros(0, dtype=bool))
    assert len(out) == 0 and out.member_offsets.tolist() == [0]
    out = step(SwarmTracker(), 0.0, [1, 2], formation(2, (0, 0), (1, 0)))
    assert len(out) == 0 and out.swarm_of_track.tolist() == [-1, -1]


def test_seed_carries_on_stored_swarms_with_their_ids() -> None:
    """Seeded swarms keep their ids and first-seen time when their members come back;
    a new swarm gets an id above every seeded and used one."""
    tracker = SwarmTracker()
    tracker.seed(20.0, [(4, [3, 1, 2]), (9, np.array([10, 11, 12, 13]))], used_ids=[15, 2])
    a = formation(3, (0, 0), (15, 0))
    b = formation(4, (5000, 0), (15, 0))
    c = formation(3, (-5000, 0), (0, 15))
    out = step(tracker, 21.0, [1, 2, 3, 10, 11, 12, 13, 30, 31, 32],
               np.concatenate((a, b, c)))
    assert out.id.tolist() == [4, 9, 16]
    assert out.first_seen_s.tolist() == [20.0, 20.0, 21.0]
    assert out.members(0).tolist() == [1, 2, 3] and out.members(1).tolist() == [10, 11, 12, 13]
    # a seeded swarm below min_members is held for hold_s like any other
    held = step(tracker, 22.0, [1, 2, 10, 11, 12, 13], np.concatenate((a[:2], b)))
    assert held.id.tolist() == [4, 9] and held.held.tolist() == [True, False]
