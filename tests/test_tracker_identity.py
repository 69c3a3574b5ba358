"""Track identity: a target whose track breaks keeps its id (manager.Reacquirer).

The failure, as in night-swarm (drones turning into their dive 1.6–1.9 km
from the site): the IMM gates on its combined estimate, so a turn's first
plots fall outside the gate of a track sure of flying straight. They start a
new track, which is confirmed three scans later while the old track coasts
on; the target is then shown under a new id (an ID switch). Continuation
gives the new track the old one's id.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from skyfence.tracker import Tracker, TrackerParams
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.manager import Reacquirer, miss_run_probability
from tracker_synth import radar_scan, radar_spec

G_MPS2 = 9.80665


def _turn(speed: float = 40.0, accel: float = G_MPS2, t_turn: float = 40.0,
          turn_deg: float = 90.0, steps: int = 70) -> np.ndarray:
    """(steps, 6) at 1 s: level flight east at ``speed`` 2–3 km from the radar, a
    coordinated left turn at ``accel`` (m/s²) from ``t_turn`` through ``turn_deg``,
    then straight on."""
    omega = accel / speed
    t_end = t_turn + math.radians(turn_deg) / omega
    t = np.arange(steps, dtype=float)
    theta = omega * np.clip(t - t_turn, 0.0, t_end - t_turn)
    radius = speed / omega
    after = np.maximum(t - t_end, 0.0) * speed
    out = np.zeros((steps, 6))
    out[:, 0] = -2000.0 + np.minimum(t, t_turn) * speed + radius * np.sin(theta) \
        + after * math.cos(theta[-1])
    out[:, 1] = 2500.0 + radius * (1.0 - np.cos(theta)) + after * math.sin(theta[-1])
    out[:, 2] = 150.0
    out[:, 3], out[:, 4] = speed * np.cos(theta), speed * np.sin(theta)
    return out


def _ids(params: TrackerParams, nominal_pd: float, seed: int) -> list[list[int]]:
    """Per scan, the ids of the confirmed tracks within 200 m of the target. The
    radar sees it on 99 % of scans; the tracker is told ``nominal_pd``."""
    truth = _turn()
    rng = np.random.default_rng(seed)
    sensed = radar_spec(pd=0.99, clutter=5)
    tracker = Tracker([dataclasses.replace(sensed, pd=nominal_pd)], params)
    out = []
    for k in range(len(truth)):
        tracker.step(radar_scan(truth[k:k + 1], sensed, rng, float(k), clutter=5))
        b = tracker.bank
        near = np.linalg.norm(b.x[:, :3] - truth[k, :3], axis=1) < 200.0
        out.append(sorted(b.id[b.confirmed & near].tolist()))
    return out


def test_a_track_broken_by_a_turn_keeps_its_id() -> None:
    """Nominal Pd 0.6 (night-swarm's radar, which sees a drone near the site on
    nearly every scan): the broken track is still coasting when the new one is
    confirmed; its misses are improbable under its own record, so the new track
    takes its id and it goes. Without continuation: a second id, and for a
    while two confirmed tracks on the one target."""
    for seed in range(3):
        ids = _ids(TrackerParams(), 0.6, seed)
        assert len(ids[39]) == 1 and ids[60] == ids[39], seed  # before and after the turn
        assert all(i in ([], ids[39]) for i in ids[20:]), seed  # one id, never two tracks
        old = _ids(TrackerParams(reacquire=False), 0.6, seed)
        assert ids[39] == old[39] and old[60] != old[39], seed  # the failure
        assert max(len(i) for i in old[40:]) == 2, seed


def test_a_track_deleted_in_the_scan_its_successor_is_confirmed_keeps_its_id() -> None:
    """Nominal Pd 0.95: the broken track is deleted on its third miss, the scan its
    successor is confirmed in; it is remembered, and continued."""
    for seed in range(3):
        ids = _ids(TrackerParams(), 0.95, seed)
        assert len(ids[39]) == 1 and ids[60] == ids[39], seed
        old = _ids(TrackerParams(reacquire=False), 0.95, seed)
        assert old[60] != old[39], seed


def test_miss_run_probability_uses_the_tracks_own_record() -> None:
    bank = _bank(3)
    bank.opportunities[:] = [31, 5, 40]
    bank.history[:] = [((1 << 31) - 1) & ~0b111, 0b11100, 0]  # 28 hits; 3 of 3; none
    bank.misses[:] = [3, 2, 35]
    p = miss_run_probability(bank)
    assert abs(p[0] - 6.0 / (30 * 31 * 32)) < 1e-12  # B(29, 4) / B(29, 1) = 2.0e-4
    assert abs(p[1] - 1.0 / 15.0) < 1e-12  # B(4, 3) / B(4, 1)
    assert abs(p[2] - 1.0 / 36.0) < 1e-12  # no record: the uniform prior, 1 / (k + 1)


def _bank(n: int, x: np.ndarray | None = None) -> TrackBank:
    x = np.zeros((n, 6)) if x is None else x
    return TrackBank.new(x, np.tile(np.diag([100.0, 100.0, 100.0, 4.0, 4.0, 4.0]), (n, 1, 1)),
                         0.0, np.arange(1, n + 1))


def _still(bank: TrackBank, dt: float) -> None:
    """A motion model for the unit tests: nothing moves, uncertainty grows."""
    bank.P = bank.P + dt * np.eye(6)


def test_only_a_track_that_has_lost_its_target_is_continued() -> None:
    """Row 0, confirmed, has missed 3 scans; row 1 was confirmed now at the same
    state, born after row 0's last update. A long record of hits makes the 3
    misses improbable (row 0 has lost its target: continued, and dropped); a
    record of 3 hits in 3 does not (two targets: both kept, ids unchanged)."""
    for history, opportunities, continued in ((((1 << 31) - 1) & ~0b111, 31, True),
                                              (0b111000, 6, False)):
        bank = _bank(2)
        bank.confirmed[:] = True
        bank.opportunities[:] = [opportunities, 3]
        bank.history[:] = [history, 0b111]
        bank.misses[:] = [3, 0]
        bank.t_update_s[:] = [7.0, 10.0]
        bank.t_init_s[:] = [0.0, 8.0]
        fresh = np.array([False, True])
        keep = np.ones(2, dtype=np.bool_)
        n = Reacquirer(TrackerParams()).step(bank, fresh, keep, ~keep, 10.0, _still)
        assert n == int(continued)
        assert bank.id.tolist() == ([1, 1] if continued else [1, 2])
        assert keep.tolist() == [not continued, True]


def test_a_deleted_track_is_continued_only_nearby_and_while_it_is_sharp() -> None:
    """A confirmed track deleted at t = 10 s is remembered; a track confirmed at
    t = 12 s where it was takes its id, one 2 km away does not, and none does
    once the deleted track's predicted σ exceeds reacquire_max_sigma_m."""
    for where, dt, continued in ((0.0, 2.0, True), (2000.0, 2.0, False),
                                 (0.0, 6000.0, False)):
        reacquire = Reacquirer(TrackerParams())
        old = _bank(1)
        old.confirmed[:] = True
        gone = np.array([True])
        reacquire.step(old, np.array([False]), ~gone, gone, 10.0, _still)
        x = np.zeros((1, 6))
        x[0, 0] = where
        new = _bank(1, x)
        new.id[:] = 7
        new.confirmed[:] = True
        new.t_init_s[:] = 10.0 + dt - 3.0
        fresh = np.array([True])
        assert reacquire.step(new, fresh, fresh.copy(), ~fresh, 10.0 + dt, _still) == continued
        assert new.id[0] == (1 if continued else 7)


def test_cooperative_tracks_are_left_alone() -> None:
    bank = _bank(2)
    bank.confirmed[:] = True
    bank.cooperative_id[:] = ["AB12CD", None]
    bank.opportunities[:] = [31, 3]
    bank.history[:] = [((1 << 31) - 1) & ~0b111, 0b111]
    bank.misses[:] = [3, 0]
    bank.t_update_s[:] = [7.0, 10.0]
    bank.t_init_s[:] = [0.0, 8.0]
    keep = np.ones(2, dtype=np.bool_)
    assert Reacquirer(TrackerParams()).step(bank, np.array([False, True]), keep, ~keep, 10.0,
                                            _still) == 0
    assert bank.id.tolist() == [1, 2] and keep.all()
