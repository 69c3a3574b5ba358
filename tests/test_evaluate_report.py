"""``evaluate()`` end to end on small hand-made files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from skyfence.errors import UserError
from skyfence.evaluate import evaluate
from skyfence.evaluate.report import nearest_tick, truth_ticks
from skyfence.scenario.model import RadarSensor, Scenario
from skyfence.sim.sensors.base import FloatArray, ScanOutput, Snapshot, TargetAttributes

SCENARIO: dict[str, Any] = {
    "name": "eval-test",
    "duration_s": 10,
    "site": {
        "origin": {"lat": 52.0, "lon": 1.0},
        "zones": [{"name": "core", "level": "critical",
                   "circle": {"center_enu_m": [0, 0], "radius_m": 50}}],
    },
    "targets": [
        {"type": "drone", "id": "a", "waypoints_enu_m": [[0, 0, 100]]},
        {"type": "drone", "id": "b", "waypoints_enu_m": [[0, 0, 100]]},
    ],
}


class EastLimitSensor:
    """Stand-in sensor model: Pd 0.9 for active targets west of ``max_x_m``, else 0."""

    def __init__(self, max_x_m: float) -> None:
        self.config = RadarSensor(id="stand-in", type="radar", position_enu_m=[0, 0, 0])
        self.max_x_m = max_x_m

    def detection_probability(self, snap: Snapshot, targets: TargetAttributes) -> FloatArray:
        pd: FloatArray = np.where(snap.active & (snap.pos_enu_m[:, 0] < self.max_x_m), 0.9, 0.0)
        return pd

    def scan(
        self, snap: Snapshot, targets: TargetAttributes, rng: np.random.Generator
    ) -> ScanOutput:
        return ScanOutput()


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def truth_row(t: float, target: str, x: float, y: float = 0.0) -> dict[str, Any]:
    return {"t": t, "id": target, "kind": "drone", "enu_m": [x, y, 100.0],
            "vel_mps": [-100.0, 0.0, 0.0]}


def track_row(t: float, track_id: str, x: float, y: float = 0.0) -> dict[str, Any]:
    return {"t": t, "track_id": track_id, "enu_m": [x, y, 100.0], "vel_mps": [0, 0, 0],
            "pos_cov_m2": None, "class": "drone", "class_prob": {"drone": 1.0},
            "cooperative_id": None, "threat": 0.5}


def write_run(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Target a flies west from x=400 (tracked from t=1 by T1, 5 m off); b sits at x=2000
    (no sensor sees it, never tracked); ghost g (not in the scenario) at t=0,1 is never
    tracked; a false track F at t=2 and a track line at t=2.5 that fits no tick."""
    truth = [truth_row(t, "a", 400.0 - 100.0 * t) for t in range(6)]
    truth += [truth_row(t, "b", 2000.0) for t in range(6)]
    truth += [truth_row(t, "g", 5000.0, 5000.0) for t in range(2)]
    tracks = [track_row(t + 0.0004, "T1", 403.0 - 100.0 * t, 4.0) for t in range(1, 6)]
    tracks += [track_row(2.0, "F", -3000.0), track_row(2.5, "T1", 150.0)]
    alerts = [
        {"alert_id": "A0", "kind": "zone", "severity": "critical", "t_start": 0.0,
         "t_end": 9.0, "track_ids": ["F"], "swarm_id": None, "zone": "core", "reason": "x"},
        {"alert_id": "A1", "kind": "zone", "severity": "critical", "t_start": 1.5,
         "t_end": 9.0, "track_ids": ["T1"], "swarm_id": None, "zone": "core", "reason": "x"},
        {"alert_id": "A2", "kind": "zone", "severity": "warning", "t_start": 3.0,
         "t_end": 9.0, "track_ids": ["T1"], "swarm_id": None, "zone": None, "reason": "x"},
    ]
    return (jsonl(tmp_path / "truth.jsonl", truth), jsonl(tmp_path / "tracks.jsonl", tracks),
            jsonl(tmp_path / "alerts.jsonl", alerts))


