"""IMM: mixing and combination by hand, equivalence with NCV, mode switching, NEES, RMSE."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skyfence.tracker import Detections, TrackBank, Tracker, TrackerParams
from skyfence.tracker.imm import (
    ImmModes,
    combine,
    mix,
    predict,
    transition_matrix,
    update_modes,
)
from tracker_synth import cv_truth, monte_carlo_nees, radar_scan, radar_spec

G_MPS2 = 9.80665


def _one_axis(values: list[float]) -> np.ndarray:
    """(1, M, 6) means with only the east position set."""
    x = np.zeros((1, len(values), 6))
    x[0, :, 0] = values
    return x


def _one_axis_cov(variances: list[float]) -> np.ndarray:
    """(1, M, 6, 6) covariances, east variance as given, 1 elsewhere on the diagonal."""
    P = np.broadcast_to(np.eye(6), (1, len(variances), 6, 6)).copy()
    P[0, :, 0, 0] = variances
    return P


# ------------------------------------------------------------------ the maths
def test_transition_matrix_two_modes_closed_form() -> None:
    tau = np.array([30.0, 8.0])
    a, b = 1 / tau[0], 1 / tau[1]
    for dt in (0.1, 1.0, 7.5):
        Pi = transition_matrix(tau, dt)
        # two-state Markov chain: p_11(t) = (b + a e^{−(a+b)t}) / (a + b)
        p11 = (b + a * math.exp(-(a + b) * dt)) / (a + b)
        p22 = (a + b * math.exp(-(a + b) * dt)) / (a + b)
        assert Pi == pytest.approx(np.array([[p11, 1 - p11], [1 - p22, p22]]), abs=1e-12)
    # small steps: p_ii ≈ exp(−dt/τ_i); steps compose
    assert np.diag(transition_matrix(tau, 0.01)) == pytest.approx(np.exp(-0.01 / tau), rel=1e-5)
    three = np.array([20.0, 5.0, 5.0])
    assert transition_matrix(three, 0.4) @ transition_matrix(three, 1.1) == pytest.approx(
        transition_matrix(three, 1.5), abs=1e-12)
    assert transition_matrix(three, 2.0).sum(axis=1) == pytest.approx(np.ones(3))


def test_mixing_by_hand() -> None:
    mu = np.array([[0.6, 0.4]])
    Pi = np.array([[0.9, 0.1], [0.2, 0.8]])
    x, P = _one_axis([10.0, 20.0]), _one_axis_cov([4.0, 9.0])
    c, x0, P0 = mix(mu, x, P, Pi)
    # c = (0.54 + 0.08, 0.06 + 0.32); μ_i|1 = (27, 4)/31; μ_i|2 = (3, 16)/19
    assert c[0] == pytest.approx([0.62, 0.38])
    assert x0[0, :, 0] == pytest.approx([350 / 31, 350 / 19])
    p01 = 27 / 31 * (4 + (10 - 350 / 31) ** 2) + 4 / 31 * (9 + (20 - 350 / 31) ** 2)
    p02 = 3 / 19 * (4 + (10 - 350 / 19) ** 2) + 16 / 19 * (9 + (20 - 350 / 19) ** 2)
    assert P0[0, :, 0, 0] == pytest.approx([p01, p02])
    assert P0[0, :, 1:, 1:] == pytest.approx(np.broadcast_to(np.eye(5), (2, 5, 5)))
    assert x0[0, :, 1:] == pytest.approx(np.zeros((2, 5)))


def test_combination_by_hand() -> None:
    mu = np.array([[0.25, 0.75]])
    x, P = _one_axis([0.0, 4.0]), _one_axis_cov([1.0, 2.0])
    xc, Pc = combine(mu, x, P)
    # x = 0.75·4 = 3;  P = 0.25 (1 + 3²) + 0.75 (2 + 1²) = 4.75
    assert xc[0, 0] == pytest.approx(3.0)
    assert Pc[0, 0, 0] == pytest.approx(4.75)
    assert Pc[0, 1, 1] == pytest.approx(1.0)


def test_mode_probabilities_follow_the_likelihoods() -> None:
    mu = np.array([[0.5, 0.5], [0.9, 0.1]])
    x, P = np.zeros((2, 2, 6)), np.broadcast_to(np.eye(6), (2, 2, 6, 6)).copy()
    calls: list[int] = []

    def likelier_in_mode_2(xm: np.ndarray, Pm: np.ndarray) -> tuple[np.ndarray, ...]:
        calls.append(xm.shape[0])
        # the first call is mode 1 (Λ = 1), the second mode 2 (Λ = 3)
        return xm + 1.0, Pm * 0.5, np.full(xm.shape[0], math.log(1.0 + 2.0 * (len(calls) - 1)))

    mu_new, x_new, P_new = update_modes(mu, x, P, likelier_in_mode_2)
    assert calls == [2, 2]  # once per mode, every track at once
    # μ_j ∝ c_j Λ_j: (0.5, 1.5)/2 and (0.9, 0.3)/1.2
    assert mu_new == pytest.approx(np.array([[0.25, 0.75], [0.75, 0.25]]))
    assert x_new == pytest.approx(np.ones((2, 2, 6)))
    assert P_new == pytest.approx(0.5 * P)


def test_identical_modes_predict_like_one_model() -> None:
    rng = np.random.default_rng(5)
    n = 4
    x = rng.normal(0, 50, (n, 6))
    A = rng.normal(size=(n, 6, 6))
    P = A @ A.transpose(0, 2, 1) + np.eye(6)
    q = np.array([1.0, 1.0, 0.3])
    modes = ImmModes(q=np.stack((q, q)), sojourn_s=np.array([20.0, 5.0]),
                     initial_prob=np.array([0.5, 0.5]))
    mu = np.array([[0.3, 0.7]] * n)
    c, xm, Pm = predict(mu, np.repeat(x[:, None], 2, axis=1),
                        np.repeat(P[:, None], 2, axis=1), 1.5, modes)
    from skyfence.tracker.motion import predict as ncv_predict

    x1, P1 = ncv_predict(x, P, 1.5, q)
    xc, Pc = combine(c, xm, Pm)
    assert xc == pytest.approx(x1, rel=1e-12, abs=1e-9)
    assert Pc == pytest.approx(P1, rel=1e-12, abs=1e-9)


# ------------------------------------------------------------------ in the tracker
def test_imm_with_identical_modes_is_the_ncv_tracker() -> None:
    """Both modes the NCV model: the IMM tracker gives the NCV tracker's tracks."""
    q = 2.0
    ncv = TrackerParams(motion="ncv", accel_noise_psd_m2ps3=q, vertical_accel_noise_psd_m2ps3=0.5)
    same = TrackerParams(motion="imm", imm_accel_noise_psd_m2ps3=(q, q),
                         imm_vertical_accel_noise_psd_m2ps3=(0.5, 0.5), imm_sojourn_s=(20.0, 5.0),
                         imm_initial_mode_prob=(0.7, 0.3))
    spec = radar_spec(pd=0.9, clutter=10)
    rng = np.random.default_rng(17)
    truth = np.stack([cv_truth(np.array([x0, 3000.0, 100.0, 12.0, -6.0, 1.0]), 40, 1.0, 0.5,
                               rng) for x0 in (-1500.0, 0.0, 1500.0)], axis=1)
    a, b = Tracker([spec], ncv), Tracker([spec], same)
    for k in range(40):
        scan = radar_scan(truth[k], spec, rng, float(k), clutter=10)
        a.step(scan)
        b.step(scan)
    assert a.bank.id.tolist() == b.bank.id.tolist()
    assert b.bank.confirmed.sum() == 3
    assert b.bank.x == pytest.approx(a.bank.x, rel=1e-9, abs=1e-6)
    assert pytest.approx(a.bank.P, rel=1e-9, abs=1e-6) == b.bank.P
    assert b.bank.mode_x == pytest.approx(np.repeat(a.bank.x[:, None], 2, axis=1), abs=1e-6)
    out_a, out_b = a.confirmed_at(40.5), b.confirmed_at(40.5)
    assert out_b.x == pytest.approx(out_a.x, rel=1e-9, abs=1e-6)


