"""The time bar's endpoints (api/history.py) over a real SQLite event store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from skyfence.api import create_app
from skyfence.api.tokens import tokens_from
from skyfence.live.hub import Hub, Snapshot
from skyfence.scenario.model import Scenario
from skyfence.store import SqlStore, open_store

VIEWER = "view-token"
AUTH = {"Authorization": f"Bearer {VIEWER}"}
SITE = Scenario.model_validate({
    "name": "history-test", "duration_s": 60,
    "site": {"origin": {"lat": 51.0, "lon": -1.0}, "zones": []},
    "sensors": [{"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 10],
                 "max_range_m": 2000}],
})
T_FIRST, T_LAST = 5.0, 49.0


def track(track_id: int, t: float) -> dict[str, Any]:
    return {"t": t, "track_id": track_id, "enu_m": [1000.0 - 5 * t + track_id, 10.0 * track_id,
                                                     50.0],
            "vel_mps": [-5.0, 0.0, 0.0], "pos_cov_m2": None, "class": "drone",
            "class_prob": {"drone": 0.9}, "cooperative_id": None, "threat": 0.5,
            "trail": [[t, 0.0, 0.0, 0.0]]}  # an older engine's key: not served by history


def snapshot(t: float) -> Snapshot:
    tracks = {1: track(1, t)}
    if t >= 20:  # track 2 starts at 20 s
        tracks[2] = track(2, t)
    alerts = {}
    if 10 <= t <= 30:  # acknowledged at 20 s, ended at 30 s
        alerts["a-1"] = {"alert_id": "a-1", "kind": "zone_entry", "severity": "critical",
                         "t_start": 10.0, "t_end": 30.0 if t == 30 else None,
                         "track_ids": [1], "swarm_id": None, "zone": "core", "reason": "test",
                         "acked_by": "alice" if t >= 20 else None,
                         "t_ack": 20.0 if t >= 20 else None}
    health = {"radar-1": {"sensor": "radar-1", "silent": False, "low_rate": False,
                          "recent_count": 1, "expected_count": 1.0}}
    return Snapshot(t_s=t, tracks=tracks, alerts=alerts, health=health)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStore]:
    s = open_store(tmp_path_factory.mktemp("hist") / "events.sqlite", flush_interval_s=None)
    t = T_FIRST
    while t <= T_LAST:
        s.write_tick(snapshot(t))
        t += 1.0
    s.flush()
    yield s
    s.close()


def client_for(history: Any) -> TestClient:
    return TestClient(create_app(SITE, Hub(), tokens_from([(VIEWER, "viewer")]), history))


@pytest.fixture(scope="module")
def client(store: SqlStore) -> TestClient:
    return client_for(store)


def test_range_is_the_stored_span(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/api/history/range", headers=AUTH).json() == {
        "t_first": T_FIRST, "t_last": T_LAST}
    with open_store(tmp_path / "empty.sqlite", flush_interval_s=None) as empty:
        r = client_for(empty).get("/api/history/range", headers=AUTH)
        assert r.json() == {"t_first": None, "t_last": None}


def test_snapshot_is_the_websocket_shape_at_the_tick_before(client: TestClient) -> None:
    r = client.get("/api/history/snapshot", params={"t": 40.7}, headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"type", "t", "tracks", "swarms", "alerts", "health", "trails"}
    assert body["type"] == "snapshot" and body["t"] == 40.0
    by_id = {tr["track_id"]: tr for tr in body["tracks"]}
    assert by_id[1]["enu_m"] == track(1, 40.0)["enu_m"] and "trail" not in by_id[1]
    assert body["health"][0]["sensor"] == "radar-1" and body["alerts"] == []
    # trails: the recorded positions of [t - 32 s, t], oldest first, ending at the tick
    one, two = body["trails"]["1"], body["trails"]["2"]
    assert [p[0] for p in one] == [float(t) for t in range(8, 41)][-32:]
    assert one[-1] == [40.0, *track(1, 40.0)["enu_m"]]
    assert [p[0] for p in two] == [float(t) for t in range(20, 41)]


def test_trails_can_be_left_out(client: TestClient) -> None:
    body = client.get("/api/history/snapshot", params={"t": 40, "trails": "false"},
                      headers=AUTH).json()
    assert body["trails"] == {} and len(body["tracks"]) == 2


@pytest.mark.parametrize(("t", "t_end", "acked_by"), [(15.0, None, None),
                                                      (25.0, None, "alice"),
                                                      (30.0, 30.0, "alice")])
def test_alerts_as_they_stood_then(client: TestClient, t: float, t_end: float | None,
                                   acked_by: str | None) -> None:
    alerts = client.get("/api/history/snapshot", params={"t": t}, headers=AUTH).json()["alerts"]
    assert [(a["alert_id"], a["t_end"], a["acked_by"]) for a in alerts] == [
        ("a-1", t_end, acked_by)]


@pytest.mark.parametrize(("query", "status", "says"), [
    ("t=nan", 422, "query.t"), ("t=x", 422, "query.t"), ("", 422, "query.t"),
    ("t=inf", 422, "query.t"), ("t=1", 404, "begins at t=5")])
def test_bad_times_say_why(client: TestClient, query: str, status: int, says: str) -> None:
    r = client.get("/api/history/snapshot?" + query, headers=AUTH)
    assert r.status_code == status and says in r.json()["detail"]


def test_needs_a_viewer_and_a_store(client: TestClient) -> None:
    assert client.get("/api/history/range").status_code == 401
    assert client.get("/api/history/snapshot?t=10").status_code == 401
    for path in ("/api/history/range", "/api/history/snapshot?t=10"):
        r = client_for(None).get(path, headers=AUTH)
        assert r.status_code == 503 and "event store" in r.json()["detail"]
        r = client_for(object()).get(path, headers=AUTH)  # a history that keeps no picture
        assert r.status_code == 503
