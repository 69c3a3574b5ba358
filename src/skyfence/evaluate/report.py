"""``skyfence evaluate``: score tracks (and alerts) against the simulator's truth.

:func:`evaluate` returns one JSON-ready dict (``null`` where a value does not
exist, never NaN). docs/evaluation.md documents the same fields with an
example; keep the two in step.

Ticks are the distinct truth times (times within 1e-6 s are one tick); a
track line belongs to the tick within ``TICK_TOLERANCE_S`` (1e-3 s) of its
``t``; track lines near no tick are counted as unscored and otherwise ignored.

Fields
------
``scenario``
    Scenario name.
``inputs``
    ``truth``, ``tracks``, ``alerts`` (null if not given), ``associations``
    (the ``associations.jsonl`` beside the truth file, null if absent).
``ticks``, ``t_first_s``, ``t_last_s``
    Number of truth ticks and the first and last tick time (s; null if none).
``counts``
    ``targets`` (distinct truth ids), ``truth_points`` (truth lines),
    ``detectable_points``, ``track_points`` (track lines),
    ``track_points_unscored`` (track lines at no truth tick), ``track_ids``
    (distinct track ids).
``gospa``
    ``c_m``, ``p``, ``alpha``, ``min_pd``: the parameters. ``mean``: mean over
    ticks of the per-tick GOSPA distance (m). ``localisation_mean``,
    ``missed_mean``, ``false_mean``: means over ticks of the per-tick parts,
    BEFORE the p-th root (m^p). ``per_tick``: columns, one value per tick:
    ``t`` (s), ``gospa`` (m), ``localisation``, ``missed``, ``false`` (m^p),
    ``truths`` (truth points), ``detectable`` (detectable truth points),
    ``tracks`` (scored track points), ``matched`` (pairs GOSPA assigned). See
    :mod:`skyfence.evaluate.gospa` for the definition and
    :mod:`skyfence.evaluate.detectability` for which truths count as missed.
``identity``
    ``id_switches``, ``fragmentations``: totals over targets, counted from
    the CLEAR MOT correspondence (kept from tick to tick while valid), not
    from the per-tick GOSPA assignment; see :mod:`skyfence.evaluate.identity`.
    Everything below that says *matched* (time to track, zone and alert lead
    times, classification, false alerts, the per-target table) means matched
    in that correspondence, so a track's truth does not flicker between close
    targets.
``time_to_track``
    ``detections``: ``"associations"`` when the first detection of a target is
    its first measurement in ``associations.jsonl``, ``"coverage"`` when (no
    such file) it is the first tick at which the target was detectable.
    ``mean_s``, ``median_s``, ``max_s`` over tracked targets (null if none);
    ``tracked`` (detected and later matched), ``never_tracked`` (detected,
    never matched), ``never_detected``.
``zone_entries``
    ``alerts_given`` (an alerts file was scored), ``count`` (entries),
    ``alerted_in_time`` (entries with an alert that started at or before the
    entry), ``mean_lead_time_s`` (null without alerts or entries), and
    ``entries``: one per (zone, target) in order of zone then entry time:
    ``zone``, ``level``, ``target``, ``kind``, ``entry_t_s``, ``alert_id`` and
    ``alert_t_start_s`` (the first alert naming a track matched to the target
    by the entry tick, null if none or no alerts), ``lead_time_s`` (see
    :mod:`skyfence.evaluate.zones`; null without alerts).
``classification``
    Confusion over track time (see :mod:`skyfence.evaluate.classification`):
    ``period_s`` (seconds one tick weighs), ``min_age_s`` (10), ``rows``
    (truth kinds), ``columns`` (track classes), ``track_s`` (truth kind →
    class → track-seconds), ``track_s_aged`` (the same over track lines at
    least ``min_age_s`` after the track's first line), ``rates`` and
    ``rates_aged`` (``KIND_as_drone``: the share of that kind's track time
    classified drone; null for an empty row).
``alert_lead_time``
    Per true drone that entered a critical zone (its first such entry; see
    :mod:`skyfence.evaluate.zones`): ``alerts_given``, ``drones`` (how many),
    ``alerted_in_time`` (an alert started at or before the entry; null
    without alerts), ``median_s``, ``mean_s`` (lead times, a drone never
    alerted counting 0; null without alerts or drones), ``per_drone``: in
    order of entry, ``target``, ``zone``, ``entry_t_s``, ``alert_id``,
    ``alert_kind``, ``alert_t_start_s``, ``lead_time_s``.
``false_alerts``
    Alerts none of whose tracks ever matched a true drone (see
    :mod:`skyfence.evaluate.false_alerts`): ``alerts_given``, ``hours``
    (scenario ``duration_s`` / 3600), ``scored`` (alerts other than sensor
    health and suspect broadcast), ``sensor_health``, ``suspect_broadcast``
    (those excluded: the second are judged by ``spoofing``), ``count``,
    ``per_hour`` (null without alerts), ``alerts``: the false ones,
    ``alert_id``, ``kind``, ``t_start_s``, ``zone``, ``track_ids``.
``spoofing``
    Lying broadcasts flagged in time, honest ones not (see
    :mod:`skyfence.evaluate.spoofing`): ``alerts_given``, ``lie_onset``
    (``"associations"`` or ``"schedule"``), ``max_delay_s`` (10),
    ``suspect_alerts``, ``lying`` (displaced and phantom broadcasters),
    ``lying_observed`` (those received after they began to lie),
    ``flagged_in_time``, ``genuine``, ``false_flags`` (counts null without
    alerts), ``unattributed_alerts`` (suspect alerts naming no broadcaster of
    the scenario) and ``broadcasters``: per broadcaster in target order,
    ``target``, ``kind``, ``identity``, ``role``, ``from_s``, ``lie_t_s``,
    ``alert_id``, ``alert_t_start_s``, ``delay_s``, ``in_time``,
    ``false_flag``, ``alert_ids``.
``swarms``
    Per true swarm (a scenario target of type swarm), its swarm alerts (see
    :mod:`skyfence.evaluate.swarms`): ``alerts_given``, ``window_s`` (30),
    ``size_tolerance`` (2), ``count`` (true swarms), ``judged`` (those with
    three members tracked), ``passed`` (null without alerts) and
    ``per_swarm``: ``swarm``, ``count`` (members), ``members_tracked``,
    ``third_track_t_s``, ``deadline_t_s``, ``confirmed_by_deadline``,
    ``tracked_at_deadline``, ``alerts``, ``alert_ids``, ``alert_id``,
    ``alert_t_start_s``, ``alert_delay_s``, ``size_at_deadline``,
    ``size_peak``, ``passed``.
``targets``
    Per truth id (first-appearance order): ``kind``, ``ticks``,
    ``detectable_ticks``, ``matched_ticks``, ``track_ids`` (distinct, in order
    of first match), ``id_switches``, ``fragmentations``,
    ``first_detection_t_s``, ``first_track_t_s`` (first matched tick),
    ``time_to_track_s`` :math:`= \\max(0, t_\\text{track} - t_\\text{detection})`
    (null unless both exist).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from skyfence.errors import UserError
from skyfence.evaluate.classification import classification_section, track_age_s
from skyfence.evaluate.detectability import detectable_points, scenario_index
from skyfence.evaluate.false_alerts import false_alert_section
from skyfence.evaluate.gospa import STANDARD, GospaParams, GospaResult, gospa_grouped
from skyfence.evaluate.identity import (
    IdentityStats,
    clear_mot_correspondence,
    identity_stats,
)
from skyfence.evaluate.records import (
    Alert,
    TrackTable,
    TruthTable,
    first_detections,
    read_alerts,
    read_tracks,
    read_truth,
)
from skyfence.evaluate.spoofing import spoofing_section
from skyfence.evaluate.swarms import swarm_section, true_swarms
from skyfence.evaluate.zones import (
    ZoneEntry,
    first_alert,
    first_critical_entries,
    lead_time_s,
    zone_entries,
)
from skyfence.scenario import Scenario, load_scenario
from skyfence.sim.sensors import SensorModel, make_sensor
from skyfence.sim.targets import expand_targets

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TICK_TOLERANCE_S = 1e-3
SAME_TICK_S = 1e-6
ASSOCIATIONS_FILE = "associations.jsonl"


@dataclass(frozen=True)
class Scored:
    """Everything the report sections are made from."""

    scenario: Scenario
    truth: TruthTable
    tracks: TrackTable
    tick_t_s: FloatArray  # (G,)
    truth_tick: IntArray  # (R,)
    track_tick: IntArray  # (Q,) -1: unscored
    detectable: npt.NDArray[np.bool_]  # (R,)
    gospa: GospaResult
    identity: IdentityStats
    params: GospaParams
    min_pd: float
    matched_row: IntArray  # (R,) track line of each truth row's correspondence, -1: none


def evaluate(
    scenario: Scenario | str | Path,
    truth_path: str | Path,
    tracks_path: str | Path,
    alerts_path: str | Path | None = None,
    min_pd: float = 0.5,
    *,
    sensor_models: Sequence[SensorModel] | None = None,
    params: GospaParams = STANDARD,
) -> dict[str, Any]:
    """Score ``tracks_path`` (and ``alerts_path``) against ``truth_path``; see module doc.

    ``sensor_models`` replaces the scenario's own sensor models for the
    detectability test (for tests); by default each is built with
    :func:`make_sensor`.
    """
    scen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    truth = read_truth(truth_path)
    tracks = read_tracks(tracks_path)
    alerts = None if alerts_path is None else read_alerts(alerts_path)
    models = (
        [make_sensor(s, scen.site.origin) for s in scen.sensors]
        if sensor_models is None
        else list(sensor_models)
    )
    scored = score(scen, truth, tracks, models, min_pd, params)
    assoc = Path(truth_path).parent / ASSOCIATIONS_FILE
    first_det = first_detections(assoc) if assoc.is_file() else None
    entries = zone_entries(scen.site.zones, truth.enu_m, truth.target, scored.truth_tick)
    return {
        "scenario": scen.name,
        "inputs": {
            "truth": str(truth_path),
            "tracks": str(tracks_path),
            "alerts": None if alerts_path is None else str(alerts_path),
            "associations": str(assoc) if first_det is not None else None,
        },
        "ticks": len(scored.tick_t_s),
        "t_first_s": _opt(scored.tick_t_s[0]) if len(scored.tick_t_s) else None,
        "t_last_s": _opt(scored.tick_t_s[-1]) if len(scored.tick_t_s) else None,
        "counts": _counts(scored),
        "gospa": _gospa_section(scored),
        "identity": {
            "id_switches": int(scored.identity.id_switches.sum()),
            "fragmentations": int(scored.identity.fragmentations.sum()),
        },
        **_targets_and_time_to_track(scored, first_det),
        "zone_entries": _zone_section(scored, entries, alerts),
        "classification": _classification(scored),
        "alert_lead_time": _drone_lead_section(scored, entries, alerts),
        "false_alerts": false_alert_section(alerts, _drone_tracks(scored),
                                            scen.duration_s),
        "spoofing": spoofing_section(scen, tracks, alerts,
                                     assoc if first_det is not None else None),
        "swarms": swarm_section(
            true_swarms(scen, expand_targets(scen).attributes.ids), truth.ids,
            scored.tick_t_s, scored.identity.first_match_tick, scored.identity.matches,
            tracks.track_ids, alerts),
    }


def score(
    scen: Scenario,
    truth: TruthTable,
    tracks: TrackTable,
    models: Sequence[SensorModel],
    min_pd: float,
    params: GospaParams,
) -> Scored:
    """Ticks, detectability, the GOSPA assignment per tick and identity statistics."""
    tick_t_s, truth_tick = truth_ticks(truth.t_s)
    track_tick = nearest_tick(tracks.t_s, tick_t_s, TICK_TOLERANCE_S)
    _require_unique(truth.path, truth.line, truth_tick, truth.target, truth.ids, "truth id")
    _require_unique(tracks.path, tracks.line, track_tick, tracks.track, tracks.track_ids,
                    "track_id")
    attributes = expand_targets(scen).attributes
    detectable = detectable_points(
        truth_tick, tick_t_s, scenario_index(truth.ids, attributes)[truth.target],
        truth.enu_m, truth.vel_mps, attributes, models, min_pd,
    )
    on_tick = np.flatnonzero(track_tick >= 0)
    result = gospa_grouped(
        truth.enu_m, truth_tick, tracks.enu_m[on_tick], track_tick[on_tick],
        len(tick_t_s), params, detectable,
    )
    # identity, time to track, classification and alerts follow the persistent
    # CLEAR MOT correspondence, not the per-tick GOSPA assignment (see identity)
    corr = clear_mot_correspondence(
        truth_tick, truth.target, tracks.track[on_tick], result.pairs, result.truth_to_track,
        len(tick_t_s), len(truth.ids),
    )
    matched_track = np.full(len(corr), -1, dtype=np.int64)
    matched_track[corr >= 0] = tracks.track[on_tick[corr[corr >= 0]]]
    stats = identity_stats(truth.target, truth_tick, matched_track, detectable, len(truth.ids))
    matched_row = np.full(len(corr), -1, dtype=np.int64)
    matched_row[corr >= 0] = on_tick[corr[corr >= 0]]
    return Scored(scen, truth, tracks, tick_t_s, truth_tick, track_tick, detectable, result,
                  stats, params, min_pd, matched_row)


def truth_ticks(t_s: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct truth times (those within SAME_TICK_S merged) and each row's tick."""
    unique, inverse = np.unique(t_s, return_inverse=True)
    new = np.diff(unique, prepend=-np.inf) > SAME_TICK_S
    tick_of_unique = np.cumsum(new) - 1
    return unique[new], tick_of_unique[inverse].astype(np.int64)


