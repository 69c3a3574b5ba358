"""``skyfence track``: measurements.jsonl → tracker → tracks.jsonl (and alerts).

The I/O around the engine: read the measurements file line by line, check
each line against the contract of DESIGN.md, convert it to the engine's SI
measurement vector (degrees → radians; cooperative lat/lon/alt → site ENU
with pymap3d), group lines into scans by ``(t, sensor)``, feed the scans in
time order, and write one line per confirmed track per output tick::

    {"t", "track_id", "enu_m", "vel_mps", "pos_cov_m2", "class", "class_prob",
     "cooperative_id", "threat"}

A bad line (not JSON, unknown sensor, a field missing or of the wrong type)
is skipped and counted with its ``file:line`` and reason; it never stops
the run. Lines may arrive out of order by up to ``reorder_window_s`` (the
``--max-lag`` of ``skyfence track``): they are held in a reorder buffer and
fed in time order, and counted as ``reordered_lines``. A line later than that
is counted as late, logged (the first few with their ``file:line``) and not
used: the engine never goes back in time.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import msgspec
import numpy as np
import pymap3d

from skyfence.assess.alerts import Alert
from skyfence.assess.engine import Assessor, TickAssessment
from skyfence.errors import UserError
from skyfence.scenario import Scenario, load_scenario
from skyfence.tracker import Detections, Tracker, TrackerParams, sensor_specs
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.base import CLASS_INDEX
from skyfence.tracker.evidence import HYPOTHESES
from skyfence.tracker.sensors import FULL_DIM, SensorSpec

MAX_EXAMPLES = 20
"""How many bad (and late) lines the summary quotes and logs (all are counted)."""

log = logging.getLogger("skyfence.track")


class BadLineError(ValueError):
    """A measurement line that breaks the contract; the message says why."""


# ------------------------------------------------------------------ parsing
class Line(msgspec.Struct):
    """One measurements.jsonl line (DESIGN.md); fields a kind does not use stay None.

    Decoding into this struct checks the JSON types (a string where a number
    belongs, ``true`` for a time) in C; :func:`parse_row` checks the rest.
    Unknown fields (``emitter``...) are ignored.
    """

    t: float
    sensor: str
    kind: str
    range_m: float | None = None
    azimuth_deg: float | None = None
    elevation_deg: float | None = None
    range_rate_mps: float | None = None
    label: str | None = None
    confidence: float | None = None
    icao: str | None = None
    uas_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    alt_m: float | None = None
    vel_mps: tuple[float, float, float] | None = None
    rcs_dbsm: float | None = None
    operator_lat: float | None = None
    operator_lon: float | None = None


Row = tuple[list[float], int, float, str | None, tuple[float, float]]
"""A line as the engine wants it: (z in SI with NaN for absent, label, confidence, id,
aux): aux is (RCS dBsm, NaN) for radar, (operator lat, lon) for Remote ID, else NaNs."""
_NO_AUX = (math.nan, math.nan)


def _required(value: float | None, name: str) -> float:
    if value is None:
        raise BadLineError(f"missing {name}")
    return value


def _optional(value: float | None) -> float:
    return math.nan if value is None else value


def parse_row(line: Line, kind: str) -> Row:
    """The engine row of a line from a sensor of type ``kind`` (raises BadLineError)."""
    if kind == "radar":
        range_m = _required(line.range_m, "range_m")
        if not range_m > 0:
            raise BadLineError("range_m must be > 0")
        z = [range_m, math.radians(_required(line.azimuth_deg, "azimuth_deg")),
             math.radians(_optional(line.elevation_deg)), _optional(line.range_rate_mps)]
        row: Row = (z, -1, math.nan, None, (_optional(line.rcs_dbsm), math.nan))
    elif kind in ("rf", "acoustic", "eoir"):
        z = [math.radians(_required(line.azimuth_deg, "azimuth_deg")),
             math.radians(_optional(line.elevation_deg))]
        label = CLASS_INDEX.get(line.label, -1) if line.label is not None else -1
        row = (z, label, _optional(line.confidence), None, _NO_AUX)
    else:
        lat, lon = _required(line.lat, "lat"), _required(line.lon, "lon")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise BadLineError(f"lat/lon out of range: {lat}, {lon}")
        ident = line.icao if kind == "adsb" else line.uas_id
        if not ident:
            raise BadLineError("missing " + ("icao" if kind == "adsb" else "uas_id"))
        vel = [math.nan] * 3 if line.vel_mps is None else list(line.vel_mps)
        row = ([lat, lon, _required(line.alt_m, "alt_m"), *vel], -1, math.nan, ident,
               _operator(line) if kind == "remote_id" else _NO_AUX)
    if not all(math.isfinite(v) for v in (*row[0], *row[4]) if v == v):  # NaN: absent
        raise BadLineError("a number is not finite")
    return row


def _operator(line: Line) -> tuple[float, float]:
    """A Remote ID operator position (lat, lon), NaNs when not given; checked."""
    if line.operator_lat is None or line.operator_lon is None:
        return _NO_AUX
    if not (-90 <= line.operator_lat <= 90 and -180 <= line.operator_lon <= 180):
        raise BadLineError(f"operator_lat/lon out of range: {line.operator_lat}, "
                           f"{line.operator_lon}")
    return (line.operator_lat, line.operator_lon)


@dataclass
class _ScanRows:
    """Rows of one (t, sensor) scan as they are read (converted at flush)."""

    z: list[list[float]] = field(default_factory=list)
    label: list[int] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    cooperative_id: list[str | None] = field(default_factory=list)
    aux: list[tuple[float, float]] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.z.append(row[0])
        self.label.append(row[1])
        self.confidence.append(row[2])
        self.cooperative_id.append(row[3])
        self.aux.append(row[4])


def _detections(t_s: float, index: int, spec: SensorSpec, rows: _ScanRows,
                origin: tuple[float, float, float]) -> Detections:
    z = np.asarray(rows.z, dtype=np.float64).reshape(-1, FULL_DIM[spec.type])
    if spec.cooperative:
        e, n, u = pymap3d.geodetic2enu(z[:, 0], z[:, 1], z[:, 2], *origin)
        z[:, 0], z[:, 1], z[:, 2] = e, n, u
        operator = None
        if spec.type == "remote_id":  # on the ground: at the site origin's height
            aux = np.asarray(rows.aux, dtype=np.float64).reshape(-1, 2)
            operator = np.column_stack(pymap3d.geodetic2enu(aux[:, 0], aux[:, 1], origin[2],
                                                            *origin))
        return Detections(t_s, index, z, cooperative_id=np.asarray(rows.cooperative_id,
                                                                     dtype=object),
                          operator_enu_m=operator)
    if spec.type == "radar":
        rcs = np.asarray([a[0] for a in rows.aux], dtype=np.float64)
        return Detections(t_s, index, z, rcs_dbsm=rcs)
    if spec.type == "eoir":
        return Detections(t_s, index, z, label=np.asarray(rows.label, dtype=np.int64),
                          confidence=np.asarray(rows.confidence, dtype=np.float64))
    return Detections(t_s, index, z)


# ------------------------------------------------------------------ reading
@dataclass
class _Counts:
    lines: int = 0
    accepted: int = 0
    bad: int = 0
    late: int = 0
    reordered: int = 0
    bytes_read: int = 0
    examples: list[str] = field(default_factory=list)
    late_examples: list[str] = field(default_factory=list)

    def late_line(self, where: str, t_s: float, flushed_s: float) -> None:
        self.late += 1
        if len(self.late_examples) < MAX_EXAMPLES:
            text = f"{where}: t={t_s:g} s arrived after t={flushed_s:g} s was processed"
            self.late_examples.append(text)
            log.warning("late measurement dropped (beyond the reorder lag): %s", text)

    def bad_line(self, where: str, reason: str) -> None:
        self.bad += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{where}: {reason}")


class ScanReader:
    """Measurement lines → :class:`Detections` scans in time order.

    Scans are held until the newest time read is ``reorder_window_s`` past
    them, so lines out of order by less than that are put right.
    """

    def __init__(self, scenario: Scenario, reorder_window_s: float = 2.0) -> None:
        self.specs = sensor_specs(scenario)
        self.index = {s.id: i for i, s in enumerate(self.specs)}
        o = scenario.site.origin
        self.origin = (o.lat, o.lon, o.alt_m)
        self.window_s = reorder_window_s
        self.counts = _Counts()
        self._pending: dict[tuple[float, int], _ScanRows] = {}
        self._heap: list[tuple[float, int]] = []
        self._newest = -math.inf
        self._flushed: tuple[float, int] = (-math.inf, -1)  # the last scan fed
        self._decoder = msgspec.json.Decoder(Line)

    def read(self, stream: BinaryIO, name: str) -> Iterator[Detections]:
        for number, raw in enumerate(stream, start=1):
            yield from self.feed(raw, name, number)
        yield from self.flush()

    def feed(self, raw: bytes, name: str, number: int) -> Iterator[Detections]:
        """Take one measurement line (``name:number`` where it came from, for the
        counts); yield the scans now older than the reorder window."""
        self.counts.bytes_read += len(raw)
        if not raw.strip():
            return
        self.counts.lines += 1
        try:
            self._take(self._decoder.decode(raw), name, number)
        except (msgspec.DecodeError, BadLineError) as exc:
            self.counts.bad_line(f"{name}:{number}", str(exc))
            return
        yield from self._ready(self._newest - self.window_s)

    def flush(self, until_s: float = math.inf) -> Iterator[Detections]:
        """Yield every held scan not after ``until_s`` (all of them by default: the end)."""
        yield from self._ready(until_s)

    def skip_until(self, t_s: float) -> None:
        """From now on a line at or before ``t_s`` is late (counted and dropped): the
        live engine made the tick at ``t_s`` without it (an idle tick, a restart)."""
        self._flushed = max(self._flushed, (t_s, len(self.specs)))

    def _take(self, line: Line, name: str, number: int) -> None:
        i = self.index.get(line.sensor)
        if i is None:
            raise BadLineError(f"unknown sensor {line.sensor!r}")
        spec = self.specs[i]
        if line.kind != spec.type:
            raise BadLineError(f"kind {line.kind!r} is not sensor {line.sensor!r}'s "
                               f"{spec.type!r}")
        if not math.isfinite(line.t):
            raise BadLineError("t is not finite")
        row = parse_row(line, spec.type)
        key = (line.t, i)
        if key <= self._flushed:  # its scan, or a later one, has been fed already
            self.counts.late_line(f"{name}:{number}", line.t, self._flushed[0])
            return
        if line.t < self._newest:
            self.counts.reordered += 1
        rows = self._pending.get(key)
        if rows is None:
            rows = self._pending[key] = _ScanRows()
            heapq.heappush(self._heap, key)
        rows.add(row)
        self.counts.accepted += 1
        self._newest = max(self._newest, line.t)

    def _ready(self, until_s: float) -> Iterator[Detections]:
        while self._heap and self._heap[0][0] <= until_s:
            key = heapq.heappop(self._heap)
            rows = self._pending.pop(key)
            self._flushed = key
            if rows.z:
                yield _detections(key[0], key[1], self.specs[key[1]], rows, self.origin)


# ------------------------------------------------------------------ writing
def track_lines(t_s: float, bank: TrackBank, params: TrackerParams,
                assessed: TickAssessment | None = None) -> list[dict[str, Any]]:
    """The tracks.jsonl objects of one output tick (confirmed tracks, predicted to t);
    ``threat`` is null without an assessment."""
    prob = bank.class_probabilities(params.evidence) if assessed is None else assessed.class_prob
    prob = np.round(prob, 4)
    best = np.argmax(prob, axis=1)
    pos = np.round(bank.x[:, :3], 2).tolist()
    vel = np.round(bank.x[:, 3:], 3).tolist()
    cov = np.round(bank.P[:, :3, :3], 3).tolist()
    probs = prob.tolist()
    threat: list[float | None] = ([None] * len(bank) if assessed is None
                                  else np.round(assessed.threat, 3).tolist())
    names = [HYPOTHESES[b] for b in best.tolist()]
    coop = bank.cooperative_id.tolist()  # plain lists: indexing arrays per row is slow
    t = round(t_s, 3)
    return [
        {"t": t, "track_id": tid, "enu_m": pos[i], "vel_mps": vel[i],
         "pos_cov_m2": cov[i], "class": names[i],
         "class_prob": dict(zip(HYPOTHESES, probs[i], strict=True)),
         "cooperative_id": coop[i], "threat": threat[i]}
        for i, tid in enumerate(bank.id.tolist())
    ]


class TrackSource(Protocol):
    """What :class:`TickWriter` reads: a :class:`Tracker`, or anything that answers alike
    (the clairvoyant reference, a benchmark's adapter around another tracker)."""

    params: TrackerParams

    def confirmed_at(self, t_s: float) -> TrackBank: ...


class TickWriter:
    """Writes the confirmed tracks at every output time ``k · period_s``.

    :meth:`until` writes every tick not after ``t_s`` that is not written yet,
    from the tracker as it stands (predicted to the tick): call it with a time
    just before each scan, and with the last scan's time at the end. With an
    :class:`~skyfence.assess.engine.Assessor` each tick is also assessed (class,
    threat, alerts): :meth:`count` tells it the reports each scan brought, and
    ended alerts go to ``alerts_out``, one line each, as they end.
    """

    def __init__(self, out: BinaryIO, tracker: TrackSource, period_s: float,
                 assessor: Assessor | None = None, alerts_out: BinaryIO | None = None) -> None:
        self.out, self.tracker, self.period_s = out, tracker, period_s
        self.assessor, self.alerts_out = assessor, alerts_out
        self.encoder = msgspec.json.Encoder()
        self.next_k: int | None = None
        self.ticks = self.lines = self.alerts = 0
        self._reports = np.zeros(0 if assessor is None else len(assessor.specs), dtype=np.int64)

    def start(self, t_s: float) -> None:
        if self.next_k is None:
            self.next_k = math.ceil(t_s / self.period_s - 1e-9)

    def count(self, sensor: int, reports: int) -> None:
        """A scan of ``sensor`` brought ``reports`` reports (sensor health)."""
        if self._reports.size:
            self._reports[sensor] += reports

    def until(self, t_s: float) -> None:
        while self.next_k is not None and self.next_k * self.period_s <= t_s:
            t_out = self.next_k * self.period_s
            bank = self.tracker.confirmed_at(t_out)
            assessed = None
            if self.assessor is not None:
                assessed = self.assessor.assess(t_out, bank, self._reports)
                self._reports[:] = 0
                self._write_alerts(self.assessor.pop_ended())
            rows = track_lines(t_out, bank, self.tracker.params, assessed)
            self.out.write(b"".join(self.encoder.encode(row) + b"\n" for row in rows))
            self.lines += len(rows)
            self.ticks += 1
            self.next_k += 1

    def finish(self, t_s: float) -> None:
        """End the run at ``t_s``: every alert still active ends and is written."""
        if self.assessor is not None:
            self._write_alerts(self.assessor.close_all(t_s))

    def _write_alerts(self, ended: list[Alert]) -> None:
        if self.alerts_out is None or not ended:
            return
        self.alerts_out.write(b"".join(self.encoder.encode(a.record()) + b"\n" for a in ended))
        self.alerts += len(ended)


# ------------------------------------------------------------------ the run
def open_inputs(scenario: Scenario | str | Path, measurements_path: str | Path,
                output_period_s: float) -> tuple[Scenario, Path]:
    """The site and the measurements path of a run, checked (a missing file is the
    user's error)."""
    if output_period_s <= 0:
        raise ValueError("output_period_s must be > 0")
    site = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    path = Path(measurements_path)
    if not path.is_file():
        raise UserError(f"{path}: no such measurements file")
    return site, path


def run_track(
    scenario: Scenario | str | Path,
    measurements_path: str | Path,
    out_path: str | Path,
    alerts_path: str | Path | None = None,
    output_period_s: float = 1.0,
    params: TrackerParams | None = None,
    reorder_window_s: float = 2.0,
    progress: bool = False,
) -> dict[str, Any]:
    """Track a measurements file, assess each output tick (assess/engine.py); write
    tracks (with class and threat) and, with ``alerts_path``, the alerts; return a
    summary.

    Summary: ``tracks_confirmed`` (distinct tracks ever confirmed),
    ``tracks_started`` (tentative ones included), ``measurements`` (lines
    accepted), ``measurements_used`` = ``measurements_associated`` (updated a
    track) + ``measurements_started_tracks``, ``measurements_rejected`` (bad
    lines + late lines + reports the engine refused), ``bad_lines`` with up to
    20 ``bad_line_examples`` ("file:line: reason"), ``late_lines``, ``scans``,
    ``scans_per_s`` and ``wall_s`` (the whole run, reading and writing
    included), ``t_first_s``/``t_last_s``, ``output_ticks``, ``output_lines``,
    ``reordered_lines`` (out of order within the lag, put right) and up to 20
    ``late_line_examples``, ``alerts`` (alerts written). ``progress``: a progress
    line on stderr.
    """
    site, path = open_inputs(scenario, measurements_path, output_period_s)
    reader = ScanReader(site, reorder_window_s)
    tracker = Tracker(reader.specs, params or TrackerParams())
    assessor = Assessor(reader.specs, site.site.zones, tracker.params.evidence)
    started = time.perf_counter()
    scans = associated = initiated = rejected = 0
    t_first = t_last = math.nan
    bar = _Progress(path.stat().st_size, reader.counts, tracker) if progress else None
    with contextlib.ExitStack() as files:
        stream = files.enter_context(path.open("rb"))
        out = files.enter_context(Path(out_path).open("wb"))
        alerts = None if alerts_path is None else files.enter_context(Path(alerts_path).open("wb"))
        ticks = TickWriter(out, tracker, output_period_s, assessor, alerts)
        for scan in reader.read(stream, str(path)):
            if bar is not None:
                bar.show(scan.t_s, scans)
            ticks.start(scan.t_s)
            ticks.until(scan.t_s - 1e-9)  # the ticks before this scan
            result = tracker.step(scan)
            ticks.count(scan.sensor, len(scan))
            scans += 1
            associated += result.associated
            initiated += result.initiated
            rejected += result.rejected
            t_first = scan.t_s if math.isnan(t_first) else t_first
            t_last = scan.t_s
        if scans:
            ticks.until(t_last)
            ticks.finish(t_last)
    if bar is not None:
        bar.done()
    wall_s = time.perf_counter() - started
    c = reader.counts
    return {
        "tracks_confirmed": tracker.confirmed_total,
        "tracks_started": tracker.tracks_started,
        "measurements": c.accepted,
        "measurements_used": associated + initiated,
        "measurements_associated": associated,
        "measurements_started_tracks": initiated,
        "measurements_rejected": c.bad + c.late + rejected,
        "bad_lines": c.bad,
        "bad_line_examples": c.examples,
        "late_lines": c.late,
        "late_line_examples": c.late_examples,
        "reordered_lines": c.reordered,
        "scans": scans,
        "scans_per_s": round(scans / wall_s, 1) if wall_s > 0 else None,
        "wall_s": round(wall_s, 3),
        "t_first_s": None if math.isnan(t_first) else t_first,
        "t_last_s": None if math.isnan(t_last) else t_last,
        "output_ticks": ticks.ticks,
        "output_lines": ticks.lines,
        "alerts": ticks.alerts,
    }


class _Progress:
    """A one-line progress display on stderr, refreshed at most every 0.2 s."""

    def __init__(self, total_bytes: int, counts: _Counts, tracker: Tracker) -> None:
        self.total = max(total_bytes, 1)
        self.counts, self.tracker = counts, tracker
        self.started = self.last = time.perf_counter()

    def show(self, t_s: float, scans: int) -> None:
        now = time.perf_counter()
        if now - self.last < 0.2:
            return
        self.last = now
        share = min(self.counts.bytes_read / self.total, 1.0)
        width = 30
        filled = int(share * width)
        rate = scans / max(now - self.started, 1e-9)
        confirmed = int(self.tracker.bank.confirmed.sum())
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {share:4.0%}  "
                         f"t={t_s:8.1f} s  {confirmed:5d} tracks  {rate:7.0f} scans/s")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r" + " " * 90 + "\r")
        sys.stderr.flush()


def summary_line(summary: dict[str, Any]) -> str:
    """The end-of-run summary in one sentence, for a person at a terminal."""
    rejected = summary["measurements_rejected"]
    return (
        f"skyfence track: {summary['tracks_confirmed']} tracks confirmed; "
        f"{summary['measurements_used']} of {summary['measurements']} measurements used"
        f"{f', {rejected} rejected' if rejected else ''}; {summary['scans']} scans at "
        f"{summary['scans_per_s'] or 0:.0f} scans/s ({summary['wall_s']:.1f} s)"
    )
