"""What a report or an export reads from the event store, for one period.

:func:`open_existing` opens a store that must already exist (``open_store``
would create an empty one), :func:`resolve_period` turns ``--from``/``--to``
into a period that holds stored ticks, :func:`site_for` finds the site
(the store's ``site_yaml`` meta, or ``--site``), and :func:`load_period`
reads the period's track states into arrays (:class:`TrackStates`), its
alerts with their acknowledgements, and its sensor health.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from skyfence.errors import UserError
from skyfence.live.hub import Record
from skyfence.scenario import Scenario, load_scenario
from skyfence.scenario.load import parse_yaml, validate
from skyfence.store import SqlStore, open_store

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SITE_META_KEY = "site_yaml"


def open_existing(url: str) -> SqlStore:
    """The event store at ``url``, which must exist: a missing SQLite file is a
    :class:`UserError` here, not a new empty store."""
    text = str(url)
    path: Path | None = None
    if text.startswith("sqlite:///"):
        path = Path(text[len("sqlite:///"):])
    elif "://" not in text and not text.startswith("sqlite:"):
        path = Path(text)
    if path is not None and not path.is_file():
        raise UserError(f"{text}: no such event store (file {path} does not exist)")
    return open_store(text, flush_interval_s=None)


def resolve_period(store: SqlStore, t_from_s: float | None,
                   t_to_s: float | None) -> tuple[float, float]:
    """``[t_from_s, t_to_s]`` with omitted ends taken from the stored ticks; a
    :class:`UserError` when the range is backwards, the store is empty or no
    tick falls inside."""
    for name, value in (("--from", t_from_s), ("--to", t_to_s)):
        if value is not None and not math.isfinite(value):
            raise UserError(f"{name} must be a finite number of seconds, not {value}")
    if t_from_s is not None and t_to_s is not None and t_from_s > t_to_s:
        raise UserError(f"--from {t_from_s:g} is after --to {t_to_s:g}")
    span = store.tick_span()
    if span is None:
        raise UserError(f"{store.name}: the event store holds no ticks")
    t_from = span[0] if t_from_s is None else float(t_from_s)
    t_to = span[1] if t_to_s is None else float(t_to_s)
    if t_from > t_to or not store.tick_times(t_from, t_to):
        raise UserError(f"{store.name}: no stored ticks between t={t_from:g} s and "
                        f"t={t_to:g} s (the store holds t={span[0]:g} to {span[1]:g} s)")
    return t_from, t_to


def site_for(store: SqlStore, site_arg: str | None) -> Scenario:
    """The site: ``--site`` when given (a path or a bundled name), else the YAML
    the live engine saved in the store's meta table; a :class:`UserError` when
    there is neither."""
    if site_arg is not None:
        return load_scenario(site_arg)
    get_meta = getattr(store, "get_meta", None)
    text = get_meta(SITE_META_KEY) if callable(get_meta) else None
    if not isinstance(text, str) or not text.strip():
        raise UserError(f"{store.name}: the store does not hold the site (no {SITE_META_KEY!r}"
                        " meta); give it with --site SITE.yaml (or a bundled name)")
    where = f"{store.name} (meta {SITE_META_KEY})"
    return validate(parse_yaml(text, where), where)


@dataclass(frozen=True, slots=True)
class TrackStates:
    """Stored track states as arrays (N rows), sorted by track id then time;
    ``records`` are the store's records in the same order."""

    t_s: FloatArray
    track_id: IntArray
    enu_m: FloatArray  # (N, 3)
    vel_mps: FloatArray  # (N, 3)
    pos_cov_m2: FloatArray  # (N, 3, 3)
    cls: npt.NDArray[np.str_]
    class_prob: FloatArray  # probability of the stated class
    threat: FloatArray  # nan: none
    records: list[Record]

    @classmethod
    def from_records(cls, records: list[Record]) -> TrackStates:
        order = sorted(range(len(records)),
                       key=lambda i: (int(records[i]["track_id"]), float(records[i]["t"])))
        rows = [records[i] for i in order]
        n = len(rows)
        classes = [str(r.get("class") or "unknown") for r in rows]
        return cls(
            t_s=np.array([float(r["t"]) for r in rows], dtype=np.float64),
            track_id=np.array([int(r["track_id"]) for r in rows], dtype=np.int64),
            enu_m=_vectors(rows, "enu_m", (n, 3)),
            vel_mps=_vectors(rows, "vel_mps", (n, 3)),
            pos_cov_m2=_vectors(rows, "pos_cov_m2", (n, 3, 3)),
            cls=np.array(classes, dtype=np.str_),
            class_prob=np.array([_prob(r, c) for r, c in zip(rows, classes, strict=True)],
                                dtype=np.float64),
            threat=np.array([_float(r.get("threat")) for r in rows], dtype=np.float64),
            records=rows,
        )

    def __len__(self) -> int:
        return len(self.t_s)

    def ids(self) -> list[int]:
        """The track ids present, ascending."""
        return [int(i) for i in np.unique(self.track_id)]

    def rows_of(self, track_id: int) -> slice:
        """The rows of one track (contiguous: sorted by id)."""
        lo = int(np.searchsorted(self.track_id, track_id, side="left"))
        hi = int(np.searchsorted(self.track_id, track_id, side="right"))
        return slice(lo, hi)

    def drone_ids(self) -> list[int]:
        """Tracks classified drone in at least one state."""
        return [int(i) for i in np.unique(self.track_id[self.cls == "drone"])]

    def final_class(self, track_id: int) -> str:
        rows = self.rows_of(track_id)
        return str(self.cls[rows][-1]) if rows.stop > rows.start else "unknown"

    def position_at(self, track_id: int, t_s: float) -> FloatArray | None:
        """The track's stored position at the newest state at or before ``t_s``
        (its first state if none is before); None for an unknown track."""
        rows = self.rows_of(track_id)
        if rows.stop == rows.start:
            return None
        times = self.t_s[rows]
        k = max(int(np.searchsorted(times, t_s, side="right")) - 1, 0)
        out: FloatArray = self.enu_m[rows][k]
        return out


