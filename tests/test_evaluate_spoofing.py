"""``evaluate()``'s ``spoofing`` section on hand-made files: which suspect-broadcast alert
names which broadcaster (through the tracks' ``cooperative_id``), when each lie became
observable, the delay and the 10-s verdict, false flags of honest broadcasts; and
suspect-broadcast alerts left out of ``false_alerts``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skyfence.evaluate import evaluate
from skyfence.evaluate.records import Alert, read_tracks
from skyfence.evaluate.spoofing import alert_identities, lie_onsets, spoofing_section
from skyfence.scenario.model import Scenario
from skyfence.sim.targets import broadcast_roles

SCENARIO: dict[str, Any] = {
    "name": "spoofing-test",
    "seed": 1,
    "duration_s": 3600,  # one hour
    "site": {"origin": {"lat": 52.0, "lon": 1.0, "alt_m": 0.0}},
    "sensors": [
        {"id": "radar", "type": "radar", "position_enu_m": [0, 0, 10]},
        {"id": "rid", "type": "remote_id", "position_enu_m": [0, 0, 10]},
        {"id": "adsb", "type": "adsb", "position_enu_m": [0, 0, 10]},
    ],
    "targets": [
        {"type": "drone", "id": "honest", "remote_id": {"uas_id": "HONEST"},
         "waypoints_enu_m": [[500, 0, 80], [0, 0, 80]], "end": "hover"},
        {"type": "drone", "id": "liar", "remote_id": {
            "uas_id": "LIAR", "spoof_offset_enu_m": [-400, -400, 0], "spoof_start_s": 5},
         "waypoints_enu_m": [[-500, 0, 80], [-100, 0, 80]], "end": "hover"},
        {"type": "drone", "id": "ghost", "start_s": 3, "physical": False,
         "remote_id": {"uas_id": "GHOST"}, "waypoints_enu_m": [[0, -800, 90]], "end": "hover"},
        {"type": "aircraft", "id": "plane", "icao": "abc123",
         "waypoints_enu_m": [[-6000, 3000, 600], [6000, 3000, 600]]},
        {"type": "drone", "id": "late", "start_s": 50, "physical": False,
         "remote_id": {"uas_id": "LATE"}, "waypoints_enu_m": [[0, 900, 90]], "end": "hover"},
    ],
}
TICKS = range(21)  # t = 0 .. 20 s


def scenario() -> Scenario:
    return Scenario.model_validate(SCENARIO)


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def track(t: float, track_id: int, x: float, coop: str | None) -> dict[str, Any]:
    return {"t": t, "track_id": track_id, "enu_m": [x, 0.0, 80.0], "class": "drone",
            "cooperative_id": coop}


def alert(alert_id: str, t_start: float, t_end: float | None, track_ids: list[int],
          kind: str = "suspect_broadcast") -> dict[str, Any]:
    return {"alert_id": alert_id, "kind": kind, "severity": "warning", "t_start": t_start,
            "t_end": t_end, "track_ids": track_ids, "zone": None, "reason": "test"}


def write_run(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Tracks: 1 HONEST, 2 LIAR, 3 GHOST (from 4 s), 4 the plane's abc123, 5 no identity,
    7 HONEST at 0-1 s only. Reports (associations.jsonl): HONEST every second; LIAR at
    4, 6 and 7 s only (none at its spoof start, 5 s; a radar plot of the liar at 5 s is
    of the wrong kind); GHOST from 4 s (it starts at 3 s); the plane on ADS-B; LATE never.
    So LIAR's lie is observable from 6 s, GHOST's from 4 s, LATE's never."""
    truth, tracks, assoc = [], [], []
    for t in TICKS:
        truth += [{"t": t, "id": "honest", "kind": "drone", "enu_m": [500.0, 0.0, 80.0]},
                  {"t": t, "id": "liar", "kind": "drone", "enu_m": [-500.0, 0.0, 80.0]},
                  {"t": t, "id": "plane", "kind": "aircraft", "enu_m": [0.0, 3000.0, 600.0]}]
        tracks += [track(t, 1, 500, "HONEST"), track(t, 2, -500, "LIAR"),
                   track(t, 4, 0, "abc123"), track(t, 5, 2000, None),
                   track(t, 7, 3000, "HONEST" if t <= 1 else None)]
        if t >= 4:
            tracks.append(track(t, 3, 1000, "GHOST"))
            assoc.append({"t": t, "sensor": "rid", "id": "ghost"})
        assoc += [{"t": t, "sensor": "rid", "id": "honest"},
                  {"t": t, "sensor": "adsb", "id": "plane"},
                  {"t": t, "sensor": "radar", "id": None}]
    assoc += [{"t": 4.0, "sensor": "rid", "id": "liar"},
              {"t": 5.0, "sensor": "radar", "id": "liar"},
              {"t": 6.0, "sensor": "rid", "id": "liar"},
              {"t": 7.0, "sensor": "rid", "id": "liar"}]
    alerts = [
        alert("S1", 2.0, 3.0, [2]),  # LIAR flagged while still honest, ended before 6 s
        alert("S2", 9.0, None, [2]),  # LIAR: 3 s after its lie became observable
        alert("S3", 15.0, 20.0, [3]),  # GHOST: 11 s after 4 s, too late
        alert("S4", 5.0, 6.0, [5]),  # a track with no identity: unattributed
        alert("S5", 7.0, 8.0, [4]),  # the honest plane: a false flag
        alert("S6", 5.0, 9.0, [7]),  # track 7 carried HONEST before, not while active
        alert("Z1", 3.0, 10.0, [1], "zone_entry"),  # not a suspect alert: not judged here
    ]
    jsonl(tmp_path / "associations.jsonl", assoc)  # beside the truth file: evaluate reads it
    return (jsonl(tmp_path / "truth.jsonl", truth), jsonl(tmp_path / "tracks.jsonl", tracks),
            jsonl(tmp_path / "alerts.jsonl", alerts))


