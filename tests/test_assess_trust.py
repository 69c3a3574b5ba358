"""Cooperative trust (assess/trust.py) and the assessor's drone decision, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from skyfence.assess.engine import Assessor
from skyfence.assess.trust import TrustParams, assess_trust
from skyfence.tracker import SensorSpec, TrackBank
from skyfence.tracker import evidence as ev


def _trust(hits: list[int], opps: list[int], pd: list[float], jump: list[float],
           t_s: float = 100.0, coop: list[bool] | None = None):  # type: ignore[no-untyped-def]
    n = len(hits)
    return assess_trust(t_s, np.array(coop if coop is not None else [True] * n),
                        np.array(hits, dtype=np.int64), np.array(opps, dtype=np.int64),
                        np.array(pd), np.array(jump))


def test_nothing_there_by_hand() -> None:
    # P_D 0.9 → p = 0.675: 0 of 7 has chance 0.325^7 = 3.9e-4 ≤ 1e-3; 0 of 6 = 1.2e-3 is not
    t = _trust([0, 0, 5, 0], [7, 6, 7, 7], [0.9, 0.9, 0.9, 0.0], [np.nan] * 4)
    assert t.p_value[0] == pytest.approx(0.325 ** 7)
    assert t.p_value[1] == pytest.approx(0.325 ** 6)
    assert t.nothing_there.tolist() == [True, False, False, False]  # last: not judged
    assert "radar sees nothing" in t.reason(0) and t.reason(2) == ""


def test_too_few_opportunities_and_non_cooperative_are_not_judged() -> None:
    t = _trust([0, 0], [4, 12], [0.9, 0.9], [np.nan, np.nan], coop=[True, False])
    assert not t.suspect.any() and (t.p_value == 1.0).all()


def test_a_jump_is_remembered_for_a_while() -> None:
    p = TrustParams()
    t = _trust([5, 5, 5], [7, 7, 7], [0.9] * 3, [50.0, 100.0 - p.jump_memory_s - 1, np.nan])
    assert t.jumped.tolist() == [True, False, False]
    assert "jumped" in t.reason(0)


def _bank(n: int) -> TrackBank:
    x = np.zeros((n, 6))
    x[:, 0] = np.arange(n) * 1000.0 + 5000.0
    bank = TrackBank.new(x, np.tile(np.eye(6)[None], (n, 1, 1)), 0.0, np.arange(1, n + 1))
    bank.confirmed[:] = True
    return bank


def test_drone_decision_needs_probability_held() -> None:
    radar = SensorSpec(id="r", type="radar", position_enu_m=(0.0, 0.0, 0.0),
                       sigma=(10.0, 0.01, 0.02, 0.5), pd=0.9, clutter_per_scan=5.0,
                       max_range_m=20000.0)
    a = Assessor([radar], [])
    bank = _bank(2)
    rf = ev.constant_loglik(1, a.evidence_params.rf_likelihood)
    for _ in range(3):  # track 1: three RF reports → P(drone) above 0.8
        ev.add(bank.class_loglik, np.array([0]), "rf", rf, a.evidence_params)
    assert bank.class_probabilities(a.evidence_params)[0, 0] > 0.8
    dwell = a.params.drone_dwell_s
    held = [a._drone_decision(t, bank.id, bank.class_probabilities(a.evidence_params))
            for t in (0.0, dwell - 1, dwell)]
    assert [h.tolist() for h in held] == [[False, False], [False, False], [True, False]]
    out = a.assess(dwell + 1, bank, np.zeros(1, dtype=np.int64))
    assert out.class_index.tolist() == [0, 3]  # drone, unknown
    assert out.threat[0] > out.threat[1]
