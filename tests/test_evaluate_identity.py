"""Identity: the CLEAR MOT correspondence, ID switches, fragmentations, by hand.

``identity_stats`` counts from a given per-tick matching; the scenes below
build truth and track positions, run GOSPA and
``clear_mot_correspondence`` (keep last tick's still-valid pairs, then the
optimal assignment of the rest) and compare with the per-tick GOSPA
assignment ("old": what identity used to count from).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from scipy.optimize import linear_sum_assignment

from skyfence.evaluate import evaluate
from skyfence.evaluate.gospa import GospaResult, gospa_grouped
from skyfence.evaluate.identity import IdentityStats, clear_mot_correspondence, identity_stats
from skyfence.scenario.model import Scenario

IntArray = npt.NDArray[np.int64]


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


# ------------------------------------------------------------------ scenes

Point = tuple[float, float] | None
"""(east, north) in metres at 100 m height; None: not present at that tick."""


@dataclass(frozen=True)
class Scene:
    new: IdentityStats  # from the CLEAR MOT correspondence
    old: IdentityStats  # from the per-tick GOSPA assignment
    seq: list[str]  # per target, per tick: track letter, '-' unmatched, '.' absent
    old_seq: list[str]
    gospa: GospaResult


def score_scene(
    truths: list[list[Point]],
    tracks: list[list[Point]],
    undetectable: frozenset[tuple[int, int]] = frozenset(),
) -> Scene:
    """Truth k / track q at tick g is ``truths[k][g]`` / ``tracks[q][g]``; tracks are
    named A, B, ...; ``undetectable`` holds (target, tick) pairs no sensor could see."""
    n_ticks = max(len(p) for p in truths + tracks)

    def rows(paths: list[list[Point]]) -> tuple[np.ndarray, IntArray, IntArray]:
        found = [(k, g, p) for k, path in enumerate(paths) for g, p in enumerate(path)
                 if p is not None]
        xyz = np.array([[p[0], p[1], 100.0] for _, _, p in found]).reshape(-1, 3)
        return (xyz, np.array([k for k, _, _ in found], dtype=np.int64),
                np.array([g for _, g, _ in found], dtype=np.int64))

    truth_xyz, target, tick = rows(truths)
    track_xyz, track_id, track_tick = rows(tracks)
    detectable = np.array([(int(k), int(g)) not in undetectable for k, g in zip(target, tick,
                                                                                strict=True)])
    result = gospa_grouped(truth_xyz, tick, track_xyz, track_tick, n_ticks,
                           truth_detectable=detectable)
    corr = clear_mot_correspondence(tick, target, track_id, result.pairs,
                                    result.truth_to_track, n_ticks, len(truths))

    def stats_and_seq(row_match: IntArray) -> tuple[IdentityStats, list[str]]:
        ids = np.where(row_match >= 0, track_id[np.maximum(row_match, 0)], -1)
        seq = [["."] * n_ticks for _ in truths]
        for k, g, q in zip(target, tick, ids, strict=True):
            seq[k][g] = "-" if q < 0 else chr(ord("A") + int(q))
        stats = identity_stats(target, tick, ids.astype(np.int64), detectable, len(truths))
        return stats, ["".join(s) for s in seq]

    new, seq = stats_and_seq(corr)
    old, old_seq = stats_and_seq(result.truth_to_track)
    return Scene(new, old, seq, old_seq, result)


def still(x: float, y: float, n: int) -> list[Point]:
    return [(x, y)] * n


def test_one_tick_flip_between_close_targets_is_not_a_switch() -> None:
    """(1) Drones 40 m apart, two tracks each ~25 m from both. At tick 2 the tracks
    wobble so that the per-tick optimum swaps them (A nearer drone 1, B nearer
    drone 0) and swaps back at tick 3: GOSPA's assignment flips A-B-A, which
    used to count 2 switches per drone. Every pair stays valid (< 100 m), so the
    correspondence keeps A on drone 0 and B on drone 1: 0 switches."""
    near0, near1 = [(18.0, 15.0), (22.0, -15.0)], [(22.0, 15.0), (18.0, -15.0)]
    frames = [near0, near0, near1, near0, near0]
    tracks = [[f[0] for f in frames], [f[1] for f in frames]]
    s = score_scene([still(0, 0, 5), still(40, 0, 5)], tracks)
    assert s.old_seq == ["AABAA", "BBABB"]
    assert s.old.id_switches.tolist() == [2, 2]
    assert s.seq == ["AAAAA", "BBBBB"]
    assert s.new.id_switches.tolist() == [0, 0]
    assert s.new.fragmentations.tolist() == [0, 0]
    # GOSPA itself is unchanged: the optimum at every tick, 2 x (18^2 + 15^2)
    assert s.gospa.localisation.tolist() == pytest.approx([1098.0] * 5)


def crossing(swap_at: int, n: int = 10) -> tuple[list[list[Point]], list[Point], list[Point]]:
    """Drone 0 flies east along y=0 and drone 1 west along y=20, 30 m/tick each,
    crossing at x=0 at tick 5; 2 m-off tracks A on drone 0 and B on drone 1 until
    ``swap_at``, then exchanged."""
    d0: list[Point] = [(-150.0 + 30.0 * g, 0.0) for g in range(n)]
    d1: list[Point] = [(150.0 - 30.0 * g, 20.0) for g in range(n)]

    def on(p: Point) -> Point:
        assert p is not None
        return (p[0], p[1] + 2.0)

    a = [on(d0[g] if g < swap_at else d1[g]) for g in range(n)]
    b = [on(d1[g] if g < swap_at else d0[g]) for g in range(n)]
    return [d0, d1], a, b


def test_real_swap_costs_each_target_one_switch_when_the_old_pair_breaks() -> None:
    """(2) The tracks really exchange targets at the crossing (tick 5) and stay
    exchanged. CLEAR MOT counts one mismatch per target (2 in all), but only
    once the old pair is no longer valid: at tick 5 drone 0 is 22 m from A,
    at tick 6 64 m (still kept), at tick 7 122 m (>= c): the switch is
    counted at tick 7. The per-tick optimum counted the same two at tick 5."""
    truths, a, b = crossing(swap_at=5)
    s = score_scene(truths, [a, b])
    assert s.seq == ["AAAAAAABBB", "BBBBBBBAAA"]
    assert s.new.id_switches.tolist() == [1, 1]
    assert s.new.fragmentations.tolist() == [0, 0]
    assert s.old_seq == ["AAAAABBBBB", "BBBBBAAAAA"]
    assert s.old.id_switches.tolist() == [1, 1]
    assert s.new.tracks == [[0, 1], [1, 0]]


def test_swap_whose_pairs_break_at_different_ticks_leaves_a_gap() -> None:
    """(2b) Drone 1 hovers at (0, 20); drone 0 flies east at 30 m/tick. A follows
    drone 0 and B hovers on drone 1 until tick 5, then A stays 30 m north of
    drone 1 and B follows drone 0. At tick 8 (drone 0 at x=90) drone 0 is 103 m
    from A (pair broken) but drone 1 is 92 m from B (kept), so drone 0's own
    track B is taken: drone 0 is unmatched for a tick (a fragmentation) and
    both switch at tick 9, when drone 1's pair breaks too."""
    n = 11
    d0: list[Point] = [(-150.0 + 30.0 * g, 0.0) for g in range(n)]
    d1 = still(0, 20, n)
    a = [d0[g] if g < 5 else (0.0, 50.0) for g in range(n)]
    b = [(0.0, 20.0) if g < 5 else d0[g] for g in range(n)]
    s = score_scene([d0, d1], [a, b])
    assert s.seq == ["AAAAAAAA-BB", "BBBBBBBBBAA"]
    assert s.new.id_switches.tolist() == [1, 1]
    assert s.new.fragmentations.tolist() == [1, 0]


