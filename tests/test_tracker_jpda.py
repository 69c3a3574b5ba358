"""JPDA: association probabilities by hand, exact against belief propagation, the PDA
update against the Kalman update, and the engine with ``association="jpda"``."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
import yaml

from skyfence.cli import main
from skyfence.tracker import Detections, SensorSpec, TrackBank, Tracker, TrackerParams
from skyfence.tracker.jpda import (
    belief_propagation,
    cluster_labels,
    coalesced,
    enumerate_events,
    marginals,
    pda_update,
    score_gain,
)
from skyfence.tracker.measurement import Position, RadarPolar
from skyfence.tracker.updater import update
from tracker_synth import (
    crossing_ids,
    cv_truth,
    monte_carlo_nees,
    radar_line,
    radar_scan,
    radar_spec,
    site,
)

Method = Literal["exact", "bp", "auto"]
METHODS: tuple[Method, ...] = ("exact", "bp", "auto")
JPDA = TrackerParams(association="jpda")


# ------------------------------------------------------------ β by hand
@pytest.mark.parametrize("method", METHODS)
def test_beta_one_track_two_measurements_by_hand(method: Method) -> None:
    pd, pg, lam = 0.9, 0.99, 1e-3
    g = np.array([0.05, 0.01])  # Gaussian densities of the two reports
    L = pd * g / lam  # 45, 9
    L0 = 1 - pd * pg  # 0.109
    beta, beta0 = marginals(np.array([0, 0]), np.array([0, 1]), np.log(L),
                            np.array([math.log(L0)]), method)
    total = 0.109 + 45.0 + 9.0
    assert beta == pytest.approx([45.0 / total, 9.0 / total], rel=1e-12)
    assert beta0 == pytest.approx([0.109 / total], rel=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_beta_two_tracks_one_shared_measurement_by_hand(method: Method) -> None:
    L = np.array([3.0, 1.0])  # track 0 explains the report three times better
    L0 = np.array([0.5, 0.2])
    beta, beta0 = marginals(np.array([0, 1]), np.array([0, 0]), np.log(L), np.log(L0),
                            method)
    # events: both missed 0.5·0.2 = 0.1; 0 took it 3·0.2 = 0.6; 1 took it 0.5·1 = 0.5
    assert beta == pytest.approx([0.6 / 1.2, 0.5 / 1.2], rel=1e-12)
    assert beta0 == pytest.approx([0.6 / 1.2, 0.7 / 1.2], rel=1e-12)


def test_tracks_without_pairs_keep_beta0_one() -> None:
    beta, beta0 = marginals(np.array([2]), np.array([0]), np.array([0.0]), np.zeros(4))
    assert beta0.tolist() == [1.0, 1.0, 0.5, 1.0] and beta.tolist() == [0.5]


# ------------------------------------------------------------ exact against approximate
def _brute_force(track: np.ndarray, meas: np.ndarray,
                 log_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Marginals by looping over itertools.product of every track's options."""
    tracks = np.unique(track)
    options = [[-1, *np.flatnonzero(track == t).tolist()] for t in tracks]
    beta, beta0, total = np.zeros(track.size), np.zeros(tracks.size), 0.0
    for event in itertools.product(*options):
        used = [meas[e] for e in event if e >= 0]
        if len(used) != len(set(used)):
            continue
        w = math.exp(sum(log_w[e] for e in event if e >= 0))
        total += w
        for i, e in enumerate(event):
            if e >= 0:
                beta[e] += w
            else:
                beta0[i] += w
    return beta / total, beta0 / total


