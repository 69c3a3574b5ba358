"""Passive initiation: triangulation geometry, gates, ghost suppression, and a
passive-only site (radar off) end to end through the simulator and the scorer."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import chi2

from skyfence.evaluate import evaluate
from skyfence.scenario.load import validate
from skyfence.sim.writer import write_simulation
from skyfence.track_io import run_track
from skyfence.tracker import Detections, SensorSpec, TrackBank, Tracker, TrackerParams
from skyfence.tracker.evidence import EVIDENCE_WIDTH
from skyfence.tracker.passive_initiator import PassiveInitiator, sensor_bit
from skyfence.tracker.triangulation import Gates, Rays, select, triangulate

SIGMA = 0.01  # rad
SIGMA_V = 60.0 / math.sqrt(3.0)
GATES = Gates(0.999, math.radians(3.0), 250.0, 0.0)


def _rays(origins: list[tuple[float, float, float]], az_deg: list[float],
          el_deg: list[float | None], sigma: float = SIGMA) -> Rays:
    el = [math.nan if e is None else math.radians(e) for e in el_deg]
    return Rays.simple(np.asarray([origins], dtype=float), np.radians([az_deg]),
                       np.asarray([el]), sigma, sigma)


# ------------------------------------------------------------------ geometry
def test_two_orthogonal_rays_give_the_point_and_the_hand_computed_covariance() -> None:
    # A at the origin looks north, B at (1000, 1000) looks west; both level:
    # they cross at (0, 1000, 0), 1000 m from each. Per ray the angles move
    # along e_az / ρ and e_el / ρ, so A = (e_az,A e_az,Aᵀ + e_az,B e_az,Bᵀ
    # + 2 e_u e_uᵀ) / (ρσ)² and Cov = (ρσ)² diag(1, 1, ½).
    fix = triangulate(_rays([(0, 0, 0), (1000, 1000, 0)], [0.0, 270.0], [0.0, 0.0]),
                      SIGMA_V, 100.0, 100.0)
    np.testing.assert_allclose(fix.p[0], [0.0, 1000.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(fix.P[0], np.diag([100.0, 100.0, 50.0]), rtol=1e-6, atol=1e-6)
    assert fix.d2[0] == pytest.approx(0.0, abs=1e-9) and fix.dof[0] == 1
    assert fix.in_front[0] and fix.sin_crossing[0] == pytest.approx(1.0)
    np.testing.assert_allclose(fix.range_m[0], [1000.0, 1000.0])


def test_azimuth_only_rays_take_their_height_from_the_prior() -> None:
    fix = triangulate(_rays([(0, 0, 0), (1000, 1000, 0)], [0.0, 270.0], [None, None]),
                      SIGMA_V, 120.0, 80.0)
    np.testing.assert_allclose(fix.p[0], [0.0, 1000.0, 120.0], atol=1e-6)
    np.testing.assert_allclose(np.diag(fix.P[0]), [100.0, 100.0, 80.0**2], rtol=1e-6)
    assert fix.dof[0] == 0  # two azimuths and a prior fix three coordinates exactly


def test_one_elevation_fixes_the_height_of_an_azimuth_only_crossing() -> None:
    el = math.degrees(math.atan2(150.0, 1000.0))
    fix = triangulate(_rays([(0, 0, 0), (1000, 1000, 0)], [0.0, 270.0], [el, None]),
                      SIGMA_V, 0.0, 1.0)  # a prior that would be badly wrong: unused
    np.testing.assert_allclose(fix.p[0], [0.0, 1000.0, 150.0], atol=1e-6)


def test_skew_rays_fail_the_residual_gate() -> None:
    # A says 1°, B says 10° of elevation: no point fits both within 0.01 rad
    fix = triangulate(_rays([(0, 0, 0), (1000, 1000, 0)], [0.0, 270.0], [1.0, 10.0]),
                      SIGMA_V, 100.0, 100.0)
    assert fix.d2[0] > chi2.ppf(0.999, 1)
    assert not GATES.accept(fix, np.ones((1, 2), dtype=bool), np.full((1, 2), 5000.0))[0]


def test_parallel_rays_are_rejected() -> None:
    fix = triangulate(_rays([(0, 0, 0), (200, 0, 0)], [0.0, 0.0], [5.0, 5.0]),
                      SIGMA_V, 100.0, 100.0)
    assert fix.sin_crossing[0] == pytest.approx(0.0, abs=1e-9)
    assert not GATES.accept(fix, np.ones((1, 2), dtype=bool), np.full((1, 2), 5000.0))[0]


def test_a_crossing_behind_the_sensors_is_rejected() -> None:
    # the lines through the rays meet at (0, 1000, 0), but both rays point away from it
    fix = triangulate(_rays([(0, 0, 0), (1000, 1000, 0)], [180.0, 90.0], [0.0, 0.0]),
                      SIGMA_V, 100.0, 100.0)
    np.testing.assert_allclose(fix.p[0], [0.0, 1000.0, 0.0], atol=1e-6)
    assert not fix.in_front[0]
    assert not GATES.accept(fix, np.ones((1, 2), dtype=bool), np.full((1, 2), 5000.0))[0]


def test_a_crossing_beyond_a_sensors_reach_is_rejected() -> None:
    fix = triangulate(_rays([(0, 0, 0), (1000, 1000, 0)], [0.0, 270.0], [0.0, 0.0]),
                      SIGMA_V, 100.0, 100.0)
    valid = np.ones((1, 2), dtype=bool)
    assert GATES.accept(fix, valid, np.full((1, 2), 1200.0))[0]
    assert not GATES.accept(fix, valid, np.array([[1200.0, 800.0]]))[0]


def test_moving_target_allowance_widens_older_rays() -> None:
    """A bearing 1 s older may miss the other's crossing by a target's motion."""
    rays = _rays([(0, 0, 0), (1000, 1000, 0)], [0.0, 270.0], [0.0, 2.0], sigma=0.001)
    # 2° of elevation at 1 km is 35 m: far outside a 1 mrad gate at one time...
    assert triangulate(rays, SIGMA_V, 100.0, 100.0).d2[0] > 100.0
    # ...but a target at up to 60 m/s moves that much in a second
    older = Rays(rays.origin, rays.az, rays.el, rays.sigma_az, rays.sigma_el,
                 np.array([[0.0, 1.0]]), rays.sound_mps, rays.valid)
    assert triangulate(older, SIGMA_V, 100.0, 100.0).d2[0] < chi2.ppf(0.999, 1)


# ------------------------------------------------------------------ selection
def test_selection_is_one_to_one_and_maximises_the_summed_score() -> None:
    # bearings 0, 1 of sensor 0; 2, 3 of sensor 1. Greedy would take (0, 2) first
    # (score 10) and be left with (1, 3) (score 1); the assignment takes 9 + 8.
    members = np.array([[0, 2, -1], [0, 3, -1], [1, 2, -1], [1, 3, -1]])
    score = np.array([10.0, 9.0, 8.0, 1.0])
    sensor = np.array([0, 0, 1, 1])
    assert select(members, score, sensor).tolist() == [1, 2]


def test_selection_prefers_a_triple_over_its_pairs() -> None:
    members = np.array([[0, 1, -1], [0, 2, -1], [1, 2, -1], [0, 1, 2]])
    score = np.array([20.0, 19.0, 18.0, 30.0])
    assert select(members, score, np.array([0, 1, 2])).tolist() == [3]


# ------------------------------------------------------------------ the initiator
def _eoir(i: int, pos: tuple[float, float, float], period_s: float = 1.0) -> SensorSpec:
    s = math.radians(0.1)
    return SensorSpec(id=f"eoir-{i}", type="eoir", position_enu_m=pos, sigma=(s, s), pd=0.9,
                      clutter_per_scan=0.05, max_range_m=3000.0, period_s=period_s)


def _rf(i: int, pos: tuple[float, float, float]) -> SensorSpec:
    return SensorSpec(id=f"rf-{i}", type="rf", position_enu_m=pos,
                      sigma=(math.radians(1.0), math.radians(1.0)), pd=0.9,
                      clutter_per_scan=0.1, max_range_m=5000.0)


def _bearings(spec: SensorSpec, targets: np.ndarray, rng: np.random.Generator | None = None,
              azimuth_only: bool = False) -> np.ndarray:
    d = targets - np.asarray(spec.position_enu_m)
    z = np.column_stack((np.arctan2(d[:, 0], d[:, 1]),
                         np.arctan2(d[:, 2], np.hypot(d[:, 0], d[:, 1]))))
    if rng is not None:
        z += rng.standard_normal(z.shape) * np.asarray(spec.sigma)
    if azimuth_only:
        z[:, 1] = math.nan
    return np.asarray(z)


def _feed(init: PassiveInitiator, scan: Detections) -> None:
    rows = np.arange(len(scan))
    init.observe(TrackBank.empty(), scan, rows, np.zeros((len(scan), EVIDENCE_WIDTH)), scan.t_s)


TRIANGLE = [(0.0, 1154.7, 5.0), (1000.0, -577.4, 5.0), (-1000.0, -577.4, 5.0)]


def test_three_azimuth_only_sensors_start_the_targets_and_not_the_ghosts() -> None:
    """Two targets seen by two azimuth-only sensors cross four times; the third
    sensor's bearings agree only with the two true crossings."""
    specs = [_rf(i, p) for i, p in enumerate(TRIANGLE)]
    targets = np.array([[-300.0, 400.0, 100.0], [400.0, 100.0, 100.0]])
    init = PassiveInitiator(specs, TrackerParams())
    for i, spec in enumerate(specs):
        _feed(init, Detections(0.0, i, _bearings(spec, targets, azimuth_only=True)))
    births = init.initiate(0.0)
    assert len(births) == 2 and births.bearings == 6
    err = np.linalg.norm(births.x[:, None, :2] - targets[None, :, :2], axis=2)
    assert err.min(axis=1).max() < 1.0  # horizontal: exact; the height is the prior's
    assert sorted(err.argmin(axis=1).tolist()) == [0, 1]
    assert (births.heard == 0b111).all()
    assert init.buffered == 0