def run(tmp_path: Path, with_alerts: bool = True) -> dict[str, Any]:
    truth_path, tracks_path, alerts_path = write_run(tmp_path)
    result = evaluate(scenario(), truth_path, tracks_path,
                      alerts_path if with_alerts else None, sensor_models=[])
    json.dumps(result, allow_nan=False)
    return result


def by_target(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["target"]: row for row in section["broadcasters"]}


def test_roles_of_the_test_scenario() -> None:
    roles = [(r.target_id, r.kind, r.identity, r.role, r.from_s)
             for r in broadcast_roles(scenario())]
    assert roles == [("honest", "remote_id", "HONEST", "genuine", None),
                     ("liar", "remote_id", "LIAR", "displaced", 5.0),
                     ("ghost", "remote_id", "GHOST", "phantom", 3.0),
                     ("plane", "adsb", "abc123", "genuine", None),
                     ("late", "remote_id", "LATE", "phantom", 50.0)]


def test_spoofing_section(tmp_path: Path) -> None:
    s = run(tmp_path)["spoofing"]
    assert (s["alerts_given"], s["lie_onset"], s["max_delay_s"]) == (True, "associations", 10.0)
    # S1-S6 are suspect alerts; LIAR, GHOST and LATE lie, LATE is never heard lying
    assert (s["suspect_alerts"], s["lying"], s["lying_observed"]) == (6, 3, 2)
    # LIAR in time (S2, 3 s), GHOST late (S3, 11 s)
    assert s["flagged_in_time"] == 1
    # the plane (S5) and LIAR before it lied (S1); HONEST never (S6 came after track 7
    # dropped the identity, Z1 is no suspect alert)
    assert (s["genuine"], s["false_flags"]) == (2, 2)
    assert s["unattributed_alerts"] == ["S4", "S6"]
    rows = by_target(s)
    assert list(rows) == ["honest", "liar", "ghost", "plane", "late"]
    assert rows["honest"] == {
        "target": "honest", "kind": "remote_id", "identity": "HONEST", "role": "genuine",
        "from_s": None, "lie_t_s": None, "alert_id": None, "alert_t_start_s": None,
        "delay_s": None, "in_time": None, "false_flag": False, "alert_ids": []}
    assert rows["liar"] == {
        "target": "liar", "kind": "remote_id", "identity": "LIAR", "role": "displaced",
        "from_s": 5.0, "lie_t_s": 6.0, "alert_id": "S2", "alert_t_start_s": 9.0,
        "delay_s": 3.0, "in_time": True, "false_flag": True, "alert_ids": ["S1", "S2"]}
    ghost = rows["ghost"]
    assert (ghost["role"], ghost["from_s"], ghost["lie_t_s"]) == ("phantom", 3.0, 4.0)
    assert (ghost["alert_id"], ghost["delay_s"], ghost["in_time"]) == ("S3", 11.0, False)
    assert ghost["false_flag"] is False
    plane = rows["plane"]
    assert (plane["kind"], plane["identity"], plane["false_flag"], plane["alert_ids"]) == (
        "adsb", "abc123", True, ["S5"])
    late = rows["late"]
    assert (late["lie_t_s"], late["alert_id"], late["delay_s"], late["in_time"],
            late["false_flag"]) == (None, None, None, None, False)