def test_track_lost_and_new_track_on_the_same_target_is_one_switch() -> None:
    """(3) A ends after tick 3; B starts on the same drone at tick 4 (no gap: one
    switch) or at tick 5 (a detectable gap: one switch and one fragmentation)."""
    drone = [[(100.0 * g, 0.0) for g in range(8)]]
    a: list[Point] = [(100.0 * g, 5.0) if g <= 3 else None for g in range(8)]
    for start, frag in ((4, 0), (5, 1)):
        b: list[Point] = [(100.0 * g, -5.0) if g >= start else None for g in range(8)]
        s = score_scene(drone, [a, b])
        assert s.new.id_switches.tolist() == [1]
        assert s.new.fragmentations.tolist() == [frag]
    assert s.seq == ["AAAA-BBB"]


def test_duplicate_track_nearer_than_the_kept_one_does_not_take_over() -> None:
    """A follows the drone 40 m off; from tick 3 a second track B sits 5 m off.
    The kept pair (drone, A) is still valid, so there is no switch while A
    lasts; when A ends (tick 6) B takes over: one switch."""
    drone = [still(0, 0, 9)]
    a: list[Point] = [(40.0, 0.0) if g < 6 else None for g in range(9)]
    b: list[Point] = [(5.0, 0.0) if g >= 3 else None for g in range(9)]
    s = score_scene(drone, [a, b])
    assert s.seq == ["AAAAAABBB"]
    assert s.new.id_switches.tolist() == [1]
    assert s.old_seq == ["AAABBBBBB"]  # the per-tick optimum moved at once


