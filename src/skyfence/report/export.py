"""Exports of stored track states and alerts as CSV or GeoJSON (RFC 7946).

CSV (stdlib ``csv``; an empty cell is a null):

- tracks: one row per stored track state — :data:`TRACK_COLUMNS`; positions in
  site ENU metres and WGS-84 (``pymap3d.enu2geodetic`` from the site origin),
  ``class_prob`` the probability of the stated class, ``prob_<class>`` each one;
- alerts: one row per alert — :data:`ALERT_COLUMNS`; ``track_ids`` space
  separated; the position is the one :func:`alert_position_enu` finds.

GeoJSON: a FeatureCollection, coordinates ``[lon, lat, alt_m]`` (WGS-84):

- tracks: one LineString Feature per track (a Point for a track with a single
  state), properties ``track_id, class`` (the final one), ``classes`` (every
  class it had), ``t_start, t_end, times`` (one per vertex);
- alerts: one Point Feature per alert at :func:`alert_position_enu`, the
  record's fields as properties (``geometry: null`` when no position is known).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skyfence.errors import UserError
from skyfence.live.hub import Record
from skyfence.report.data import FloatArray, PeriodData, TrackStates
from skyfence.report.geometry import enu_to_geodetic
from skyfence.scenario.model import KINDS

CLASSES = (*KINDS, "unknown")
TRACK_COLUMNS = ("t", "track_id", "class", "class_prob", "east_m", "north_m", "up_m",
                 "lat_deg", "lon_deg", "alt_m", "vel_east_mps", "vel_north_mps", "vel_up_mps",
                 "speed_mps", "cooperative_id", "threat", "swarm_id",
                 *(f"prob_{c}" for c in CLASSES))
ALERT_COLUMNS = ("alert_id", "kind", "severity", "t_start", "t_end", "track_ids", "swarm_id",
                 "zone", "sensor", "acked_by", "t_ack", "east_m", "north_m", "up_m",
                 "lat_deg", "lon_deg", "alt_m", "reason")
WHATS = ("tracks", "alerts")
FORMATS = ("csv", "geojson")
DIGITS_DEG = 8  # ~1 mm


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


# ------------------------------------------------------------------------ tracks
def track_rows(states: TrackStates, geodetic: FloatArray) -> list[dict[str, Any]]:
    """One CSV row (column -> value) per stored state, in the states' order."""
    speed = np.linalg.norm(states.vel_mps, axis=1)
    out: list[dict[str, Any]] = []
    for i, r in enumerate(states.records):
        given = r.get("class_prob")
        probs: dict[str, Any] = given if isinstance(given, dict) else {}
        e, n, u = states.enu_m[i].tolist()
        ve, vn, vu = states.vel_mps[i].tolist()
        lat, lon, alt = geodetic[i].tolist()
        row = {"t": r["t"], "track_id": r["track_id"], "class": r.get("class"),
               "class_prob": states.class_prob[i].item(), "east_m": e, "north_m": n,
               "up_m": u, "lat_deg": round(lat, DIGITS_DEG), "lon_deg": round(lon, DIGITS_DEG),
               "alt_m": round(alt, 3), "vel_east_mps": ve, "vel_north_mps": vn,
               "vel_up_mps": vu, "speed_mps": round(speed[i].item(), 3),
               "cooperative_id": r.get("cooperative_id"), "threat": r.get("threat"),
               "swarm_id": r.get("swarm_id")}
        row.update({f"prob_{c}": probs.get(c) for c in CLASSES})
        out.append({k: _cell(v) for k, v in row.items()})
    return out


def track_features(data: PeriodData, geodetic: FloatArray) -> list[dict[str, Any]]:
    s = data.states
    out: list[dict[str, Any]] = []
    for tid in s.ids():
        rows = s.rows_of(tid)
        ok = np.all(np.isfinite(geodetic[rows]), axis=1)
        lonlat = [_lonlat(p) for p in geodetic[rows][ok]]
        times = s.t_s[rows][ok].tolist()
        if not lonlat:
            continue
        geometry = ({"type": "LineString", "coordinates": lonlat} if len(lonlat) > 1
                    else {"type": "Point", "coordinates": lonlat[0]})
        classes = list(dict.fromkeys(str(c) for c in s.cls[rows]))
        out.append({"type": "Feature", "id": f"track-{tid}", "geometry": geometry,
                    "properties": {"track_id": tid, "class": s.final_class(tid),
                                   "classes": classes, "t_start": times[0],
                                   "t_end": times[-1], "times": times}})
    return out


