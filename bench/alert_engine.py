"""Alert engine cost per tick: N tracks × Z zones, 1 s ticks.

Run: ``.venv/bin/python bench/alert_engine.py [--tracks 1000] [--zones 4] [--ticks 600]``.
Half the tracks are drones flying at the site from random directions (so
predicted-entry, zone-entry, new-drone and swarm alerts start and end all
through the run), a quarter birds, the rest cooperative aircraft; 1 % of
tracks are replaced by new ids each tick. With ``--static`` nothing moves or
changes (the steady-state cost of holding the active alerts). Prints one JSON object: mean,
median and max milliseconds per :meth:`AlertEngine.update`, and the alerts
started and ended.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from skyfence.assess.alerts import AlertEngine, TrackConditions
from skyfence.assess.sensor_health import SensorHealthMonitor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tracks", type=int, default=1000)
    ap.add_argument("--zones", type=int, default=4)
    ap.add_argument("--ticks", type=int, default=600)
    ap.add_argument("--sensors", type=int, default=8)
    ap.add_argument("--static", action="store_true", help="frozen tracks: steady-state cost")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    n, z = args.tracks, args.zones
    zones = [(f"zone-{k}", "critical" if k % 2 else "warning") for k in range(z)]
    centre = rng.uniform(-3000, 3000, (z, 2))
    radius = np.full(z, 800.0)
    ids = np.arange(n, dtype=np.int64)
    pos = rng.uniform(-15000, 15000, (n, 2))
    vel = -pos / np.linalg.norm(pos, axis=1, keepdims=True) * rng.uniform(10, 40, (n, 1))
    kind = rng.choice(3, n, p=[0.5, 0.25, 0.25])
    swarm = np.where((kind == 0) & (rng.random(n) < 0.5), rng.integers(0, 10, n), -1)
    engine = AlertEngine(zones)
    monitor = SensorHealthMonitor([f"s{k}" for k in range(args.sensors)], 1.0)
    next_id = n
    times, started, ended = [], 0, 0
    for tick in range(args.ticks):
        t = float(tick)
        if not args.static:
            pos += vel
        replace = rng.random(n) < (0.0 if args.static else 0.01)
        ids[replace] = np.arange(next_id, next_id + replace.sum())
        next_id += int(replace.sum())
        # zone geometry (the caller's work, not timed): inside and time to the circle
        rel = centre[None, :, :] - pos[:, None, :]  # (N, Z, 2)
        dist = np.linalg.norm(rel, axis=2)
        closing = np.einsum("nzk,nk->nz", rel, vel) / np.maximum(dist, 1.0)
        entry = np.where(closing > 0, (dist - radius) / np.maximum(closing, 1e-9), np.inf)
        counts = rng.poisson(5.0, args.sensors)
        t0 = time.perf_counter()
        cond = TrackConditions(
            track_id=ids.copy(), position_enu_m=pos, is_drone=kind == 0,
            is_unknown=np.zeros(n, bool), cooperative=kind == 2, suspect=np.zeros(n, bool),
            inside_zone=dist <= radius, entry_time_s=entry, swarm_id=swarm,
        )
        changes = engine.update(t, cond, monitor.observe(t, counts))
        engine.pop_ended()
        times.append(time.perf_counter() - t0)
        started += len(changes.started)
        ended += len(changes.ended)
    ms = np.array(times) * 1e3
    print(json.dumps({
        "tracks": n, "zones": z, "static": args.static, "ticks": args.ticks,
        "sensors": args.sensors,
        "ms_per_tick": {"mean": round(float(ms.mean()), 3),
                        "median": round(float(np.median(ms)), 3),
                        "max": round(float(ms.max()), 3)},
        "alerts_started": started, "alerts_ended": ended,
        "active_at_end": len(engine.active()),
        "python": platform.python_version(), "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main()
