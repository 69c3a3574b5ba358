"""``evaluate()``'s assessment sections on hand-made files: classification confusion over
track time, alert lead time per drone entering a critical zone, false alerts per hour."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skyfence.evaluate import evaluate
from skyfence.evaluate.classification import confusion, tick_period_s, track_age_s
from skyfence.evaluate.false_alerts import split_alerts
from skyfence.evaluate.records import Alert, read_alerts, read_tracks
from skyfence.evaluate.zones import ZoneEntry, first_critical_entries
from skyfence.scenario.model import Scenario

TICKS = range(15)  # t = 0 .. 14 s
SCENARIO: dict[str, Any] = {
    "name": "assessment-test",
    "duration_s": 1800,  # half an hour
    "site": {
        "origin": {"lat": 52.0, "lon": 1.0},
        "zones": [
            {"name": "outer", "level": "warning",
             "circle": {"center_enu_m": [0, 0], "radius_m": 500}},
            {"name": "core", "level": "critical",
             "circle": {"center_enu_m": [0, 0], "radius_m": 50}},
        ],
    },
}


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def truth(t: float, target: str, kind: str, x: float, y: float = 0.0) -> dict[str, Any]:
    return {"t": t, "id": target, "kind": kind, "enu_m": [x, y, 100.0], "vel_mps": [0, 0, 0]}


def track(t: float, track_id: str | int, x: float, y: float, cls: str | None) -> dict[str, Any]:
    return {"t": t, "track_id": track_id, "enu_m": [x, y, 100.0], "vel_mps": [0, 0, 0],
            "pos_cov_m2": None, "class": cls, "class_prob": None, "cooperative_id": None,
            "threat": None}


def alert(alert_id: str, kind: str, t_start: float, track_ids: list[Any],
          zone: str | None = None) -> dict[str, Any]:
    return {"alert_id": alert_id, "kind": kind, "severity": "warning", "t_start": t_start,
            "t_end": 14.0, "track_ids": track_ids, "swarm_id": None, "zone": zone,
            "reason": "test"}


def write_run(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Drones d1 (enters core at 4 s, tracked by T1 from 1 s: unknown, then drone from
    3 s), d2 (enters core at 10 s, T2, drone), d3 (sits in the warning zone only, T3,
    called bird), d4 (enters core at 6 s, never tracked); bird b1 (T4: bird, drone from
    5 s); aircraft a1 (track 5: aircraft, class null from 10 s); a false track F at 3 s."""
    rows, tracks = [], []
    for t in TICKS:
        rows += [truth(t, "d1", "drone", 400 - 100 * t), truth(t, "d2", "drone", 1000 - 100 * t),
                 truth(t, "d3", "drone", 300, 300), truth(t, "d4", "drone", 600 - 100 * t, 20),
                 truth(t, "b1", "bird", -2000), truth(t, "a1", "aircraft", 0, 3000)]
        if t >= 1:
            tracks.append(track(t, "T1", 403 - 100 * t, 4, "unknown" if t < 3 else "drone"))
        tracks += [track(t, "T2", 1000 - 100 * t, -3, "drone"),
                   track(t, "T3", 300, 305, "bird"),
                   track(t, "T4", -2000, 2, "bird" if t < 5 else "drone"),
                   track(t, 5, 0, 3001, "aircraft" if t < 10 else None)]
    false_track = track(3, "F", 5000, 5000, None)
    del false_track["class"]  # an absent class reads as unknown
    tracks.append(false_track)
    alerts = [
        alert("A1", "predicted_zone_entry", 1.5, ["T1"], "core"),
        alert("A2", "new_noncooperative_drone", 3.0, ["T1"]),
        alert("A4", "zone_entry", 2.0, ["T4"], "outer"),  # a bird
        alert("A5", "new_noncooperative_drone", 3.0, ["F"]),  # a false track
        alert("A6", "sensor_unhealthy", 4.0, []),
        alert("A7", "swarm_detected", 12.0, ["T4", "T2"]),  # late for d2, and true
        alert("A8", "zone_entry", 0.0, ["T3"], "outer"),  # d3: true though called bird
        alert("A9", "suspect_broadcast", 5.0, [5]),  # the aircraft
        alert("A10", "zone_entry", 6.0, ["T99"], "core"),  # a track that never existed
    ]
    return (jsonl(tmp_path / "truth.jsonl", rows), jsonl(tmp_path / "tracks.jsonl", tracks),
            jsonl(tmp_path / "alerts.jsonl", alerts))


