"""Simulator speed: one hour of a 200-target scenario with every sensor type.

Run: ``.venv/bin/python bench/sim_speed.py [--targets 200] [--duration 3600]``.
Prints one JSON object: wall time for the whole run to files and the split
between motion, sensors and writing (from a profile-free second pass that
only iterates the stream), plus what was written.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from skyfence.scenario.load import validate
from skyfence.sim.engine import simulate
from skyfence.sim.writer import write_simulation


def scenario_dict(n_targets: int, duration_s: float) -> dict[str, Any]:
    """A mixed scenario of ``n_targets``: 40 % swarm drones, 30 % birds, 20 % lone
    drones (half with RF, a quarter with Remote ID), 10 % ADS-B aircraft."""
    n_swarm = int(0.4 * n_targets)
    n_birds = int(0.3 * n_targets)
    n_aircraft = max(1, int(0.1 * n_targets))
    n_lone = n_targets - n_swarm - n_birds - n_aircraft
    targets: list[dict[str, Any]] = [
        {"type": "swarm", "count": n_swarm, "launch_interval_s": 2.0, "speed_mps": 35,
         "waypoints_enu_m": [[9000, 3000, 100], [0, 0, 80], [-9000, -3000, 100]],
         "end": "loiter", "loiter_radius_m": 800},
    ]
    for k in range(n_birds // 10 or 1):
        targets.append({"type": "bird_flock", "count": 10 if n_birds >= 10 else n_birds,
                        "center_enu_m": [-3000 + 700 * k, 2000 - 400 * k, 60],
                        "roam_radius_m": 700})
    for k in range(n_lone):
        a = 6.283 * k / max(n_lone, 1)
        targets.append({
            "type": "drone", "speed_mps": 15, "rf_link": k % 2 == 0,
            **({"remote_id": {}} if k % 4 == 0 else {}),
            "waypoints_enu_m": [[6000 * _cos(a), 6000 * _sin(a), 120],
                                [1500 * _cos(a), 1500 * _sin(a), 100]],
            "end": "loiter", "loiter_radius_m": 300,
        })
    for k in range(n_aircraft):
        targets.append({"type": "aircraft", "start_s": 30.0 * k, "speed_mps": 80,
                        "waypoints_enu_m": [[-60000, -5000 + 1000 * k, 3000],
                                            [60000, 5000 - 1000 * k, 3000]]})
    sensors = [
        {"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 15], "max_range_m": 12000,
         "clutter_per_scan": 50},
        {"id": "rf-1", "type": "rf", "position_enu_m": [2000, 2000, 10], "max_range_m": 8000},
        {"id": "rf-2", "type": "rf", "position_enu_m": [-2000, -2000, 10], "max_range_m": 8000},
        {"id": "acoustic-1", "type": "acoustic", "position_enu_m": [1500, 0, 3]},
        {"id": "acoustic-2", "type": "acoustic", "position_enu_m": [-1500, 0, 3]},
        {"id": "eoir-1", "type": "eoir", "position_enu_m": [0, 0, 20], "max_range_m": 4000},
        {"id": "adsb-1", "type": "adsb", "position_enu_m": [0, 0, 10]},
        {"id": "rid-1", "type": "remote_id", "position_enu_m": [0, 0, 10], "max_range_m": 3000},
    ]
    return {"name": f"bench-{n_targets}", "seed": 1, "duration_s": duration_s,
            "site": {"origin": {"lat": 52.0, "lon": 5.0, "alt_m": 0.0}},
            "sensors": sensors, "targets": targets}


def _cos(a: float) -> float:
    import math

    return math.cos(a)


def _sin(a: float) -> float:
    import math

    return math.sin(a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--duration", type=float, default=3600.0)
    args = parser.parse_args()
    scenario = validate(scenario_dict(args.targets, args.duration), "<bench>")
    t0 = time.perf_counter()
    n_steps = 0
    for _ in simulate(scenario):
        n_steps += 1
    stream_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        summary = write_simulation(scenario, Path(tmp))
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
    print(json.dumps({
        "targets": args.targets,
        "duration_s": args.duration,
        "stream_only_s": round(stream_s, 2),
        "to_files_s": summary["wall_s"],
        "measurements": summary["measurements"],
        "measurements_by_kind": summary["measurements_by_kind"],
        "truth_lines": summary["truth_lines"],
        "files_mb": round(size_mb, 1),
        "steps": n_steps,
        "machine": f"{platform.processor() or platform.machine()}, "
                   f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}",
    }, indent=2))


if __name__ == "__main__":
    main()