def test_pair_broken_beyond_cutoff_and_re_established() -> None:
    """(4) A is 150 m off the drone at ticks 3-4 (pair broken: unmatched), then
    back: 0 switches, 1 fragmentation; none when the drone was undetectable
    meanwhile (the don't-care gap)."""
    drone = [still(0, 0, 8)]
    a: list[Point] = [(150.0, 0.0) if g in (3, 4) else (10.0, 0.0) for g in range(8)]
    s = score_scene(drone, [a])
    assert s.seq == ["AAA--AAA"]
    assert (s.new.id_switches.tolist(), s.new.fragmentations.tolist()) == ([0], [1])
    s = score_scene(drone, [a], undetectable=frozenset({(0, 3), (0, 4)}))
    assert (s.new.id_switches.tolist(), s.new.fragmentations.tolist()) == ([0], [0])


def test_pair_broken_and_another_track_holds_the_target() -> None:
    """(4b) While A is 150 m off (ticks 3-4), B (30 m off) picks the drone up: a
    switch. A comes back 10 m off at tick 5, but B's pair is still valid and is
    kept (no switch back) until B leaves at tick 7: A again, a second switch."""
    drone = [still(0, 0, 9)]
    a: list[Point] = [(150.0, 0.0) if g in (3, 4) else (10.0, 0.0) for g in range(9)]
    b: list[Point] = [(0.0, 30.0) if 3 <= g <= 6 else (0.0, 500.0) for g in range(9)]
    s = score_scene(drone, [a, b])
    assert s.seq == ["AAABBBBAA"]
    assert s.new.id_switches.tolist() == [2]
    assert s.new.fragmentations.tolist() == [0]
    assert s.old_seq == ["AAABBAAAA"]


def test_undetectable_truth_keeps_gospa_validity_radius() -> None:
    """A pair with an undetectable truth is valid only below c/sqrt(2) = 70.7 m (GOSPA
    would never assign it farther: leaving both ends costs less), kept or not."""
    drone = [still(0, 0, 4)]
    a: list[Point] = [(10.0, 0.0), (60.0, 0.0), (80.0, 0.0), (60.0, 0.0)]
    s = score_scene(drone, [a], undetectable=frozenset({(0, 1), (0, 2), (0, 3)}))
    assert s.seq == ["AA-A"]
    assert s.seq == s.old_seq


