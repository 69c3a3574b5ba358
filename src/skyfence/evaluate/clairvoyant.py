"""The clairvoyant reference run: measurements + true associations → tracks.jsonl.

The I/O around :class:`~skyfence.tracker.clairvoyant.ClairvoyantTracker`
(the engine side, which imports no I/O). It reads the measurements exactly as
``skyfence track`` does (:class:`~skyfence.track_io.ScanReader`), takes the
truth id of each measurement from the simulator's ``associations.jsonl``
(one line ``{"t", "sensor", "id"}`` per measurement line, in the same order)
and writes the same tracks.jsonl (:class:`~skyfence.track_io.TickWriter`),
so :func:`skyfence.evaluate.evaluate` scores it exactly like a real run.

Matching rows to ids: the reader keeps the file order of the lines within a
scan ``(t, sensor)``, so the i-th row of a scan is the i-th association line
with that ``(t, sensor)``. Only a scorer or a benchmark reads associations;
a tracker never does.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skyfence.errors import UserError
from skyfence.evaluate.records import AssociationLine, decode_lines
from skyfence.scenario import Scenario
from skyfence.track_io import ScanReader, TickWriter, open_inputs
from skyfence.tracker import Detections, SensorSpec, TrackerParams
from skyfence.tracker.base import ObjectArray
from skyfence.tracker.clairvoyant import ClairvoyantTracker, Confirm

ASSOCIATIONS = "associations.jsonl"

ScanIds = dict[tuple[float, str], list[str | None]]
"""Truth ids of each scan ``(t, sensor id)``, in file order."""


def read_associations(path: str | Path) -> ScanIds:
    """Every association line grouped by scan (UserError on a bad line)."""
    table: ScanIds = defaultdict(list)
    for _, row in decode_lines(path, AssociationLine):
        table[(row.t, row.sensor)].append(row.id)
    return dict(table)


def scan_truth_ids(table: ScanIds, scan: Detections, specs: Sequence[SensorSpec]) -> ObjectArray:
    """The truth ids of ``scan``'s rows (taken out of ``table``)."""
    key = (scan.t_s, specs[scan.sensor].id)
    ids = table.pop(key, None)
    if ids is None or len(ids) != len(scan):
        have = 0 if ids is None else len(ids)
        raise UserError(f"associations do not match the measurements at t={key[0]} sensor "
                        f"{key[1]!r}: {have} ids for {len(scan)} reports")
    return np.asarray(ids, dtype=object)


def run_clairvoyant(
    scenario: Scenario | str | Path,
    measurements_path: str | Path,
    out_path: str | Path,
    associations_path: str | Path | None = None,
    params: TrackerParams | None = None,
    confirm: Confirm = "tracker",
    output_period_s: float = 1.0,
) -> dict[str, Any]:
    """Track with the true associations (default: ``associations.jsonl`` beside the
    measurements); write tracks.jsonl; return a summary like ``run_track``'s."""
    site, path = open_inputs(scenario, measurements_path, output_period_s)
    assoc = Path(associations_path) if associations_path else path.parent / ASSOCIATIONS
    table = read_associations(assoc)
    reader = ScanReader(site)
    tracker = ClairvoyantTracker(reader.specs, params, confirm)
    started = time.perf_counter()
    scans = associated = initiated = 0
    t_last = math.nan
    with path.open("rb") as stream, Path(out_path).open("wb") as out:
        ticks = TickWriter(out, tracker, output_period_s)
        for scan in reader.read(stream, str(path)):
            ticks.start(scan.t_s)
            ticks.until(scan.t_s - 1e-9)
            result = tracker.step(scan, scan_truth_ids(table, scan, reader.specs))
            scans += 1
            associated += result.associated
            initiated += result.initiated
            t_last = scan.t_s
        if scans:
            ticks.until(t_last)
    return {
        "tracks_confirmed": tracker.confirmed_total,
        "tracks_started": tracker.tracks_started,
        "measurements": reader.counts.accepted,
        "measurements_associated": associated,
        "measurements_started_tracks": initiated,
        "scans": scans,
        "wall_s": round(time.perf_counter() - started, 3),
        "output_ticks": ticks.ticks,
        "output_lines": ticks.lines,
    }
