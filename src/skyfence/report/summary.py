"""Per-drone summaries: first detection, classification history, closest
approach to each zone and to the site origin, time to each zone, and the
estimated origin (:mod:`skyfence.report.origin`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from skyfence.report.data import FloatArray, PeriodData, TrackStates
from skyfence.report.geometry import Coverage, zone_distance_m
from skyfence.report.origin import OriginEstimate, estimate_origin
from skyfence.scenario.model import Zone


@dataclass(frozen=True, slots=True)
class ClassChange:
    t_s: float
    cls: str
    prob: float  # probability of that class at the change


@dataclass(frozen=True, slots=True)
class ZoneApproach:
    """One drone against one zone over the period."""

    zone: str
    level: str
    closest_m: float  # horizontal; 0 inside
    closest_t_s: float
    entered_t_s: float | None  # first state inside
    first_warning_t_s: float | None  # first state with a predicted entry
    first_warning_in_s: float | None  # ... and the predicted seconds to entry then


@dataclass(frozen=True, slots=True)
class DroneSummary:
    track_id: int
    first_t_s: float
    first_enu_m: FloatArray
    last_t_s: float
    n_states: int
    final_class: str
    classes: list[ClassChange]
    closest_origin_m: float  # horizontal range from the site origin
    closest_origin_t_s: float
    max_threat: float
    cooperative_ids: list[str]
    zones: list[ZoneApproach] = field(default_factory=list)
    origin: OriginEstimate | None = None


def class_history(states: TrackStates, rows: slice) -> list[ClassChange]:
    """The class at the first state and at every change after it."""
    cls = states.cls[rows]
    if len(cls) == 0:
        return []
    change = np.flatnonzero(np.r_[True, cls[1:] != cls[:-1]])
    t, prob = states.t_s[rows], states.class_prob[rows]
    return [ClassChange(float(t[k]), str(cls[k]), float(prob[k])) for k in change]


def zone_approach(states: TrackStates, rows: slice, zone: Zone) -> ZoneApproach:
    t = states.t_s[rows]
    d = zone_distance_m(states.enu_m[rows], zone)
    d = np.where(np.isfinite(d), d, np.inf)
    k = int(np.argmin(d))
    inside = np.flatnonzero(d <= 0.0)
    warned_t: float | None = None
    warned_in: float | None = None
    for rec in states.records[rows]:
        value = (rec.get("zones") or {}).get(zone.name)
        if isinstance(value, int | float) and math.isfinite(value):
            warned_t, warned_in = float(rec["t"]), float(value)
            break
    return ZoneApproach(zone=zone.name, level=zone.level, closest_m=float(d[k]),
                        closest_t_s=float(t[k]),
                        entered_t_s=float(t[inside[0]]) if len(inside) else None,
                        first_warning_t_s=warned_t, first_warning_in_s=warned_in)


def summarise_drone(data: PeriodData, track_id: int, coverage: Coverage | None,
                    fit_window_s: float = 10.0, back_s: float = 60.0) -> DroneSummary:
    s = data.states
    rows = s.rows_of(track_id)
    t, enu = s.t_s[rows], s.enu_m[rows]
    rng = np.hypot(enu[:, 0], enu[:, 1])
    k = int(np.argmin(np.where(np.isfinite(rng), rng, np.inf)))
    threat = s.threat[rows]
    coop = sorted({str(r["cooperative_id"]) for r in s.records[rows]
                   if r.get("cooperative_id") is not None})
    return DroneSummary(
        track_id=track_id, first_t_s=float(t[0]), first_enu_m=enu[0], last_t_s=float(t[-1]),
        n_states=len(t), final_class=str(s.cls[rows][-1]), classes=class_history(s, rows),
        closest_origin_m=float(rng[k]), closest_origin_t_s=float(t[k]),
        max_threat=float(np.nanmax(threat)) if np.any(np.isfinite(threat)) else math.nan,
        cooperative_ids=coop,
        zones=[zone_approach(s, rows, z) for z in data.site.site.zones],
        origin=estimate_origin(track_id, t, enu, s.pos_cov_m2[rows], coverage,
                               fit_window_s=fit_window_s, back_s=back_s))


def summarise_drones(data: PeriodData, fit_window_s: float = 10.0,
                     back_s: float = 60.0) -> list[DroneSummary]:
    """One summary per track classified drone at some state in the period."""
    coverage = Coverage.of_site(data.site)
    return [summarise_drone(data, tid, coverage, fit_window_s, back_s)
            for tid in data.states.drone_ids()]