def test_first_tick_is_gospa_assignment() -> None:
    truths = [still(0, 0, 1), still(50, 0, 1), still(400, 0, 1)]
    tracks = [still(30, 0, 1), still(45, 0, 1), still(-20, 0, 1)]
    s = score_scene(truths, tracks)
    assert s.seq == s.old_seq == ["C", "B", "-"]


# --------------------------------------------------- against a plain reference


def reference_correspondence(
    truth_xyz: np.ndarray, tick: IntArray, target: IntArray, track_xyz: np.ndarray,
    track_tick: IntArray, track_id: IntArray, detectable: np.ndarray, n_ticks: int,
    c: float = 100.0,
) -> IntArray:
    """The CLEAR MOT procedure tick by tick with dense matrices, no shortcuts."""
    out = np.full(len(tick), -1, dtype=np.int64)
    prev: dict[int, int] = {}  # target -> track id at the previous tick
    for g in range(n_ticks):
        rows, cols = np.flatnonzero(tick == g), np.flatnonzero(track_tick == g)
        d = np.linalg.norm(truth_xyz[rows][:, None] - track_xyz[cols][None], axis=2)
        mu = np.where(detectable[rows], c**2 / 2, 0.0)[:, None]
        valid = (d < c) & (d**2 - mu - c**2 / 2 < 0)
        saving = np.where(valid, d**2 - mu - c**2 / 2, 0.0)
        free_r = np.ones(len(rows), dtype=bool)
        free_c = np.ones(len(cols), dtype=bool)
        for r in range(len(rows)):
            want = prev.get(int(target[rows[r]]))
            for q in range(len(cols)):
                if want == track_id[cols[q]] and valid[r, q]:
                    out[rows[r]] = cols[q]
                    free_r[r] = free_c[q] = False
        fr, fc = np.flatnonzero(free_r), np.flatnonzero(free_c)
        ri, ci = linear_sum_assignment(saving[np.ix_(fr, fc)])
        for r, q in zip(fr[ri], fc[ci], strict=True):
            if saving[r, q] < 0:
                out[rows[r]] = cols[q]
        prev = {int(target[r]): int(track_id[out[r]]) for r in rows if out[r] >= 0}
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_swarms_match_the_reference(seed: int) -> None:
    """Drones 30-60 m apart with noisy tracks that drop out, restart, swap, and false
    tracks; random detectability: same correspondence as the plain procedure."""
    rng = np.random.default_rng(seed)
    n, m, g_n = 8, 11, 60
    start = rng.uniform(-120, 120, (n, 3))
    walk = np.cumsum(rng.normal(0, 6, (g_n, n, 3)), axis=0)
    truth = start[None] + walk  # (G, n, 3)
    owner = np.tile(np.arange(m) % n, (g_n, 1))
    for g in rng.integers(0, g_n, 4):  # a few swaps between two tracks
        i, j = rng.choice(m, 2, replace=False)
        owner[g:, [i, j]] = owner[g:, [j, i]]
    track = truth[np.arange(g_n)[:, None], owner] + rng.normal(0, 25, (g_n, m, 3))
    present = rng.random((g_n, m)) > 0.15
    truth_present = rng.random((g_n, n)) > 0.05
    tick, target = np.nonzero(truth_present)
    k_tick, k_id = np.nonzero(present)
    truth_xyz, track_xyz = truth[tick, target], track[k_tick, k_id]
    detectable = rng.random(len(tick)) > 0.2
    result = gospa_grouped(truth_xyz, tick, track_xyz, k_tick, g_n, truth_detectable=detectable)
    got = clear_mot_correspondence(tick, target, k_id, result.pairs, result.truth_to_track,
                                   g_n, n)
    want = reference_correspondence(truth_xyz, tick, target, track_xyz, k_tick, k_id,
                                    detectable, g_n)
    assert got.tolist() == want.tolist()
    assert (got != result.truth_to_track).any()  # the scenes do exercise the keep step