def nearest_tick(t_s: FloatArray, tick_t_s: FloatArray, tolerance_s: float) -> IntArray:
    """Index of the tick within ``tolerance_s`` of each time, -1 where there is none."""
    if len(tick_t_s) == 0:
        return np.full(len(t_s), -1, dtype=np.int64)
    at = np.searchsorted(tick_t_s, t_s)
    lo = np.clip(at - 1, 0, len(tick_t_s) - 1)
    hi = np.clip(at, 0, len(tick_t_s) - 1)
    best = np.where(np.abs(tick_t_s[lo] - t_s) <= np.abs(tick_t_s[hi] - t_s), lo, hi)
    return np.where(np.abs(tick_t_s[best] - t_s) <= tolerance_s, best, -1).astype(np.int64)


def _require_unique(
    path: str, line: IntArray, tick: IntArray, key: IntArray, names: list[str], what: str
) -> None:
    """UserError at the second line that repeats a (tick, key) pair."""
    on = np.flatnonzero(tick >= 0)
    order = on[np.lexsort((line[on], key[on], tick[on]))]
    repeat = (tick[order][1:] == tick[order][:-1]) & (key[order][1:] == key[order][:-1])
    if repeat.any():
        row = order[1:][np.argmax(repeat)]
        raise UserError(
            f"{path}:{line[row]}: {what} {names[key[row]]!r} appears twice at one tick"
        )


