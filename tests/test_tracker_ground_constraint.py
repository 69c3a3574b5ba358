"""The ground constraint is applied after an update, never again to an untouched state.

The filter keeps a Gaussian: the constraint ``u ≥ floor`` (constraint.py) is
"truncate, then match moments", and the matched Gaussian has mass below the
floor again. Truncating it once more without a new report counts the floor a
second time: the mean goes up and the variance down at every repetition (a
ratchet), which lifted far, poorly observed tracks (9–20 m at 8–10 km on
night-swarm) while the scans of sensors that do not see them went by. The one
exception, a track whose predicted *mean* has fallen below the floor, is
lifted once (docs/tracker.md, "Ground constraint: when it is applied").
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from skyfence.tracker import Detections, SensorSpec, Tracker, TrackerParams
from tracker_synth import radar_scan, radar_spec

RANGE_M, HEIGHT_M = 9000.0, 40.0  # far and low: 1° of elevation noise is 157 m of height


def _sensors() -> list[SensorSpec]:
    """A radar with 1° elevation noise, and an RF bearing sensor (3 km) that never sees
    the target: its scans are empty."""
    rf = SensorSpec(id="rf1", type="rf", position_enu_m=(0.0, 0.0, 5.0),
                    sigma=(math.radians(2.0), math.radians(5.0)), pd=0.9,
                    clutter_per_scan=0.0, max_range_m=3000.0)
    return [radar_spec(max_range_m=12000.0, pd=1.0), rf]


def _empty_rf(t_s: float) -> Detections:
    return Detections(t_s, 1, np.zeros((0, 2)))


def _plot(el_deg: float) -> Detections:
    """One radar plot due north at RANGE_M, elevation ``el_deg``, closing at 15 m/s."""
    return Detections(0.0, 0, np.array([[RANGE_M, 0.0, math.radians(el_deg), -15.0]]))


@pytest.mark.parametrize("motion", ["imm", "ncv"])
def test_unrelated_scans_at_the_same_instant_leave_the_height_alone(motion: str) -> None:
    """A track started by a plot whose height is below the ground is truncated once;
    twenty empty scans of the RF sensor at the same instant change nothing (the old
    rule, truncating again at each, raised the mean from 110 to 148 m and shrank σ
    from 87 to 48 m)."""
    tracker = Tracker(_sensors(), TrackerParams(motion=motion))
    tracker.step(_plot(-0.3))  # u ≈ −47 m ± 157 m: the constraint binds
    assert len(tracker.bank) == 1
    x1, P1 = tracker.bank.x.copy(), tracker.bank.P.copy()
    assert 0.0 < x1[0, 2] < 150.0  # truncated once: the mean of N(−47, 157²) above 0
    tracker.step(_empty_rf(0.0))
    after_one = tracker.bank.x[0, 2]
    for _ in range(19):
        tracker.step(_empty_rf(0.0))
    assert tracker.bank.x[0, 2] == pytest.approx(after_one, abs=1e-9)
    np.testing.assert_allclose(tracker.bank.x, x1, rtol=0.0, atol=1e-9)
    np.testing.assert_allclose(tracker.bank.P, P1, rtol=1e-12, atol=1e-9)


def _run(offsets: tuple[float, ...], seed: int, params: TrackerParams,
         scans: int = 12) -> np.ndarray:
    """(scans, 6) states right after each radar scan of a low target at 9 km (1 Hz,
    P_D 1), with an empty RF scan at each of ``offsets`` seconds after every radar
    scan (0: the same instant)."""
    rng = np.random.default_rng(seed)
    radar = _sensors()[0]
    tracker = Tracker(_sensors(), params)
    truth = np.array([0.0, RANGE_M, HEIGHT_M, 10.0, -15.0, 0.0])
    out = np.full((scans, 6), np.nan)
    for k in range(scans):
        state = truth.copy()
        state[:3] += truth[3:] * k
        tracker.step(radar_scan(state[None], radar, rng, float(k)))
        if len(tracker.bank) == 1:
            out[k] = tracker.bank.x[0]
        for dt in offsets:
            tracker.step(_empty_rf(k + dt))
    return out


def test_unrelated_scans_between_updates_change_nothing() -> None:
    """Nearly-constant velocity (whose prediction composes exactly): a track with four
    empty RF scans between its radar scans is the track without them (under the old
    rule the two differed by −12 to +27 m in height)."""
    params = TrackerParams(motion="ncv")
    for seed in range(3):
        with_rf, alone = _run((0.2, 0.4, 0.6, 0.8), seed, params), _run((), seed, params)
        assert np.isfinite(alone).all()
        np.testing.assert_allclose(with_rf, alone, rtol=0.0, atol=1e-6)


def test_monte_carlo_height_error_does_not_drift_up() -> None:
    """Seeded Monte Carlo, default tracker (IMM): a target 40 m up at 9 km, twelve
    radar scans, each followed at the same instant by four empty RF scans (as
    passive sensors reporting with the radar). The height error of the last
    estimate, paired with the same plots without the RF scans: the mean difference
    is 0 within three standard errors, and the paired difference is 0 at every
    scan. The old rule, which truncated every track after every scan, put the
    height 16 ± 1 m higher after the second scan; through the height–climb-rate
    correlation the track then swung the other way, −7 ± 2 m by the twelfth.

    Not asserted: that the error itself averages 0. It does not, with or without
    the RF scans (+50 ± 5 m here): the mean of the truncated posterior of a target
    whose true height is a fraction of its σ (157 m) lies above the truth. That is
    the constraint's own conditional bias, not a repetition of it."""
    params = TrackerParams()
    runs = 40
    with_rf = np.array([_run((0.0,) * 4, seed, params)[:, 2] for seed in range(runs)])
    alone = np.array([_run((), seed, params)[:, 2] for seed in range(runs)])
    assert np.isfinite(alone).all()
    diff = with_rf[:, -1] - alone[:, -1]
    se = diff.std(ddof=1) / math.sqrt(runs)
    assert abs(diff.mean()) <= 3.0 * se + 1e-6, f"drift {diff.mean():+.2f} ± {se:.2f} m"
    drift = (with_rf - alone).mean(axis=0)  # at every scan, not only the last
    assert np.all(np.abs(drift) < 1e-6), drift


