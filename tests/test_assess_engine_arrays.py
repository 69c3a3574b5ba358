"""The assessment engine's array code (bench/assess_cost.py) against the plain-Python
rules it replaced: the radar-hit count of the trust test and the drone decision's dwell;
the dwell restored and the parameters changed between ticks (a restart, a new config)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from skyfence.assess.engine import Assessor, AssessParams, popcount
from skyfence.scenario.model import Circle, Zone
from skyfence.tracker import TrackBank
from skyfence.tracker import evidence as ev
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


def _drone_heading_north(a: Assessor) -> TrackBank:
    """Track 5: at the origin, 45 m/s north, P(drone) above 0.8 (three RF reports);
    it would enter a zone centred 5 km north (radius 500 m) in 100 s."""
    x = np.array([[0.0, 0.0, 100.0, 0.0, 45.0, 0.0]])
    bank = TrackBank.new(x, np.eye(6)[None] * 25.0, 0.0, np.array([5]))
    bank.confirmed[:] = True
    rf = ev.constant_loglik(1, a.evidence_params.rf_likelihood)
    for _ in range(3):
        ev.add(bank.class_loglik, np.array([0]), "rf", rf, a.evidence_params)
    assert bank.class_probabilities(a.evidence_params)[0, 0] > 0.8
    return bank


NORTH = Zone(name="north", level="critical", circle=Circle(center_enu_m=[0.0, 5000.0],
                                                           radius_m=500.0))


def test_restore_drone_dwell_carries_the_decision_on() -> None:
    """A track restored as at P(drone) ≥ 0.8 since long enough ago is a drone at the
    first tick (its new-drone alert starts after start_ticks); unrestored, it would
    wait drone_dwell_s."""
    kinds: dict[bool, list[list[str]]] = {}
    for restored in (False, True):
        a = Assessor([], [])
        bank = _drone_heading_north(a)
        if restored:  # 6 (not a drone any more) is forgotten at the first tick
            a.restore_drone_dwell([6, 5], [-30.0, -a.params.drone_dwell_s])
        started = [a.assess(t, bank, np.zeros(0, dtype=np.int64)).started for t in (0.0, 1.0)]
        kinds[restored] = [[x.kind for x in s] for s in started]
    assert kinds == {False: [[], []], True: [[], ["new_noncooperative_drone"]]}
    with pytest.raises(ValueError):
        Assessor([], []).restore_drone_dwell([1, 2], [0.0])


def test_reconfigure_uses_the_new_horizon_from_the_next_assess() -> None:
    a = Assessor([], [NORTH])
    bank = _drone_heading_north(a)
    a.restore_drone_dwell([5], [-100.0])
    no = np.zeros(0, dtype=np.int64)
    short = replace(a.params, alerts=replace(a.params.alerts, horizon_s=60.0))
    a.reconfigure(short)
    assert a.params is short and a.alerts.params is short.alerts
    out = [a.assess(t, bank, no) for t in (0.0, 1.0)]
    assert out[1].zones.horizon_s == 75.0  # 1.25 × 60 s
    assert all(x.kind != "predicted_zone_entry" for o in out for x in o.started)  # 100 s > 60 s
    long = replace(a.params, alerts=replace(a.params.alerts, horizon_s=120.0, start_ticks=1))
    a.reconfigure(long)
    nxt = a.assess(2.0, bank, no)
    assert nxt.zones.horizon_s == 150.0
    assert [x.kind for x in nxt.started] == ["predicted_zone_entry"]  # at once: start_ticks 1
