"""How ambiguous is association on each bundled scenario, even with perfect tracks?

The clairvoyant reference (skyfence.tracker.clairvoyant) is the tracker's
filter fed the true associations: it never has to choose. This benchmark
asks how often *choosing* goes wrong when the tracks are the reference's own
(the best predictions a tracker could have): before each scan reaches the
reference, the scan is gated against the reference's tracks exactly as the
tracker gates, the tracker's GNN picks pairs, and each pick is checked
against ``associations.jsonl``. It also reports, for the ambiguity margins
of ``bearing_update="margin"`` (skyfence.tracker.ambiguity), how many of
the GNN's picks clear the margin and how many of those are right.

    .venv/bin/python bench/association_ambiguity.py            # the tracker bench's sizes
    .venv/bin/python bench/association_ambiguity.py --quick    # shorter runs

Prints a Markdown table (and writes bench/results/association_ambiguity.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from skyfence.evaluate.clairvoyant import read_associations, scan_truth_ids
from skyfence.track_io import ScanReader, open_inputs
from skyfence.tracker import TrackerParams, ambiguity, association
from skyfence.tracker.base import Detections, MeasurementModel
from skyfence.tracker.clairvoyant import ClairvoyantTracker
from skyfence.tracker.gating import gate, gate_threshold
from skyfence.tracker.sensors import SensorSpec, split_batches
from tracker_bench import FULL, QUICK, RESULTS, simulate

MARGINS_NATS = (1.0, 3.0, 6.0)


def tally(scan: Detections, spec: SensorSpec, truth: np.ndarray, ref: ClairvoyantTracker,
          models: dict[tuple[int, tuple[int, ...]], MeasurementModel], counts: Counter[str],
          params: TrackerParams) -> None:
    """Gate ``scan`` against the reference's tracks, pick by GNN, count right picks."""
    _, batches = split_batches(scan, spec, models)
    for batch in batches:
        z = scan.z[batch.rows][:, list(batch.components)]
        hyp = gate(ref.bank.x, ref.bank.P, z, batch.model,
                   gate_threshold(params.gate_probability, len(batch.components)))
        cost = association.pair_costs(hyp.log_likelihood, spec.pd,
                                      spec.clutter_density(batch.components, params))
        miss = np.full(len(ref.bank), association.miss_cost(spec.pd, params.gate_probability))
        chosen = association.gnn(hyp.track, hyp.meas, cost, miss)
        real = truth[batch.rows] != None  # noqa: E711  (object array)
        counts["reports"] += int(real.sum())
        per_meas = np.bincount(hyp.meas, minlength=len(batch.rows))
        counts["shared"] += int((real & (per_meas > 1)).sum())
        counts["picked"] += chosen.size
        counts["right"] += _right(ref, truth, batch.rows, hyp.track, hyp.meas, chosen)
        for margin in MARGINS_NATS:
            clear = ambiguity.clear_winners(hyp.track, hyp.meas, cost, chosen, margin)
            counts[f"clear{margin:g}"] += clear.size
            counts[f"right{margin:g}"] += _right(ref, truth, batch.rows, hyp.track, hyp.meas,
                                                 clear)


def _right(ref: ClairvoyantTracker, truth: np.ndarray, rows: np.ndarray, track: np.ndarray,
           meas: np.ndarray, chosen: np.ndarray) -> int:
    return int((ref.truth_id[track[chosen]] == truth[rows[meas[chosen]]]).sum())


def measure(folder: Path, params: TrackerParams) -> dict[str, Counter[str]]:
    """Per sensor type, the counts of :func:`tally` over the whole run."""
    site, path = open_inputs(folder / "scenario.yaml", folder / "measurements.jsonl", 1.0)
    reader = ScanReader(site)
    ref = ClairvoyantTracker(reader.specs, params)
    table = read_associations(folder / "associations.jsonl")
    models: dict[tuple[int, tuple[int, ...]], MeasurementModel] = {}
    out: dict[str, Counter[str]] = {}
    with path.open("rb") as stream:
        for scan in reader.read(stream, str(path)):
            spec = reader.specs[scan.sensor]
            truth = scan_truth_ids(table, scan, reader.specs)
            ref.predict(scan.t_s)
            if len(ref.bank) and not spec.cooperative:
                tally(scan, spec, truth, ref, models, out.setdefault(spec.type, Counter()),
                      params)
            ref.step(scan, truth)
    return out


def table(rows: list[tuple[str, str, Counter[str]]]) -> str:
    def pct(a: int, b: int) -> str:
        return f"{100.0 * a / b:.1f} %" if b else "–"

    head = ("| scenario | sensor | reports | in more than one gate | GNN picks right | "
            + " | ".join(f"clear {m:g} nats: share of picks, right" for m in MARGINS_NATS)
            + " |")
    lines = [head, "|" + "---|" * (5 + len(MARGINS_NATS))]
    for name, kind, c in rows:
        if c["reports"] == 0:  # nothing real to pick: clutter only
            continue
        cells = [name, kind, str(c["reports"]), pct(c["shared"], c["reports"]),
                 pct(c["right"], c["picked"])]
        cells += [f"{pct(c[f'clear{m:g}'], c['picked'])}, {pct(c[f'right{m:g}'], c[f'clear{m:g}'])}"
                  for m in MARGINS_NATS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the tracker bench's quick sizes")
    args = ap.parse_args()
    plan = QUICK if args.quick else FULL
    params = TrackerParams()
    rows: list[tuple[str, str, Counter[str]]] = []
    started = time.perf_counter()
    for name, overrides, _ in plan.scenarios:
        folder = simulate(name, overrides, fresh=False)
        label = name + (f" ({', '.join(overrides)})" if overrides else "")
        for kind, counts in sorted(measure(folder, params).items()):
            rows.append((label, kind, counts))
    text = table(rows)
    print(text)
    print(f"\n{time.perf_counter() - started:.0f} s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "association_ambiguity.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
