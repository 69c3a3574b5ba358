"""Assessment cost against the tracker's own time (issue 4): is it under 10 %?

One command::

    .venv/bin/python bench/assess_cost.py                 # 500, 1000 (60 s), 5000 (20 s)
    .venv/bin/python bench/assess_cost.py --sizes 1000    # one size

The dense-swarm scaling case of ``bench/tracker_bench.py`` (``SWEEP_SET``: N
drones airborne at t = 0 in a disc inside the radar's coverage, 60 s, the
same simulations, cached under ``bench/results/sims``). The scans are read
first (not timed); then, exactly as ``skyfence track`` runs them
(:class:`skyfence.track_io.TickWriter`): before each scan every 1-s output
tick not yet done takes ``tracker.confirmed_at(t)`` and
``Assessor.assess(t, bank, reports)``, then ``tracker.step(scan)``. Timed
separately with ``perf_counter``:

- **tracker**: the sum of ``step`` over the scans of each 1-s period
  ``[k, k + 1)`` (every sensor's scans, as tracker_bench's all-sensor rows);
- **assess**: ``Assessor.assess`` at the tick opening the period (class,
  trust, zones, swarms, threat, alert rules); ``confirmed_at`` (the copy
  and prediction of the confirmed tracks, needed for the tracks.jsonl
  output with or without assessment) is reported apart;
- the parts of ``assess`` (timers wrapped around the functions the engine
  calls; their own overhead is a few microseconds a tick).

Statistics are over the *steady* periods, those whose tick found at least
90 % of the N targets confirmed (the first seconds, before the tracks are
confirmed, cost the assessment nothing). ``ratio`` = mean assess / mean tracker.
Output: ``bench/results/assess_cost.json`` and a markdown table (printed and
beside it).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import skyfence.assess.engine as engine
from skyfence.assess.alerts import AlertEngine, TrackConditions
from skyfence.assess.sensor_health import SensorHealthMonitor
from skyfence.assess.swarm import SwarmTracker
from skyfence.scenario import load_scenario
from skyfence.track_io import ScanReader
from skyfence.tracker import Tracker, TrackerParams
from skyfence.tracker.bank import TrackBank
from tracker_bench import RESULTS, SWEEP_SET, simulate

F = TypeVar("F", bound=Callable[..., Any])
DURATION_S = 60.0
"""The tracker_bench sweep's duration (so its cached simulations are reused)."""
SECONDS = {500: 60.0, 1000: 60.0, 5000: 20.0}
"""How much of each run to time (s): 5000 only briefly (its tracker takes seconds a scan)."""
STEADY = 0.9


class Parts:
    """Seconds spent in each wrapped function during the current tick."""

    def __init__(self) -> None:
        self.now: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn: F) -> F:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.now[name] += time.perf_counter() - t0

        return timed  # type: ignore[return-value]

    def take(self) -> dict[str, float]:
        out, self.now = dict(self.now), defaultdict(float)
        return out


def instrument(parts: Parts) -> None:
    """Timers around what ``Assessor.assess`` calls (module names the engine uses)."""
    for name in ("assess_zones", "threat_scores", "swarm_eligible"):
        setattr(engine, name, parts.wrap(name, getattr(engine, name)))
    TrackConditions.build = staticmethod(  # type: ignore[method-assign]
        parts.wrap("conditions", TrackConditions.build))
    methods: list[tuple[Any, str, str]] = [
        (TrackBank, "class_probabilities", "class"),
        (TrackBank, "has_identity", "class"),
        (engine.Assessor, "_trust", "trust"),
        (engine.Assessor, "_drone_decision", "drone_decision"),
        (SwarmTracker, "update", "swarms"),
        (AlertEngine, "update", "alerts"),
        (SensorHealthMonitor, "observe", "sensor_health"),
    ]
    for cls, attr, label in methods:
        setattr(cls, attr, parts.wrap(label, getattr(cls, attr)))


def run(n: int, seconds: float, parts: Parts) -> dict[str, Any]:
    sweep = (*SWEEP_SET, f"duration_s={DURATION_S:g}")
    folder = simulate("dense-swarm", (f"targets.0.count={n}", *sweep), False)
    site = load_scenario(folder / "scenario.yaml")
    reader = ScanReader(site)
    with open(folder / "measurements.jsonl", "rb") as stream:
        scans = [s for s in reader.read(stream, "measurements.jsonl") if s.t_s < seconds]
    tracker = Tracker(reader.specs, TrackerParams())
    assessor = engine.Assessor(reader.specs, site.site.zones, tracker.params.evidence)
    reports = np.zeros(len(reader.specs), dtype=np.int64)
    step_s: dict[int, float] = defaultdict(float)
    ticks: list[dict[str, Any]] = []
    next_k: int | None = None
    parts.take()

    def tick(k: int) -> None:
        t0 = time.perf_counter()
        bank = tracker.confirmed_at(float(k))
        t1 = time.perf_counter()
        assessor.assess(float(k), bank, reports)
        t2 = time.perf_counter()
        reports[:] = 0
        assessor.pop_ended()
        ticks.append({"k": k, "tracks": len(bank), "confirmed_at_s": t1 - t0,
                      "assess_s": t2 - t1, "parts": parts.take()})

    for scan in scans:
        if next_k is None:
            next_k = math.ceil(scan.t_s - 1e-9)
        while next_k <= scan.t_s - 1e-9:
            tick(next_k)
            next_k += 1
        t0 = time.perf_counter()
        tracker.step(scan)
        step_s[math.floor(scan.t_s)] += time.perf_counter() - t0
        reports[scan.sensor] += len(scan)
    if next_k is not None and scans:
        while next_k <= scans[-1].t_s:
            tick(next_k)
            next_k += 1
    return summarise(n, seconds, ticks, step_s)


