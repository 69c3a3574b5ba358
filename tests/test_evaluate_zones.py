"""Point in circle / polygon, zone entries and alert lead time."""

from __future__ import annotations

import numpy as np
import pytest

from skyfence.evaluate.records import Alert
from skyfence.evaluate.zones import (
    first_alert,
    lead_time_s,
    points_in_circle,
    points_in_polygon,
    points_in_zone,
    zone_entries,
)
from skyfence.scenario.model import Zone

L_SHAPE = [[0, 0], [20, 0], [20, 10], [10, 10], [10, 20], [0, 20]]


def test_circle_boundary_inside_and_height_ignored() -> None:
    xy = np.array([[3.0, 4.0, 900.0], [3.0, 4.01, 0.0], [10.0, 10.0, 0.0]])
    assert points_in_circle(xy, [0.0, 0.0], 5.0).tolist() == [True, False, False]
    assert points_in_circle(xy, [10.0, 10.0, 50.0], 1.0).tolist() == [False, False, True]


def test_concave_polygon_even_odd() -> None:
    xy = np.array([[5, 5], [15, 5], [5, 15], [15, 15], [-1, 5], [25, 5], [5, -1], [5, 25]],
                  dtype=float)
    inside = points_in_polygon(xy, L_SHAPE)
    assert inside.tolist() == [True, True, True, False, False, False, False, False]


def test_polygon_orientation_and_random_points_against_a_square() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(-2, 2, (2000, 2))
    square = [[-1, -1], [1, -1], [1, 1], [-1, 1]]
    expected = (np.abs(xy) < 1).all(axis=1)
    assert (points_in_polygon(xy, square) == expected).all()
    assert (points_in_polygon(xy, square[::-1]) == expected).all()


def test_self_crossing_polygon_uses_even_odd() -> None:
    # a pentagram's centre is crossed twice: outside by even-odd
    a = np.radians(90 + 144 * np.arange(5))
    star = np.column_stack((np.cos(a), np.sin(a)))
    inside = points_in_polygon(np.array([[0.0, 0.0], [0.0, 0.7]]), star)
    assert inside.tolist() == [False, True]


def test_points_in_zone_dispatches_on_shape() -> None:
    circle = Zone.model_validate({"name": "c", "level": "warning",
                                  "circle": {"center_enu_m": [0, 0], "radius_m": 5}})
    poly = Zone.model_validate({"name": "p", "level": "critical", "polygon": L_SHAPE})
    xy = np.array([[1.0, 1.0], [15.0, 15.0]])
    assert points_in_zone(xy, circle).tolist() == [True, False]
    assert points_in_zone(xy, poly).tolist() == [True, False]


def test_zone_entries_first_tick_inside_per_target() -> None:
    zone = Zone.model_validate({"name": "z", "level": "critical",
                                "circle": {"center_enu_m": [0, 0], "radius_m": 100}})
    # target 0 enters at tick 3, leaves, re-enters; target 1 starts inside at tick 1;
    # target 2 never enters. Rows shuffled.
    x: dict[int, list[float | None]] = {0: [500, 300, 150, 50, 200, 0],
                                        1: [None, 10, 20, 30, 40, 50],
         2: [900, 900, 900, 900, 900, 900]}
    rows = [(k, t, v) for k, xs in x.items() for t, v in enumerate(xs) if v is not None]
    rows = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))]
    target = np.array([r[0] for r in rows])
    tick = np.array([r[1] for r in rows])
    enu = np.array([[r[2], 0.0, 100.0] for r in rows], dtype=float)
    entries = zone_entries([zone], enu, target, tick)
    assert [(e.target, e.tick, e.zone, e.level) for e in entries] == [
        (1, 1, "z", "critical"), (0, 3, "z", "critical")]


def test_lead_time_from_the_first_alert_naming_a_matched_track() -> None:
    alerts = [
        Alert("late", 30.0, frozenset({"T1"}), "z"),
        Alert("other", 5.0, frozenset({"T9"}), "z"),
        Alert("early", 12.0, frozenset({"T2", "T1"}), None),
    ]
    alert = first_alert(alerts, {"T1"})
    assert alert is not None and alert.alert_id == "early"
    assert lead_time_s(20.0, alert) == 8.0
    assert first_alert(alerts, {"T7"}) is None
    assert lead_time_s(20.0, None) == 0.0
    # an alert that started after the entry gave no warning
    assert lead_time_s(20.0, alerts[0]) == 0.0


@pytest.mark.parametrize("n", [0, 1])
def test_empty_inputs(n: int) -> None:
    xy = np.zeros((n, 2))
    assert points_in_polygon(xy, L_SHAPE).shape == (n,)
    assert points_in_circle(xy, [0, 0], 1.0).shape == (n,)
