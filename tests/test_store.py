"""The event store on SQLite and on a real PostgreSQL server started on loopback.

The fixtures are in tests/conftest.py: the PostgreSQL server comes from
:class:`skyfence.store.pgserver.LocalPostgres` (``initdb`` + ``pg_ctl`` into a temp
dir; as an unprivileged user when run as root). ``make test`` installs the server
binaries when missing and sets ``SKYFENCE_REQUIRE_PG=1``, so there a missing server
fails the run; a bare ``pytest`` without the binaries skips the PostgreSQL cases
with the reason shown.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skyfence.live.hub import Snapshot
from skyfence.store import SCHEMA_VERSION, StoreError, open_store
from skyfence.store.pgserver import LocalPostgres
from skyfence.store.sql import SqlStore


def _track(tid: int, t: float) -> dict[str, Any]:
    return {"t": t, "track_id": tid, "enu_m": [10.0 * tid + t, 5.0, 100.0],
            "vel_mps": [1.0, 0.0, 0.0], "pos_cov_m2": np.eye(3).tolist(),
            "class": "drone" if tid % 2 else "bird", "class_prob": {"drone": 0.7},
            "cooperative_id": f"RID{tid}" if tid == 3 else None, "threat": 0.1 * tid}


def _alert(aid: str, t_start: float, t_end: float | None, acked: str | None = None
           ) -> dict[str, Any]:
    return {"alert_id": aid, "kind": "zone_entry", "severity": "high", "track_id": 1,
            "t_start": t_start, "t_end": t_end, "reason": "entered zone A",
            "acked_by": acked, "t_ack": None}


def _snapshot(t: float, n_tracks: int = 4) -> Snapshot:
    tracks = {tid: _track(tid, t) for tid in range(1, n_tracks + 1)}
    swarms = {7: {"swarm_id": 7, "count": 2, "members": [1, 3], "centroid_enu_m": [0, 0, 0],
                  "velocity_mps": [1, 0, 0], "heading_deg": 90.0, "spread_m": 12.0}}
    alerts = {"A1": _alert("A1", 1.0, None if t < 3 else 3.0)} if t >= 1 else {}
    health = {"radar-1": {"sensor": "radar-1", "silent": t == 2.0, "low_rate": False,
                          "recent_count": int(t), "expected_count": 10}}
    return Snapshot(t, tracks, swarms, alerts, health)


def _measurements(t: float) -> list[dict[str, Any]]:
    return [{"t": t, "sensor": "radar-1", "kind": "radar", "range_m": 1000.0 + i,
             "azimuth_deg": np.float64(12.5)} for i in range(3)]


def test_round_trip_and_queries(store_url: str) -> None:
    with open_store(store_url, flush_interval_s=None) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.last_tick_t() is None
        assert store.tracks_at(10.0) == []
        assert store.snapshot_at(10.0) is None
        for t in (0.0, 1.0, 2.0, 3.0, 4.0):
            store.write_tick(_snapshot(t), _measurements(t))
        assert store.last_tick_t() is None  # buffered, not yet flushed
        store.flush()
        assert store.last_tick_t() == 4.0
        assert store.flushed_t == 4.0

        assert store.tracks_at(2.5) == list(_snapshot(2.0).tracks.values())
        assert store.tracks_at(-1.0) == []
        hist = store.track_history(3, 1.0, 3.0)
        assert [r["t"] for r in hist] == [1.0, 2.0, 3.0]
        assert hist[0]["cooperative_id"] == "RID3"
        # positions read by the database from the stored JSON = the records' own
        states = store.track_states(1.0, 3.0)
        assert store.track_positions(1.0, 3.0) == [
            (r["t"], r["track_id"], *map(float, r["enu_m"])) for r in states]
        assert store.swarms_at(4.0)[0]["members"] == [1, 3]
        assert store.health_at(2.0)[0]["silent"] is True
        meas = store.measurements(1.0, 2.0)
        assert len(meas) == 6 and meas[0]["azimuth_deg"] == 12.5
        assert {m["t"] for m in meas} == {1.0, 2.0}

        alerts = store.alerts()
        assert len(alerts) == 1 and alerts[0]["t_end"] == 3.0  # upserted to its last version
        assert store.alerts(active_only=True) == []
        assert store.alerts(t_from=3.5) == []
        assert store.alerts(t_from=0.0, t_to=0.5) == []
        assert [a["alert_id"] for a in store.alerts(t_from=2.0, t_to=2.0)] == ["A1"]

        store.record_ack("A1", "alice", 2.5)
        store.record_ack("A1", "bob", 2.7)
        store.record_ack("B9", "alice", 2.8)
        assert [(a["operator"], a["t_ack"]) for a in store.acks("A1")] == [
            ("alice", 2.5), ("bob", 2.7)]
        assert len(store.acks()) == 3

        snap = store.snapshot_at(2.2)
        assert snap is not None and snap.t_s == 2.0
        assert snap.tracks == _snapshot(2.0).tracks
        assert set(snap.alerts) == {"A1"} and set(snap.health) == {"radar-1"}

        store.write_tick(_snapshot(4.0))  # a tick written twice is kept once
        store.flush()
        assert len(store.tracks_at(4.0)) == 4


def test_writer_thread_flushes_and_close_flushes(store_url: str) -> None:
    store = open_store(store_url, flush_interval_s=0.05)
    store.write_tick(_snapshot(1.0))
    deadline = time.monotonic() + 5.0
    while store.last_tick_t() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store.last_tick_t() == 1.0
    store.write_tick(_snapshot(2.0))
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.write_tick(_snapshot(3.0))
    with open_store(store_url) as again:
        assert again.last_tick_t() == 2.0


def test_migration_v1_to_v2_backfills_cooperative_id(store_url: str) -> None:
    old = open_store(store_url, flush_interval_s=None, migrate_to=1)
    assert old.schema_version() == 1
    record = _track(3, 5.0)
    with old._lock, old._transaction(old._conn) as cur:  # a v1 writer's row
        cur.execute(old._sql("INSERT INTO ticks (t, n_tracks) VALUES (?, ?)"), (5.0, 1))
        cur.execute(old._sql("INSERT INTO track_states (t, track_id, class, record)"
                             " VALUES (?, ?, ?, ?)"), (5.0, 3, "drone", _json(record)))
    old.close()
    with open_store(store_url, flush_interval_s=None) as store:
        assert store.schema_version() == 2
        assert store.tracks_at(5.0) == [record]
        assert store._query("SELECT cooperative_id FROM track_states") == [("RID3",)]
        store.write_tick(_snapshot(6.0))
        store.flush()
        assert store._query("SELECT COUNT(*) FROM track_states WHERE cooperative_id = ?",
                            ("RID3",)) == [(2,)]


def _json(record: dict[str, Any]) -> str:
    from skyfence.store.sql import dumps

    return dumps(record)


def test_newer_schema_version_is_refused(store_url: str) -> None:
    store: SqlStore = open_store(store_url, flush_interval_s=None)
    with store._lock, store._transaction(store._conn) as cur:
        cur.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    store.close()
    with pytest.raises(StoreError, match=r"schema version 99 is newer") as info:
        open_store(store_url)
    assert store.name in str(info.value)


def test_corrupt_sqlite_file_names_file_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database, just text\n" * 200)
    with pytest.raises(StoreError, match="not a database") as info:
        open_store(f"sqlite:///{path}")
    assert str(path) in str(info.value)


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE stuff (x INTEGER)")
    with pytest.raises(StoreError, match="not a skyfence event store"):
        open_store(path)


def test_bad_urls() -> None:
    with pytest.raises(StoreError, match="unknown store URL"):
        open_store("mysql://root@localhost/db")
    with pytest.raises(StoreError, match="not a PostgreSQL URL"):
        open_store("postgresql://user@localhost")
    with pytest.raises(StoreError, match="cannot open"):
        open_store("sqlite:////nonexistent-dir/sub/events.db")


def test_unreachable_postgres_is_a_clear_error(pg_server: LocalPostgres) -> None:
    with pytest.raises(StoreError, match="cannot open the event store"):
        open_store(pg_server.url("no_such_database"))


def test_bad_records_do_not_crash_the_writer(store_url: str) -> None:
    odd = 'say "hi" \\ {a,b} NULL ünï\n'
    snap = Snapshot(1.0, tracks={5: {"track_id": 5, "class": 3, "when": object(),
                                     "cooperative_id": "NULL", "note": odd},
                                 6: {"track_id": 6, "class": "NULL", "cooperative_id": odd}},
                    alerts={"X": {"alert_id": "X", "t_start": "soon", "t_end": None}})
    with open_store(store_url, flush_interval_s=None) as store:
        store.write_tick(snap, [{"no_t": True}, {"t": "bad", "sensor": 4}])
        store.flush()
        tracks = store.tracks_at(1.0)
        assert tracks[0]["class"] == 3 and tracks[0]["note"] == odd
        assert tracks[1]["cooperative_id"] == odd
        assert store._query("SELECT cooperative_id, class FROM track_states ORDER BY track_id"
                            ) == [("NULL", "3"), (odd, "NULL")]
        assert len(store.measurements(1.0, 1.0)) == 2
        assert store.alerts(active_only=True)[0]["t_start"] == "soon"


CHILD = textwrap.dedent("""
    import sys, time
    from skyfence.live.hub import Snapshot
    from skyfence.store import open_store

    store = open_store(sys.argv[1], flush_interval_s=0.25)
    print("READY", flush=True)
    flushed = None
    t0 = time.monotonic()
    for i in range(1, 100000):
        t = round(0.1 * i, 3)
        tracks = {k: {"t": t, "track_id": k, "enu_m": [k, t, 50.0], "class": "drone"}
                  for k in range(100)}
        alerts = {f"a{i}": {"alert_id": f"a{i}", "kind": "k", "severity": "low",
                            "t_start": t, "t_end": None}}
        meas = [{"t": t, "sensor": "radar-1", "kind": "radar", "range_m": j} for j in range(20)]
        store.write_tick(Snapshot(t, tracks, {}, alerts, {}), meas)
        print(f"TICK {t}", flush=True)
        if i % 3 == 0:
            store.record_ack(f"a{i}", "op", t)
            print(f"ACK a{i}", flush=True)
        if store.flushed_t != flushed:
            flushed = store.flushed_t
            print(f"FLUSHED {flushed}", flush=True)
        time.sleep(max(0.0, t0 + 0.1 * i - time.monotonic()))
