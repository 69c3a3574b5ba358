"""``skyfence demo``: simulate a bundled scenario, track it, score it, and say how it went."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skyfence.scenario import load_scenario
from skyfence.scenario.dump import dump_scenario
from skyfence.sim.writer import ASSOCIATIONS, MEASUREMENTS, TRUTH, write_simulation


def run_demo(scenario_name: str, out_dir: Path, overrides: Sequence[str] = ()) -> int:
    from skyfence.evaluate import evaluate
    from skyfence.track_io import run_track

    scenario = load_scenario(scenario_name, overrides)
    print(f"skyfence demo: {scenario.name}")
    for line in scenario.description.strip().splitlines():
        print(f"  {line}")
    t0 = time.perf_counter()
    sim = write_simulation(scenario, out_dir)
    dump_scenario(scenario, out_dir / "scenario.yaml")
    t1 = time.perf_counter()
    print(f"1/3 simulated {scenario.duration_s:g} s: {sim['truth_lines']} truth points, "
          f"{sim['measurements']} measurements ({_kinds(sim)}) in {t1 - t0:.1f} s")
    tracks_path = out_dir / "tracks.jsonl"
    alerts_path = out_dir / "alerts.jsonl"
    summary = run_track(scenario, out_dir / MEASUREMENTS, tracks_path, alerts_path, 1.0)
    t2 = time.perf_counter()
    print(f"2/3 tracked: {summary.get('tracks_confirmed', '?')} tracks confirmed from "
          f"{summary.get('measurements_used', '?')} measurements in {t2 - t1:.1f} s")
    result = evaluate(scenario, out_dir / TRUTH, tracks_path, alerts_path)
    (out_dir / "evaluation.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"3/3 evaluated in {time.perf_counter() - t2:.1f} s")
    print()
    for line in summary_lines(result):
        print(line)
    print()
    print(f"Files in {out_dir}/: {TRUTH}, {MEASUREMENTS}, {ASSOCIATIONS}, tracks.jsonl, "
          "alerts.jsonl, evaluation.json, scenario.yaml")
    return 0


def _kinds(sim: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sim["measurements_by_kind"].items())


def summary_lines(result: dict[str, Any]) -> list[str]:
    """A few plain sentences from an evaluation result."""
    g = result["gospa"]
    if g["mean"] is None:
        return ["Nothing to score: no truth ticks."]
    ident = result["identity"]
    ttt = result["time_to_track"]
    lines = [
        f"Mean GOSPA {g['mean']:.1f} m (c = {g['c_m']:g} m, p = 2; 0 is perfect, one target "
        f"missed alone scores {(g['c_m'] ** 2 / 2) ** 0.5:.0f} m). Parts, in m² before the root: "
        f"localisation {g['localisation_mean']:.0f}, missed {g['missed_mean']:.0f}, "
        f"false {g['false_mean']:.0f}.",
        f"Identity: {ident['id_switches']} ID switches, {ident['fragmentations']} "
        "fragmentations.",
    ]
    if ttt["tracked"]:
        lines.append(
            f"{ttt['tracked']} targets tracked, {ttt['never_tracked']} detected but never "
            f"tracked; from first detection to confirmed track: median {ttt['median_s']:.1f} s, "
            f"worst {ttt['max_s']:.1f} s."
        )
    else:
        lines.append(f"No target was tracked ({ttt['never_tracked']} were detected).")
    lines.extend(_assessment_lines(result))
    return lines


def _assessment_lines(result: dict[str, Any]) -> list[str]:
    """Classification, alert lead time, false alerts and swarm alerts, when scored."""
    out = []
    rates = result.get("classification", {}).get("rates_aged", {})
    if rates.get("drone_as_drone") is not None:
        out.append(f"Classification (tracks 10 s and older): {100 * rates['drone_as_drone']:.1f} % "
                   "of drone track-time called drone"
                   + (f", {100 * rates['bird_as_drone']:.2f} % of bird track-time called drone."
                      if rates.get("bird_as_drone") is not None else "."))
    lead = result.get("alert_lead_time", {})
    if lead.get("drones"):
        out.append(f"{lead['drones']} drones entered a critical zone, {lead['alerted_in_time']} "
                   f"alerted before it; median warning {lead['median_s']:.0f} s.")
    false = result.get("false_alerts", {})
    if false.get("alerts_given"):
        out.append(f"False alerts: {false['count']} ({false['per_hour']:.1f} per hour).")
    swarms = result.get("swarms", {})
    for s in swarms.get("per_swarm", []):
        out.append(f"Swarm {s['swarm']} ({s['count']} drones): {s['alerts']} swarm alert(s), "
                   f"naming up to {s['size_peak']}.")
    return out
