"""Class evidence (skyfence.tracker.evidence): each model and the ledger, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skyfence.tracker import evidence as ev

P = ev.EvidenceParams()


def test_no_evidence_is_the_prior() -> None:
    got = ev.posterior(ev.empty_ledger(2), P)
    assert np.allclose(got, np.array([P.prior, P.prior]))


def test_uninformative_report_changes_nothing() -> None:
    ledger = ev.empty_ledger(1)
    ev.add(ledger, np.array([0]), "rf", ev.constant_loglik(1, (0.4, 0.4, 0.4)), P)
    assert np.allclose(ev.posterior(ledger, P), np.array([P.prior]))


def test_rf_report_by_hand() -> None:
    # l = (1, 0.01, 0.05); unknown = mean = 0.35333; the row shifted so its max (drone) is 0
    ledger = ev.empty_ledger(1)
    ev.add(ledger, np.array([0]), "rf", ev.constant_loglik(1, P.rf_likelihood), P)
    lu = math.log((1 + 0.01 + 0.05) / 3)
    want = np.array([0.0, math.log(0.01), math.log(0.05), lu])
    assert np.allclose(ledger[0, ev.SOURCE_INDEX["rf"]], want)
    post = np.array(P.prior) * np.exp(want)
    assert np.allclose(ev.posterior(ledger, P)[0], post / post.sum())
    assert ev.explain(ledger[0])["rf"]["drone"] == pytest.approx(-lu, abs=1e-3)


def test_cap_bounds_one_source_and_contrary_evidence_turns_it() -> None:
    ledger = ev.empty_ledger(1)
    rows = np.array([0])
    for _ in range(50):  # fifty RF reports: the bird column stops at -cap
        ev.add(ledger, rows, "rf", ev.constant_loglik(1, P.rf_likelihood), P)
    cap = P.cap_nats[ev.SOURCE_INDEX["rf"]]
    assert ledger[0, ev.SOURCE_INDEX["rf"]].min() == pytest.approx(-cap)
    for _ in range(10):  # confident camera labels 'bird' outvote the capped RF
        ev.add(ledger, rows, "eoir", ev.eoir_loglik(np.array([1]), np.array([1.0]), P), P)
    assert int(np.argmax(ev.posterior(ledger, P)[0])) == 1


def test_repeated_rows_accumulate() -> None:
    a, b = ev.empty_ledger(1), ev.empty_ledger(1)
    ll = ev.constant_loglik(1, P.acoustic_likelihood)
    ev.add(a, np.array([0, 0]), "acoustic", np.repeat(ll, 2, axis=0), P)
    ev.add(b, np.array([0]), "acoustic", ll, P)
    ev.add(b, np.array([0]), "acoustic", ll, P)
    assert np.allclose(a, b)


def test_eoir_confidence_blends_towards_uniform() -> None:
    label = np.array([0, 0, -1])
    conf = np.array([1.0, 0.0, 0.9])
    lik = np.exp(ev.eoir_loglik(label, conf, P))
    assert np.allclose(lik[0], np.asarray(P.eoir_confusion)[:, 0])  # column 'drone'
    assert np.allclose(lik[1], 1 / 3)
    assert np.allclose(lik[2], 1 / 3)


def test_rcs_model_by_hand() -> None:
    ll = ev.rcs_loglik(np.array([-22.5]), P)[0]
    for k in range(3):
        mu = P.rcs_mean_dbsm[k] + ev.SWERLING1_BIAS_DB
        var = P.rcs_sd_db[k] ** 2 + ev.SWERLING1_SD_DB ** 2
        want = -0.5 * ((-22.5 - mu) ** 2 / var + math.log(2 * math.pi * var))
        assert ll[k] == pytest.approx(want)


def test_swerling_constants() -> None:
    rng = np.random.default_rng(3)
    db = 10 * np.log10(rng.exponential(size=400_000))
    assert db.mean() == pytest.approx(ev.SWERLING1_BIAS_DB, abs=0.03)
    assert db.std() == pytest.approx(ev.SWERLING1_SD_DB, abs=0.03)


def test_kinematics_separates_the_classes() -> None:
    x = np.array([[5000, 0, 60, -45, 0, 0],  # fast and low: a fixed-wing drone
                  [1000, 0, 40, 8, 5, 0],  # slow, low: a bird
                  [9000, 0, 1500, -75, 0, -3]], dtype=float)  # an airliner
    P6 = np.tile(np.diag([100.0, 100, 400, 4, 4, 1])[None], (3, 1, 1))
    ll = ev.kinematics_loglik(x, P6, np.array([0.1, 0.8, 0.1]), P)
    assert list(np.argmax(ll, axis=1)) == [0, 1, 2]


def test_uncertain_velocity_says_less() -> None:
    x = np.array([[0, 0, 50, 45, 0, 0]], dtype=float)
    sure = np.diag([1.0, 1, 1, 1, 1, 1])[None]
    unsure = np.diag([1.0, 1, 1, 900, 900, 1])[None]
    spread = [np.ptp(ev.kinematics_loglik(x, p, None, P)) for p in (sure, unsure)]
    assert spread[1] < spread[0]
