"""One tracker configuration on one simulated run, in a process of its own.

Run by ``bench/tracker_bench.py`` (one process per configuration, so that the
peak resident memory it reports is that configuration's)::

    .venv/bin/python bench/bench_worker.py JOB.json

``JOB.json``: ``{"config", "dir", "tracks", "result", "budget_s"}``; ``dir``
holds ``scenario.yaml``, ``measurements.jsonl`` and ``associations.jsonl``.
The worker reads every scan first (file I/O and parsing are not timed),
then feeds the scans in time order, timing only the tracker's step, and
writes ``tracks`` (tracks.jsonl, through skyfence's own TickWriter, between
timed steps) and ``result`` (JSON): per-step seconds, which steps were radar
scans, ``peak_rss_mb`` (VmHWM, the peak resident set of this process: interpreter,
libraries, the scans and the tracker), ``baseline_rss_mb`` (resident size
just before the first step) and a status: ``ok``, ``partial`` (stopped when
the tracker's own time passed ``budget_s``), ``skipped`` or ``error``.

Configurations: ``skyfence`` followed by option words — ``gnn``, ``jpda``
(association), ``bjpda`` (JPDA for bearings too), ``ncv``, ``imm`` (motion);
``TrackerParams``' defaults otherwise — on all sensors, or radar plots only
with a ``-radar`` suffix,
``clairvoyant`` / ``clairvoyant-radar`` (the reference, true associations),
and Stone Soup's ``ss-{gnn,jpda}-{ekf,ukf}`` (radar only; ``-exhaustive``
suffix: without the k-d tree, to check it drops nothing).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
import typing
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from skyfence.evaluate.clairvoyant import read_associations, scan_truth_ids
from skyfence.scenario import load_scenario
from skyfence.track_io import ScanReader, TickWriter
from skyfence.tracker import Tracker, TrackerParams
from skyfence.tracker.clairvoyant import ClairvoyantTracker

OPTIONS = {"gnn": ("association", "gnn"), "jpda": ("association", "jpda"),
           "ncv": ("motion", "ncv"), "imm": ("motion", "imm"),
           "bjpda": ("bearing_update", "jpda")}
"""Config word → the TrackerParams field and value it sets (skipped if absent)."""


def params_for(config: str) -> TrackerParams | str:
    """The skyfence parameters of a config, or why it cannot run here."""
    hints = typing.get_type_hints(TrackerParams)
    changes: dict[str, Any] = {}
    for word in config.split("-")[1:]:
        if word in OPTIONS:
            name, value = OPTIONS[word]
            if name not in hints or value not in typing.get_args(hints[name]):
                return f"skipped: TrackerParams has no {name}={value!r} in this checkout"
            changes[name] = value
    return TrackerParams(**changes)


def proc_status_mb(field: str) -> float:
    """A size from /proc/self/status (Linux), MB: VmRSS now, VmHWM the peak.

    VmHWM is the high-water mark of this process's own address space, which
    execve starts afresh; ``ru_maxrss`` is not: Linux carries it over from the
    forking parent (the bench, which grows as it scores), so it overstates."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def run(job: dict[str, Any]) -> dict[str, Any]:
    config, folder = job["config"], Path(job["dir"])
    radar_only = config.endswith("-radar") or config.startswith("ss-")
    params = params_for(config) if config.startswith("skyfence") else TrackerParams()
    if isinstance(params, str):
        return {"status": params}
    site = load_scenario(folder / "scenario.yaml")
    reader = ScanReader(site)
    specs = reader.specs
    with open(folder / "measurements.jsonl", "rb") as stream:
        scans = [s for s in reader.read(stream, "measurements.jsonl")
                 if not radar_only or specs[s.sensor].type == "radar"]
    step, source = _stepper(config, specs, params, scans, folder)
    times: list[float] = []
    radar: list[bool] = []
    status = "ok"
    baseline = proc_status_mb("VmRSS")
    with open(job["tracks"], "wb") as out:
        ticks = TickWriter(out, source, 1.0)
        for k, scan in enumerate(scans):
            ticks.start(scan.t_s)
            ticks.until(scan.t_s - 1e-9)
            arg = step.prepare(k, scan)  # conversions: not the tracker's time
            t0 = time.perf_counter()
            step(scan, arg)
            times.append(time.perf_counter() - t0)
            radar.append(specs[scan.sensor].type == "radar")
            if sum(times) > job.get("budget_s", float("inf")) and k + 1 < len(scans):
                status = "partial"
                break
        if times:
            ticks.until(scans[len(times) - 1].t_s)
    return {
        "status": status,
        "steps_total": len(scans),
        "radar_scans_total": sum(specs[s.sensor].type == "radar" for s in scans),
        "step_s": times,
        "step_is_radar": radar,
        "t_last_s": scans[len(times) - 1].t_s if times else None,
        "peak_rss_mb": proc_status_mb("VmHWM"),
        "baseline_rss_mb": baseline,
    }


class _Step:
    """Calls one tracker's step; ``prepare`` builds its per-scan argument untimed."""

    def __init__(self, fn: Any, prepare: Any = None) -> None:
        self.fn = fn
        self.prepare = prepare or (lambda k, scan: None)

    def __call__(self, scan: Any, arg: Any) -> None:
        self.fn(scan, arg)


def _stepper(config: str, specs: Any, params: TrackerParams, scans: list[Any],
             folder: Path) -> tuple[_Step, Any]:
    if config.startswith("skyfence"):
        tracker = Tracker(specs, params)
        return _Step(lambda scan, _: tracker.step(scan)), tracker
    if config.startswith("clairvoyant"):
        table = read_associations(folder / "associations.jsonl")
        ids = [scan_truth_ids(table, s, specs) for s in scans]
        ref = ClairvoyantTracker(specs, params)
        return _Step(ref.step, lambda k, scan: ids[k]), ref
    import stonesoup_configs as ssc  # Stone Soup only where asked for

    radars = [i for i, s in enumerate(specs) if s.type == "radar"]
    if len(radars) != 1:
        raise ValueError(f"Stone Soup runs need exactly one radar, this site has {len(radars)}")
    spec = specs[radars[0]]
    base = config.removesuffix("-exhaustive")
    tracker = ssc.build(base, spec, params, kd_tree=not config.endswith("-exhaustive"))
    source = ssc.StoneSoupSource(tracker, params)
    model = ssc.radar_model(spec)
    return _Step(source.step, lambda k, scan: ssc.detections(scan, model)), source


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    try:
        result = run(job)
    except Exception as exc:  # reported, not raised: the bench goes on
        result = {"status": f"error: {type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()}
    Path(job["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
