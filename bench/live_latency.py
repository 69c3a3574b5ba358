"""End-to-end latency of the live system: measurement in → change on the WebSocket.

One process runs what ``skyfence run`` runs — the simulator source paced at
real time, the live engine (tracker, assessment, SQLite event store) and the
API served by uvicorn — plus a WebSocket client on the same event loop::

    .venv/bin/python bench/live_latency.py                       # 1000 targets, 60 s
    .venv/bin/python bench/live_latency.py --targets 100 --seconds 30

Latency of a tick = the wall time its delta reaches the client minus the wall
time at which the measurement batch that completed the tick was due (the
pacer's clock: when that batch would arrive from a real sensor). That covers
the reorder wait inside the engine's reader as data, not as latency: the
tick at ``t`` completes when the first scan after ``t`` is released. The
engine's own part (due → published, its ``lag``) is reported beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
import websockets

from skyfence.api import create_app
from skyfence.api.tokens import Principal, Tokens
from skyfence.live.engine import LiveEngine, quiet_gc
from skyfence.live.hub import Hub, Snapshot
from skyfence.live.sources import Pacer, SimulatedSource
from skyfence.scenario import load_scenario
from skyfence.store import open_store

SWEEP_SET = ("targets.0.launch_interval_s=0", "targets.0.spacing_m=200",
             "targets.0.waypoints_enu_m=[[3000,0,120],[-9000,0,120]]")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(targets: int, seconds: float, store_dir: Path) -> dict[str, Any]:
    site = load_scenario("dense-swarm", (f"targets.0.count={targets}", *SWEEP_SET,
                                         f"duration_s={seconds + 5:g}"))
    quiet_gc()  # as skyfence run does
    hub = Hub()
    store = open_store(f"sqlite:///{store_dir / 'events.sqlite'}")
    engine = LiveEngine(site, sink=store)
    token = "bench-token"
    app = create_app(site, hub, Tokens({token: Principal("bench", "operator")}), store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    pacer = Pacer(1.0)
    published: dict[float, float] = {}
    received: dict[float, float] = {}

    def on_tick(snap: Snapshot) -> None:
        published[snap.t_s] = pacer.clock()

    async def client() -> None:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws?token={token}",
                                      max_size=None) as ws:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") == "delta":
                    received[float(msg["t"])] = pacer.clock()

    listening = asyncio.create_task(client())
    await asyncio.sleep(0.2)
    summary = await engine.run(SimulatedSource(site), hub, pacer=pacer, duration_s=seconds,
                               on_tick=on_tick)
    await asyncio.sleep(0.5)
    listening.cancel()
    server.should_exit = True
    await serving
    store.close()
    lag = list(engine.lag.samples)  # due → published, in tick order
    ticks = sorted(published)
    e2e = [received[t] - (published[t] - lag[k]) for k, t in enumerate(ticks)
           if t in received and k < len(lag)]
    delivery = [received[t] - published[t] for t in ticks if t in received]
    steady = e2e[5:] if len(e2e) > 10 else e2e  # the first ticks include start-up
    a = np.asarray(steady) * 1e3
    return {"targets": targets, "seconds": seconds, "ticks_published": len(ticks),
            "ticks_received": len(received), "e2e_ms": _stats(a),
            "engine_lag_ms": _stats(np.asarray(lag[5:]) * 1e3),
            "ws_delivery_ms": _stats(np.asarray(delivery[5:]) * 1e3),
            "engine": {k: summary.get(k) for k in ("scans", "wall_s")}}


def _stats(a: np.ndarray) -> dict[str, float | None]:
    if a.size == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    return {"p50": round(float(np.percentile(a, 50)), 1),
            "p95": round(float(np.percentile(a, 95)), 1),
            "p99": round(float(np.percentile(a, 99)), 1), "max": round(float(a.max()), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(measure(args.targets, args.seconds, Path(tmp)))
    result["bench_wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
