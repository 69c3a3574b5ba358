"""The live API: auth and roles, every endpoint's shape, bad input, WebSocket deltas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.websockets import WebSocketDisconnect

from skyfence.api import create_app, load_tokens
from skyfence.api.tokens import tokens_from
from skyfence.errors import UserError
from skyfence.live.hub import Hub, Snapshot, Trails, apply_delta
from skyfence.scenario.model import Scenario

VIEWER, OPERATOR, ADMIN = "view-token", "ops-token", "admin-token"
AUTH = {role: {"Authorization": f"Bearer {tok}"}
        for role, tok in (("viewer", VIEWER), ("operator", OPERATOR), ("admin", ADMIN))}

SITE = Scenario.model_validate({
    "name": "api-test", "duration_s": 60,
    "site": {"origin": {"lat": 51.0, "lon": -1.0},
             "zones": [{"name": "core", "level": "critical",
                        "circle": {"center_enu_m": [0, 0], "radius_m": 300}}]},
    "sensors": [{"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 10]},
                {"id": "rf-1", "type": "rf", "position_enu_m": [100, 0, 5]}],
})


def track(track_id: int, t: float, x: float) -> dict[str, Any]:
    return {"t": t, "track_id": track_id, "enu_m": [x, 0.0, 50.0], "vel_mps": [-5.0, 0.0, 0.0],
            "pos_cov_m2": [[4.0, 0, 0], [0, 4.0, 0], [0, 0, 9.0]], "class": "drone",
            "class_prob": {"drone": 0.8, "bird": 0.1, "aircraft": 0.05, "unknown": 0.05},
            "cooperative_id": None, "threat": 0.7, "zones": ["core"]}


def trails(t: float, x: float) -> Trails:
    """Tracks 1 and 2 came from 5 m and 10 m east of where they are (2 points each)."""
    t_s = np.array([[t - 1, t], [t - 1, t]])
    enu = np.array([[[x + 5, 0, 50], [x, 0, 50]], [[x + 110, 0, 50], [x + 100, 0, 50]]], float)
    return Trails(np.array([1, 2]), t_s, enu, np.array([2, 2]))


def alert(alert_id: str, t_start: float, **more: Any) -> dict[str, Any]:
    return {"alert_id": alert_id, "kind": "zone_entry", "severity": "critical",
            "t_start": t_start, "t_end": None, "track_ids": [1], "swarm_id": None,
            "zone": "core", "reason": "drone heading for core", "acked_by": None,
            "t_ack": None, **more}


def snapshot(t: float, x: float = 500.0, alerts: dict[str, Any] | None = None) -> Snapshot:
    return Snapshot(
        t_s=t, tracks={1: track(1, t, x), 2: track(2, t, x + 100)},
        swarms={7: {"swarm_id": 7, "count": 2, "members": [1, 2],
                    "centroid_enu_m": [x + 50, 0.0, 50.0], "velocity_mps": [-5.0, 0, 0],
                    "heading_deg": 270.0, "spread_m": 50.0}},
        alerts=alerts if alerts is not None else {"a-1": alert("a-1", t - 1)},
        health={"radar-1": {"sensor": "radar-1", "silent": False, "low_rate": False,
                            "recent_count": 10, "expected_count": 10},
                "rf-1": {"sensor": "rf-1", "silent": True, "low_rate": True,
                         "recent_count": 0, "expected_count": 10}},
        trails=trails(t, x))


class MemoryHistory:
    """The event store's part the API needs, in memory."""

    def __init__(self) -> None:
        self.lines = [track(1, t, 600 - 5 * t) for t in range(10)]
        self.ended = [alert("old-1", 2.0, t_end=4.0), alert("old-2", 20.0, t_end=25.0)]

    def track_history(self, track_id: int, t_from: float, t_to: float) -> list[dict[str, Any]]:
        return [r for r in self.lines
                if r["track_id"] == track_id and t_from <= r["t"] <= t_to]

    def alerts(self, t_from: float, t_to: float) -> list[dict[str, Any]]:
        return [a for a in self.ended if a["t_start"] <= t_to and a["t_end"] >= t_from]

    def tracks_at(self, t: float) -> list[dict[str, Any]]:
        before = [r for r in self.lines if r["t"] <= t]
        return [max(before, key=lambda r: r["t"])] if before else []

    # the recorded picture (api/history.py, tests/test_api_history.py)
    def tick_span(self) -> tuple[float, float] | None:
        return float(self.lines[0]["t"]), float(self.lines[-1]["t"])

    def track_states(self, t_from: float, t_to: float) -> list[dict[str, Any]]:
        return [r for r in self.lines if t_from <= r["t"] <= t_to]

    def snapshot_at(self, t: float) -> Snapshot | None:
        now = self.tracks_at(t)
        return Snapshot(t_s=now[0]["t"], tracks={1: now[0]}) if now else None


