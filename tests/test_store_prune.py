"""Store retention (``retain_s``, ``skyfence run --retain``), the meta table
(``set_meta``/``get_meta``) and ``forget_after``, on SQLite and on a real
PostgreSQL server (the fixtures of tests/conftest.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from skyfence.cli import main
from skyfence.live.hub import Snapshot
from skyfence.store import StoreError, open_store
from skyfence.store.sql import SqlStore


def _snapshot(t: float) -> Snapshot:
    tid = 99 if t < 3 else 1  # track 99 lives only in the first seconds
    tracks = {tid: {"t": t, "track_id": tid, "enu_m": [t, 0.0, 50.0], "class": "drone",
                    "cooperative_id": None}}
    alerts: dict[str, Any] = {}
    if t <= 2:
        alerts["A-1"] = {"alert_id": "A-1", "kind": "zone_entry", "severity": "critical",
                         "t_start": 0.0, "t_end": 2.0 if t == 2 else None}
    alerts["A-2"] = {"alert_id": "A-2", "kind": "swarm_detected", "severity": "critical",
                     "t_start": 1.0, "t_end": None}
    swarms = {5: {"swarm_id": 5, "members": [tid]}}
    health = {"radar-1": {"sensor": "radar-1", "silent": False}}
    return Snapshot(t, tracks, swarms, alerts, health)


def _measurements(t: float) -> list[dict[str, Any]]:
    return [{"t": t - 0.5, "sensor": "radar-1", "kind": "radar", "range_m": 100.0 + t}]


def _fill(store: SqlStore, times: range) -> None:
    for k in times:
        store.write_tick(_snapshot(float(k)), _measurements(float(k)))


def _count(store: SqlStore, table: str) -> tuple[int, float | None]:
    n, lo = store._query(f"SELECT COUNT(*), MIN(t) FROM {table}")[0]
    return int(n), None if lo is None else float(lo)


def test_retain_keeps_the_last_seconds_and_every_alert(store_url: str) -> None:
    with open_store(store_url, flush_interval_s=None, retain_s=5.0) as store:
        store.prune_interval_s = 0.0
        _fill(store, range(21))
        store.record_ack("A-1", "alice", 1.0)
        store.flush()  # the flush prunes: t < 20 - 5 goes
        assert store.pruned_before == 15.0
        assert _count(store, "ticks") == (6, 15.0)
        for table in ("track_states", "swarms", "health"):
            assert _count(store, table)[1] == 15.0
        assert _count(store, "measurements") == (5, 15.5)
        assert [a["alert_id"] for a in store.alerts()] == ["A-1", "A-2"]  # kept forever
        assert store.alerts()[0]["t_end"] == 2.0
        assert [a["alert_id"] for a in store.acks()] == ["A-1"]
        assert store.max_track_id() == 99  # pruned, still never reused
        assert store.snapshot_at(20.0) is not None and store.tracks_at(10.0) == []


def test_pruning_runs_at_most_every_interval(store_url: str) -> None:
    with open_store(store_url, flush_interval_s=None, retain_s=2.0) as store:
        store.prune_interval_s = 3600.0
        _fill(store, range(5))
        store.flush()  # the first flush prunes
        assert _count(store, "ticks") == (3, 2.0)
        _fill(store, range(5, 10))
        store.flush()  # too soon: nothing pruned
        assert _count(store, "ticks") == (8, 2.0)
    with open_store(store_url, flush_interval_s=None) as store:
        assert _count(store, "ticks") == (3, 7.0)  # close() pruned to the retention


def test_the_writer_thread_prunes(store_url: str) -> None:
    store = open_store(store_url, flush_interval_s=0.05, retain_s=3.0)
    store.prune_interval_s = 0.0
    try:
        _fill(store, range(10))
        deadline = time.monotonic() + 10
        while store.pruned_before != 6.0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.pruned_before == 6.0
        assert _count(store, "ticks") == (4, 6.0)
    finally:
        store.close()


def test_meta_values(store_url: str) -> None:
    with open_store(store_url, flush_interval_s=None) as store:
        assert store.get_meta("site_yaml") is None
        store.set_meta("site_yaml", "name: a\n")
        store.set_meta("site_yaml", "name: b\n")  # replaced
        assert store.get_meta("site_yaml") == "name: b\n"
        with pytest.raises(ValueError, match="schema_version"):
            store.set_meta("schema_version", "99")
    with open_store(store_url, flush_interval_s=None) as store:  # committed
        assert store.get_meta("site_yaml") == "name: b\n"


def test_forget_after(store_url: str) -> None:
    with open_store(store_url, flush_interval_s=None) as store:
        _fill(store, range(6))
        store.flush()
        assert store.forget_after(3.0) > 0
        assert store.last_tick_t() == 3.0
        assert max(m["t"] for m in store.measurements(0, 100)) == 2.5


def test_bad_retention_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(StoreError, match="retain_s"):
        open_store(tmp_path / "x.db", retain_s=0.0)
    assert main(["run", "--site", "night-swarm", "--headless", "--retain", "-5"]) == 2
    assert "--retain" in capsys.readouterr().err


def test_skyfence_run_retain(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--site", "night-swarm", "--headless", "--quiet", "--speed", "1000",
                 "--duration", "20", "--retain", "5", "--store", store_url])
    assert code == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["ticks"] == 21
    with open_store(store_url, flush_interval_s=None) as store:
        assert _count(store, "ticks") == (6, 15.0)
        assert store.get_meta("site_yaml") is not None
        assert json.loads(store.get_meta("run_json") or "{}")["retain_s"] == 5.0