def run(tmp_path: Path, with_alerts: bool = True) -> dict[str, Any]:
    truth_path, tracks_path, alerts_path = write_run(tmp_path)
    # truth ids the scenario does not define are always detectable: no sensors needed
    result = evaluate(Scenario.model_validate(SCENARIO), truth_path, tracks_path,
                      alerts_path if with_alerts else None, sensor_models=[])
    json.dumps(result, allow_nan=False)
    return result


def test_classification_confusion_over_track_time(tmp_path: Path) -> None:
    c = run(tmp_path)["classification"]
    assert (c["period_s"], c["min_age_s"]) == (1.0, 10.0)
    assert c["rows"] == ["drone", "bird", "aircraft"]
    assert c["columns"] == ["drone", "bird", "aircraft", "unknown"]
    # T1 on d1: 2 s unknown + 12 s drone; T2 on d2: 15 s drone; T3 on d3: 15 s bird;
    # T4 on b1: 5 s bird + 10 s drone; track 5 on a1: 10 s aircraft + 5 s null (unknown)
    assert c["track_s"] == {
        "drone": {"drone": 27.0, "bird": 15.0, "aircraft": 0.0, "unknown": 2.0},
        "bird": {"drone": 10.0, "bird": 5.0, "aircraft": 0.0, "unknown": 0.0},
        "aircraft": {"drone": 0.0, "bird": 0.0, "aircraft": 10.0, "unknown": 5.0},
    }
    assert c["rates"] == pytest.approx(
        {"drone_as_drone": 27 / 44, "bird_as_drone": 10 / 15, "aircraft_as_drone": 0.0})
    # age >= 10 s from each track's first line: T1 (first at 1 s) at 11..14 s, the
    # others at 10..14 s
    assert c["track_s_aged"] == {
        "drone": {"drone": 9.0, "bird": 5.0, "aircraft": 0.0, "unknown": 0.0},
        "bird": {"drone": 5.0, "bird": 0.0, "aircraft": 0.0, "unknown": 0.0},
        "aircraft": {"drone": 0.0, "bird": 0.0, "aircraft": 0.0, "unknown": 5.0},
    }
    assert c["rates_aged"] == pytest.approx(
        {"drone_as_drone": 9 / 14, "bird_as_drone": 1.0, "aircraft_as_drone": 0.0})


def test_alert_lead_time_per_drone_entering_a_critical_zone(tmp_path: Path) -> None:
    result = run(tmp_path)
    lead = result["alert_lead_time"]
    assert lead["per_drone"] == [
        {"target": "d1", "zone": "core", "entry_t_s": 4.0, "alert_id": "A1",
         "alert_kind": "predicted_zone_entry", "alert_t_start_s": 1.5, "lead_time_s": 2.5},
        {"target": "d4", "zone": "core", "entry_t_s": 6.0, "alert_id": None,
         "alert_kind": None, "alert_t_start_s": None, "lead_time_s": 0.0},
        {"target": "d2", "zone": "core", "entry_t_s": 10.0, "alert_id": "A7",
         "alert_kind": "swarm_detected", "alert_t_start_s": 12.0, "lead_time_s": 0.0},
    ]
    assert (lead["alerts_given"], lead["drones"], lead["alerted_in_time"]) == (True, 3, 1)
    assert lead["median_s"] == 0.0 and lead["mean_s"] == pytest.approx(2.5 / 3)
    # the zone_entries section is unchanged: every (zone, target), warning zones too
    zones = result["zone_entries"]
    assert [(e["zone"], e["target"]) for e in zones["entries"]] == [
        ("outer", "d1"), ("outer", "d3"), ("outer", "d4"), ("outer", "d2"),
        ("core", "d1"), ("core", "d4"), ("core", "d2")]


def test_false_alerts_per_hour(tmp_path: Path) -> None:
    false = run(tmp_path)["false_alerts"]
    assert false["alerts_given"] is True
    # sensor health (A6) and suspect broadcast (A9, judged by the spoofing section) apart
    assert (false["hours"], false["scored"], false["sensor_health"],
            false["suspect_broadcast"]) == (0.5, 7, 1, 1)
    assert (false["count"], false["per_hour"]) == (3, 6.0)
    assert [(a["alert_id"], a["kind"], a["track_ids"]) for a in false["alerts"]] == [
        ("A4", "zone_entry", ["T4"]), ("A5", "new_noncooperative_drone", ["F"]),
        ("A10", "zone_entry", ["T99"])]
    assert false["alerts"][0] == {"alert_id": "A4", "kind": "zone_entry", "t_start_s": 2.0,
                                  "zone": "outer", "track_ids": ["T4"]}


