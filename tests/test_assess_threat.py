"""Threat score: ranking, the parts it is made of, its bounds."""

from __future__ import annotations

import numpy as np
import pytest

from skyfence.assess.threat import TERMS, ThreatParams, threat_scores
from skyfence.assess.zones import assess_zones
from skyfence.scenario.model import Zone

CRITICAL = Zone.model_validate({"name": "base", "level": "critical",
                                "circle": {"center_enu_m": [0, 0], "radius_m": 300}})
WARNING = Zone.model_validate({"name": "ring", "level": "warning",
                               "circle": {"center_enu_m": [0, 0], "radius_m": 1500}})
DRONE = [0.9, 0.05, 0.0, 0.05]
BIRD = [0.05, 0.9, 0.0, 0.05]
AIRCRAFT = [0.0, 0.0, 0.99, 0.01]
UNKNOWN = [0.0, 0.0, 0.0, 1.0]


def score(rows: list[tuple[list[float], list[float], bool, bool, bool]],
          params: ThreatParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """rows of (state, class probabilities, cooperative, suspect, in swarm)."""
    x = np.array([r[0] for r in rows], dtype=float)
    P = np.broadcast_to(np.diag([400.0, 400, 400, 4, 4, 1]), (len(rows), 6, 6)).copy()
    zones = assess_zones(x, P, [CRITICAL, WARNING])
    t = threat_scores(x, np.array([r[1] for r in rows]), np.array([r[2] for r in rows]),
                      np.array([r[3] for r in rows]), zones, np.array([r[4] for r in rows]),
                      params)
    assert t.terms == TERMS and t.contributions.shape == (len(rows), len(TERMS))
    assert t.contributions.sum(axis=1) == pytest.approx(t.score)
    assert ((t.score >= 0) & (t.score <= 1)).all()
    return t.score, t.order


def test_ranking_drone_inbound_away_bird_airliner() -> None:
    inbound = [-2500, 0, 120, 15, 0, 0]  # 2 km out at 15 m/s: in the warning ring in 67 s
    outbound = [-2500, 0, 120, -15, 0, 0]
    bird = [-1800, 400, 80, 3, -8, 0]
    airliner = [-2000, 100, 300, 70, 0, -3]  # cooperative, on the runway line at 70 m/s
    s, order = score([(inbound, DRONE, False, False, False), (outbound, DRONE, False, False, False),
                      (bird, BIRD, False, False, False), (airliner, AIRCRAFT, True, False, False)])
    assert order.tolist() == [0, 1, 2, 3]
    assert s[0] > s[1] > s[2] > s[3]


def test_swarm_membership_suspect_and_compliant_identity() -> None:
    st = [-2500, 0, 120, 15, 0, 0]
    s, _ = score([(st, DRONE, False, False, False), (st, DRONE, False, False, True),
                  (st, DRONE, True, False, False), (st, DRONE, True, True, False)])
    assert s[1] > s[0]  # swarm raises
    assert s[2] < s[0]  # compliant Remote ID lowers
    assert s[3] > s[0]  # suspect raises, also when cooperative


def test_sooner_entry_and_inside_rank_higher() -> None:
    s, _ = score([(list(map(float, [-2500, 0, 120, 15, 0, 0])), UNKNOWN, False, False, False),
                  ([-600, 0, 120, 15, 0, 0], UNKNOWN, False, False, False),
                  ([0, 0, 120, 15, 0, 0], UNKNOWN, False, False, False)])
    assert s[2] > s[1] > s[0]


def test_hand_values_of_the_terms() -> None:
    # unknown, no identity, 15 m/s straight at the critical zone from 300 m: enters in 20 s
    x = np.array([[-600.0, 0, 100, 15, 0, 0]])
    zones = assess_zones(x, np.zeros((1, 6, 6)), [CRITICAL, WARNING])
    t = threat_scores(x, np.array([UNKNOWN]), np.array([False]), np.array([False]), zones,
                      np.array([True]))
    g = (0.25 * 0.5 + 0.15 * 0.5) / 0.4
    expected = [0.25 * 0.5, 0.15 * 0.5, 0.05 * g * 0.5, 0.15 * g * 0.75,
                0.15 * g * max(1.0 * 30 / 50, 0.5 * 1.0), 0.15 * g * 0.5, 0.10 * g]
    assert t.identity_factor[0] == pytest.approx(g)
    assert t.contributions[0] == pytest.approx(expected)
    assert t.score[0] == pytest.approx(sum(expected))


def test_top_score_is_bounded_and_no_zones_is_fine() -> None:
    x = np.array([[0.0, 0, 100, 80, 0, 0]])
    zones = assess_zones(x, np.zeros((1, 6, 6)), [CRITICAL])
    t = threat_scores(x, np.array([[1.0, 0, 0, 0]]), np.array([True]), np.array([True]), zones,
                      np.array([True]))
    assert 0.8 < t.score[0] <= 1.0
    none = assess_zones(x, np.zeros((1, 6, 6)), [])
    t = threat_scores(x, np.array([[1.0, 0, 0, 0]]), np.array([False]), np.array([False]), none,
                      np.array([False]))
    assert t.contributions[0, 3:6].tolist() == [0.0, 0.0, 0.0]


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        ThreatParams(weight_swarm=0.5)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        ThreatParams(class_value=(2.0, 0.1, 0.1, 0.5))


def test_inside_the_critical_zone_counts_as_full_closing() -> None:
    x = np.array([[0.0, 0, 100, 0, 0, 0], [-600.0, 0, 100, 0, 0, 0]])
    zones = assess_zones(x, np.zeros((2, 6, 6)), [WARNING, CRITICAL])
    t = threat_scores(x, np.array([UNKNOWN, UNKNOWN]), np.zeros(2, dtype=bool),
                      np.zeros(2, dtype=bool), zones, np.zeros(2, dtype=bool))
    g = t.identity_factor[0]
    assert t.contributions[:, TERMS.index("closing")] == pytest.approx([0.15 * g, 0.0])
    assert t.contributions[:, TERMS.index("inside")] == pytest.approx([0.15 * g, 0.15 * g * 0.5])
