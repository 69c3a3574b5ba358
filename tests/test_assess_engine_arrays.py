"""The assessment engine's array code (bench/assess_cost.py) against the plain-Python
rules it replaced: the radar-hit count of the trust test and the drone decision's dwell."""

from __future__ import annotations

import numpy as np

from skyfence.assess.engine import Assessor, AssessParams, popcount
from skyfence.tracker.evidence import HYPOTHESES


def test_popcount_matches_python() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.integers(0, 2**62, 500), [0, 1, 2**62 - 1, 4095, 2**40]])
    assert popcount(values).tolist() == [int(v).bit_count() for v in values.tolist()]
    assert popcount(np.zeros(0, dtype=np.int64)).shape == (0,)


def test_drone_decision_matches_the_dict_rule() -> None:
    """Tracks come, go and cross the threshold at random over 200 ticks; the decision
    equals the per-track-id rule: P(drone) ≥ 0.8 at every tick for the last 10 s."""
    params = AssessParams()
    assessor = Assessor([], [], params=params)
    rng = np.random.default_rng(7)
    since: dict[int, float] = {}
    drone = HYPOTHESES.index("drone")
    for k in range(200):
        t = 0.5 * k
        ids = rng.choice(60, size=int(rng.integers(0, 40)), replace=False).astype(np.int64)
        prob = np.zeros((len(ids), len(HYPOTHESES)))
        prob[:, drone] = rng.choice([0.5, 0.85, 0.95], size=len(ids), p=[0.1, 0.45, 0.45])
        got = assessor._drone_decision(t, ids, prob)
        now = prob[:, drone] >= params.drone_alert_probability
        since = {i: since.get(i, t) for i, ok in zip(ids.tolist(), now.tolist(), strict=True) if ok}
        want = [ok and t - since[i] >= params.drone_dwell_s
                for i, ok in zip(ids.tolist(), now.tolist(), strict=True)]
        assert got.dtype == np.bool_ and got.tolist() == want
