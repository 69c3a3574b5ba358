"""The ``swarms`` section of skyfence evaluate, on hand-made cases (evaluate/swarms.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skyfence.evaluate.identity import Matches
from skyfence.evaluate.records import Alert, read_alerts
from skyfence.evaluate.swarms import TrueSwarm, swarm_section, true_swarms
from skyfence.scenario import Scenario
from skyfence.sim.targets import expand_targets

PATH = [[1000, 0, 100], [0, 0, 100]]


def test_true_swarms_follow_the_simulator_ids() -> None:
    scenario = Scenario.model_validate({
        "name": "t", "duration_s": 10, "site": {"origin": {"lat": 51.0, "lon": -1.0}},
        "targets": [
            {"type": "drone", "waypoints_enu_m": PATH},
            {"type": "swarm", "count": 3, "waypoints_enu_m": PATH},
            {"type": "bird_flock", "count": 2, "center_enu_m": [0, 0, 50]},
            {"type": "swarm", "id": "raid", "count": 2, "waypoints_enu_m": PATH},
        ],
    })
    ids = expand_targets(scenario).attributes.ids
    assert true_swarms(scenario, ids) == [
        TrueSwarm("swarm-1", ["swarm-1-01", "swarm-1-02", "swarm-1-03"]),
        TrueSwarm("raid", ["raid-01", "raid-02"]),
    ]
    with pytest.raises(ValueError, match="truth ids"):
        true_swarms(scenario, ids[:-1])


# targets 0-3 are the swarm's members s-01..s-04, 4 is a bird; ticks every second
TARGETS = ["s-01", "s-02", "s-03", "s-04", "bird"]
TICKS = np.arange(61.0)
FIRST = np.array([10, 12, 15, 50, 0])  # first matched tick of each target
TRACKS = ["T0", "T1", "T2", "T3", "T4", "T5"]
SWARM = TrueSwarm("s", ["s-01", "s-02", "s-03", "s-04"])


def matches() -> Matches:
    """s-01: T0 from 10 s; s-02: T1 12-20 s then T2 from 30 s; s-03: T3 15-40 s;
    s-04: T4 from 50 s; the bird: T5 throughout."""
    spans = [(0, 0, 10, 60), (1, 1, 12, 20), (1, 2, 30, 60), (2, 3, 15, 40), (3, 4, 50, 60),
             (4, 5, 0, 60)]
    target = np.concatenate([np.full(b - a + 1, k) for k, _, a, b in spans])
    tick = np.concatenate([np.arange(a, b + 1) for _, _, a, b in spans])
    track = np.concatenate([np.full(b - a + 1, j) for _, j, a, b in spans])
    return Matches(target.astype(np.int64), tick.astype(np.int64), track.astype(np.int64))


def swarm_alert(alert_id: str, t_start: float, tracks: list[str],
                history: tuple[tuple[float, int], ...] = (), kind: str = "swarm_detected") -> Alert:
    return Alert(alert_id, t_start, frozenset(tracks), None, kind, None, history)


def section(alerts: list[Alert] | None, swarm: TrueSwarm = SWARM) -> dict[str, Any]:
    return swarm_section([swarm], TARGETS, TICKS, FIRST, matches(), TRACKS, alerts)


# the first alert: named 3 at its start (20 s), 2 at 30 s, 4 at 44 s, 5 at 50 s
A1 = swarm_alert("A1", 20.0, ["T0", "T1", "T3"], ((20.0, 3), (30.0, 2), (44.0, 4), (50.0, 5)))


def test_one_alert_in_time_with_the_right_sizes_passes() -> None:
    others = [
        swarm_alert("Z", 5.0, ["T0"], kind="zone_entry"),  # not a swarm alert
        swarm_alert("B", 1.0, ["T5"], ((1.0, 3),)),  # the bird's track only: not about it
    ]
    out = section([*others, A1])
    # third member first matched at 15 s (s-03), deadline 45 s: by then s-01, s-02,
    # s-03 first matched (3); at tick 45 s-01 (T0) and s-02 (T2) are matched (2);
    # A1 named 4 (its size since 44 s), 5 at most; |4 - 3| <= 2 and |5 - 4| <= 2
    assert out["per_swarm"] == [{
        "swarm": "s", "count": 4, "members_tracked": 4,
        "third_track_t_s": 15.0, "deadline_t_s": 45.0,
        "confirmed_by_deadline": 3, "tracked_at_deadline": 2,
        "alerts": 1, "alert_ids": ["A1"], "alert_id": "A1", "alert_t_start_s": 20.0,
        "alert_delay_s": 5.0, "size_at_deadline": 4, "size_peak": 5, "passed": True,
    }]
    assert {k: out[k] for k in ("alerts_given", "window_s", "size_tolerance", "count",
                                "judged", "passed")} == {
        "alerts_given": True, "window_s": 30.0, "size_tolerance": 2, "count": 1,
        "judged": 1, "passed": 1}


def test_a_second_alert_about_the_swarm_fails_it() -> None:
    # a later alert naming T4 (s-04's track) is a second swarm alert about the same swarm
    (row,) = section([A1, swarm_alert("A2", 55.0, ["T4", "T9"], ((55.0, 3),))])["per_swarm"]
    assert (row["alerts"], row["alert_ids"], row["alert_id"], row["passed"]) == (
        2, ["A1", "A2"], "A1", False)


@pytest.mark.parametrize(("alert", "named", "peak", "passed"), [
    # started after the deadline: named nothing by then
    (swarm_alert("L", 46.0, ["T0"], ((46.0, 4),)), None, 4, False),
    # named 6 at the deadline: 3 confirmed, off by 3
    (swarm_alert("H", 30.0, ["T2"], ((30.0, 6),)), 6, 6, False),
    # named 1: off by 2, passes; its peak 3 is within 2 of the 4 members
    (swarm_alert("S", 45.0, ["T2"], ((45.0, 1), (50.0, 3))), 1, 3, True),
    # never more than 1: the peak is 3 short of the 4 members
    (swarm_alert("P", 45.0, ["T2"], ((45.0, 1),)), 1, 1, False),
    # no size_history in its record (another producer): nothing named
    (swarm_alert("N", 20.0, ["T0"]), None, None, False),
])
def test_size_and_time_limits(alert: Alert, named: int | None, peak: int | None,
                              passed: bool) -> None:
    (row,) = section([alert])["per_swarm"]
    assert (row["size_at_deadline"], row["size_peak"], row["passed"]) == (named, peak, passed)


def test_no_alerts_file_and_unjudged_swarms() -> None:
    out = section(None)
    (row,) = out["per_swarm"]
    assert (out["alerts_given"], out["judged"], out["passed"]) == (False, None, None)
    assert (row["alerts"], row["alert_id"], row["passed"], row["deadline_t_s"]) == (
        None, None, None, 45.0)
    out = section([])  # alerts given, none about it: fails
    assert (out["judged"], out["passed"], out["per_swarm"][0]["passed"]) == (1, 0, False)
    assert out["per_swarm"][0]["alerts"] == 0
    # two members in the truth (and a third the truth file never had): not judged
    pair = TrueSwarm("pair", ["s-01", "s-02", "s-99"])
    out = section([A1], pair)
    (row,) = out["per_swarm"]
    assert (row["count"], row["members_tracked"], row["third_track_t_s"]) == (3, 2, None)
    assert (row["alert_id"], row["size_peak"], row["passed"], out["judged"]) == ("A1", 5, None, 0)


def test_size_history_is_read_from_alerts_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    path.write_text(
        '{"alert_id": "A-1", "kind": "swarm_detected", "t_start": 3.0, "t_end": 9.0,'
        ' "track_ids": [1, 2, 3], "size": 4, "size_history": [[3.0, 3], [5, 4]]}\n'
        '{"alert_id": "A-2", "kind": "zone_entry", "t_start": 3.0, "track_ids": [1]}\n')
    a, b = read_alerts(path)
    assert a.size_history == ((3.0, 3), (5.0, 4)) and b.size_history == ()