def test_without_alerts_the_alert_sections_are_null(tmp_path: Path) -> None:
    result = run(tmp_path, with_alerts=False)
    lead = result["alert_lead_time"]
    assert (lead["alerts_given"], lead["drones"], lead["alerted_in_time"]) == (False, 3, None)
    assert lead["median_s"] is None and lead["mean_s"] is None
    assert [r["lead_time_s"] for r in lead["per_drone"]] == [None, None, None]
    false = result["false_alerts"]
    assert (false["alerts_given"], false["count"], false["per_hour"]) == (False, None, None)
    assert result["classification"]["track_s"]["drone"]["drone"] == 27.0


def test_empty_run_has_empty_sections(tmp_path: Path) -> None:
    empty = jsonl(tmp_path / "empty.jsonl", [])
    result = evaluate(Scenario.model_validate(SCENARIO), empty, empty, empty,
                      sensor_models=[])
    json.dumps(result, allow_nan=False)
    c = result["classification"]
    assert c["rates"] == {"drone_as_drone": None, "bird_as_drone": None,
                          "aircraft_as_drone": None}
    assert result["alert_lead_time"]["drones"] == 0
    assert result["alert_lead_time"]["median_s"] is None
    assert (result["false_alerts"]["count"], result["false_alerts"]["per_hour"]) == (0, 0.0)


# ----------------------------------------------------------- the parts
def test_tick_period_and_track_age() -> None:
    assert tick_period_s(np.array([0.0, 1.0, 2.0, 10.0, 11.0])) == 1.0  # a gap is no tick
    assert tick_period_s(np.array([5.0])) == 1.0
    age = track_age_s(np.array([3.0, 1.0, 4.0, 2.0]), np.array([0, 1, 0, 1]), 2)
    assert age.tolist() == [0.0, 0.0, 1.0, 1.0]


def test_confusion_keeps_other_kinds_and_classes() -> None:
    m = confusion(["balloon", "drone"], np.array([0, 1, 1]), ["drone", "kite"],
                  np.array([1, 0, 1]), 0.5)
    assert m.rows == ["drone", "bird", "aircraft", "balloon"]
    assert m.columns == ["drone", "bird", "aircraft", "unknown", "kite"]
    assert m.table()["drone"] == {"drone": 0.5, "bird": 0.0, "aircraft": 0.0, "unknown": 0.0,
                                  "kite": 0.5}
    assert m.table()["balloon"]["kite"] == 0.5
    assert m.rates()["drone_as_drone"] == 0.5 and m.rates()["bird_as_drone"] is None


def test_first_critical_entry_per_drone() -> None:
    entries = [ZoneEntry("w", "warning", 0, 1), ZoneEntry("c1", "critical", 1, 5),
               ZoneEntry("c1", "critical", 0, 7), ZoneEntry("c1", "critical", 2, 2),
               ZoneEntry("c2", "critical", 0, 3), ZoneEntry("c2", "critical", 1, 5)]
    got = first_critical_entries(entries, [True, True, False])
    # target 2 is no drone; target 1 enters both critical zones at 5: the first listed
    assert [(e.target, e.zone, e.tick) for e in got] == [(0, "c2", 3), (1, "c1", 5)]


def test_split_alerts() -> None:
    a = [Alert("1", 0.0, frozenset({"T1"}), None, "zone_entry"),
         Alert("2", 0.0, frozenset(), None, "sensor_unhealthy"),
         Alert("3", 0.0, frozenset(), None, "swarm_detected"),
         Alert("4", 0.0, frozenset({"T1", "T2"}), None, None),
         Alert("5", 0.0, frozenset({"T1"}), None, "suspect_broadcast")]
    false, sensor = split_alerts(a, {"T2"})
    assert [x.alert_id for x in false] == ["1", "3"] and [x.alert_id for x in sensor] == ["2"]


def test_read_tracks_and_alerts_keep_class_kind_and_end(tmp_path: Path) -> None:
    rows = [track(0, 1, 0, 0, "bird"), track(0, 2, 0, 0, None), track(1, 1, 0, 0, "drone")]
    table = read_tracks(jsonl(tmp_path / "tracks.jsonl", rows))
    assert table.classes == ["bird", "unknown", "drone"]
    assert table.track_class.tolist() == [0, 1, 2]
    (a,) = read_alerts(jsonl(tmp_path / "alerts.jsonl", [alert("A", "swarm_detected", 1.0, [3])]))
    assert (a.kind, a.t_end_s, a.track_ids) == ("swarm_detected", 14.0, frozenset({"3"}))