def summarise(n: int, seconds: float, ticks: list[dict[str, Any]],
              step_s: dict[int, float]) -> dict[str, Any]:
    """Per steady 1-s period: the tracker's steps in [k, k+1) and the tick at k."""
    steady = [t for t in ticks if t["tracks"] >= STEADY * n and t["k"] in step_s]
    if not steady:
        return {"targets": n, "seconds": seconds, "steady_periods": 0}
    tracker = np.array([step_s[t["k"]] for t in steady]) * 1e3
    assess = np.array([t["assess_s"] for t in steady]) * 1e3
    copy = np.array([t["confirmed_at_s"] for t in steady]) * 1e3
    names = sorted({p for t in steady for p in t["parts"]})
    part_ms = {p: round(float(np.mean([t["parts"].get(p, 0.0) for t in steady])) * 1e3, 3)
               for p in names}
    return {
        "targets": n, "seconds": seconds, "steady_periods": len(steady),
        "tracks_mean": round(float(np.mean([t["tracks"] for t in steady])), 1),
        "tracker_ms_mean": round(float(tracker.mean()), 2),
        "tracker_ms_max": round(float(tracker.max()), 1),
        "assess_ms_mean": round(float(assess.mean()), 2),
        "assess_ms_max": round(float(assess.max()), 2),
        "confirmed_at_ms_mean": round(float(copy.mean()), 2),
        "ratio": round(float(assess.mean() / tracker.mean()), 4),
        "ratio_max": round(float((assess / tracker).max()), 4),
        "assess_parts_ms_mean": part_ms,
    }


def markdown(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        f"`{meta['command']}` — {meta['machine']}, {meta['date']}, load {meta['load_avg_start']}",
        "",
        "| targets | s timed | steady periods | tracks | tracker ms / 1-s period (mean / max) "
        "| assess ms / tick (mean / max) | ratio (mean; worst period) | confirmed_at ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if not r.get("steady_periods"):
            lines.append(f"| {r['targets']} | {r['seconds']:g} | 0 | | | | | |")
            continue
        lines.append(
            f"| {r['targets']} | {r['seconds']:g} | {r['steady_periods']} | {r['tracks_mean']:.0f} "
            f"| {r['tracker_ms_mean']:.1f} / {r['tracker_ms_max']:.1f} "
            f"| {r['assess_ms_mean']:.2f} / {r['assess_ms_max']:.2f} "
            f"| {100 * r['ratio']:.1f} %; {100 * r['ratio_max']:.1f} % "
            f"| {r['confirmed_at_ms_mean']:.2f} |")
    lines += ["", "Parts of assess, ms per tick (mean over steady periods):", "",
              "| targets | " + " | ".join(PART_ORDER) + " |",
              "|---|" + "---|" * len(PART_ORDER)]
    for r in results:
        p = r.get("assess_parts_ms_mean", {})
        lines.append(f"| {r['targets']} | "
                     + " | ".join(f"{p.get(k, 0.0):.2f}" for k in PART_ORDER) + " |")
    return "\n".join(lines) + "\n"


PART_ORDER = ("class", "trust", "assess_zones", "swarm_eligible", "swarms", "threat_scores",
              "drone_decision", "conditions", "alerts", "sensor_health")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=sorted(SECONDS),
                        help="numbers of targets (default: 500 1000 5000)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="seconds of each run to time (default: 60, 20 at 5000)")
    args = parser.parse_args()
    meta = {
        "command": "python bench/assess_cost.py" + (
            f" --sizes {' '.join(map(str, args.sizes))}" if args.sizes != sorted(SECONDS) else "")
        + (f" --seconds {args.seconds:g}" if args.seconds else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}, NumPy {np.__version__}",
        "load_avg_start": round(os.getloadavg()[0], 2),
    }
    parts = Parts()
    instrument(parts)
    results = []
    for n in args.sizes:
        seconds = args.seconds or SECONDS.get(n, DURATION_S)
        print(f"{n} targets, {seconds:g} s...", flush=True)
        results.append(run(n, seconds, parts))
        print(json.dumps(results[-1]), flush=True)
    meta["load_avg_end"] = round(os.getloadavg()[0], 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "assess_cost.json").write_text(json.dumps({"meta": meta, "runs": results},
                                                         indent=1))
    md = markdown(results, meta)
    (RESULTS / "assess_cost.md").write_text(md)
    print()
    print(md)


if __name__ == "__main__":
    main()
