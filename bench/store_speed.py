"""Event store speed: how many 1,000-track ticks a second each backend stores.

Run: ``.venv/bin/python bench/store_speed.py [--tracks 1000] [--ticks 60]
[--measurements 2000] [--batch 1] [--backend sqlite postgresql]``.

Each tick is a full snapshot (``--tracks`` track records with covariance and
class probabilities, 20 swarms, 50 alerts, 10 sensor-health records) plus
``--measurements`` raw measurements; ``--batch`` ticks are buffered per
flush (the live engine at 1 Hz with the writer thread flushing every 0.5 s
puts one tick in each flush, so ``--batch 1`` is the case that matters). The
store keeps up with the engine when it stores at least 1 tick a second.
PostgreSQL runs on a throwaway server started on loopback
(:class:`skyfence.store.pgserver.LocalPostgres`, default settings, fsync on).
Prints one JSON object per backend.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from skyfence.live.hub import Snapshot
from skyfence.store import open_store
from skyfence.store.pgserver import LocalPostgres


def make_snapshot(t: float, n_tracks: int, rng: np.random.Generator) -> Snapshot:
    pos = rng.uniform(-5000, 5000, size=(n_tracks, 3))
    tracks = {tid: {"t": t, "track_id": tid, "enu_m": pos[tid].round(2).tolist(),
                    "vel_mps": [5.0, -2.0, 0.1],
                    "pos_cov_m2": [[25.0, 0.1, 0.0], [0.1, 25.0, 0.0], [0.0, 0.0, 9.0]],
                    "class": "drone" if tid % 3 else "bird",
                    "class_prob": {"drone": 0.6, "bird": 0.3, "aircraft": 0.05,
                                   "unknown": 0.05},
                    "cooperative_id": f"RID{tid}" if tid % 10 == 0 else None,
                    "threat": 0.3} for tid in range(n_tracks)}
    swarms = {s: {"swarm_id": s, "count": 5, "members": list(range(5 * s, 5 * s + 5)),
                  "centroid_enu_m": [0.0, 0.0, 50.0], "velocity_mps": [3.0, 0.0, 0.0],
                  "heading_deg": 90.0, "spread_m": 40.0} for s in range(20)}
    alerts = {f"A{a}": {"alert_id": f"A{a}", "kind": "zone_entry", "severity": "high",
                        "track_id": a, "t_start": 0.0, "t_end": None, "reason": "zone A",
                        "acked_by": None, "t_ack": None} for a in range(50)}
    health = {f"s{k}": {"sensor": f"s{k}", "silent": False, "low_rate": False,
                        "recent_count": 100, "expected_count": 100} for k in range(10)}
    return Snapshot(t, tracks, swarms, alerts, health)


def make_measurements(t: float, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    r = rng.uniform(100, 15000, size=n).round(2)
    return [{"t": t, "sensor": "radar-1", "kind": "radar", "range_m": float(r[i]),
             "azimuth_deg": 12.3, "elevation_deg": 1.2, "range_rate_mps": -3.1,
             "rcs_dbsm": -20.0} for i in range(n)]


def bench(url: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(5)
    work = [(make_snapshot(float(i), args.tracks, rng),
             make_measurements(float(i), args.measurements, rng)) for i in range(args.ticks)]
    store = open_store(url, flush_interval_s=None)
    flush_s: list[float] = []
    start = time.perf_counter()
    for i, (snap, meas) in enumerate(work, 1):
        store.write_tick(snap, meas)
        if i % args.batch == 0 or i == len(work):
            f0 = time.perf_counter()
            store.flush()
            flush_s.append(time.perf_counter() - f0)
    wall = time.perf_counter() - start
    ack0 = time.perf_counter()
    for k in range(20):
        store.record_ack(f"A{k}", "op", float(k))
    ack_ms = (time.perf_counter() - ack0) / 20 * 1e3
    assert store.last_tick_t() == float(args.ticks - 1)
    size_q = ("SELECT pg_database_size(current_database())" if url.startswith("postgresql")
              else "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
    store.flush()
    size = int(store._query(size_q)[0][0])
    store.close()
    rows = args.ticks * (args.tracks + args.measurements + 20 + 10 + 1)
    return {"backend": url.split(":", 1)[0], "tracks": args.tracks,
            "measurements_per_tick": args.measurements, "ticks": args.ticks,
            "ticks_per_flush": args.batch, "ticks_per_s": round(args.ticks / wall, 2),
            "rows_per_s": round(rows / wall), "flush_ms_mean": round(1e3 * float(np.mean(
                flush_s)), 1), "flush_ms_max": round(1e3 * max(flush_s), 1),
            "ack_ms_mean": round(ack_ms, 2), "db_mb": round(size / 1e6, 1),
            "keeps_up_at_1hz": args.ticks / wall >= 1.0,
            "machine": platform.processor() or platform.machine()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=1000)
    ap.add_argument("--ticks", type=int, default=60)
    ap.add_argument("--measurements", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--backend", nargs="+", default=["sqlite", "postgresql"],
                    choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    for backend in args.backend:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                print(json.dumps(bench(f"sqlite:///{Path(tmp) / 'bench.db'}", args)))
        else:
            with LocalPostgres() as server:
                print(json.dumps(bench(server.create_database("bench"), args)))


if __name__ == "__main__":
    main()