def test_suspect_alerts_are_not_false_alerts(tmp_path: Path) -> None:
    false = run(tmp_path)["false_alerts"]
    # Z1 names track 1, which matches the honest drone: true; S1-S6 are set apart
    assert (false["scored"], false["suspect_broadcast"], false["sensor_health"]) == (1, 6, 0)
    assert (false["count"], false["per_hour"], false["alerts"]) == (0, 0.0, [])


def test_without_alerts_only_the_schedule_side_is_reported(tmp_path: Path) -> None:
    s = run(tmp_path, with_alerts=False)["spoofing"]
    assert (s["alerts_given"], s["suspect_alerts"], s["flagged_in_time"], s["false_flags"]) == (
        False, None, None, None)
    assert (s["lying"], s["lying_observed"], s["genuine"]) == (3, 2, 2)
    rows = by_target(s)
    assert rows["liar"]["lie_t_s"] == 6.0 and rows["liar"]["alert_ids"] is None
    assert rows["liar"]["in_time"] is None and rows["honest"]["false_flag"] is None


def test_without_associations_the_lie_starts_on_schedule(tmp_path: Path) -> None:
    _, tracks_path, _ = write_run(tmp_path)
    roles = broadcast_roles(scenario())
    types = {"radar": "radar", "rid": "remote_id", "adsb": "adsb"}
    assert lie_onsets(roles, types, None) == [None, 5.0, 3.0, None, 50.0]
    assert lie_onsets(roles, types, tmp_path / "associations.jsonl") == [
        None, 6.0, 4.0, None, None]
    alerts = [Alert("S", 5.0, frozenset({"2"}), None, "suspect_broadcast", None)]
    s = spoofing_section(scenario(), read_tracks(tracks_path), alerts, None)
    assert s["lie_onset"] == "schedule"
    liar = by_target(s)["liar"]
    assert (liar["lie_t_s"], liar["delay_s"], liar["in_time"]) == (5.0, 0.0, True)
    # LATE is on schedule at 50 s, unheard: judged, and never flagged
    assert (s["lying_observed"], s["flagged_in_time"]) == (3, 1)
    assert by_target(s)["late"]["in_time"] is False


def test_an_alert_active_when_the_lie_starts_counts_with_no_delay(tmp_path: Path) -> None:
    _, tracks_path, _ = write_run(tmp_path)
    # raised at 4 s, before LIAR's lie (6 s), still active at 6 s: delay 0, no false flag
    alerts = [Alert("S", 4.0, frozenset({"2"}), None, "suspect_broadcast", 8.0)]
    s = spoofing_section(scenario(), read_tracks(tracks_path), alerts,
                         tmp_path / "associations.jsonl")
    liar = by_target(s)["liar"]
    assert (liar["alert_id"], liar["delay_s"], liar["in_time"], liar["false_flag"]) == (
        "S", 0.0, True, False)


def test_alert_identities_use_the_lines_while_the_alert_is_active(tmp_path: Path) -> None:
    _, tracks_path, _ = write_run(tmp_path)
    tracks = read_tracks(tracks_path)
    assert tracks.cooperative_ids == ["HONEST", "LIAR", "abc123", "GHOST"]

    def named(t_start: float, t_end: float | None, *ids: str) -> set[str]:
        return alert_identities(Alert("A", t_start, frozenset(ids), None,
                                      "suspect_broadcast", t_end), tracks)

    assert named(0.0, 1.0, "7") == {"HONEST"}
    assert named(1.0, None, "7") == {"HONEST"}  # the line at 1 s is within the window
    assert named(1.5, 9.0, "7") == set()
    assert named(0.0, 3.0, "3") == set()  # GHOST's track starts at 4 s
    assert named(3.0, 4.0, "3", "2", "99") == {"GHOST", "LIAR"}  # unknown track 99 ignored


@pytest.mark.parametrize("kind", ["zone_entry", "sensor_unhealthy"])
def test_only_suspect_alerts_are_judged(tmp_path: Path, kind: str) -> None:
    _, tracks_path, _ = write_run(tmp_path)
    alerts = [Alert("X", 7.0, frozenset({"4"}), None, kind, 8.0)]
    s = spoofing_section(scenario(), read_tracks(tracks_path), alerts, None)
    assert (s["suspect_alerts"], s["false_flags"]) == (0, 0)
