"""Tracker benchmark (issue 3, item 10): skyfence vs Stone Soup vs the clairvoyant reference.

One command::

    .venv/bin/python bench/tracker_bench.py            # full: ~30-40 min on 2 cores
    .venv/bin/python bench/tracker_bench.py --quick    # small sizes: a few minutes

For every scenario it simulates once (or reuses ``bench/results/sims/``) and
runs every configuration on the SAME measurement files, each in a process
of its own (``bench/bench_worker.py``), then scores each tracks.jsonl with
:func:`skyfence.evaluate.evaluate`. Configurations:

- ``skyfence-gnn``, ``skyfence-jpda``, ``skyfence-jpda-bjpda`` (JPDA for
  bearings too), ``skyfence-gnn-ncv`` (one nearly-constant-velocity model
  instead of the default motion model): the tracker on every sensor, with
  ``TrackerParams``' defaults except what the name says (each option only
  where ``TrackerParams`` has it; otherwise "skipped");
- ``skyfence-gnn-radar``, ``skyfence-jpda-radar``: radar plots only, the
  like-for-like rows against Stone Soup;
- ``clairvoyant`` / ``clairvoyant-radar``: the same filter (default
  ``TrackerParams``) fed the true associations
  (``skyfence.tracker.clairvoyant``), the practical lower bound;
- ``ss-gnn-ekf``, ``ss-gnn-ukf``, ``ss-jpda-ekf``, ``ss-jpda-ukf``: Stone
  Soup on the radar plots only (``bench/stonesoup_configs.py`` says how and why).

Reported per run: mean GOSPA (c = 100 m, p = 2, α = 2) and its parts (m²,
before the root), ID switches, fragmentations, ms per scan — the tracker's
own time (file reading, parsing and writing excluded) summed over each 1-s
radar period, so for all-sensor runs it includes the passive and
cooperative reports of that second — mean and max, and peak memory:
VmHWM of the worker process (its peak resident set: interpreter,
NumPy/SciPy/Stone Soup, the scans held in memory and the tracker; not
``ru_maxrss``, which Linux carries over from the forking parent), with the resident size just
before the first scan beside it. Stone Soup runs stop when their tracker time passes
a budget ("partial"): their GOSPA is then scored over the span they finished,
and so is skyfence's for comparison (``span`` in the JSON).

Output: ``bench/results/tracker_bench[-quick].json``, the markdown tables
(printed and in ``.md`` beside the JSON), and two PNGs (``docs/img/`` for a
full run, ``bench/results/`` for ``--quick``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skyfence.evaluate import evaluate
from skyfence.scenario import load_scenario
from skyfence.sim.writer import write_simulation

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
SNAPSHOT = RESULTS / "code"
"""A copy of src/skyfence taken at the start: every worker imports it (PYTHONPATH), so
a run measures one version of the tracker even while the working tree changes."""

SKYFENCE = ("skyfence-gnn", "skyfence-jpda", "skyfence-jpda-bjpda", "skyfence-gnn-ncv",
            "skyfence-gnn-radar", "skyfence-jpda-radar", "clairvoyant", "clairvoyant-radar")
STONESOUP = ("ss-gnn-ekf", "ss-gnn-ukf", "ss-jpda-ekf", "ss-jpda-ukf")
SWEEP_SKYFENCE = ("skyfence-gnn", "skyfence-jpda", "skyfence-gnn-radar", "clairvoyant",
                  "clairvoyant-radar")
SWEEP_LARGE = ("skyfence-gnn", "skyfence-jpda", "clairvoyant")
"""Above 1000 targets (each run takes minutes): the all-sensor rows only."""
SWEEP_SET = ("targets.0.launch_interval_s=0", "targets.0.spacing_m=200",
             "targets.0.waypoints_enu_m=[[3000,0,120],[-9000,0,120]]")
"""The sweep's swarm: all N airborne at t = 0 in a disc (mean spacing ~180 m)
that lies inside the 12 km radar coverage even at 5000."""
SPAN_REFERENCE = "skyfence-gnn-radar"
"""A partial Stone Soup run is compared with this over the span it finished."""


@dataclass(frozen=True)
class Plan:
    # name, --set overrides, {Stone Soup config: its tracker-time budget (s)}
    scenarios: tuple[tuple[str, tuple[str, ...], dict[str, float]], ...]
    sweep: tuple[int, ...]
    sweep_duration_s: float
    ss_sweep: dict[str, int] = field(default_factory=dict)  # SS config → largest N it runs
    ss_sweep_budget_s: float = 120.0
    check_duration_s: float = 8.0  # the k-d tree check's run


FULL = Plan(
    # budgets: about what each needs to finish on a quiet 2-core machine, less where
    # one scan already takes tens of seconds (JPDA among bird flocks)
    scenarios=(
        ("night-swarm", (), {"ss-gnn-ekf": 300, "ss-gnn-ukf": 270, "ss-jpda-ekf": 300,
                             "ss-jpda-ukf": 240}),
        ("airport-mixed", ("duration_s=300",), {"ss-gnn-ekf": 180, "ss-gnn-ukf": 220,
                                                "ss-jpda-ekf": 120, "ss-jpda-ukf": 60}),
        ("birds-only", ("duration_s=300",), {"ss-gnn-ekf": 240, "ss-jpda-ekf": 60}),
        ("dense-swarm", ("targets.0.count=100", "duration_s=60"), {"ss-gnn-ekf": 180,
                                                                   "ss-jpda-ekf": 180}),
    ),
    sweep=(10, 100, 500, 1000, 5000), sweep_duration_s=60.0,
    ss_sweep={"ss-gnn-ekf": 500, "ss-jpda-ekf": 10}, ss_sweep_budget_s=120.0,
)
QUICK = Plan(
    scenarios=(
        ("night-swarm", ("targets.0.count=4", "duration_s=240"), {"ss-gnn-ekf": 15,
                                                                  "ss-jpda-ekf": 15}),
        ("airport-mixed", ("duration_s=60",), {"ss-gnn-ekf": 15, "ss-jpda-ekf": 15}),
        ("birds-only", ("duration_s=60",), {"ss-gnn-ekf": 15}),
        ("dense-swarm", ("targets.0.count=30", "duration_s=40"), {"ss-gnn-ekf": 15}),
    ),
    sweep=(10, 100), sweep_duration_s=20.0,
    ss_sweep={"ss-gnn-ekf": 10}, ss_sweep_budget_s=15.0, check_duration_s=6.0,
)


# ------------------------------------------------------------------ simulation
def simulate(name: str, overrides: tuple[str, ...], fresh: bool) -> Path:
    """Simulate ``name`` with ``overrides`` once; later runs reuse the files."""
    key = hashlib.sha1("\n".join((name, *overrides)).encode()).hexdigest()[:10]
    folder = RESULTS / "sims" / f"{name}-{key}"
    done = folder / "summary.json"
    if done.is_file() and not fresh:
        return folder
    scenario = load_scenario(name, overrides)
    summary = write_simulation(scenario, folder)
    (folder / "scenario.yaml").write_text(_scenario_yaml(name, overrides))
    done.write_text(json.dumps({**summary, "overrides": list(overrides)}, indent=1))
    return folder


def _scenario_yaml(name: str, overrides: tuple[str, ...]) -> str:
    from skyfence.scenario.dump import dump_scenario  # the same file `simulate` writes

    scenario = load_scenario(name, overrides)
    tmp = RESULTS / "sims" / ".scenario.yaml"
    dump_scenario(scenario, tmp)
    text = tmp.read_text()
    tmp.unlink()
    return text


# ------------------------------------------------------------------ one run
def run_config(folder: Path, config: str, budget_s: float | None) -> dict[str, Any]:
    """Run ``config`` on ``folder``'s measurements in a worker; score it."""
    runs = folder / "runs"
    runs.mkdir(exist_ok=True)
    tracks, result = runs / f"{config}.tracks.jsonl", runs / f"{config}.result.json"
    job = {"config": config, "dir": str(folder), "tracks": str(tracks), "result": str(result),
           "budget_s": budget_s if budget_s is not None else math.inf}
    job_path = runs / f"{config}.job.json"
    job_path.write_text(json.dumps(job))
    result.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    timeout = 2 * (budget_s or 600.0) + 300.0
    try:
        subprocess.run([PY, str(ROOT / "bench" / "bench_worker.py"), str(job_path)],
                       timeout=timeout, check=False, cwd=ROOT, env=_worker_env())
    except subprocess.TimeoutExpired:
        return {"status": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - started
    if not result.is_file():
        return {"status": "error: the worker wrote no result"}
    raw = json.loads(result.read_text())
    out: dict[str, Any] = {"status": raw["status"], "wall_s": round(wall, 1),
                           "load_avg_1min": round(load, 2)}
    if "step_s" not in raw:
        if "traceback" in raw:
            out["traceback"] = raw["traceback"]
        return out
    out.update(_timing(raw))
    if raw["status"] == "ok":
        out.update(_score(folder, tracks))
    elif raw["status"] == "partial" and raw["t_last_s"] is not None:
        out["span_t_s"] = raw["t_last_s"]
        out.update(_score(folder, tracks, raw["t_last_s"]))
    if config != SPAN_REFERENCE:
        tracks.unlink(missing_ok=True)
    return out


def _worker_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SNAPSHOT)}