def _opt(value: float | np.floating[Any] | None) -> float | None:
    """A finite float, or None."""
    return None if value is None or not np.isfinite(value) else float(value)


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean_s": None, "median_s": None, "max_s": None}
    arr = np.asarray(values)
    return {
        "mean_s": float(arr.mean()),
        "median_s": float(np.median(arr)),
        "max_s": float(arr.max()),
    }


def _counts(s: Scored) -> dict[str, int]:
    return {
        "targets": len(s.truth.ids),
        "truth_points": len(s.truth.t_s),
        "detectable_points": int(s.detectable.sum()),
        "track_points": len(s.tracks.t_s),
        "track_points_unscored": int((s.track_tick < 0).sum()),
        "track_ids": len(s.tracks.track_ids),
    }


def _gospa_section(s: Scored) -> dict[str, Any]:
    g, n = s.gospa, len(s.tick_t_s)
    matched = s.gospa.truth_to_track >= 0

    def mean(x: FloatArray) -> float | None:
        return float(x.mean()) if n else None

    return {
        "c_m": s.params.c_m,
        "p": s.params.p,
        "alpha": s.params.alpha,
        "min_pd": s.min_pd,
        "mean": mean(g.distance),
        "localisation_mean": mean(g.localisation),
        "missed_mean": mean(g.missed),
        "false_mean": mean(g.false),
        "per_tick": {
            "t": s.tick_t_s.tolist(),
            "gospa": g.distance.tolist(),
            "localisation": g.localisation.tolist(),
            "missed": g.missed.tolist(),
            "false": g.false.tolist(),
            "truths": np.bincount(s.truth_tick, minlength=n).tolist(),
            "detectable": np.bincount(s.truth_tick[s.detectable], minlength=n).tolist(),
            "tracks": np.bincount(s.track_tick[s.track_tick >= 0], minlength=n).tolist(),
            "matched": np.bincount(s.truth_tick[matched], minlength=n).tolist(),
        },
    }


