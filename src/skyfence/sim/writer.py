"""Write a simulation to files: truth.jsonl, measurements.jsonl, associations.jsonl.

``associations.jsonl`` has one line per measurement line, in the same order:
``{"t", "sensor", "id"}`` where ``id`` is the truth target that made the
measurement, or null for clutter. Only scorers and clairvoyant references
read it; a tracker never does.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec

from skyfence.errors import UserError
from skyfence.scenario.model import Scenario
from skyfence.sim.engine import simulate

TRUTH = "truth.jsonl"
MEASUREMENTS = "measurements.jsonl"
ASSOCIATIONS = "associations.jsonl"


def write_simulation(scenario: Scenario, out_dir: Path) -> dict[str, Any]:
    """Run the scenario and write its files; returns a summary."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{out_dir}: cannot create output directory: {exc}") from None
    encoder = msgspec.json.Encoder()
    started = time.perf_counter()
    per_kind: Counter[str] = Counter()
    n_truth = n_clutter = 0
    targets_seen: set[str] = set()
    with (
        open(out_dir / TRUTH, "wb") as truth_f,
        open(out_dir / MEASUREMENTS, "wb") as meas_f,
        open(out_dir / ASSOCIATIONS, "wb") as assoc_f,
    ):
        for step in simulate(scenario):
            if step.truth:
                truth_f.write(_lines(encoder, step.truth))
                n_truth += len(step.truth)
            if not step.measurements:
                continue
            meas_f.write(_lines(encoder, step.measurements))
            assoc = [
                {"t": m["t"], "sensor": m["sensor"], "id": src}
                for m, src in zip(step.measurements, step.sources, strict=True)
            ]
            assoc_f.write(_lines(encoder, assoc))
            per_kind.update(m["kind"] for m in step.measurements)
            n_clutter += sum(src is None for src in step.sources)
            targets_seen.update(s for s in step.sources if s is not None)
    elapsed = time.perf_counter() - started
    return {
        "scenario": scenario.name,
        "out": str(out_dir),
        "duration_s": scenario.duration_s,
        "truth_lines": n_truth,
        "measurements": sum(per_kind.values()),
        "measurements_by_kind": dict(sorted(per_kind.items())),
        "clutter": n_clutter,
        "targets_detected": len(targets_seen),
        "wall_s": round(elapsed, 3),
    }


def _lines(encoder: msgspec.json.Encoder, records: list[dict[str, Any]]) -> bytes:
    return encoder.encode_lines(records)
