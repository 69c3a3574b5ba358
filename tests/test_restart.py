"""A crashed ``skyfence run`` restarts on its store and carries on (live/restart.py).

The first run serves the API in a child process; the test acknowledges the
first alert through it, lets the run go past ``CRASH_T`` and kills it with
SIGKILL (whatever was buffered and not flushed is lost). The second run opens
the same store and plays on to the end. The stored history must read as one
run: every tick once, a period apart; track ids never reused; no alert raised
twice; the acknowledged alert still acknowledged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from netutil import free_port
from skyfence.cli import main
from skyfence.store import open_store

SITE = ["--site", "spoofing", "--set", "duration_s=130"]
CRASH_T = 75.0  # scenario seconds; the spoofing alerts start from ~40 s
SPEED = 15.0


def _crashed_run(tmp_path: Path, url: str) -> dict[str, Any]:
    """The first run, killed at CRASH_T; the alert acknowledged and the last tick seen."""
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("tok-op: {role: operator, name: alice}\n")
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "skyfence", "run", *SITE, "--speed", str(SPEED), "--port", str(port),
         "--tokens", str(tokens), "--store", url], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env=env)
    acked: dict[str, Any] | None = None
    seen = -1.0
    api = f"http://127.0.0.1:{port}/api"
    head = {"Authorization": "Bearer tok-op"}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                health = httpx.get(f"{api}/health", timeout=2).json()
            except httpx.HTTPError:
                continue
            seen = health["t"] if health["t"] is not None else seen
            if acked is None and health["alerts_active"]:
                active = [a for a in httpx.get(f"{api}/alerts", headers=head).json()
                          if a["t_end"] is None]
                r = httpx.post(f"{api}/alerts/{active[0]['alert_id']}/ack", headers=head)
                assert r.status_code == 200, r.text
                acked = r.json()
            if acked is not None and seen >= CRASH_T:
                break
        else:
            pytest.fail("the first run did not get to the crash point")
    finally:
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, err.decode()
    assert acked is not None
    return {"acked": acked, "seen": seen}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("restart")
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    first = _crashed_run(tmp_path, url)
    with open_store(url, flush_interval_s=None) as store:
        crash_t = store.last_tick_t()
        before = {"tracks": store.tracks_at(crash_t), "alerts": store.alerts(),
                  "max_id": store.max_track_id(),
                  "measurements": len(store.measurements(0.0, crash_t))}
    # lost: at most a second of wall time (the store flushes every 0.5 s), SPEED ticks
    assert crash_t is not None and first["seen"] - crash_t <= SPEED * 1.0
    code = main(["run", *SITE, "--headless", "--quiet", "--speed", "1000", "--store", url,
                 "--warm-up", "30"])
    assert code == 0
    with open_store(url, flush_interval_s=None) as store:
        ticks = [r[0] for r in store._query("SELECT t FROM ticks ORDER BY t")]
        after = {"ticks": ticks, "alerts": store.alerts(), "acks": store.acks(),
                 "states": store.track_states(0.0, 1e9),
                 "measurements": store.measurements(0.0, 1e9)}
    return {**first, "crash_t": crash_t, "before": before, "after": after}


def test_ticks_continue_once_each_a_period_apart(history: dict[str, Any]) -> None:
    ticks = history["after"]["ticks"]
    assert ticks == [float(k) for k in range(len(ticks))]
    assert ticks[-1] >= 128.0 and history["crash_t"] < ticks[-1]


def test_track_ids_are_not_reused(history: dict[str, Any]) -> None:
    crash_t, before = history["crash_t"], history["before"]
    states = history["after"]["states"]
    first_seen: dict[int, float] = {}
    for r in states:
        first_seen.setdefault(r["track_id"], r["t"])
    new = [tid for tid, t in first_seen.items() if t > crash_t]
    assert all(tid > before["max_id"] for tid in new)
    # the tracks at the crash go on under their ids
    carried = {r["track_id"] for r in states if r["t"] == crash_t + 1}
    at_crash = {r["track_id"] for r in before["tracks"]}
    assert len(carried & at_crash) >= 0.7 * len(at_crash)


def _key(a: dict[str, Any]) -> tuple[Any, ...]:
    who = a.get("sensor") if a["kind"] == "sensor_unhealthy" else tuple(a["track_ids"][:1])
    return a["kind"], a.get("zone"), who


def test_no_alert_is_raised_twice(history: dict[str, Any]) -> None:
    crash_t = history["crash_t"]
    alerts = history["after"]["alerts"]
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids))
    active_at_crash = {_key(a) for a in alerts
                       if a["t_start"] <= crash_t and (a["t_end"] is None or a["t_end"] > crash_t)}
    assert active_at_crash
    raised_after = [a for a in alerts if a["t_start"] > crash_t]
    assert not [a for a in raised_after if _key(a) in active_at_crash]
    numbers = sorted(int(a["alert_id"].split("-")[1]) for a in alerts)
    assert numbers == sorted(set(numbers))


def test_acknowledged_alerts_stay_acknowledged(history: dict[str, Any]) -> None:
    acked = history["acked"]
    final = {a["alert_id"]: a for a in history["after"]["alerts"]}[acked["alert_id"]]
    assert final["acked_by"] == "alice"
    assert [a["alert_id"] for a in history["after"]["acks"]] == [acked["alert_id"]]


def test_no_measurement_is_stored_twice(history: dict[str, Any]) -> None:
    lines = [json.dumps(m, sort_keys=True) for m in history["after"]["measurements"]]
    assert len(lines) == len(set(lines))


# ------------------------------------------------- a clean stop, on both backends
def _alerts(url: str) -> tuple[list[float], set[tuple[Any, ...]]]:
    with open_store(url, flush_interval_s=None) as store:
        return store.tick_times(0, 1e9), {(a["alert_id"], a["kind"], a["t_start"], a["t_end"])
                                          for a in store.alerts()}


def test_a_stopped_and_restarted_run_equals_one_run(store_url: str, tmp_path: Path) -> None:
    whole = f"sqlite:///{tmp_path / 'whole.sqlite'}"
    run = ["run", *SITE, "--headless", "--quiet", "--speed", "1000"]
    assert main([*run, "--store", whole]) == 0
    assert main([*run, "--store", store_url, "--duration", "70"]) == 0
    assert main([*run, "--store", store_url]) == 0
    ticks, alerts = _alerts(store_url)
    assert ticks == [float(k) for k in range(131)]
    assert (ticks, alerts) == _alerts(whole)