def run(tmp_path: Path, **kwargs: Any) -> dict[str, Any]:
    truth, tracks, alerts = write_run(tmp_path)
    result = evaluate(Scenario.model_validate(SCENARIO), truth, tracks, alerts,
                      sensor_models=[EastLimitSensor(1000.0)], **kwargs)
    json.dumps(result, allow_nan=False)  # strict JSON: no NaN anywhere
    return result


def test_gospa_per_tick_with_undetectable_and_unknown_truths(tmp_path: Path) -> None:
    result = run(tmp_path)
    g = result["gospa"]
    per = g["per_tick"]
    assert per["t"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    # t0: a and g missed; b undetectable costs nothing. t1: a at 5 m, g missed.
    # t2: a at 5 m, F false. t3..5: a at 5 m.
    assert per["missed"] == [10000.0, 5000.0, 0.0, 0.0, 0.0, 0.0]
    assert per["false"] == [0.0, 0.0, 5000.0, 0.0, 0.0, 0.0]
    assert per["localisation"] == pytest.approx([0.0, 25.0, 25.0, 25.0, 25.0, 25.0])
    expected = [100.0, math.sqrt(5025.0), math.sqrt(5025.0), 5.0, 5.0, 5.0]
    assert per["gospa"] == pytest.approx(expected)
    assert g["mean"] == pytest.approx(np.mean(expected))
    assert g["missed_mean"] == pytest.approx(15000.0 / 6)
    assert per["truths"] == [3, 3, 2, 2, 2, 2]
    assert per["detectable"] == [2, 2, 1, 1, 1, 1]
    assert per["tracks"] == [0, 1, 2, 1, 1, 1]
    assert per["matched"] == [0, 1, 1, 1, 1, 1]
    assert (g["c_m"], g["p"], g["alpha"], g["min_pd"]) == (100.0, 2.0, 2.0, 0.5)
    assert result["ticks"] == 6
    assert result["counts"] == {
        "targets": 3, "truth_points": 14, "detectable_points": 8, "track_points": 7,
        "track_points_unscored": 1, "track_ids": 2,
    }


def test_min_pd_above_every_sensor_makes_scenario_targets_free(tmp_path: Path) -> None:
    per = run(tmp_path, min_pd=0.95)["gospa"]["per_tick"]
    assert per["missed"] == [5000.0, 5000.0, 0.0, 0.0, 0.0, 0.0]  # only the ghost counts


def test_targets_identity_and_time_to_track_from_coverage(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result["identity"] == {"id_switches": 0, "fragmentations": 0}
    a = result["targets"]["a"]
    assert a == {
        "kind": "drone", "ticks": 6, "detectable_ticks": 6, "matched_ticks": 5,
        "track_ids": ["T1"], "id_switches": 0, "fragmentations": 0,
        "first_detection_t_s": 0.0, "first_track_t_s": 1.0, "time_to_track_s": 1.0,
    }
    assert result["targets"]["b"]["first_detection_t_s"] is None
    assert result["targets"]["g"]["first_track_t_s"] is None
    assert result["time_to_track"] == {
        "detections": "coverage", "mean_s": 1.0, "median_s": 1.0, "max_s": 1.0,
        "tracked": 1, "never_tracked": 1, "never_detected": 1,
    }
    assert result["inputs"]["associations"] is None


def test_time_to_track_from_associations_beside_truth(tmp_path: Path) -> None:
    jsonl(tmp_path / "associations.jsonl", [
        {"t": 0.5, "sensor": "r", "id": "a"}, {"t": 0.0, "sensor": "r", "id": None},
        {"t": 0.25, "sensor": "e", "id": "a"}, {"t": 3.0, "sensor": "e", "id": "b"},
    ])
    result = run(tmp_path)
    ttt = result["time_to_track"]
    assert ttt["detections"] == "associations"
    assert result["targets"]["a"]["time_to_track_s"] == 0.75
    assert (ttt["tracked"], ttt["never_tracked"], ttt["never_detected"]) == (1, 1, 1)
    assert result["inputs"]["associations"] == str(tmp_path / "associations.jsonl")


def test_zone_entry_lead_time(tmp_path: Path) -> None:
    zones = run(tmp_path)["zone_entries"]
    assert zones["entries"] == [{
        "zone": "core", "level": "critical", "target": "a", "kind": "drone",
        "entry_t_s": 4.0, "alert_id": "A1", "alert_t_start_s": 1.5, "lead_time_s": 2.5,
    }]
    assert (zones["alerts_given"], zones["count"], zones["alerted_in_time"]) == (True, 1, 1)
    assert zones["mean_lead_time_s"] == 2.5


def test_without_alerts_entries_have_no_lead_time(tmp_path: Path) -> None:
    truth, tracks, _ = write_run(tmp_path)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO), encoding="utf-8")
    result = evaluate(scenario, truth, tracks)  # the scenario's own (no) sensors
    zones = result["zone_entries"]
    assert zones["alerts_given"] is False
    assert zones["entries"][0]["lead_time_s"] is None
    assert zones["mean_lead_time_s"] is None and zones["alerted_in_time"] is None
    # no sensors: scenario targets are never detectable, only the ghost is missed
    assert result["gospa"]["per_tick"]["missed"][:2] == [5000.0, 5000.0]