# ------------------------------------------------------------ through evaluate()


def test_evaluate_flip_changes_neither_identity_nor_classification(tmp_path: Path) -> None:
    """Scene (1) through ``evaluate``: drone p, bird q 40 m apart; track A (class
    drone) on p, B (class bird) on q, the per-tick optimum flipping at t=2. GOSPA
    still matches 2 pairs a tick; identity, classification and false alerts all
    follow the persistent correspondence: no switch, no bird time on the drone,
    and the alert naming only B is false (B never followed a drone)."""
    near0, near1 = [(18.0, 15.0), (22.0, -15.0)], [(22.0, 15.0), (18.0, -15.0)]
    frames = [near0, near0, near1, near0, near0]

    def line(d: dict[str, Any]) -> str:
        return json.dumps(d) + "\n"

    truth = tmp_path / "truth.jsonl"
    truth.write_text("".join(
        line({"t": float(t), "id": tid, "kind": kind, "enu_m": [x, 0.0, 100.0],
              "vel_mps": [0.0, 0.0, 0.0]})
        for t in range(5) for tid, kind, x in (("p", "drone", 0.0), ("q", "bird", 40.0))))
    tracks = tmp_path / "tracks.jsonl"
    tracks.write_text("".join(
        line({"t": float(t), "track_id": name, "enu_m": [xy[0], xy[1], 100.0],
              "vel_mps": [0, 0, 0], "pos_cov_m2": None, "class": cls,
              "class_prob": {cls: 1.0}, "cooperative_id": None, "threat": 0.5})
        for t, f in enumerate(frames) for name, cls, xy in (("A", "drone", f[0]),
                                                             ("B", "bird", f[1]))))
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text(line({"alert_id": "X", "kind": "zone", "severity": "warning",
                            "t_start": 0.0, "t_end": 4.0, "track_ids": ["B"],
                            "swarm_id": None, "zone": None, "reason": "x"}))
    scenario = Scenario.model_validate({
        "name": "flip", "duration_s": 5, "site": {"origin": {"lat": 52.0, "lon": 1.0}},
        "targets": [{"type": "drone", "id": "other", "waypoints_enu_m": [[0, 0, 100]]}],
    })
    result = evaluate(scenario, truth, tracks, alerts, sensor_models=[])
    assert result["gospa"]["per_tick"]["matched"] == [2] * 5
    assert result["identity"] == {"id_switches": 0, "fragmentations": 0}
    assert result["targets"]["p"]["track_ids"] == ["A"]
    assert result["targets"]["q"]["track_ids"] == ["B"]
    cells = result["classification"]["track_s"]
    assert cells["drone"] == {"drone": 5.0, "bird": 0.0, "aircraft": 0.0, "unknown": 0.0}
    assert cells["bird"] == {"drone": 0.0, "bird": 5.0, "aircraft": 0.0, "unknown": 0.0}
    assert result["false_alerts"]["count"] == 1


def test_switches_at_undetectable_ticks_are_dont_care() -> None:
    """One target, ticks 0–5, tracks 1,1,2,2,1,1; ticks 2–3 undetectable: the
    excursion to track 2 happened where no sensor could see the target, so no
    switch (counting every tick: two)."""
    target = np.zeros(6, dtype=np.int64)
    tick = np.arange(6, dtype=np.int64)
    track = np.array([1, 1, 2, 2, 1, 1], dtype=np.int64)
    detectable = np.array([True, True, False, False, True, True])
    assert identity_stats(target, tick, track, detectable, 1).id_switches.tolist() == [0]
    everywhere = np.ones(6, dtype=np.bool_)
    assert identity_stats(target, tick, track, everywhere, 1).id_switches.tolist() == [2]
    # a real hand-over that persists into detectable ticks still counts
    later = np.array([1, 1, 2, 2, 2, 2], dtype=np.int64)
    assert identity_stats(target, tick, later, detectable, 1).id_switches.tolist() == [1]