def _float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.nan


def _prob(record: Record, cls: str) -> float:
    probs = record.get("class_prob")
    return _float(probs.get(cls)) if isinstance(probs, dict) else math.nan


def _vectors(rows: list[Record], key: str, shape: tuple[int, ...]) -> FloatArray:
    """One array of the records' ``key`` values; a missing or malformed value is nan."""
    out = np.full(shape, np.nan, dtype=np.float64)
    for i, r in enumerate(rows):
        value = r.get(key)
        if value is None:
            continue
        try:
            out[i] = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            continue
    return out


@dataclass(frozen=True, slots=True)
class PeriodData:
    """Everything the report shows, read once from the store."""

    store_name: str
    site: Scenario
    t_from_s: float
    t_to_s: float
    tick_t_s: FloatArray
    states: TrackStates
    alerts: list[Record]  # with acked_by / t_ack filled from the acks table
    health: list[Record]  # each with its tick time under "t"
    swarms_at_start: dict[str, Record]  # alert id -> the swarm's record at the alert's start


def alerts_with_acks(store: SqlStore, t_from_s: float, t_to_s: float) -> list[Record]:
    """The period's alerts (latest version), each with the first acknowledgement
    from the acks table where the record itself has none."""
    first: dict[str, Record] = {}
    for row in store.acks():
        first.setdefault(str(row["alert_id"]), row)
    out: list[Record] = []
    for alert in store.alerts(t_from_s, t_to_s):
        record = dict(alert)
        ack = first.get(str(record.get("alert_id")))
        if record.get("acked_by") is None and ack is not None:
            record["acked_by"] = ack["operator"]
            record["t_ack"] = ack["t_ack"]
        out.append(record)
    return out


def load_period(store: SqlStore, site: Scenario, t_from_s: float, t_to_s: float) -> PeriodData:
    alerts = alerts_with_acks(store, t_from_s, t_to_s)
    swarms: dict[str, Record] = {}
    for alert in alerts:
        sid = alert.get("swarm_id")
        if sid is not None:
            at = max(float(alert["t_start"]), t_from_s)
            for swarm in store.swarms_at(at):
                if swarm.get("swarm_id") == sid:
                    swarms[str(alert["alert_id"])] = swarm
    return PeriodData(
        store_name=store.name, site=site, t_from_s=t_from_s, t_to_s=t_to_s,
        tick_t_s=np.array(store.tick_times(t_from_s, t_to_s), dtype=np.float64),
        states=TrackStates.from_records(store.track_states(t_from_s, t_to_s)),
        alerts=alerts, health=store.health_history(t_from_s, t_to_s),
        swarms_at_start=swarms)
