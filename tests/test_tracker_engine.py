"""The engine on synthetic scans: consistency (NEES), crossing targets, clutter, identity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skyfence.tracker import Detections, SensorSpec, Tracker, TrackerParams
from tracker_synth import (
    crossing_ids,
    cv_truth,
    monte_carlo_nees,
    radar_scan,
    radar_spec,
)


def _nearest_confirmed(tracker: Tracker, truth: np.ndarray) -> int:
    b = tracker.bank
    rows = np.flatnonzero(b.confirmed)
    assert rows.size, "no confirmed track"
    return int(rows[np.argmin(np.linalg.norm(b.x[rows, :3] - truth[:3], axis=1))])


def test_nees_single_target_is_consistent() -> None:
    """Monte Carlo NEES (Bar-Shalom): at each time the run-average lies in the
    95 % chi-square(6R)/R interval about 95 % of the time, and overall."""
    q, runs, steps, burn_in = 0.5, 30, 80, 15
    # the filter's consistency is the point here: keep tracks through runs of misses,
    # and let the random-walk truth wander below the ground without the constraint
    params = TrackerParams(motion="ncv", accel_noise_psd_m2ps3=q,
                           vertical_accel_noise_psd_m2ps3=q, delete_score_drop=math.log(1e9),
                           ground_floor_m=None)
    nees, lo, hi = monte_carlo_nees(params, q, 1000, runs, steps, burn_in)
    per_time = nees.mean(axis=0)
    inside = np.mean((per_time >= lo) & (per_time <= hi))
    assert inside >= 0.8, f"only {inside:.0%} of times inside [{lo:.2f}, {hi:.2f}]"
    assert lo <= nees.mean() <= hi, f"ANEES {nees.mean():.2f} outside [{lo:.2f}, {hi:.2f}]"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crossing_targets_keep_their_ids(seed: int) -> None:
    ids, confirmed = crossing_ids(None, seed, (40, 100))
    assert ids[40] == ids[100]
    assert confirmed == 2


def test_clutter_alone_confirms_few_tracks() -> None:
    rng = np.random.default_rng(42)
    spec = radar_spec(pd=0.9, clutter=30)
    tracker = Tracker([spec])
    confirmed_ticks = 0
    for k in range(300):
        tracker.step(radar_scan(np.zeros((0, 6)), spec, rng, float(k), clutter=30))
        confirmed_ticks += int(tracker.bank.confirmed.sum())
    # 9000 clutter plots start ~9000 tentative tracks; a handful may be confirmed
    assert tracker.tracks_started > 8000
    assert tracker.confirmed_total <= 6
    assert confirmed_ticks / 300 < 0.2  # false tracks on screen at any time, on average


def test_a_missed_scan_is_a_miss_and_tracks_are_deleted() -> None:
    rng = np.random.default_rng(7)
    seen_by = radar_spec(pd=1.0)  # the synthetic radar never misses...
    truth = cv_truth(np.array([0.0, 2000.0, 100.0, 10.0, 0.0, 0.0]), 10, 1.0, 0.0, rng)
    tracker = Tracker([radar_spec(pd=0.9)])  # ...the tracker expects 0.9
    for k in range(10):
        tracker.step(radar_scan(truth[k:k + 1], seen_by, rng, float(k)))
    assert tracker.bank.confirmed.sum() == 1
    tracker.step(Detections(10.0, 0, np.zeros((0, 4))))  # an empty scan is a scan
    assert tracker.bank.misses.tolist() == [1]
    assert tracker.t_s == 10.0
    # each miss costs ln(1 − 0.9·0.999) ≈ −2.29; a drop of ln(1000) deletes on the fourth
    for t in (11.0, 12.0):
        tracker.step(Detections(t, 0, np.zeros((0, 4))))
    assert len(tracker.bank) == 1
    tracker.step(Detections(13.0, 0, np.zeros((0, 4))))
    assert len(tracker.bank) == 0


def test_late_scan_is_rejected_not_fatal() -> None:
    tracker = Tracker([radar_spec()])
    tracker.step(Detections(5.0, 0, np.array([[2000.0, 0.1, 0.05, 1.0]])))
    result = tracker.step(Detections(4.0, 0, np.array([[2000.0, 0.1, 0.05, 1.0]])))
    assert result.rejected == 1 and result.used == 0


def _coop_spec(kind: str) -> SensorSpec:
    return SensorSpec(id=kind, type=kind, position_enu_m=(0.0, 0.0, 0.0),
                      sigma=(5.0, 5.0, 5.0, 0.3, 0.3, 0.3), pd=0.95, clutter_per_scan=0.0,
                      max_range_m=50000.0)


def test_cooperative_reports_start_identified_tracks_and_absorb_radar() -> None:
    rng = np.random.default_rng(3)
    radar, adsb, rid = radar_spec(pd=1.0), _coop_spec("adsb"), _coop_spec("remote_id")
    tracker = Tracker([radar, adsb, rid])
    plane = cv_truth(np.array([-3000.0, 4000.0, 600.0, 70.0, 0.0, 0.0]), 30, 1.0, 0.0, rng)
    drone = cv_truth(np.array([1000.0, 1500.0, 80.0, 0.0, -8.0, 0.0]), 30, 1.0, 0.0, rng)
    for k in range(30):
        t = float(k)
        tracker.step(radar_scan(np.vstack((plane[k], drone[k])), radar, rng, t))
        if k >= 10:  # identities start arriving after the radar tracks are confirmed
            z = np.vstack((plane[k], drone[k])) + rng.normal(0, 1.0, (2, 6))
            ids = np.array(["4ca1b2", "RID-0001"], dtype=object)
            tracker.step(Detections(t, 1, z[:1], cooperative_id=ids[:1]))
            tracker.step(Detections(t, 2, z[1:], cooperative_id=ids[1:]))
    b = tracker.bank
    assert b.confirmed.sum() == 2  # the radar tracks took the identities: no duplicates
    by_id = {c: i for i, c in enumerate(b.cooperative_id)}
    assert set(by_id) == {"4ca1b2", "RID-0001"}
    prob = b.class_probabilities(tracker.params.evidence)
    assert prob[by_id["4ca1b2"]].argmax() == 2  # aircraft
    assert prob[by_id["RID-0001"]].argmax() == 0  # drone
    assert np.linalg.norm(b.x[by_id["4ca1b2"], :3] - plane[-1, :3]) < 20.0


def test_cooperative_report_alone_starts_a_confirmed_track() -> None:
    tracker = Tracker([_coop_spec("adsb")])
    z = np.array([[100.0, 200.0, 300.0, 50.0, 0.0, 0.0]])
    tracker.step(Detections(0.0, 0, z, cooperative_id=np.array(["abc123"], dtype=object)))
    assert tracker.bank.confirmed.tolist() == [True]
    assert tracker.bank.cooperative_id.tolist() == ["abc123"]
    # the same identity far away later: the track restarts there, no second track
    z2 = z + np.array([[5000.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    tracker.step(Detections(1.0, 0, z2, cooperative_id=np.array(["abc123"], dtype=object)))
    assert len(tracker.bank) == 1
    assert tracker.bank.x[0, 0] == pytest.approx(5100.0, abs=1.0)


def test_bearings_update_tracks_and_labels_name_the_class() -> None:
    rng = np.random.default_rng(9)
    radar = radar_spec(pd=1.0)
    eoir = SensorSpec(id="cam", type="eoir", position_enu_m=(1500.0, 1500.0, 10.0),
                      sigma=(math.radians(0.1), math.radians(0.1)), pd=0.9,
                      clutter_per_scan=0.05, max_range_m=3000.0)
    tracker = Tracker([radar, eoir])
    truth = cv_truth(np.array([1000.0, 2500.0, 120.0, 5.0, 5.0, 0.0]), 20, 1.0, 0.0, rng)
    for k in range(20):
        tracker.step(radar_scan(truth[k:k + 1], radar, rng, float(k)))
        if k >= 8:
            d = truth[k, :3] - np.asarray(eoir.position_enu_m)
            az = math.atan2(d[0], d[1])
            el = math.atan2(d[2], math.hypot(d[0], d[1]))
            before = np.trace(tracker.bank.P[0, :3, :3]) if k == 8 else None
            result = tracker.step(Detections(float(k) + 0.5, 1, np.array([[az, el]]),
                                             label=np.array([0]), confidence=np.array([0.8])))
            assert result.used == 1
            if before is not None:
                assert np.trace(tracker.bank.P[0, :3, :3]) < before
    prob = tracker.bank.class_probabilities(tracker.params.evidence)[0]
    assert prob.argmax() == 0 and prob[0] > 0.8  # drone


def test_score_confirmation_confirms_a_real_target() -> None:
    rng = np.random.default_rng(21)
    spec = radar_spec(pd=0.9, clutter=10)
    truth = cv_truth(np.array([500.0, 2500.0, 120.0, -8.0, 6.0, 0.0]), 20, 1.0, 0.0, rng)
    tracker = Tracker([spec], TrackerParams(confirmation="score"))
    for k in range(20):
        tracker.step(radar_scan(truth[k:k + 1], spec, rng, float(k), clutter=10))
    i = _nearest_confirmed(tracker, truth[-1])
    assert np.linalg.norm(tracker.bank.x[i, :3] - truth[-1, :3]) < 60.0