def snapshot_code() -> dict[str, Any]:
    """Copy src/skyfence for the workers; say which commit it is and whether it differs."""
    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    shutil.copytree(ROOT / "src" / "skyfence", SNAPSHOT / "skyfence",
                    ignore=shutil.ignore_patterns("__pycache__"))

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        return done.stdout.strip()

    from skyfence.tracker import TrackerParams

    p = TrackerParams()
    defaults = {k: getattr(p, k) for k in ("motion", "association", "bearing_update",
                                           "radar_update", "passive_initiation")
                if hasattr(p, k)}
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "src_modified": bool(git("status", "--porcelain", "--", "src")),
            "tracker_defaults": defaults}


def _timing(raw: dict[str, Any]) -> dict[str, Any]:
    steps = np.asarray(raw["step_s"], dtype=float)
    radar = np.asarray(raw["step_is_radar"], dtype=bool)
    period = np.maximum(np.cumsum(radar) - 1, 0)  # steps before the first radar scan: period 0
    per_scan = np.bincount(period, weights=steps) * 1e3 if steps.size else np.zeros(1)
    return {
        "scans_done": int(radar.sum()),
        "scans_total": raw["radar_scans_total"],
        "ms_per_scan_mean": round(float(per_scan.mean()), 2),
        "ms_per_scan_max": round(float(per_scan.max()), 1),
        "ms_per_step_mean": round(float(steps.mean() * 1e3), 3) if steps.size else None,
        "tracker_s": round(float(steps.sum()), 2),
        "peak_rss_mb": round(raw["peak_rss_mb"], 1),
        "baseline_rss_mb": round(raw["baseline_rss_mb"], 1),
    }