def _targets_and_time_to_track(
    s: Scored, first_det: dict[str, float] | None
) -> dict[str, Any]:
    """The ``time_to_track`` summary and the per-target ``targets`` table."""
    st = s.identity
    targets: dict[str, Any] = {}
    delays: list[float] = []
    never_tracked = never_detected = 0
    for k, target_id in enumerate(s.truth.ids):
        if first_det is not None:
            detected = first_det.get(target_id)
        else:
            detected = _tick_time(s.tick_t_s, int(st.first_detectable_tick[k]))
        tracked = _tick_time(s.tick_t_s, int(st.first_match_tick[k]))
        delay = None if detected is None or tracked is None else max(0.0, tracked - detected)
        if delay is not None:
            delays.append(delay)
        never_detected += detected is None
        never_tracked += detected is not None and tracked is None
        targets[target_id] = {
            "kind": s.truth.kinds[k],
            "ticks": int(st.ticks[k]),
            "detectable_ticks": int(st.detectable_ticks[k]),
            "matched_ticks": int(st.matched_ticks[k]),
            "track_ids": [s.tracks.track_ids[j] for j in st.tracks[k]],
            "id_switches": int(st.id_switches[k]),
            "fragmentations": int(st.fragmentations[k]),
            "first_detection_t_s": detected,
            "first_track_t_s": tracked,
            "time_to_track_s": delay,
        }
    time_to_track = {
        "detections": "coverage" if first_det is None else "associations",
        **_summary(delays),
        "tracked": len(delays),
        "never_tracked": never_tracked,
        "never_detected": never_detected,
    }
    return {"time_to_track": time_to_track, "targets": targets}


