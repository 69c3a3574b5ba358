"""Read the scorer's inputs (JSON Lines) into arrays; a bad line is a :class:`UserError`.

Each line is decoded on its own with ``msgspec`` against a typed struct, so a
problem names the file and the line: ``truth.jsonl:12: Expected `float`, got
`str` - at `$.t```. JSON has no NaN or infinity and msgspec rejects numbers
out of float range, so every number read is finite. Blank lines are skipped;
unknown fields are ignored (the scorer reads only what it needs). Field contracts are DESIGN.md's:

- truth: ``{"t", "id", "kind", "enu_m": [x, y, z], "vel_mps": [vx, vy, vz]}``
- tracks: ``{"t", "track_id", "enu_m", "class", "cooperative_id", ...}``
  (``class`` null or absent reads as ``unknown``; ``cooperative_id``, the
  ADS-B / Remote ID identity the track carries, null or absent for none; the
  rest is not scored here)
- alerts: ``{"alert_id", "kind", "t_start", "t_end", "track_ids": [...], "zone", ...}``
  (and, optional, a swarm alert's ``size_history``: ``[[t, n], ...]``)
- associations (written by the simulator beside ``truth.jsonl``):
  ``{"t", "sensor", "id"}``, ``id`` null for clutter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

from skyfence.errors import UserError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

T = TypeVar("T")


class TruthLine(msgspec.Struct, gc=False):
    t: float
    id: str
    kind: str
    enu_m: tuple[float, float, float]
    vel_mps: tuple[float, float, float] | None = None


class TrackLine(msgspec.Struct, gc=False):
    t: float
    track_id: str | int
    enu_m: tuple[float, float, float]
    class_: str | None = msgspec.field(default=None, name="class")
    cooperative_id: str | None = None


class AlertLine(msgspec.Struct):
    alert_id: str | int
    t_start: float
    track_ids: list[str | int]
    t_end: float | None = None
    kind: str | None = None
    severity: str | None = None
    zone: str | None = None
    size_history: list[tuple[float, int]] | None = None  # swarm alerts: [t, members] pairs


class AssociationLine(msgspec.Struct, gc=False):
    t: float
    sensor: str
    id: str | None


@dataclass(frozen=True)
class TruthTable:
    """Truth rows as arrays; ``target`` indexes ``ids`` (first-appearance order)."""

    path: str
    t_s: FloatArray  # (R,)
    target: IntArray  # (R,)
    enu_m: FloatArray  # (R, 3)
    vel_mps: FloatArray  # (R, 3), NaN where the line had no velocity
    line: IntArray  # (R,) 1-based line numbers, for messages
    ids: list[str]
    kinds: list[str]  # per target, from its first line


@dataclass(frozen=True)
class TrackTable:
    """Track rows as arrays; ``track`` indexes ``track_ids`` (first-appearance order),
    ``track_class`` indexes ``classes`` (the ``class`` strings, first-appearance order),
    ``track_coop`` indexes ``cooperative_ids`` (-1: the line carries none)."""

    path: str
    t_s: FloatArray
    track: IntArray
    enu_m: FloatArray
    line: IntArray
    track_ids: list[str]
    track_class: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    classes: list[str] = field(default_factory=list)
    track_coop: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cooperative_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    t_start_s: float
    track_ids: frozenset[str]
    zone: str | None
    kind: str | None = None
    t_end_s: float | None = None
    size_history: tuple[tuple[float, int], ...] = ()  # swarm alerts (evaluate/swarms.py)


def decode_lines(path: str | Path, kind: type[T]) -> Iterator[tuple[int, T]]:
    """(line number, decoded struct) for each non-blank line; UserError on any problem."""
    decoder = msgspec.json.Decoder(kind)
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                if not raw.strip():
                    continue
                try:
                    yield number, decoder.decode(raw)
                except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                    raise UserError(f"{path}:{number}: {exc}") from None
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_truth(path: str | Path) -> TruthTable:
    index: dict[str, int] = {}
    kinds: list[str] = []
    t, target, pos, vel, lines = [], [], [], [], []
    nan3 = (np.nan, np.nan, np.nan)
    for number, row in decode_lines(path, TruthLine):
        k = index.setdefault(row.id, len(index))
        if k == len(kinds):
            kinds.append(row.kind)
        t.append(row.t)
        target.append(k)
        pos.append(row.enu_m)
        vel.append(nan3 if row.vel_mps is None else row.vel_mps)
        lines.append(number)
    return TruthTable(
        path=str(path),
        t_s=np.array(t, dtype=np.float64),
        target=np.array(target, dtype=np.int64),
        enu_m=np.array(pos, dtype=np.float64).reshape(-1, 3),
        vel_mps=np.array(vel, dtype=np.float64).reshape(-1, 3),
        line=np.array(lines, dtype=np.int64),
        ids=list(index),
        kinds=kinds,
    )


def read_tracks(path: str | Path) -> TrackTable:
    index: dict[str, int] = {}
    class_index: dict[str, int] = {}
    coop_index: dict[str, int] = {}
    t, track, pos, lines, cls, coop = [], [], [], [], [], []
    for number, row in decode_lines(path, TrackLine):
        t.append(row.t)
        track.append(index.setdefault(str(row.track_id), len(index)))
        pos.append(row.enu_m)
        lines.append(number)
        name = "unknown" if row.class_ is None else row.class_
        cls.append(class_index.setdefault(name, len(class_index)))
        coop.append(-1 if row.cooperative_id is None
                    else coop_index.setdefault(row.cooperative_id, len(coop_index)))
    return TrackTable(
        path=str(path),
        t_s=np.array(t, dtype=np.float64),
        track=np.array(track, dtype=np.int64),
        enu_m=np.array(pos, dtype=np.float64).reshape(-1, 3),
        line=np.array(lines, dtype=np.int64),
        track_ids=list(index),
        track_class=np.array(cls, dtype=np.int64),
        classes=list(class_index),
        track_coop=np.array(coop, dtype=np.int64),
        cooperative_ids=list(coop_index),
    )


def read_alerts(path: str | Path) -> list[Alert]:
    alerts = []
    for _, row in decode_lines(path, AlertLine):
        alerts.append(
            Alert(
                alert_id=str(row.alert_id),
                t_start_s=row.t_start,
                track_ids=frozenset(str(x) for x in row.track_ids),
                zone=row.zone,
                kind=row.kind,
                t_end_s=row.t_end,
                size_history=tuple(row.size_history or ()),
            )
        )
    return alerts


def first_detections(path: str | Path) -> dict[str, float]:
    """Earliest ``t`` of a measurement made by each truth id (clutter lines skipped)."""
    first: dict[str, float] = {}
    for _, row in decode_lines(path, AssociationLine):
        if row.id is not None and row.t < first.get(row.id, np.inf):
            first[row.id] = row.t
    return first