def _score(folder: Path, tracks: Path, until_s: float | None = None) -> dict[str, Any]:
    truth = folder / "truth.jsonl"
    if until_s is not None:
        truth = _truth_until(folder, until_s)
    r = evaluate(folder / "scenario.yaml", truth, tracks)
    g = r["gospa"]
    return {
        "gospa": {k: None if g[k] is None else round(g[k], 2)
                  for k in ("mean", "localisation_mean", "missed_mean", "false_mean")},
        "id_switches": r["identity"]["id_switches"],
        "fragmentations": r["identity"]["fragmentations"],
        "track_ids": r["counts"]["track_ids"],
    }


def _truth_until(folder: Path, until_s: float) -> Path:
    """truth.jsonl cut at ``until_s`` (associations beside it, for time to track)."""
    span = folder / f"span-{until_s:g}"
    span.mkdir(exist_ok=True)
    out = span / "truth.jsonl"
    if not out.is_file():
        with open(folder / "truth.jsonl", "rb") as f, open(out, "wb") as g:
            for line in f:
                if json.loads(line)["t"] <= until_s + 1e-6:
                    g.write(line)
    return out


# ------------------------------------------------------------------ the plan
@dataclass
class Job:
    group: str  # "scenario" or "sweep"
    label: str  # scenario name or target count
    folder: Path
    config: str
    budget_s: float | None
    note: str = ""


def jobs_for(plan: Plan, folders: dict[str, Path], sweep: dict[int, Path]) -> list[Job]:
    jobs = []
    for name, _, ss_budgets in plan.scenarios:
        jobs += [Job("scenario", name, folders[name], c, b) for c, b in ss_budgets.items()]
        jobs += [Job("scenario", name, folders[name], c, None) for c in SKYFENCE]
    for n, folder in sweep.items():
        jobs += [Job("sweep", str(n), folder, c, plan.ss_sweep_budget_s)
                 for c, largest in plan.ss_sweep.items() if n <= largest]
        configs = SWEEP_SKYFENCE if n <= 1000 else SWEEP_LARGE
        jobs += [Job("sweep", str(n), folder, c, None) for c in configs]
    return jobs


