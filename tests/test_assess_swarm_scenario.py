"""Issue-4 swarm target on night-swarm at CI size: ONE swarm alert, in time, naming the size.

night-swarm's first ~6.7 km are beyond radar range, so the route here starts
at (11000, 5500) m, on the bundled route 12.3 km from the radar (the drones are
first detected after ~60 s instead of ~220 s), and the run lasts 150 s
instead of 600 s; the thirteen drones, their spacing, noise and speeds are
the bundled ones. The target, as scored by ``skyfence evaluate``'s ``swarms``
section (evaluate/swarms.py): one swarm alert about the swarm, raised by 30 s
after its third drone's first confirmed track, naming then a size within ±2
of the drones confirmed by that time, and at its peak within ±2 of the 13.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skyfence.assess.alerts import KIND_SWARM
from skyfence.evaluate import evaluate
from skyfence.scenario import load_scenario
from skyfence.sim.writer import write_simulation
from skyfence.track_io import run_track

SHORT = ["targets.0.waypoints_enu_m.0=[11000, 5500, 80]", "duration_s=150"]


@pytest.fixture(scope="module")
def night_swarm(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[Any]]:
    folder = tmp_path_factory.mktemp("night-swarm")
    scenario = load_scenario("night-swarm", SHORT)
    write_simulation(scenario, folder)
    run_track(scenario, folder / "measurements.jsonl", folder / "tracks.jsonl",
              folder / "alerts.jsonl")
    report = evaluate(scenario, folder / "truth.jsonl", folder / "tracks.jsonl",
                      folder / "alerts.jsonl")
    alerts = [json.loads(line) for line in Path(folder / "alerts.jsonl").read_text().splitlines()]
    return report, alerts


def test_one_swarm_alert_naming_the_size_within_30_s(
        night_swarm: tuple[dict[str, Any], list[Any]]) -> None:
    report, alerts = night_swarm
    swarm_alerts = [a for a in alerts if a["kind"] == KIND_SWARM]
    assert len(swarm_alerts) == 1, [(a["swarm_id"], a["t_start"]) for a in swarm_alerts]
    section = report["swarms"]
    assert (section["count"], section["judged"], section["passed"]) == (1, 1, 1)
    (row,) = section["per_swarm"]
    assert row["swarm"] == "swarm-ene" and row["count"] == 13
    assert row["alerts"] == 1 and row["alert_id"] == swarm_alerts[0]["alert_id"]
    assert row["alert_t_start_s"] <= row["deadline_t_s"] == row["third_track_t_s"] + 30.0
    # by the deadline only some of the stream has come into radar range
    assert row["confirmed_by_deadline"] < 13
    assert abs(row["size_at_deadline"] - row["confirmed_by_deadline"]) <= 2
    assert abs(row["size_peak"] - 13) <= 2
    # the record carries what the evaluation read
    (alert,) = swarm_alerts
    assert alert["size"] == row["size_peak"] == max(n for _, n in alert["size_history"])
    assert alert["size_history"][0][0] == alert["t_start"]
    assert len(alert["track_ids"]) >= alert["size"]


def test_a_dense_swarm_is_one_alert_not_dozens(tmp_path: Path) -> None:
    """40 drones launched 0.2 s apart: before the stream links and the alert's
    continuation through new swarm ids, pieces of it raised an alert each (29 swarm
    alerts with 100 drones over 120 s, 233 with the bundled 500 over 300 s)."""
    scenario = load_scenario("dense-swarm", ["targets.0.count=40", "duration_s=60"])
    write_simulation(scenario, tmp_path)
    run_track(scenario, tmp_path / "measurements.jsonl", tmp_path / "tracks.jsonl",
              tmp_path / "alerts.jsonl")
    alerts = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    swarm_alerts = [a for a in alerts if a["kind"] == KIND_SWARM]
    assert 1 <= len(swarm_alerts) <= 2
    assert max(a["size"] for a in swarm_alerts) >= 30