def test_a_pair_waits_for_a_third_sensor_that_covers_it() -> None:
    specs = [_eoir(i, p) for i, p in enumerate(TRIANGLE)]
    target = np.array([[200.0, 300.0, 120.0]])
    init = PassiveInitiator(specs, TrackerParams())
    for i in (0, 1):
        _feed(init, Detections(5.0, i, _bearings(specs[i], target)))
    assert len(init.initiate(5.0)) == 0  # sensor 2 covers the point and has not reported
    moved = target + np.array([20.0, 0.0, 0.0])  # 20 m in the second
    _feed(init, Detections(6.0, 2, _bearings(specs[2], moved)))
    births = init.initiate(6.0)  # a triple now
    assert len(births) == 1 and births.heard[0] == 0b111
    assert np.linalg.norm(births.x[0, :3] - moved[0]) < 30.0


def test_a_pair_starts_once_the_third_sensor_had_its_chance() -> None:
    specs = [_eoir(i, p) for i, p in enumerate(TRIANGLE)]
    target = np.array([[200.0, 300.0, 120.0]])
    init = PassiveInitiator(specs, TrackerParams())
    for i in (0, 1):
        _feed(init, Detections(5.0, i, _bearings(specs[i], target)))
    assert len(init.initiate(5.0)) == 0
    _feed(init, Detections(5.5, 2, np.zeros((0, 2))))  # still within its period
    assert len(init.initiate(5.5)) == 0
    births = init.initiate(5.75)  # the third sensor (period 1 s, settle 0.75 s) missed it
    assert len(births) == 1 and births.heard[0] == 0b011
    np.testing.assert_allclose(births.x[0, :3], target[0], atol=1.0)