class Engine:
    """Stands in for the live engine's acknowledgement."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.acks: list[tuple[str, str, float]] = []

    def __call__(self, alert_id: str, operator: str, t_s: float) -> dict[str, Any]:
        latest = self.hub.latest
        if latest is None or alert_id not in latest.alerts:
            raise LookupError(alert_id)
        self.acks.append((alert_id, operator, t_s))
        return {**latest.alerts[alert_id], "acked_by": operator, "t_ack": t_s}


@pytest.fixture
def hub() -> Hub:
    h = Hub(max_queue=8)
    h.on_ack = Engine(h)
    h.publish(snapshot(10.0))
    return h


@pytest.fixture
def client(hub: Hub) -> TestClient:
    tokens = tokens_from([(VIEWER, "viewer"), (OPERATOR, "operator"), (ADMIN, "admin")])
    return TestClient(create_app(SITE, hub, tokens, MemoryHistory()))


# ------------------------------------------------------------------- auth
READS = ["/api/site", "/api/sensors", "/api/tracks", "/api/tracks/1",
         "/api/tracks/1/history", "/api/swarms", "/api/alerts"]


@pytest.mark.parametrize("path", [*READS, "/api/config"])
def test_reads_need_a_known_token(client: TestClient, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer"}):
        r = client.get(path, headers=headers)
        assert r.status_code == 401, (path, headers)
        assert r.json()["detail"]
        assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", READS)
def test_every_role_reads(client: TestClient, path: str) -> None:
    for role in AUTH:
        assert client.get(path, headers=AUTH[role]).status_code == 200, (path, role)


def test_health_needs_no_token_and_counts_rejections(client: TestClient) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["t"] == 10.0 and body["ticks"] == 1
    assert (body["tracks"], body["swarms"], body["alerts"], body["alerts_active"]) == (2, 1, 1, 1)
    assert body["unhealthy_sensors"] == ["rf-1"] and body["history"] is True
    assert body["rejected_requests"] == 0
    client.get("/api/tracks")
    client.get("/api/tracks/abc", headers=AUTH["viewer"])
    assert client.get("/api/health").json()["rejected_requests"] == 2


def test_viewer_cannot_ack_operator_can(client: TestClient, hub: Hub) -> None:
    r = client.post("/api/alerts/a-1/ack", headers=AUTH["viewer"])
    assert r.status_code == 403 and "operator" in r.json()["detail"]
    r = client.post("/api/alerts/a-1/ack", headers=AUTH["operator"], json={"note": "seen"})
    assert r.status_code == 200
    assert r.json()["acked_by"] == "operator-2" and r.json()["t_ack"] == 10.0
    assert isinstance(hub.on_ack, Engine) and hub.on_ack.acks == [("a-1", "operator-2", 10.0)]
    assert client.post("/api/alerts/a-1/ack", headers=AUTH["admin"]).status_code == 200


def test_config_is_admin_only(client: TestClient) -> None:
    for role in ("viewer", "operator"):
        assert client.get("/api/config", headers=AUTH[role]).status_code == 403
        assert client.put("/api/config", headers=AUTH[role], json={}).status_code == 403
    config = client.get("/api/config", headers=AUTH["admin"]).json()
    assert config["alerts"]["horizon_s"] > 0 and "weight_class" in config["threat"]
    config["alerts"]["horizon_s"] = 60.0
    r = client.put("/api/config", headers=AUTH["admin"], json=config)
    assert r.status_code == 200 and r.json()["alerts"]["horizon_s"] == 60.0
    assert client.get("/api/config", headers=AUTH["admin"]).json() == config
    bad = {**config, "alerts": {**config["alerts"], "horizon_s": -1}}
    r = client.put("/api/config", headers=AUTH["admin"], json=bad)
    assert r.status_code == 422 and "horizon_s" in r.json()["detail"]
    r = client.put("/api/config", headers=AUTH["admin"], json={"alerts": {"typo_s": 3}})
    assert r.status_code == 422 and "typo_s" in r.json()["detail"]


# ----------------------------------------------------------------- shapes
def test_site_and_sensors(client: TestClient) -> None:
    site = client.get("/api/site", headers=AUTH["viewer"]).json()
    assert site["name"] == "api-test" and site["origin"]["lat"] == 51.0
    assert site["zones"][0]["name"] == "core"
    sensors = client.get("/api/sensors", headers=AUTH["viewer"]).json()
    assert [s["id"] for s in sensors] == ["radar-1", "rf-1"]
    assert sensors[0]["type"] == "radar" and sensors[0]["sigma"]["range_m"] > 0
    assert sensors[1]["health"]["silent"] is True


def test_tracks_current_one_and_history(client: TestClient, hub: Hub) -> None:
    tracks = client.get("/api/tracks", headers=AUTH["viewer"]).json()
    assert hub.latest is not None
    assert tracks == [json.loads(json.dumps(r)) for r in hub.latest.tracks.values()]
    one = client.get("/api/tracks/2", headers=AUTH["viewer"]).json()
    assert one["track_id"] == 2 and one["class"] == "drone" and one["zones"]
    assert hub.latest.trails is not None
    x = hub.latest.tracks[2]["enu_m"][0]
    assert one["trail"] == [[hub.latest.t_s - 1, x + 10, 0.0, 50.0], [hub.latest.t_s, x, 0.0, 50.0]]
    r = client.get("/api/tracks/99", headers=AUTH["viewer"])
    assert r.status_code == 404 and "99" in r.json()["detail"]
    hist = client.get("/api/tracks/1/history?from=2&to=4", headers=AUTH["viewer"]).json()
    assert [h["t"] for h in hist] == [2, 3, 4]
    assert len(client.get("/api/tracks/1/history", headers=AUTH["viewer"]).json()) == 10
    at = client.get("/api/tracks?at=3.5", headers=AUTH["viewer"]).json()
    assert [r["t"] for r in at] == [3]


def test_swarms_and_alerts(client: TestClient) -> None:
    swarms = client.get("/api/swarms", headers=AUTH["viewer"]).json()
    assert swarms[0]["swarm_id"] == 7 and swarms[0]["members"] == [1, 2]
    alerts = client.get("/api/alerts", headers=AUTH["viewer"]).json()
    assert [a["alert_id"] for a in alerts] == ["a-1"] and alerts[0]["t_end"] is None
    past = client.get("/api/alerts?from=0&to=10", headers=AUTH["viewer"]).json()
    assert [a["alert_id"] for a in past] == ["old-1"]
    later = client.get("/api/alerts?from=21", headers=AUTH["viewer"]).json()
    assert [a["alert_id"] for a in later] == ["old-2"]


def test_before_the_first_tick_and_without_history(hub: Hub) -> None:
    tokens = tokens_from([(VIEWER, "viewer")])
    c = TestClient(create_app(SITE, Hub(), tokens))
    assert c.get("/api/health").json()["t"] is None
    assert c.get("/api/tracks", headers=AUTH["viewer"]).json() == []
    r = c.get("/api/tracks/1/history", headers=AUTH["viewer"])
    assert r.status_code == 503 and "history" in r.json()["detail"]


# -------------------------------------------------------------- bad input
@pytest.mark.parametrize(("method", "path", "body", "status", "says"), [
    ("get", "/api/tracks/abc", None, 422, "track_id"),
    ("get", "/api/tracks/1.5", None, 422, "track_id"),
    ("get", "/api/tracks/1/history?from=5&to=1", None, 400, "from"),
    ("get", "/api/tracks/1/history?from=x", None, 422, "from"),
    ("get", "/api/tracks/1/history?from=nan", None, 422, "from"),
    ("get", "/api/alerts?from=9&to=3", None, 400, "after"),
    ("get", "/api/tracks?at=inf", None, 422, "at"),
    ("post", "/api/alerts/nope/ack", None, 404, "nope"),
    ("post", "/api/alerts/a-1/ack", "{not json", 422, "JSON"),
    ("post", "/api/alerts/a-1/ack", '{"note": 5}', 422, "note"),
    ("post", "/api/alerts/a-1/ack", '{"colour": "red"}', 422, "colour"),
    ("put", "/api/config", "[1,2]", 422, "body"),
    ("get", "/api/nothing-here", None, 404, "Not Found"),
    ("delete", "/api/tracks", None, 405, "Method"),
])
def test_bad_input_is_4xx_with_a_reason(client: TestClient, method: str, path: str,
                                        body: str | None, status: int, says: str) -> None:
    headers = {**AUTH["admin"], "Content-Type": "application/json"}
    r = client.request(method.upper(), path, headers=headers, content=body)
    assert r.status_code == status, r.text
    assert says in r.json()["detail"], r.json()


# -------------------------------------------------------------- WebSocket
def from_message(message: dict[str, Any]) -> Snapshot:
    keys = {"tracks": "track_id", "swarms": "swarm_id", "alerts": "alert_id",
            "health": "sensor"}
    cols = {name: {r[key]: r for r in message[name]} for name, key in keys.items()}
    return Snapshot(message["t"], **cols)


def test_websocket_snapshot_then_deltas(client: TestClient, hub: Hub) -> None:
    with client.websocket_connect(f"/ws?token={VIEWER}") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and first["t"] == 10.0
        assert first["trails"]["1"] == [[9.0, 505.0, 0.0, 50.0], [10.0, 500.0, 0.0, 50.0]]
        assert set(first["trails"]) == {"1", "2"}
        view = from_message(first)
        nxt = [snapshot(11.0, 495.0), snapshot(12.0, 490.0, alerts={})]
        for snap in nxt:
            ws.portal.call(hub.publish, snap)
        for snap in nxt:
            change = ws.receive_json()
            assert change["type"] == "delta" and change["t"] == snap.t_s
            view = apply_delta(view, change)
        assert change["alerts"]["remove"] == ["a-1"]
        assert hub.latest is not None and hub.subscribers == 1
        expected = json.loads(json.dumps(hub.latest.message()))
        got = view.message()
        assert "trails" not in change and expected.pop("trails") and got.pop("trails") == {}
        assert got == expected  # deltas carry no trails: a client keeps its own
    # the server notices the client went and unsubscribes
    for _ in range(100):
        if hub.subscribers == 0:
            break
        client.get("/api/health")
    assert hub.subscribers == 0


def test_websocket_bearer_header_and_empty_start() -> None:
    hub = Hub()
    c = TestClient(create_app(SITE, hub, tokens_from([(VIEWER, "viewer")])))
    with c.websocket_connect("/ws", headers=AUTH["viewer"]) as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and first["t"] is None and first["tracks"] == []
        ws.portal.call(hub.publish, snapshot(1.0))
        change = ws.receive_json()
        assert change["type"] == "delta" and len(change["tracks"]["upsert"]) == 2


def test_slow_websocket_gets_a_fresh_snapshot(client: TestClient, hub: Hub) -> None:
    with client.websocket_connect("/ws", headers=AUTH["viewer"]) as ws:
        assert ws.receive_json()["type"] == "snapshot"

        def flood() -> None:  # in the loop, no await between: the feed can't keep up
            for i in range(hub.max_queue + 3):
                hub.publish(snapshot(20.0 + i, 400.0 - i))

        ws.portal.call(flood)
        kinds = []
        while not kinds or kinds[-1] != "snapshot":
            kinds.append(ws.receive_json()["type"])
        assert kinds[-1] == "snapshot" and hub.dropped_subscribers == 1


@pytest.mark.parametrize("url", ["/ws", "/ws?token=wrong"])
def test_websocket_bad_token_closes_4401(client: TestClient, url: str) -> None:
    with client.websocket_connect(url) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 4401
    assert client.get("/api/health").json()["rejected_requests"] == 1


# ----------------------------------------------------------------- tokens
def test_tokens_file(tmp_path: Path) -> None:
    good = tmp_path / "tokens.yaml"
    good.write_text("abc123: viewer\nxyz789: {role: operator, name: alice}\n")
    tokens = load_tokens(good)
    assert len(tokens) == 2
    alice = tokens.lookup("xyz789")
    assert alice is not None and (alice.name, alice.role) == ("alice", "operator")
    assert tokens.lookup("abc12") is None and tokens.lookup(None) is None


@pytest.mark.parametrize(("text", "says"), [
    ("a: viewer\na: admin\n", "repeated"),
    ("a: superuser\n", "'superuser' is not one of"),
    ("", "expected a mapping"),
    ("'': viewer\n", "entry 1"),
    ("'has space': viewer\n", "visible"),
    ("a: {role: admin, colour: red}\n", "unknown keys"),
    ("a: [viewer\n", "not valid YAML"),
])
def test_bad_tokens_file_names_file_and_entry(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "TOKENS.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        load_tokens(path)
    assert str(path) in str(err.value) and says in str(err.value)


def test_openapi_served_and_lists_the_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/health", "/api/tracks", "/api/tracks/{track_id}/history",
            "/api/alerts/{alert_id}/ack", "/api/config"} <= set(spec["paths"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


# ---------------------------------------------- property test on the spec
def _schema_app() -> Any:
    h = Hub()
    h.on_ack = Engine(h)
    h.publish(snapshot(10.0))
    return create_app(SITE, h, tokens_from([(ADMIN, "admin")]), MemoryHistory())


schema = schemathesis.openapi.from_asgi("/openapi.json", _schema_app())


@schema.parametrize()
@settings(max_examples=15, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_spec_no_server_errors(case: schemathesis.Case) -> None:
    """Whatever the served spec allows: never a 5xx, always the documented shape."""
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"},
                           checks=[not_a_server_error, response_schema_conformance])