def _tick_time(tick_t_s: FloatArray, tick: int) -> float | None:
    return None if tick < 0 else float(tick_t_s[tick])


def _zone_section(
    s: Scored, entries: list[ZoneEntry], alerts: list[Alert] | None
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    in_time = 0
    for e in entries:
        entry_t = float(s.tick_t_s[e.tick])
        row: dict[str, Any] = {
            "zone": e.zone,
            "level": e.level,
            "target": s.truth.ids[e.target],
            "kind": s.truth.kinds[e.target],
            "entry_t_s": entry_t,
            "alert_id": None,
            "alert_t_start_s": None,
            "lead_time_s": None,
        }
        if alerts is not None:
            alert = _alert_before(s, e, alerts)
            row["lead_time_s"] = lead_time_s(entry_t, alert)
            if alert is not None:
                row["alert_id"] = alert.alert_id
                row["alert_t_start_s"] = alert.t_start_s
                in_time += alert.t_start_s <= entry_t
        rows.append(row)
    leads = [r["lead_time_s"] for r in rows if r["lead_time_s"] is not None]
    return {
        "alerts_given": alerts is not None,
        "count": len(rows),
        "alerted_in_time": in_time if alerts is not None else None,
        "mean_lead_time_s": float(np.mean(leads)) if leads else None,
        "entries": rows,
    }


def _alert_before(s: Scored, e: ZoneEntry, alerts: list[Alert]) -> Alert | None:
    """The first alert naming a track matched to the entry's target by the entry tick."""
    names = {s.tracks.track_ids[j] for j in s.identity.matches.tracks_until(e.target, e.tick)}
    return first_alert(alerts, names)


def _classification(s: Scored) -> dict[str, Any]:
    """Confusion over the matched (truth, track line) pairs of every tick."""
    truth_rows = np.flatnonzero(s.matched_row >= 0)
    track_rows = s.matched_row[truth_rows]
    kinds = np.unique(np.asarray(s.truth.kinds), return_inverse=True)
    age = track_age_s(s.tracks.t_s, s.tracks.track, len(s.tracks.track_ids))
    return classification_section(
        kinds[0].tolist(), kinds[1][s.truth.target[truth_rows]].astype(np.int64),
        s.tracks.classes, s.tracks.track_class[track_rows], age[track_rows], s.tick_t_s,
    )


def _drone_lead_section(
    s: Scored, entries: list[ZoneEntry], alerts: list[Alert] | None
) -> dict[str, Any]:
    """Alert lead time per true drone at its first critical-zone entry."""
    is_drone = [k == "drone" for k in s.truth.kinds]
    rows: list[dict[str, Any]] = []
    for e in first_critical_entries(entries, is_drone):
        entry_t = float(s.tick_t_s[e.tick])
        alert = None if alerts is None else _alert_before(s, e, alerts)
        rows.append({
            "target": s.truth.ids[e.target], "zone": e.zone, "entry_t_s": entry_t,
            "alert_id": None if alert is None else alert.alert_id,
            "alert_kind": None if alert is None else alert.kind,
            "alert_t_start_s": None if alert is None else alert.t_start_s,
            "lead_time_s": None if alerts is None else lead_time_s(entry_t, alert),
        })
    leads = [r["lead_time_s"] for r in rows if r["lead_time_s"] is not None]
    in_time = sum(r["alert_t_start_s"] is not None and r["alert_t_start_s"] <= r["entry_t_s"]
                  for r in rows)
    return {
        "alerts_given": alerts is not None,
        "drones": len(rows),
        "alerted_in_time": in_time if alerts is not None else None,
        "median_s": float(np.median(leads)) if leads else None,
        "mean_s": float(np.mean(leads)) if leads else None,
        "per_drone": rows,
    }


def _drone_tracks(s: Scored) -> set[str]:
    """Names of the tracks matched to a true drone at any tick."""
    m = s.identity.matches
    drone = np.array([k == "drone" for k in s.truth.kinds], dtype=bool)
    return {s.tracks.track_ids[j] for j in np.unique(m.track[drone[m.target]]).tolist()}