def _turning_truth(speed: float, accel: float, t_turn: float, turn_deg: float, steps: int,
                   dt: float = 1.0) -> np.ndarray:
    """(steps, 6): level flight east at ``speed``, a coordinated turn left at ``accel``
    (m/s²) from ``t_turn`` through ``turn_deg``, then straight on again."""
    omega = accel / speed
    t_end = t_turn + math.radians(turn_deg) / omega
    t = np.arange(steps) * dt
    # heading angle from east, counter-clockwise: 0 before, ω(t − t_turn) during, Θ after
    theta = omega * np.clip(t - t_turn, 0.0, t_end - t_turn)
    # position: straight, arc, straight (integrated in closed form)
    s_before = np.minimum(t, t_turn) * speed
    radius = speed / omega
    s_after = np.maximum(t - t_end, 0.0) * speed
    x = s_before + radius * np.sin(theta) + s_after * math.cos(theta[-1])
    y = radius * (1.0 - np.cos(theta)) + s_after * math.sin(theta[-1])
    out = np.zeros((steps, 6))
    out[:, 0], out[:, 1], out[:, 2] = -2000.0 + x, 2500.0 + y, 150.0
    out[:, 3], out[:, 4] = speed * np.cos(theta), speed * np.sin(theta)
    return out


def _run(params: TrackerParams, truth: np.ndarray, seed: int
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per step: horizontal position error (m) of the confirmed track nearest the
    truth (NaN while none is within 200 m), that track's id (−1 then), and its
    probability of the mode with the largest q (NaN for NCV)."""
    rng = np.random.default_rng(seed)
    spec = radar_spec(pd=0.95, clutter=5)
    tracker = Tracker([spec], params)
    n = len(truth)
    err, ids, mu = np.full(n, np.nan), np.full(n, -1), np.full(n, np.nan)
    hardest = int(np.argmax(params.imm_accel_noise_psd_m2ps3))
    for k in range(n):
        tracker.step(radar_scan(truth[k:k + 1], spec, rng, float(k), clutter=5))
        b = tracker.bank
        rows = np.flatnonzero(b.confirmed)
        if rows.size == 0:
            continue
        i = rows[np.argmin(np.linalg.norm(b.x[rows, :3] - truth[k, :3], axis=1))]
        if np.linalg.norm(b.x[i, :3] - truth[k, :3]) < 200.0:
            err[k], ids[k] = np.linalg.norm(b.x[i, :2] - truth[k, :2]), b.id[i]
            if b.mode_prob.shape[1]:
                mu[k] = b.mode_prob[i, hardest]
    return err, ids, mu


ONE_G_TURN = _turning_truth(40.0, G_MPS2, 40.0, 90.0, 90)
"""Level flight east at 40 m/s, a 90° turn at 1 g from t = 40 s to 46.4 s, level again."""


def test_manoeuvring_mode_rises_in_a_turn_and_falls_after() -> None:
    mus = np.array([_run(TrackerParams(motion="imm"), ONE_G_TURN, seed)[2]
                    for seed in range(5)])
    mus = mus[:, 20:]  # from t = 20 s: every run has its confirmed track
    assert np.isnan(mus).sum() <= 2  # held through the turn (a step lost at most)
    mu = np.nanmean(mus, axis=0)
    assert mu[25 - 20:40 - 20].max() < 0.1  # level flight
    assert mu[41 - 20:48 - 20].max() > 0.8  # the turn
    assert mu[60 - 20:].max() < 0.1  # level again


def test_imm_beats_ncv_on_a_manoeuvring_target() -> None:
    """Horizontal RMSE over the whole flight (from 15 s: every run has a track)."""
    rmse, lost = {}, {}
    for motion in ("ncv", "imm"):
        errs = np.array([_run(TrackerParams(motion=motion), ONE_G_TURN, seed)[0][15:]
                         for seed in range(8)])
        rmse[motion] = math.sqrt(float(np.nanmean(errs**2)))
        lost[motion] = int(np.isnan(errs).sum())
    assert rmse["imm"] < 0.92 * rmse["ncv"], rmse  # measured: 12.0 m against 13.6 m
    assert lost["imm"] <= lost["ncv"], lost


def test_gating_every_mode_holds_the_track_through_the_turn() -> None:
    """Gating on the combined estimate, a turn's first reports fall outside the
    gate of a track sure of flying straight and start a new track that takes
    over; gating every mode (imm_gate_modes) keeps the track and its id."""
    def same_id(params: TrackerParams) -> int:
        ids = [_run(params, ONE_G_TURN, seed)[1] for seed in range(8)]
        return sum(int(i[39] == i[60] != -1) for i in ids)

    assert same_id(TrackerParams(motion="imm", imm_gate_modes=True)) == 8
    assert same_id(TrackerParams(motion="ncv")) <= 2


@pytest.mark.parametrize("mode", [0, 1])
def test_imm_nees_on_a_constant_velocity_target(mode: int) -> None:
    """Monte Carlo NEES (as in test_tracker_engine.py) of a target that flies
    the quiet (0) or the agile (1) mode's own model: the run average lies in the
    95 % chi-square(6R)/R interval overall and at most times."""
    runs, steps, burn_in = 30, 80, 15
    p = TrackerParams(motion="imm", delete_score_drop=math.log(1e9), ground_floor_m=None)
    q = (p.imm_accel_noise_psd_m2ps3[mode],) * 2 + (p.imm_vertical_accel_noise_psd_m2ps3[mode],)
    nees, lo, hi = monte_carlo_nees(p, q, 2000, runs, steps, burn_in)
    per_time = nees.mean(axis=0)
    inside = np.mean((per_time >= lo) & (per_time <= hi))
    assert lo <= nees.mean() <= hi, f"ANEES {nees.mean():.2f} outside [{lo:.2f}, {hi:.2f}]"
    assert inside >= 0.7, f"only {inside:.0%} of times inside [{lo:.2f}, {hi:.2f}]"


def test_cooperative_restart_resets_the_modes() -> None:
    from skyfence.tracker import SensorSpec

    adsb = SensorSpec(id="adsb", type="adsb", position_enu_m=(0.0, 0.0, 0.0),
                      sigma=(5.0, 5.0, 5.0, 0.3, 0.3, 0.3), pd=0.95, clutter_per_scan=0.0,
                      max_range_m=50000.0)
    params = TrackerParams(motion="imm")
    m = len(params.imm_sojourn_s)
    tracker = Tracker([adsb], params)
    z = np.array([[100.0, 200.0, 300.0, 50.0, 0.0, 0.0]])
    ident = np.array(["abc123"], dtype=object)
    for k in range(5):
        tracker.step(Detections(float(k), 0, z + np.array([[50.0 * k, 0, 0, 0, 0, 0]]),
                                cooperative_id=ident))
    b = tracker.bank
    assert b.mode_prob.shape == (1, m) and b.mode_x.shape == (1, m, 6)
    assert not np.allclose(b.mode_prob[0], params.imm_initial_mode_prob)
    tracker.step(Detections(5.0, 0, z + np.array([[9000.0, 0, 0, 0, 0, 0]]),
                            cooperative_id=ident))
    b = tracker.bank  # the jump restarted the track: every mode on the report
    assert len(b) == 1 and b.x[0, 0] == pytest.approx(9100.0, abs=1.0)
    assert b.mode_prob[0] == pytest.approx(params.imm_initial_mode_prob)
    assert b.mode_x[0] == pytest.approx(np.repeat(b.x[:1], m, axis=0))
    assert b.mode_P[0] == pytest.approx(np.repeat(b.P[:1], m, axis=0))


def test_imm_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="one value per mode"):
        TrackerParams(imm_sojourn_s=(10.0,))
    two = {"imm_accel_noise_psd_m2ps3": (0.1, 10.0),
           "imm_vertical_accel_noise_psd_m2ps3": (0.1, 2.0)}
    with pytest.raises(ValueError, match="sum to 1"):
        TrackerParams(**two, imm_sojourn_s=(10.0, 5.0), imm_initial_mode_prob=(0.5, 0.6))
    with pytest.raises(ValueError, match="> 0"):
        TrackerParams(**two, imm_sojourn_s=(10.0, 0.0), imm_initial_mode_prob=(0.5, 0.5))
    assert TrackerParams(**two, imm_sojourn_s=(10.0, 5.0), imm_initial_mode_prob=(0.5, 0.5))


def test_a_mode_less_bank_cannot_join_an_imm_bank() -> None:
    imm_bank = TrackBank.empty(np.array([0.5, 0.5]))
    imm_bank.extend(TrackBank.new(np.zeros((1, 6)), np.eye(6)[None], 0.0, np.array([1]),
                                  np.array([0.5, 0.5])))
    assert imm_bank.mode_x.shape == (1, 2, 6)
    with pytest.raises(ValueError, match="IMM modes"):
        imm_bank.extend(TrackBank.new(np.zeros((1, 6)), np.eye(6)[None], 0.0, np.array([2])))