def test_birth_covariance_is_consistent() -> None:
    """Monte Carlo NEES of the triangulated position: chi-square(3) on average."""
    rng = np.random.default_rng(11)
    specs = [_eoir(i, p) for i, p in enumerate(TRIANGLE)]
    target = np.array([[350.0, -200.0, 90.0]])
    nees = []
    for _ in range(200):
        init = PassiveInitiator(specs, TrackerParams())
        for i, spec in enumerate(specs):
            _feed(init, Detections(0.0, i, _bearings(spec, target, rng)))
        births = init.initiate(0.0)
        assert len(births) == 1
        e = births.x[0, :3] - target[0]
        nees.append(float(e @ np.linalg.solve(births.P[0, :3, :3], e)))
    lo, hi = chi2.ppf([0.025, 0.975], 3 * len(nees)) / len(nees)
    assert lo <= np.mean(nees) <= hi


def test_eoir_silence_counts_against_a_tentative_passive_track_and_rf_only_once_heard() -> None:
    specs = [_eoir(0, TRIANGLE[0]), _rf(1, TRIANGLE[1]), _eoir(2, TRIANGLE[2])]
    init = PassiveInitiator(specs, TrackerParams())
    x = np.zeros((1, 6))
    x[0, :3] = [100.0, 100.0, 100.0]
    bank = TrackBank.new(x, np.eye(6)[None] * 100.0, 0.0, np.array([1]))
    bank.passive_sensors[:] = sensor_bit(2)  # started by... say sensor 2 alone
    miss = np.zeros(1, dtype=bool)
    init.record_opportunities(bank, 1, miss)  # RF never heard it: no evidence
    assert bank.opportunities[0] == 0
    init.record_opportunities(bank, 0, miss)  # EO/IR covers it and saw nothing: a miss
    assert bank.opportunities[0] == 1 and bank.history[0] == 0
    init.record_opportunities(bank, 1, ~miss)  # RF reports it: a hit, and it has heard it
    assert bank.opportunities[0] == 2 and bank.history[0] == 1
    assert bank.passive_sensors[0] == sensor_bit(2) | sensor_bit(1)
    init.record_opportunities(bank, 1, miss)  # now its silence counts
    assert bank.opportunities[0] == 3 and bank.history[0] == 0b10