def _lonlat(lat_lon_alt: FloatArray) -> list[float]:
    lat, lon, alt = (float(x) for x in lat_lon_alt)
    return [round(lon, DIGITS_DEG), round(lat, DIGITS_DEG), round(alt, 3)]


# ------------------------------------------------------------------------ alerts
def alert_position_enu(alert: Record, data: PeriodData) -> FloatArray | None:
    """Where an alert was: the record's own ``enu_m`` / ``position_enu_m`` if it has
    one, else its first track's stored position at its start, else its swarm's
    centroid then, else None."""
    for key in ("enu_m", "position_enu_m"):
        value = alert.get(key)
        if isinstance(value, list) and len(value) >= 2:
            p = np.zeros(3)
            p[: min(len(value), 3)] = value[:3]
            return p
    t0 = float(alert.get("t_start") or data.t_from_s)
    for tid in alert.get("track_ids") or []:
        at = data.states.position_at(int(tid), t0)
        if at is not None and np.all(np.isfinite(at)):
            return np.asarray(at, dtype=np.float64)
    swarm = data.swarms_at_start.get(str(alert.get("alert_id")))
    if swarm is not None and isinstance(swarm.get("centroid_enu_m"), list):
        return np.asarray(swarm["centroid_enu_m"], dtype=np.float64)
    return None


def alert_rows(data: PeriodData) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for a in data.alerts:
        row: dict[str, Any] = {k: a.get(k) for k in ALERT_COLUMNS if k in a}
        row["track_ids"] = " ".join(str(i) for i in a.get("track_ids") or [])
        p = alert_position_enu(a, data)
        if p is not None:
            lat, lon, alt = enu_to_geodetic(p[None, :], data.site)[0].tolist()
            row.update(east_m=float(p[0]), north_m=float(p[1]), up_m=float(p[2]),
                       lat_deg=round(lat, DIGITS_DEG), lon_deg=round(lon, DIGITS_DEG),
                       alt_m=round(alt, 3))
        out.append({k: _cell(row.get(k)) for k in ALERT_COLUMNS})
    return out


def alert_features(data: PeriodData) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for a in data.alerts:
        p = alert_position_enu(a, data)
        geometry = None
        if p is not None:
            geometry = {"type": "Point",
                        "coordinates": _lonlat(enu_to_geodetic(p[None, :], data.site)[0])}
        out.append({"type": "Feature", "id": str(a.get("alert_id")), "geometry": geometry,
                    "properties": dict(a)})
    return out


# ------------------------------------------------------------------------ writing
def export(data: PeriodData, what: str, fmt: str, out: Path) -> int:
    """Write ``what`` (tracks | alerts) as ``fmt`` (csv | geojson) to ``out``; the
    number of rows or features written."""
    if what not in WHATS:
        raise UserError(f"--what must be one of {', '.join(WHATS)}, not {what!r}")
    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    geodetic = (enu_to_geodetic(data.states.enu_m, data.site) if what == "tracks"
                else np.zeros((0, 3)))
    if fmt == "csv":
        rows = (track_rows(data.states, geodetic) if what == "tracks" else alert_rows(data))
        columns = TRACK_COLUMNS if what == "tracks" else ALERT_COLUMNS
        _write(out, lambda f: _write_csv(f, columns, rows))
        return len(rows)
    features = (track_features(data, geodetic) if what == "tracks" else alert_features(data))
    collection = {"type": "FeatureCollection", "features": features}
    _write(out, lambda f: json.dump(collection, f, allow_nan=False, ensure_ascii=False))
    return len(features)


def _write_csv(stream: Any, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    writer = csv.DictWriter(stream, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _write(path: Path, body: Any) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="") as stream:
            body(stream)
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc}") from None
