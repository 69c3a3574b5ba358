"""``skyfence export``: stored track states and alerts as CSV and GeoJSON
(report/export.py), on a small hand-made store — SQLite, and PostgreSQL (a real
server on loopback, tests/conftest.py: skipped without the binaries unless
SKYFENCE_REQUIRE_PG=1)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pymap3d
import pytest

from skyfence.cli import main
from skyfence.live.hub import Snapshot
from skyfence.report.data import load_period, open_existing
from skyfence.report.export import ALERT_COLUMNS, TRACK_COLUMNS, alert_position_enu
from skyfence.report.html import health_spans
from skyfence.scenario.dump import dump_scenario
from skyfence.scenario.model import Scenario
from skyfence.store import open_store

SITE = Scenario.model_validate({
    "name": "export-test", "duration_s": 10,
    "site": {"origin": {"lat": 52.2, "lon": 0.9, "alt_m": 60.0},
             "zones": [{"name": "core", "level": "critical",
                        "circle": {"center_enu_m": [0, 0], "radius_m": 300}}]},
    "sensors": [{"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 10]}],
})
PROBS = {"drone": 0.9, "bird": 0.05, "aircraft": 0.0, "unknown": 0.05}


def track(tid: int, t: float, enu: list[float], vel: list[float], cls: str = "drone",
          **extra: Any) -> dict[str, Any]:
    return {"t": t, "track_id": tid, "enu_m": enu, "vel_mps": vel,
            "pos_cov_m2": [[25.0, 0, 0], [0, 25.0, 0], [0, 0, 100.0]], "class": cls,
            "class_prob": PROBS if cls == "drone" else {"drone": 0.1, "bird": 0.8,
                                                        "aircraft": 0.0, "unknown": 0.1},
            "cooperative_id": extra.get("coop"), "threat": 0.25 * t, "zones": {"core": None},
            "swarm_id": extra.get("swarm")}


def alert(aid: str, kind: str, t0: float, t1: float | None, tracks: list[int],
          swarm: int | None = None, sensor: str | None = None) -> dict[str, Any]:
    return {"alert_id": aid, "kind": kind, "severity": "warning", "t_start": t0, "t_end": t1,
            "track_ids": tracks, "swarm_id": swarm, "zone": None, "reason": f"{kind} test",
            "sensor": sensor, "acked_by": None, "t_ack": None}


@pytest.fixture
def store_url(store_url: str) -> str:
    """The empty store of each backend (conftest.py), filled with five ticks."""
    url = store_url
    alerts = {"A-1": alert("A-1", "new_noncooperative_drone", 1.0, 3.0, [1]),
              "A-2": alert("A-2", "swarm_detected", 2.0, None, [], swarm=5),
              "A-3": alert("A-3", "sensor_silent", 3.0, None, [], sensor="radar-1")}
    with open_store(url, flush_interval_s=None) as store:
        for k in range(5):
            t = float(k)
            tracks = {1: track(1, t, [1000.0 - 20 * k, 2000.0 - 10 * k, 100.0],
                               [-20.0, -10.0, 0.0], coop="RID-7" if k == 4 else None,
                               swarm=5 if k >= 2 else None)}
            if k == 2:
                tracks[2] = track(2, t, [-300.0, 50.0, 30.0], [3.0, 4.0, 0.0], cls="bird")
            swarms = ({5: {"swarm_id": 5, "count": 1, "members": [1],
                           "centroid_enu_m": [960.0, 1980.0, 100.0]}} if k >= 2 else {})
            active = {a: r for a, r in alerts.items() if r["t_start"] <= t}
            health = {"radar-1": {"sensor": "radar-1", "silent": k == 3, "low_rate": False,
                                  "recent_count": 10 - k, "expected_count": 10.0}}
            store.write_tick(Snapshot(t_s=t, tracks=tracks, swarms=swarms, alerts=active,
                                      health=health))
        store.flush()
        store.record_ack("A-1", "alice", 2.5)
    return url


def geodetic(e: float, n: float, u: float) -> tuple[float, float, float]:
    lat, lon, alt = pymap3d.enu2geodetic(e, n, u, 52.2, 0.9, 60.0)
    return float(lat), float(lon), float(alt)


def export(store_url: str, tmp_path: Path, what: str, fmt: str, *more: str) -> Path:
    site = tmp_path / "site.yaml"
    dump_scenario(SITE, site)
    out = tmp_path / f"{what}.{fmt}"
    assert main(["export", "--store", store_url, "--site", str(site), "--what", what,
                 "--format", fmt, "--out", str(out), *more]) == 0
    return out


def test_tracks_csv_round_trip(store_url: str, tmp_path: Path) -> None:
    out = export(store_url, tmp_path, "tracks", "csv")
    with out.open(newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == TRACK_COLUMNS
        rows = list(reader)
    with open_store(store_url, flush_interval_s=None) as store:
        stored = store.track_states(0.0, 10.0)
    assert len(rows) == len(stored) == 6
    by_key = {(float(r["t"]), int(r["track_id"])): r for r in rows}
    for rec in stored:
        row = by_key[(rec["t"], rec["track_id"])]
        assert row["class"] == rec["class"]
        assert float(row["class_prob"]) == rec["class_prob"][rec["class"]]
        for c, p in rec["class_prob"].items():
            assert float(row[f"prob_{c}"]) == p
        e, n, u = (float(row[k]) for k in ("east_m", "north_m", "up_m"))
        assert [e, n, u] == rec["enu_m"]
        assert [float(row[k]) for k in ("vel_east_mps", "vel_north_mps", "vel_up_mps")] \
            == rec["vel_mps"]
        assert float(row["speed_mps"]) == pytest.approx(math.hypot(*rec["vel_mps"]), abs=1e-3)
        lat, lon, alt = geodetic(e, n, u)
        assert float(row["lat_deg"]) == pytest.approx(lat, abs=1e-7)
        assert float(row["lon_deg"]) == pytest.approx(lon, abs=1e-7)
        assert float(row["alt_m"]) == pytest.approx(alt, abs=1e-3)
        assert (row["cooperative_id"] or None) == rec["cooperative_id"]
        assert float(row["threat"]) == rec["threat"]
        assert (int(row["swarm_id"]) if row["swarm_id"] else None) == rec["swarm_id"]


def test_alerts_csv_rows_and_positions(store_url: str, tmp_path: Path) -> None:
    out = export(store_url, tmp_path, "alerts", "csv")
    with out.open(newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == ALERT_COLUMNS
        rows = {r["alert_id"]: r for r in reader}
    assert set(rows) == {"A-1", "A-2", "A-3"}
    a1 = rows["A-1"]
    assert (a1["kind"], a1["t_start"], a1["t_end"], a1["track_ids"]) == \
        ("new_noncooperative_drone", "1.0", "3.0", "1")
    assert (a1["acked_by"], a1["t_ack"]) == ("alice", "2.5")  # from the acks table
    # its track's position at its start (t=1); A-2: the swarm's centroid; A-3: none
    assert (float(a1["east_m"]), float(a1["north_m"])) == (980.0, 1990.0)
    assert float(a1["lat_deg"]) == pytest.approx(geodetic(980.0, 1990.0, 100.0)[0], abs=1e-7)
    assert (float(rows["A-2"]["east_m"]), rows["A-2"]["swarm_id"]) == (960.0, "5")
    assert rows["A-2"]["t_end"] == "" and rows["A-3"]["east_m"] == ""
    assert rows["A-3"]["sensor"] == "radar-1"


def test_tracks_geojson(store_url: str, tmp_path: Path) -> None:
    doc = json.loads(export(store_url, tmp_path, "tracks", "geojson").read_text())
    assert doc["type"] == "FeatureCollection"
    features = {f["properties"]["track_id"]: f for f in doc["features"]}
    assert set(features) == {1, 2}
    drone, bird = features[1], features[2]
    assert drone["type"] == "Feature" and drone["geometry"]["type"] == "LineString"
    assert bird["geometry"]["type"] == "Point"  # one state only
    props = drone["properties"]
    assert (props["class"], props["t_start"], props["t_end"]) == ("drone", 0.0, 4.0)
    assert props["times"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    coords = drone["geometry"]["coordinates"]
    assert len(coords) == 5
    for lon, lat, _alt in coords:
        assert -180 <= lon <= 180 and -90 <= lat <= 90
    # RFC 7946: longitude first; the hand point (1000 m E, 2000 m N, 100 m up)
    lat, lon, alt = geodetic(1000.0, 2000.0, 100.0)
    assert coords[0][:2] == pytest.approx([lon, lat], abs=1e-7)
    assert coords[0][2] == pytest.approx(alt, abs=1e-3)
    assert coords[0][0] > 0.9 and coords[0][1] > 52.2  # east and north of the origin
    assert bird["properties"]["class"] == "bird"


def test_alerts_geojson(store_url: str, tmp_path: Path) -> None:
    doc = json.loads(export(store_url, tmp_path, "alerts", "geojson", "--from", "0",
                            "--to", "4").read_text())
    features = {f["id"]: f for f in doc["features"]}
    assert set(features) == {"A-1", "A-2", "A-3"}
    a1 = features["A-1"]
    assert a1["type"] == "Feature" and a1["geometry"]["type"] == "Point"
    lat, lon, _ = geodetic(980.0, 1990.0, 100.0)
    assert a1["geometry"]["coordinates"][:2] == pytest.approx([lon, lat], abs=1e-7)
    assert a1["properties"]["kind"] == "new_noncooperative_drone"
    assert a1["properties"]["acked_by"] == "alice"
    assert features["A-3"]["geometry"] is None


def test_a_period_selects_states_alerts_and_health(store_url: str, tmp_path: Path) -> None:
    with open_existing(store_url) as store:
        data = load_period(store, SITE, 3.5, 4.0)
        whole = load_period(store, SITE, 0.0, 4.0)
        assert store.tick_span() == (0.0, 4.0)
        assert store.tick_times(0.5, 3.0) == [1.0, 2.0, 3.0]
        health = store.health_history(2.0, 3.0)
    assert [(h["t"], h["silent"], h["recent_count"]) for h in health] == \
        [(2.0, False, 8), (3.0, True, 7)]
    assert [(h["t"], h["sensor"]) for h in data.health] == [(4.0, "radar-1")]
    assert health_spans(whole) == [("radar-1", "silent", 3.0, 3.0)]
    assert data.states.t_s.tolist() == [4.0]
    assert [a["alert_id"] for a in data.alerts] == ["A-2", "A-3"]  # A-1 ended at 3
    position = alert_position_enu(data.alerts[0], data)
    assert position is not None and position.tolist() == [960.0, 1980.0, 100.0]
