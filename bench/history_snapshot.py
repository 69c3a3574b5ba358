"""A replayed picture at 1 000 tracks: ``GET /api/history/snapshot`` with trails.

Built from the event store's SQL-side positions (``track_positions``: the
database reads ``enu_m`` out of the stored JSON) against decoding every
stored record of the last 32 s in Python (``track_states``), in the same run::

    .venv/bin/python bench/history_snapshot.py [--targets 1000] [--seconds 45]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from live_latency import SWEEP_SET
from skyfence.api import history
from skyfence.live.engine import LiveEngine, _records
from skyfence.live.sources import SimulatedSource
from skyfence.scenario import load_scenario
from skyfence.store import open_store


class WithoutPositions:
    """The store as a history source that lacks ``track_positions``."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        if name == "track_positions":
            raise AttributeError(name)
        return getattr(self.store, name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=45.0)
    args = ap.parse_args()
    site = load_scenario("dense-swarm", (f"targets.0.count={args.targets}", *SWEEP_SET,
                                         f"duration_s={args.seconds:g}"))
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/events.sqlite", flush_interval_s=None)
        engine = LiveEngine(site, sink=store)
        for batch in SimulatedSource(site).batches():
            for snap, lines in engine.feed(batch):
                store.write_tick(snap, _records(lines))
        store.flush()
        t = store.last_tick_t()
        assert t is not None
        for name, source in (("track_positions (SQL)", store),
                             ("track_states (decode records)", WithoutPositions(store))):
            started = time.perf_counter()
            for _ in range(3):
                msg = history.picture_at(source, t, trails=True)
            assert msg is not None
            ms = (time.perf_counter() - started) / 3 * 1e3
            print(f"{name:32s} {ms:8.1f} ms  tracks {len(msg['tracks'])}, "
                  f"trails {len(msg['trails'])}")
        started = time.perf_counter()
        history.picture_at(store, t, trails=False)
        print(f"{'no trails':32s} {(time.perf_counter() - started) * 1e3:8.1f} ms")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