def test_bearings_start_nothing_with_passive_initiation_off() -> None:
    specs = [_eoir(i, p) for i, p in enumerate(TRIANGLE)]
    target = np.array([[200.0, 300.0, 120.0]])
    for enabled, started in ((False, 0), (True, 1)):
        tracker = Tracker(specs, TrackerParams(passive_initiation=enabled))
        for i, spec in enumerate(specs):
            tracker.step(Detections(0.0, i, _bearings(spec, target)))
        assert tracker.tracks_started == started


# ------------------------------------------------------------------ radar off, end to end
def _site(seed: int, clutter_per_scan: float, pd: float) -> dict[str, Any]:
    """Three EO/IR cameras at the corners of a 2 km triangle, no radar; five drones
    on crossing straight paths at 60–150 m."""
    sensors = [{"id": f"eoir-{i}", "type": "eoir", "position_enu_m": list(p),
                "clutter_per_scan": clutter_per_scan, "pd": pd}
               for i, p in enumerate(TRIANGLE)]
    paths = [[[-1500, 900, 90], [1500, -600, 110]], [[1300, 1000, 70], [-1300, -700, 80]],
             [[-1500, -200, 120], [1500, 100, 100]], [[300, -1300, 60], [-200, 1400, 90]],
             [[-700, -1200, 150], [800, 1200, 130]]]
    targets = [{"type": "drone", "id": f"drone-{i}", "start_s": 3.0 * i,
                "waypoints_enu_m": path, "speed_mps": 18.0 + 3.0 * i, "end": "continue"}
               for i, path in enumerate(paths)]
    return {"name": "passive-only", "seed": seed, "duration_s": 90,
            "site": {"origin": {"lat": 52.0, "lon": 1.0, "alt_m": 20.0}},
            "sensors": sensors, "targets": targets}


def _longest_far_run_s(out: Path, far_m: float) -> dict[int, int]:
    """Per confirmed track: the longest run of output ticks it spent farther than
    ``far_m`` from every true target."""
    truth: dict[float, list[list[float]]] = {}
    for line in (out / "truth.jsonl").read_text().splitlines():
        r = json.loads(line)
        truth.setdefault(r["t"], []).append(r["enu_m"])
    runs: dict[int, list[int]] = {}
    for line in (out / "tracks.jsonl").read_text().splitlines():
        r = json.loads(line)
        d = np.linalg.norm(np.asarray(truth[r["t"]]) - r["enu_m"], axis=1).min()
        run = runs.setdefault(r["track_id"], [0, 0])
        run[0] = run[0] + 1 if d > far_m else 0
        run[1] = max(run[1], run[0])
    return {k: v[1] for k, v in runs.items()}


@pytest.mark.parametrize(("seed", "clutter", "pd"), [(1, 0.05, 0.9), (2, 3.0, 0.8)])
def test_passive_only_site_tracks_every_drone_without_ghosts(
    tmp_path: Path, seed: int, clutter: float, pd: float
) -> None:
    scenario = validate(_site(seed, clutter, pd), "<test>")
    write_simulation(scenario, tmp_path)
    summary = run_track(scenario, tmp_path / "measurements.jsonl", tmp_path / "tracks.jsonl")
    result = evaluate(scenario, tmp_path / "truth.jsonl", tmp_path / "tracks.jsonl")
    for name, target in result["targets"].items():  # each drone matched within c = 100 m
        assert target["matched_ticks"] >= 0.9 * target["detectable_ticks"], name
        assert target["time_to_track_s"] is not None and target["time_to_track_s"] <= 5.0
    assert result["identity"]["id_switches"] == 0
    assert summary["tracks_confirmed"] == 5  # one per drone: no confirmed ghost
    assert max(_longest_far_run_s(tmp_path, 100.0).values()) <= 3
