"""``PUT /api/config`` changes the running assessor (live/config.py), from the next
tick; the change is kept in the store's meta and applied again on a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from skyfence.api import create_app
from skyfence.api.models import ApiConfig
from skyfence.api.tokens import tokens_from
from skyfence.cli import main
from skyfence.live.config import config_handler
from skyfence.live.engine import LiveEngine
from skyfence.live.hub import Hub
from skyfence.scenario import load_scenario
from skyfence.store import open_store

ADMIN = {"Authorization": "Bearer admin-token"}
OPERATOR = {"Authorization": "Bearer ops-token"}


def _app(tmp_path: Path) -> tuple[TestClient, LiveEngine, object, list[str]]:
    site = load_scenario("spoofing")
    store = open_store(tmp_path / "events.sqlite", flush_interval_s=None)
    engine = LiveEngine(site, sink=store)
    said: list[str] = []
    app = create_app(site, Hub(on_ack=engine.ack),
                     tokens_from([("admin-token", "admin"), ("ops-token", "operator")]),
                     store, on_config=config_handler(engine, store, said.append))
    return TestClient(app), engine, store, said


def test_put_config_changes_the_running_assessor(tmp_path: Path) -> None:
    client, engine, store, said = _app(tmp_path)
    body = ApiConfig().model_dump(mode="json")
    body["alerts"].update(horizon_s=45.0, start_ticks=4, end_ticks=6, swarm_min_count=5)
    body["threat"].update(weight_class=0.35, weight_swarm=0.0)
    r = client.put("/api/config", json=body, headers=ADMIN)
    assert r.status_code == 200, r.text
    a = engine.assessor
    assert a.params.alerts.horizon_s == 45.0 and a.params.alerts.swarm_min_count == 5
    assert a.params.threat.weight_class == 0.35 and a.params.threat.weight_swarm == 0.0
    assert a.alerts.params.start_ticks == 4
    assert a.alerts._rules["zone_entry"].start_ticks == 4
    assert a.alerts._rules["zone_entry"].end_ticks == 6
    assert a._zone_params.horizon_s == 45.0 * a.params.alerts.horizon_end_factor
    assert engine.summary()["config_changes"] == 1
    assert client.get("/api/config", headers=ADMIN).json() == body
    assert ApiConfig.model_validate_json(store.get_meta("config_json")) == ApiConfig(**body)
    assert said and "horizon_s" in said[0]


def test_a_refused_config_changes_nothing(tmp_path: Path) -> None:
    client, engine, store, _ = _app(tmp_path)
    before = engine.assessor.params
    body = ApiConfig().model_dump(mode="json")
    body["threat"]["weight_class"] = 0.9  # the weights no longer sum to 1
    r = client.put("/api/config", json=body, headers=ADMIN)
    assert r.status_code == 422 and "sum to 1" in r.json()["detail"]
    assert engine.assessor.params == before
    assert client.get("/api/config", headers=ADMIN).json() == ApiConfig().model_dump(mode="json")
    assert store.get_meta("config_json") is None
    assert client.put("/api/config", json=body, headers=OPERATOR).status_code == 403


def test_a_stored_config_is_applied_again_on_start(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.sqlite"
    body = ApiConfig().model_dump(mode="json")
    body["alerts"]["horizon_s"] = 45.0
    with open_store(path, flush_interval_s=None) as store:
        store.set_meta("config_json", ApiConfig(**body).model_dump_json())
    run = ["run", "--site", "spoofing", "--headless", "--quiet", "--speed", "1000",
           "--duration", "2", "--store", str(path)]
    assert main(run) == 0
    err = capsys.readouterr().err
    assert "stored configuration applied" in err and '"horizon_s":45.0' in err
    with open_store(path, flush_interval_s=None) as store:
        store.set_meta("config_json", '{"alerts": {"horizon_s": -1}}')
    assert main(run) == 0  # a bad one is ignored, said so, and the run goes on
    assert "is not usable, ignored" in capsys.readouterr().err