def _random_clusters(rng: np.random.Generator,
                     n: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Scans of 2–5 tracks in a small square, reports near 90 % of them plus
    clutter, gated at d² < 9.2 (2-D), likelihood ratios as the tracker makes them."""
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while len(out) < n:
        nt = int(rng.integers(2, 6))
        xt = rng.uniform(0.0, 3.0, (nt, 2))
        seen = rng.random(nt) < 0.9
        z = np.vstack((xt[seen] + rng.normal(0, 0.5, (int(seen.sum()), 2)),
                       rng.uniform(0.0, 3.0, (int(rng.poisson(1.0)), 2))))
        d2 = ((xt[:, None] - z[None]) ** 2).sum(axis=2) / 0.25
        track, meas = np.nonzero(d2 < 9.2)
        if track.size:
            log_ratio = math.log(0.9) - 0.5 * d2[track, meas] - math.log(2 * math.pi * 0.25 * 0.3)
            out.append((track, meas, log_ratio - math.log(1 - 0.9 * 0.99)))
    return out


def test_exact_enumeration_equals_brute_force() -> None:
    rng = np.random.default_rng(11)
    for track, meas, log_w in _random_clusters(rng, 60):
        track = 3 * track + 5  # rows need not be contiguous or sorted
        perm = rng.permutation(track.size)
        track, meas, log_w = track[perm], meas[perm], log_w[perm]
        beta, beta0 = enumerate_events(track, meas, log_w)
        ref, ref0 = _brute_force(track, meas, log_w)
        np.testing.assert_allclose(beta, ref, atol=1e-12)
        np.testing.assert_allclose(beta0, ref0, atol=1e-12)


def test_belief_propagation_is_close_to_exact() -> None:
    """Exact on trees; on loopy clusters (these are crowded: up to five tracks
    gating each other's reports) within a few hundredths (measured: β off by
    0.015 on average, the worst β of a scan by 0.03 in the median, 0.14 at most)."""
    rng = np.random.default_rng(12)
    worst, mean_error, tree_errors = [], [], []
    for track, meas, log_w in _random_clusters(rng, 300):
        exact, exact0 = enumerate_events(track, meas, log_w)
        bp, bp0 = belief_propagation(track, meas, log_w)
        error = max(np.abs(bp - exact).max(), np.abs(bp0 - exact0).max())
        nodes = np.unique(track).size + np.unique(meas).size
        if track.size == nodes - cluster_labels(track, meas)[1]:  # a forest
            tree_errors.append(error)
        else:
            worst.append(error)
            mean_error.append(np.abs(bp - exact).mean())
    assert len(tree_errors) > 50 and len(worst) > 50  # both kinds were tested
    assert max(tree_errors) < 1e-6
    assert np.mean(mean_error) < 0.02
    assert np.median(worst) < 0.05 and max(worst) < 0.2


def test_marginals_sum_to_one_per_track() -> None:
    rng = np.random.default_rng(13)
    for track, meas, log_w in _random_clusters(rng, 50):
        beta, beta0 = marginals(track, meas, log_w, np.zeros(track.max() + 1))
        np.testing.assert_allclose(np.bincount(track, beta) + beta0, 1.0, atol=1e-9)
        assert np.all(np.bincount(meas, beta) <= 1.0 + 1e-9)  # a report has one source


def test_a_dominant_ratio_does_not_lose_the_rest() -> None:
    # w = e^40 next to w = 1e-3: total − own would round the 1 + 1e-3 away
    beta, beta0 = marginals(np.array([0, 0]), np.array([0, 1]), np.array([40.0, -6.9]),
                            np.zeros(1), "bp")
    total = math.exp(40.0) + math.exp(-6.9) + 1.0
    assert beta[1] == pytest.approx(math.exp(-6.9) / total, rel=1e-9)
    assert beta0[0] == pytest.approx(1.0 / total, rel=1e-9)


# ------------------------------------------------------------ the PDA update
def _radar_tracks(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.column_stack((rng.uniform(-3000, 3000, (n, 2)), rng.uniform(50, 400, n),
                         rng.normal(0, 15, (n, 3))))
    A = rng.normal(size=(n, 6, 6)) * rng.uniform(1, 20, (n, 1, 1))
    return x, A @ A.transpose(0, 2, 1) + np.eye(6)


def test_pda_with_one_certain_report_is_the_kalman_update() -> None:
    rng = np.random.default_rng(14)
    model = RadarPolar((0.0, 0.0, 5.0), (10.0, 0.01, 0.02, 0.5))
    x, P = _radar_tracks(rng, 5)
    z = model.function(x) + rng.normal(size=(5, 4)) * np.sqrt(np.diag(model.R))
    rows = np.arange(5)
    x_pda, P_pda = pda_update(x, P, z[::-1], model, rows, rows[::-1], np.ones(5),
                              np.zeros(5))
    x_kf, P_kf, _ = update(x, P, z, model)
    np.testing.assert_allclose(x_pda, x_kf, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(P_pda, P_kf, rtol=1e-8, atol=1e-8)


def test_pda_update_by_hand_on_a_linear_model() -> None:
    """Two reports for one track, one for another, a third track untouched."""
    rng = np.random.default_rng(15)
    model = Position((0.0, 0.0, 0.0), (5.0, 5.0, 8.0, 1.0, 1.0, 1.0), components=(0, 1, 2))
    x, P = _radar_tracks(rng, 3)
    z = x[[0, 0, 1], :3] + rng.normal(0, 5.0, (3, 3))
    pair_t, pair_m = np.array([0, 0, 1]), np.array([0, 1, 2])
    beta, beta0 = np.array([0.6, 0.3, 0.8]), np.array([0.1, 0.2, 1.0])
    x_new, P_new = pda_update(x, P, z, model, pair_t, pair_m, beta, beta0)
    H = np.hstack((np.eye(3), np.zeros((3, 3))))
    R = np.diag([25.0, 25.0, 64.0])
    for i in (0, 1):
        S = H @ P[i] @ H.T + R
        K = P[i] @ H.T @ np.linalg.inv(S)
        nus = [z[j] - x[i, :3] for j in range(3) if pair_t[j] == i]
        bs = [beta[j] for j in range(3) if pair_t[j] == i]
        nu = sum(b * v for b, v in zip(bs, nus, strict=True))
        spread = sum(b * np.outer(v, v) for b, v in zip(bs, nus, strict=True)) - np.outer(nu, nu)
        IKH = np.eye(6) - K @ H
        Pc = IKH @ P[i] @ IKH.T + K @ R @ K.T
        expected = beta0[i] * P[i] + (1 - beta0[i]) * Pc + K @ spread @ K.T
        np.testing.assert_allclose(x_new[i], x[i] + K @ nu, rtol=1e-10)
        np.testing.assert_allclose(P_new[i], expected, rtol=1e-8, atol=1e-8)
    np.testing.assert_array_equal(x_new[2], x[2])
    np.testing.assert_array_equal(P_new[2], P[2])
    assert np.all(np.linalg.eigvalsh(P_new) > 0)


def test_score_gain_is_the_pda_likelihood_ratio() -> None:
    log_ratio = np.log(np.array([45.0, 9.0, 2.0]))
    gain = score_gain(np.array([0, 0, 2]), log_ratio, np.full(4, math.log(0.109)))
    assert gain == pytest.approx([math.log(0.109 + 54.0), math.log(0.109),
                                  math.log(2.109), math.log(0.109)])


def test_coalesced_tracks_are_merged_by_the_duplicate_rule() -> None:
    x = np.array([[0.0, 3000.0, 100.0, 5.0, 0.0, 0.0]] * 3)
    x[1, 0] += 1.0  # 1 m from track 0: the same object
    x[2, 0] += 400.0  # shares a report with the others but is far away
    bank = TrackBank.new(x, np.broadcast_to(100.0 * np.eye(6), (3, 6, 6)).copy(), 0.0,
                         np.array([5, 7, 9]))
    track, meas = np.array([0, 1, 2, 2]), np.array([0, 0, 0, 1])
    assert coalesced(bank, track, meas, 0.25).tolist() == [1]  # the younger
    assert coalesced(bank, track[2:], meas[2:], 0.25).tolist() == []  # no shared report
    bank.confirmed[1] = True
    assert coalesced(bank, track, meas, 0.25).tolist() == [0]  # the tentative
    bank.cooperative_id[:2] = ["4ca1b2", "3c6444"]
    assert coalesced(bank, track, meas, 0.25).tolist() == []  # two identities stay apart


# ------------------------------------------------------------ the engine
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crossing_targets_in_clutter_keep_their_ids(seed: int) -> None:
    ids, confirmed = crossing_ids(JPDA, seed, (40, 60, 100))
    assert ids[40] == ids[60] == ids[100]
    assert confirmed == 2


def test_nees_single_target_in_light_clutter_is_consistent() -> None:
    """Monte Carlo NEES as in test_tracker_engine, with the PDA update."""
    q, runs, steps, burn_in = 0.5, 30, 80, 15
    params = TrackerParams(accel_noise_psd_m2ps3=q, vertical_accel_noise_psd_m2ps3=q,
                           delete_score_drop=math.log(1e9), ground_floor_m=None,
                           association="jpda")
    nees, lo, hi = monte_carlo_nees(params, q, 2000, runs, steps, burn_in)
    per_time = nees.mean(axis=0)
    inside = np.mean((per_time >= lo) & (per_time <= hi))
    assert inside >= 0.8, f"only {inside:.0%} of times inside [{lo:.2f}, {hi:.2f}]"
    assert lo <= nees.mean() <= hi, f"ANEES {nees.mean():.2f} outside [{lo:.2f}, {hi:.2f}]"


def test_a_claimed_report_starts_no_track_but_a_far_one_does() -> None:
    spec = radar_spec(pd=0.9)
    tracker = Tracker([spec], JPDA)
    z = np.array([[3000.0, 0.3, 0.03, -5.0]])
    tracker.step(Detections(0.0, 0, z))
    assert len(tracker.bank) == 1
    near = z + np.array([[5.0, 0.001, 0.0, 0.2]])
    far = z + np.array([[2000.0, 0.5, 0.0, 0.0]])
    result = tracker.step(Detections(1.0, 0, np.vstack((near, far))))
    assert result.associated == 1 and result.initiated == 1
    assert len(tracker.bank) == 2 and tracker.bank.hits.tolist() == [2, 1]


def test_cooperative_reports_keep_the_gnn_path_under_jpda() -> None:
    adsb = SensorSpec(id="adsb", type="adsb", position_enu_m=(0.0, 0.0, 0.0),
                      sigma=(5.0, 5.0, 5.0, 0.3, 0.3, 0.3), pd=0.95, clutter_per_scan=0.0,
                      max_range_m=50000.0)
    tracker = Tracker([adsb], JPDA)
    z = np.array([[100.0, 200.0, 300.0, 50.0, 0.0, 0.0]])
    ids = np.array(["abc123"], dtype=object)
    step = np.array([[50.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    for k in range(3):
        tracker.step(Detections(float(k), 0, z + k * step, cooperative_id=ids))
    assert len(tracker.bank) == 1 and tracker.bank.cooperative_id.tolist() == ["abc123"]
    assert tracker.bank.hits.tolist() == [3]


def test_imm_with_jpda_updates_every_mode() -> None:
    rng = np.random.default_rng(16)
    spec = radar_spec(pd=0.9, clutter=10)
    truth = cv_truth(np.array([800.0, 2500.0, 150.0, -10.0, 5.0, 0.0]), 25, 1.0, 0.1, rng)
    tracker = Tracker([spec], TrackerParams(association="jpda", motion="imm"))
    for k in range(25):
        tracker.step(radar_scan(truth[k:k + 1], spec, rng, float(k), clutter=10))
    b = tracker.bank
    rows = np.flatnonzero(b.confirmed)
    i = rows[np.argmin(np.linalg.norm(b.x[rows, :3] - truth[-1, :3], axis=1))]
    assert np.linalg.norm(b.x[i, :3] - truth[-1, :3]) < 60.0
    np.testing.assert_allclose(b.mode_prob.sum(axis=1), 1.0)


def test_cli_track_takes_the_association(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    scenario = site([{"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 0],
                      "pd": 0.9, "clutter_per_scan": 5, "max_range_m": 10000}])
    rng = np.random.default_rng(18)
    spec = radar_spec(clutter=5, pd=0.9)
    truth = cv_truth(np.array([800.0, 1200.0, 90.0, 0.0, -6.0, 0.0]), 20, 1.0, 0.0, rng)
    lines = [json.dumps(radar_line(float(k), "radar-1", z))
             for k in range(20) for z in radar_scan(truth[k:k + 1], spec, rng, float(k),
                                                     clutter=5).z]
    meas, site_file = tmp_path / "measurements.jsonl", tmp_path / "site.yaml"
    meas.write_text("\n".join(lines) + "\n", encoding="utf-8")
    site_file.write_text(yaml.safe_dump(scenario.model_dump(exclude_defaults=True)),
                         encoding="utf-8")
    out = {a: tmp_path / f"{a}.jsonl" for a in ("gnn", "jpda")}
    for association, path in out.items():
        assert main(["track", "--site", str(site_file), str(meas), "--out", str(path),
                     "--association", association]) == 0
        assert json.loads(capsys.readouterr().out)["tracks_confirmed"] >= 1
    last = [json.loads(x) for x in out["jpda"].read_text().splitlines()][-1]
    assert np.linalg.norm(np.subtract(last["enu_m"], truth[19, :3])) < 60.0
    with pytest.raises(SystemExit):
        main(["track", "--site", str(site_file), str(meas), "--out", str(out["gnn"]),
              "--association", "mht"])