def execute(jobs: list[Job], workers: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Longest first (Stone Soup by budget, then the big sweeps), ``workers`` at a time."""
    order = sorted(jobs, key=lambda j: (-(j.budget_s or 0), j.group != "sweep",
                                        -int(j.label) if j.group == "sweep" else 0))
    results: dict[tuple[str, str, str], dict[str, Any]] = {}

    def one(job: Job) -> None:
        out = run_config(job.folder, job.config, job.budget_s)
        results[(job.group, job.label, job.config)] = out
        g = out.get("gospa", {}).get("mean")
        print(f"  {job.group:8s} {job.label:14s} {job.config:20s} {out['status'][:40]:40s} "
              f"GOSPA {g if g is not None else '-':>8} "
              f"ms/scan {out.get('ms_per_scan_mean', '-')}", flush=True)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, order))
    return results


def add_span_references(results: dict[tuple[str, str, str], dict[str, Any]],
                        folders: dict[tuple[str, str], Path]) -> None:
    """Each partial Stone Soup run gets SPAN_REFERENCE scored over the span it finished."""
    for (group, label, config), out in results.items():
        if config.startswith("ss-") and "span_t_s" in out:
            tracks = folders[(group, label)] / "runs" / f"{SPAN_REFERENCE}.tracks.jsonl"
            if tracks.is_file():
                out["span_reference"] = {"config": SPAN_REFERENCE, **_score(
                    folders[(group, label)], tracks, out["span_t_s"])}
    for folder in set(folders.values()):
        (folder / "runs" / f"{SPAN_REFERENCE}.tracks.jsonl").unlink(missing_ok=True)


# ------------------------------------------------------------------ checks
def stonesoup_checks(folder: Path) -> dict[str, Any]:
    """The angle conversion (noiseless round trip) and the k-d tree (same GOSPA as the
    exhaustive associator) on a small run."""
    sys.path.insert(0, str(ROOT / "bench"))
    import stonesoup_configs as ssc
    from skyfence.tracker import sensor_specs

    specs = sensor_specs(load_scenario(folder / "scenario.yaml"))
    radar = next(s for s in specs if s.type == "radar")
    check: dict[str, Any] = {"round_trip_max_abs_error": ssc.check_round_trip(radar)}
    for config in ("ss-gnn-ekf", "ss-jpda-ekf"):
        tree = run_config(folder, config, None)
        full = run_config(folder, f"{config}-exhaustive", None)
        check[config] = {
            "kd_tree_gospa": tree.get("gospa"), "exhaustive_gospa": full.get("gospa"),
            "same": tree.get("gospa") == full.get("gospa") and tree.get("gospa") is not None,
            "kd_tree_ms_per_scan": tree.get("ms_per_scan_mean"),
            "exhaustive_ms_per_scan": full.get("ms_per_scan_mean"),
        }
    return check


# ------------------------------------------------------------------ report
SENSORS = {True: "radar", False: "all"}


def _sensors(config: str) -> str:
    return SENSORS[config.startswith("ss-") or config.endswith("-radar")]


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".replace(",", " ")
    return str(value)


def scenario_table(runs: dict[str, dict[str, Any]]) -> list[str]:
    head = ("| configuration | sensors | GOSPA (m) | localisation (m²) | missed (m²) | false (m²) "
            "| ID switches | fragmentations | ms/scan mean | ms/scan max | peak RSS MB "
            "(before run) | status |")
    lines = [head, "|" + "---|" * 12]
    for config, r in runs.items():
        g = r.get("gospa") or {}
        mark = " †" if "span_t_s" in r else ""
        status = r["status"] if "span_t_s" not in r else (
            f"partial: {r['scans_done']}/{r['scans_total']} scans, scored to t = "
            f"{r['span_t_s']:g} s (skyfence-gnn-radar there: "
            f"{_f((r.get('span_reference') or {}).get('gospa', {}).get('mean'))} m)")
        mem = (f"{_f(r.get('peak_rss_mb'), 0)} ({_f(r.get('baseline_rss_mb'), 0)})"
               if "peak_rss_mb" in r else "–")
        lines.append(
            f"| {config} | {_sensors(config)} | {_f(g.get('mean'))}{mark} "
            f"| {_f(g.get('localisation_mean'), 0)} | {_f(g.get('missed_mean'), 0)} "
            f"| {_f(g.get('false_mean'), 0)} | {_f(r.get('id_switches'))} "
            f"| {_f(r.get('fragmentations'))} | {_f(r.get('ms_per_scan_mean'), 2)} "
            f"| {_f(r.get('ms_per_scan_max'), 1)} | {mem} | {status} |")
    return lines


def sweep_table(sweep: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| targets | radar plots/scan | configuration | sensors | GOSPA (m) | missed (m²) "
             "| false (m²) | ID switches | ms/scan mean | ms/scan max | peak RSS MB | status |",
             "|" + "---|" * 12]
    for n, entry in sweep.items():
        plots = entry["radar_plots_per_scan"]
        for config, r in entry["runs"].items():
            g = r.get("gospa") or {}
            mark = " †" if "span_t_s" in r else ""
            status = r["status"]
            if "span_t_s" in r:
                ref = (r.get("span_reference") or {}).get("gospa", {}).get("mean")
                status = (f"partial: {r['scans_done']}/{r['scans_total']} scans in the "
                          f"budget; GOSPA to t = {r['span_t_s']:g} s (skyfence-gnn-radar "
                          f"there: {_f(ref)} m)")
            lines.append(
                f"| {n} | {plots:.0f} | {config} | {_sensors(config)} | {_f(g.get('mean'))}{mark} "
                f"| {_f(g.get('missed_mean'), 0)} | {_f(g.get('false_mean'), 0)} "
                f"| {_f(r.get('id_switches'))} | {_f(r.get('ms_per_scan_mean'), 2)} "
                f"| {_f(r.get('ms_per_scan_max'), 1)} | {_f(r.get('peak_rss_mb'), 0)} "
                f"| {status} |")
    return lines


def target_checks(report: dict[str, Any]) -> list[str]:
    """The issue's targets, read off the tables (numbers only; the reader judges)."""
    out = []
    for name, entry in report["scenarios"].items():
        runs = entry["runs"]
        ss = {c: r["gospa"]["mean"] for c, r in runs.items()
              if c.startswith("ss-") and r.get("status") == "ok" and r.get("gospa")}
        best_ss = min(ss.items(), key=lambda kv: kv[1]) if ss else None
        sky = {c: r["gospa"]["mean"] for c, r in runs.items()
               if c.startswith("skyfence") and r.get("status") == "ok" and r.get("gospa")}
        ref = {c: r["gospa"]["mean"] for c, r in runs.items()
               if c.startswith("clairvoyant") and r.get("status") == "ok" and r.get("gospa")}
        parts = [f"**{name}**:"]
        if best_ss:
            parts.append(f"best Stone Soup {best_ss[0]} {best_ss[1]:.1f} m;")
        for c, g in sorted(sky.items(), key=lambda kv: kv[1]):
            cv = ref.get("clairvoyant-radar" if c.endswith("-radar") else "clairvoyant")
            rel = f" ({100 * (g / cv - 1):+.0f} % vs clairvoyant)" if cv else ""
            parts.append(f"{c} {g:.1f} m{rel};")
        out.append(" ".join(parts))
    sweep = report["sweep"]
    for n in ("500", "1000"):
        runs = sweep.get(n, {}).get("runs", {})
        ss, sky = runs.get("ss-gnn-ekf", {}), runs.get("skyfence-gnn-radar", {})
        if ss.get("ms_per_scan_mean") and sky.get("ms_per_scan_mean"):
            out.append(f"**{n} targets**: Stone Soup GNN-EKF {ss['ms_per_scan_mean']:.0f} ms/scan "
                       f"vs skyfence GNN radar-only {sky['ms_per_scan_mean']:.1f} ms/scan: "
                       f"{ss['ms_per_scan_mean'] / sky['ms_per_scan_mean']:.0f}× faster.")
        all_s = runs.get("skyfence-gnn", {})
        if all_s.get("ms_per_scan_mean"):
            out.append(f"**{n} targets**, skyfence GNN all sensors: mean "
                       f"{all_s['ms_per_scan_mean']:.1f} ms/scan, max "
                       f"{all_s['ms_per_scan_max']:.0f} ms, peak RSS "
                       f"{all_s['peak_rss_mb']:.0f} MB.")
    return out


def plots(report: dict[str, Any], folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    sweep = report["sweep"]
    configs = sorted({c for e in sweep.values() for c in e["runs"]})
    written = []
    for key, ylabel, fname, logy in (
        ("gospa", "mean GOSPA (m), c = 100 m", "tracker_scaling_gospa.png", True),
        ("ms", "tracker time per 1-s radar scan (ms)", "tracker_scaling_time.png", True),
    ):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for config in configs:
            xs, ys, partial = [], [], []
            for n, entry in sweep.items():
                r = entry["runs"].get(config, {})
                y = (r.get("gospa") or {}).get("mean") if key == "gospa" else r.get(
                    "ms_per_scan_mean")
                if y is None or (key == "gospa" and r.get("status") != "ok"):
                    continue
                xs.append(int(n))
                ys.append(y)
                partial.append(r.get("status") != "ok")
            if not xs:
                continue
            style = "--" if config.startswith("ss-") else "-"
            line, = ax.plot(xs, ys, style, marker="o", label=config)
            for x, y, p in zip(xs, ys, partial, strict=True):
                if p:
                    ax.plot([x], [y], marker="o", mfc="white", color=line.get_color())
        ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("targets (dense swarm, 100 clutter plots per radar scan)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title("skyfence vs Stone Soup" + (" (hollow: partial run, the scans it did)"
                                                  if key == "ms" else " (complete runs)"))
        fig.tight_layout()
        fig.savefig(folder / fname, dpi=110)
        plt.close(fig)
        written.append(str(folder / fname))
    return written


def markdown(report: dict[str, Any]) -> str:
    m = report["meta"]
    c = report["stonesoup_checks"]
    lines = [
        f"Command: `{m['command']}` — {m['date']}, {m['machine']}, Stone Soup "
        f"{m['stonesoup']}; {m['jobs']} configurations at a time; load average "
        f"{m['load_avg_start']} at start, {m.get('load_avg_end', '?')} at the end; "
        f"{m.get('wall_s', 0) / 60:.0f} min. skyfence at commit {m['commit']}"
        f"{' with uncommitted changes in src/' if m['src_modified'] else ''}; tracker "
        f"defaults: " + ", ".join(f"{k}={v}" for k, v in m["tracker_defaults"].items())
        + ".", "",
        "ms/scan: the tracker's own time (no file I/O) per 1-s radar period, the passive "
        "and cooperative reports of that second included for all-sensor rows. Peak RSS: "
        "VmHWM of the configuration's own process (Python, libraries and the scans held "
        "in memory included; the resident size before the first scan in brackets). "
        "GOSPA parts are means over ticks before the root (m²). † a Stone Soup run "
        "stopped at its time budget: scored over the span it finished, with skyfence "
        "radar-only GNN over the same span beside it.", "",
        f"Stone Soup checks: radar conversion round trip max error "
        f"{c['round_trip_max_abs_error']:.1e}; k-d tree candidate search gives the same "
        f"GOSPA as the exhaustive associator: GNN {c['ss-gnn-ekf']['same']}, JPDA "
        f"{c['ss-jpda-ekf']['same']} ({c['ss-gnn-ekf']['kd_tree_ms_per_scan']:.0f} vs "
        f"{c['ss-gnn-ekf']['exhaustive_ms_per_scan']:.0f} ms/scan for GNN).", ""]
    for name, entry in report["scenarios"].items():
        over = ", ".join(entry["overrides"]) or "as bundled"
        lines += [f"### {name} ({over}; {entry['targets']} targets, "
                  f"{entry['radar_plots_per_scan']:.0f} radar plots per scan)", ""]
        lines += [*scenario_table(entry["runs"]), ""]
    lines += ["### Scaling sweep (dense-swarm, " + ", ".join(report["sweep_overrides"]) + ")",
              ""]
    lines += [*sweep_table(report["sweep"]), ""]
    lines += ["### Against the targets", ""] + [f"- {x}" for x in target_checks(report)]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main
def _radar_plots_per_scan(folder: Path) -> float:
    s = json.loads((folder / "summary.json").read_text())
    radar = s["measurements_by_kind"].get("radar", 0)
    return radar / max(s["duration_s"] + 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument("--jobs", type=int, default=2, help="workers at a time (default 2)")
    parser.add_argument("--resimulate", action="store_true", help="do not reuse simulations")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    tag = "tracker_bench-quick" if args.quick else "tracker_bench"
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    import stonesoup

    meta = {
        "command": ".venv/bin/python bench/tracker_bench.py" + (" --quick" if args.quick else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "stonesoup": stonesoup.__version__,
        "load_avg_start": round(os.getloadavg()[0], 2),
        "jobs": args.jobs,
        **snapshot_code(),
    }
    print(f"simulating ({'quick' if args.quick else 'full'} plan)...", flush=True)
    folders = {name: simulate(name, over, args.resimulate) for name, over, _ in plan.scenarios}
    sweep_set = (*SWEEP_SET, f"duration_s={plan.sweep_duration_s:g}")
    sweep = {n: simulate("dense-swarm", (f"targets.0.count={n}", *sweep_set), args.resimulate)
             for n in plan.sweep}
    print("checking the Stone Soup conversion and k-d tree...", flush=True)
    small = simulate("dense-swarm", ("targets.0.count=10", *SWEEP_SET,
                                     f"duration_s={plan.check_duration_s:g}"), args.resimulate)
    checks = stonesoup_checks(small)
    jobs = jobs_for(plan, folders, sweep)
    print(f"running {len(jobs)} configurations, {args.jobs} at a time...", flush=True)
    results = execute(jobs, args.jobs)
    where = {("scenario", n): f for n, f in folders.items()}
    where.update({("sweep", str(n)): f for n, f in sweep.items()})
    add_span_references(results, where)
    report: dict[str, Any] = {"meta": meta, "stonesoup_checks": checks, "scenarios": {},
                              "sweep": {}, "sweep_overrides": list(sweep_set)}
    for name, over, _ in plan.scenarios:
        entry = _entry(folders[name], over, results, "scenario", name, (*STONESOUP, *SKYFENCE))
        for config in STONESOUP:
            entry["runs"].setdefault(config, {"status": "not run: Stone Soup time budget of "
                                                        "this plan (see the runs above)"})
        report["scenarios"][name] = entry
    for n in plan.sweep:
        configs = (*plan.ss_sweep, *(SWEEP_SKYFENCE if n <= 1000 else SWEEP_LARGE))
        entry = _entry(sweep[n], (f"targets.0.count={n}", *sweep_set), results, "sweep",
                       str(n), configs)
        for config, largest in plan.ss_sweep.items():
            if config not in entry["runs"]:
                at = results.get(("sweep", str(largest), config), {}).get("ms_per_scan_mean")
                why = "skipped: too slow"
                if at:
                    why += f" ({at / 1e3:.1f} s per scan at {largest} targets)"
                entry["runs"][config] = {"status": why}
        report["sweep"][str(n)] = entry
    meta["wall_s"] = round(time.perf_counter() - started, 1)
    meta["load_avg_end"] = round(os.getloadavg()[0], 2)
    img = RESULTS if args.quick else ROOT / "docs" / "img"
    report["plots"] = plots(report, img)
    (RESULTS / f"{tag}.json").write_text(json.dumps(report, indent=1))
    md = markdown(report)
    (RESULTS / f"{tag}.md").write_text(md)
    print()
    print(md)
    print(f"Stone Soup checks: {json.dumps(checks)}")
    print(f"wrote {RESULTS / (tag + '.json')}, {RESULTS / (tag + '.md')}, "
          f"{', '.join(report['plots'])} in {meta['wall_s']:.0f} s")


def _entry(folder: Path, overrides: tuple[str, ...], results: dict[tuple[str, str, str], Any],
           group: str, label: str, configs: tuple[str, ...]) -> dict[str, Any]:
    summary = json.loads((folder / "summary.json").read_text())
    return {
        "overrides": list(overrides),
        "folder": str(folder.relative_to(ROOT)),
        "targets": summary["targets_detected"],
        "measurements": summary["measurements_by_kind"],
        "radar_plots_per_scan": _radar_plots_per_scan(folder),
        "runs": {c: results[(group, label, c)] for c in configs
                 if (group, label, c) in results},
    }


if __name__ == "__main__":
    main()