def test_the_clairvoyant_reference_follows_the_same_rule() -> None:
    """The reference (clairvoyant.py) truncates what a report updated or started, and
    nothing at the scans that did not touch it."""
    from skyfence.tracker.clairvoyant import ClairvoyantTracker

    ref = ClairvoyantTracker(_sensors())
    ref.step(_plot(-0.3), ["drone"])
    x1, P1 = ref.bank.x.copy(), ref.bank.P.copy()
    assert 0.0 < x1[0, 2] < 150.0
    for _ in range(20):
        ref.step(_empty_rf(0.0), [])
    np.testing.assert_allclose(ref.bank.x, x1, rtol=0.0, atol=1e-9)
    np.testing.assert_allclose(ref.bank.P, P1, rtol=1e-12, atol=1e-9)


def test_a_track_predicted_under_the_ground_is_lifted_once() -> None:
    """A descending track that coasts: when its predicted mean falls below the floor
    (the motion put it there, not the moment matching), the next scan truncates it,
    once: a second scan at the same instant leaves it alone."""
    tracker = Tracker(_sensors(), TrackerParams(motion="ncv"))
    tracker.step(_plot(0.3))  # u ≈ 47 m ± 157 m
    tracker.bank.x[0, 2], tracker.bank.x[0, 5] = 20.0, -30.0  # diving at 30 m/s
    tracker.step(_empty_rf(0.5))  # predicted to u = 5 m: above the floor, untouched
    assert tracker.bank.x[0, 2] == pytest.approx(5.0)
    tracker.step(_empty_rf(1.0))  # predicted to u = −10 m: lifted
    lifted, sigma = tracker.bank.x[0, 2], math.sqrt(tracker.bank.P[0, 2, 2])
    assert lifted > 0.0
    tracker.step(_empty_rf(1.0))
    assert tracker.bank.x[0, 2] == lifted
    assert math.sqrt(tracker.bank.P[0, 2, 2]) == sigma