""")


def test_crash_mid_write_loses_no_ack_and_at_most_a_second(store_url: str,
                                                           tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script), store_url], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(child.stdout or []), daemon=True)
    reader.start()
    deadline = time.monotonic() + 30.0
    while "READY\n" not in lines and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert "READY\n" in lines, (child.stderr.read() if child.stderr else "")
    time.sleep(3.0)
    assert child.poll() is None, child.stderr.read() if child.stderr else ""
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    reader.join(timeout=30)
    if child.stderr is not None:
        child.stderr.close()

    acked = {ln.split()[1] for ln in lines if ln.startswith("ACK ")}
    ticks = [float(ln.split()[1]) for ln in lines if ln.startswith("TICK ")]
    flushed = [float(v) for ln in lines if ln.startswith("FLUSHED ")
               if (v := ln.split()[1]) != "None"]
    assert len(acked) >= 5 and len(ticks) >= 20 and flushed

    with open_store(store_url, flush_interval_s=None) as store:
        stored_acks = {a["alert_id"] for a in store.acks()}
        assert acked <= stored_acks, f"acks lost: {sorted(acked - stored_acks)}"
        last = store.last_tick_t()
        assert last is not None
        print(f"last tick written {ticks[-1]}, last seen flushed {flushed[-1]}, stored {last};"
              f" {len(acked)} acks reported, {len(stored_acks)} stored")
        assert last >= flushed[-1]  # nothing reported flushed is lost
        assert last >= ticks[-1] - 1.0  # at most the last second is lost
        assert last <= ticks[-1] + 0.1 + 1e-9
        assert len(store.tracks_at(last)) == 100  # a tick is all there or not at all
        assert len(store.measurements(last, last)) == 20
        # the engine carries on from the store
        store.write_tick(Snapshot(round(last + 0.1, 3), {1: {"track_id": 1}}))
        store.flush()
        assert store.last_tick_t() == pytest.approx(last + 0.1)