def test_real_sensor_models_from_the_scenario(tmp_path: Path) -> None:
    scenario = {**SCENARIO, "sensors": [
        {"id": "r1", "type": "radar", "position_enu_m": [0, 0, 10], "max_range_m": 3000}]}
    truth = jsonl(tmp_path / "truth.jsonl", [truth_row(0.0, "a", 1000.0),
                                              truth_row(0.0, "b", 20000.0)])
    tracks = jsonl(tmp_path / "tracks.jsonl", [])
    result = evaluate(Scenario.model_validate(scenario), truth, tracks)
    assert result["gospa"]["per_tick"]["detectable"] == [1]  # b is beyond max range
    assert result["gospa"]["missed_mean"] == 5000.0


def test_empty_truth_and_tracks(tmp_path: Path) -> None:
    truth = jsonl(tmp_path / "truth.jsonl", [])
    tracks = jsonl(tmp_path / "tracks.jsonl", [track_row(0.0, "T", 0.0)])
    result = evaluate(Scenario.model_validate(SCENARIO), truth, tracks, sensor_models=[])
    assert result["ticks"] == 0 and result["t_first_s"] is None
    assert result["gospa"]["mean"] is None
    assert result["counts"]["track_points_unscored"] == 1
    json.dumps(result, allow_nan=False)


def test_repeated_truth_id_at_one_tick_is_a_user_error(tmp_path: Path) -> None:
    truth = jsonl(tmp_path / "truth.jsonl", [truth_row(0.0, "a", 0.0), truth_row(1.0, "a", 0.0),
                                              truth_row(1.0000001, "a", 5.0)])
    tracks = jsonl(tmp_path / "tracks.jsonl", [])
    with pytest.raises(UserError, match=r"truth\.jsonl:3: truth id 'a' appears twice"):
        evaluate(Scenario.model_validate(SCENARIO), truth, tracks, sensor_models=[])


def test_ticks_and_nearest_tick() -> None:
    ticks, tick = truth_ticks(np.array([2.0, 0.0, 1.0, 2.0000000001, 0.0]))
    assert ticks.tolist() == [0.0, 1.0, 2.0]
    assert tick.tolist() == [2, 0, 1, 2, 0]
    got = nearest_tick(np.array([-0.0005, 0.4, 0.9995, 2.0011, 7.0]), ticks, 1e-3)
    assert got.tolist() == [0, -1, 1, -1, -1]
    assert nearest_tick(np.array([1.0]), np.zeros(0), 1e-3).tolist() == [-1]
