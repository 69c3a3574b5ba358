"""Measurement sources of the live engine, and their pacing in real time.

A source yields :class:`Batch` items in time order: the measurement lines
(measurements.jsonl lines of DESIGN.md, as bytes without the newline) that
arrive at one instant. Two sources:

- :class:`SimulatedSource`: the simulator streaming a scenario's targets and
  sensors (:func:`skyfence.sim.engine.simulate`), each step's measurement
  records encoded as ``skyfence simulate`` writes them — the embedded
  default;
- :class:`FileSource`: a recorded measurements.jsonl, lines grouped by their
  ``t``. A line whose ``t`` cannot be read is passed on with the batch it sits
  in: the engine's reader (track_io.ScanReader) counts it as bad and skips
  it, as ``skyfence track`` does. Nothing in a file stops the run.

Both take ``after_s``: a restarted engine (live/restart.py) carries on after
the last stored tick, so the steps (lines) at or before it are skipped — the
simulator is deterministic for its seed, so it replays the same steps and
drops them.

:class:`Pacer` maps scenario time to the wall clock at ``speed`` times real
time; its clock is injectable so tests run instantly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from skyfence.errors import UserError
from skyfence.scenario import Scenario
from skyfence.sim.engine import simulate


@dataclass(slots=True)
class Batch:
    """The measurement lines that arrive at scenario time ``t_s``; ``origin`` names
    where they came from (file name or scenario), ``first_line`` the number of
    the first one there (for the bad-line counts)."""

    t_s: float
    lines: list[bytes] = field(default_factory=list)
    origin: str = "live"
    first_line: int = 1


class SimulatedSource:
    """The scenario's targets, simulated step by step (module doc)."""

    def __init__(self, scenario: Scenario, after_s: float | None = None) -> None:
        self.scenario = scenario
        self.name = f"sim:{scenario.name}"
        self.lines = 0
        self.after_s = after_s  # skip the steps at or before this time (a restart)
        self.skipped = 0  # lines of the steps skipped

    def batches(self) -> Iterator[Batch]:
        encoder = msgspec.json.Encoder()
        for step in simulate(self.scenario):
            if not step.measurements:
                continue
            if self.after_s is not None and step.t_s <= self.after_s:
                # deterministic for the seed: the same steps as before the restart
                self.skipped += len(step.measurements)
                self.lines += len(step.measurements)
                continue
            # the records skyfence simulate writes (sim/writer.py), one line each
            lines = encoder.encode_lines(step.measurements).splitlines()
            yield Batch(step.t_s, lines, self.name, self.lines + 1)
            self.lines += len(lines)


class _Time(msgspec.Struct):
    t: float


class FileSource:
    """A recorded measurements.jsonl, batched by ``t`` (module doc)."""

    def __init__(self, path: str | Path, after_s: float | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"{self.path}: no such measurements file")
        self.name = str(self.path)
        self.lines = 0
        self.untimed = 0  # lines whose t could not be read (passed on; the reader counts them)
        self.after_s = after_s  # skip lines at or before this time (a restart)
        self.skipped = 0

    def batches(self) -> Iterator[Batch]:
        decoder = msgspec.json.Decoder(_Time)
        batch: Batch | None = None
        after = self.after_s
        with self.path.open("rb") as stream:
            for number, raw in enumerate(stream, start=1):
                self.lines += 1
                line = raw.rstrip(b"\r\n")
                try:
                    t_s: float | None = decoder.decode(line).t
                except msgspec.DecodeError:
                    t_s = None
                    self.untimed += 1
                if after is not None and batch is None and (t_s is None or t_s <= after):
                    # before the restart point (untimed lines there too); once past it,
                    # an older line is the reader's to count as late
                    self.skipped += 1
                    continue
                if batch is None:
                    batch = Batch(t_s if t_s is not None else 0.0, [], self.name, number)
                elif t_s is not None and t_s != batch.t_s and batch.lines:
                    yield batch
                    batch = Batch(t_s, [], self.name, number)
                batch.lines.append(line)
        if batch is not None and batch.lines:
            yield batch


class Pacer:
    """Scenario time → wall clock at ``speed`` × real time.

    The first batch's time is "now"; :meth:`wait_s` says how long to wait
    before the batch at ``t_s`` is due (≤ 0: due). ``speed`` ≤ 0 or infinite:
    everything is due at once (as fast as the engine goes).
    """

    def __init__(self, speed: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self.clock = clock
        self._t0_s: float | None = None
        self._wall0 = 0.0

    def due_at(self, t_s: float) -> float:
        """The wall-clock time (of ``clock``) at which scenario time ``t_s`` is due."""
        if self._t0_s is None:
            self._t0_s, self._wall0 = t_s, self.clock()
        return self._wall0 + (t_s - self._t0_s) / self.speed

    def wait_s(self, t_s: float) -> float:
        return self.due_at(t_s) - self.clock()

    def scenario_now(self) -> float | None:
        """The scenario time the wall clock stands at now (None before the first batch)."""
        if self._t0_s is None:
            return None
        return self._t0_s + (self.clock() - self._wall0) * self.speed
