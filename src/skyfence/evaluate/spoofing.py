r"""Spoofed broadcasts: was each lying broadcast flagged in time, and no honest one?

The scenario says which broadcasts lie (:func:`skyfence.sim.targets.broadcast_roles`):
every broadcaster (a target's Remote ID ``uas_id`` or ADS-B ``icao``) is
*genuine*, *displaced* (its true position plus an offset from ``from_s`` on)
or a *phantom* (no target at all, broadcasting from its ``from_s``, the
target's ``start_s``). Only ``suspect_broadcast`` alerts are judged here (and
the ``false_alerts`` section leaves them out: an alert about a phantom is
necessarily about a track that matches no true drone).

**Which broadcaster an alert names.** A ``suspect_broadcast`` alert lists
``track_ids``; each tracks.jsonl line carries the ``cooperative_id`` of its
track at that tick. The alert names every identity that one of its tracks
carried on a line while the alert was active: :math:`t_\text{start} - \epsilon
\le t \le t_\text{end} + \epsilon` (no upper bound while ``t_end`` is null;
:math:`\epsilon` = 1e-3 s, the scorer's tick tolerance). A suspect alert that
names no identity of the scenario's broadcasters is *unattributed*.

**When the lie became observable** (:math:`t_\text{lie}`): the time of the
broadcaster's first report at or after ``from_s`` (within 1e-9 s, as the
simulator switches the offset on) by a sensor of its kind (a Remote ID
receiver for ``remote_id``, an ADS-B receiver for ``adsb``), taken from
``associations.jsonl`` beside the truth file (``lie_onset``
``"associations"``), which names the target behind every report, phantoms
included; without that file it is ``from_s`` itself (``"schedule"``). A
broadcast never received at or after ``from_s`` (out of range, or the run
ended first) never lied observably: :math:`t_\text{lie}` null, and it is not
judged.

**Lying broadcaster** (displaced or phantom, :math:`t_\text{lie}` known): its
alert :math:`a^*` is the earliest-starting suspect alert naming it that had
not ended before :math:`t_\text{lie}`, and

.. math::

    \text{delay} = \max(0,\; t_\text{start}(a^*) - t_\text{lie}),
    \qquad \text{in time} \iff a^* \text{ exists and delay} \le 10\ \text{s}.

A suspect alert naming it that ended before :math:`t_\text{lie}` flagged it
while it still told the truth: a *false flag*.

**Genuine broadcaster**: any suspect alert naming it is a false flag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skyfence.assess.alerts import KIND_SUSPECT
from skyfence.evaluate.records import Alert, AssociationLine, TrackTable, decode_lines
from skyfence.scenario.model import Scenario
from skyfence.sim.targets import Broadcaster, broadcast_roles

MAX_DELAY_S = 10.0
"""A lying broadcast counts as flagged in time when its alert starts within this (s)."""
TICK_TOLERANCE_S = 1e-3
ONSET_TOLERANCE_S = 1e-9


def alert_identities(alert: Alert, tracks: TrackTable,
                     track_index: dict[str, int] | None = None) -> set[str]:
    """The cooperative identities the alert's tracks carried while it was active."""
    index = track_index if track_index is not None else {
        name: k for k, name in enumerate(tracks.track_ids)}
    wanted = [index[name] for name in alert.track_ids if name in index]
    if not wanted or tracks.track_coop.size == 0:
        return set()
    end = np.inf if alert.t_end_s is None else alert.t_end_s + TICK_TOLERANCE_S
    rows = (np.isin(tracks.track, wanted) & (tracks.track_coop >= 0)
            & (tracks.t_s >= alert.t_start_s - TICK_TOLERANCE_S) & (tracks.t_s <= end))
    return {tracks.cooperative_ids[c] for c in np.unique(tracks.track_coop[rows]).tolist()}


def lie_onsets(roles: Sequence[Broadcaster], sensor_types: Mapping[str, str],
               associations: str | Path | None) -> list[float | None]:
    """Per broadcaster, :math:`t_\\text{lie}` (module doc); None for a genuine one, or one
    never received at or after its ``from_s``. Without ``associations``: ``from_s``."""
    onset: list[float | None] = [None if r.from_s is None else
                                 (r.from_s if associations is None else None) for r in roles]
    lying: dict[tuple[str, str], int] = {(r.target_id, r.kind): k for k, r in enumerate(roles)
                                         if r.from_s is not None}
    if associations is None or not lying:
        return onset
    for _, row in decode_lines(associations, AssociationLine):
        if row.id is None:
            continue
        k = lying.get((row.id, sensor_types.get(row.sensor, "")))
        if k is None:
            continue
        from_s = roles[k].from_s
        assert from_s is not None
        seen = onset[k]
        if row.t >= from_s - ONSET_TOLERANCE_S and (seen is None or row.t < seen):
            onset[k] = row.t
    return onset


def spoofing_section(scenario: Scenario, tracks: TrackTable, alerts: Sequence[Alert] | None,
                     associations: str | Path | None) -> dict[str, Any]:
    """The ``spoofing`` report section (see the module doc and docs/evaluation.md)."""
    roles = broadcast_roles(scenario)
    types = {s.id: s.type for s in scenario.sensors}
    onsets = lie_onsets(roles, types, associations)
    suspect = sorted((a for a in alerts or [] if a.kind == KIND_SUSPECT),
                     key=lambda a: a.t_start_s)
    index = {name: k for k, name in enumerate(tracks.track_ids)}
    named = [alert_identities(a, tracks, index) for a in suspect]
    known = {r.identity for r in roles}
    rows = [_row(r, t_lie, [a for a, ids in zip(suspect, named, strict=True)
                            if r.identity in ids], alerts is not None)
            for r, t_lie in zip(roles, onsets, strict=True)]
    judged = [row for row in rows if row["role"] != "genuine" and row["lie_t_s"] is not None]
    given = alerts is not None
    return {
        "alerts_given": given,
        "lie_onset": "schedule" if associations is None else "associations",
        "max_delay_s": MAX_DELAY_S,
        "suspect_alerts": len(suspect) if given else None,
        "lying": sum(row["role"] != "genuine" for row in rows),
        "lying_observed": len(judged),
        "flagged_in_time": sum(bool(row["in_time"]) for row in judged) if given else None,
        "genuine": sum(row["role"] == "genuine" for row in rows),
        "false_flags": sum(bool(row["false_flag"]) for row in rows) if given else None,
        "unattributed_alerts": [a.alert_id for a, ids in zip(suspect, named, strict=True)
                                if ids.isdisjoint(known)],
        "broadcasters": rows,
    }


def _row(r: Broadcaster, t_lie: float | None, naming: list[Alert], given: bool
         ) -> dict[str, Any]:
    """One broadcaster; ``naming``: the suspect alerts naming it, in order of start."""
    row: dict[str, Any] = {
        "target": r.target_id, "kind": r.kind, "identity": r.identity, "role": r.role,
        "from_s": r.from_s, "lie_t_s": t_lie, "alert_id": None, "alert_t_start_s": None,
        "delay_s": None, "in_time": None, "false_flag": None,
        "alert_ids": [a.alert_id for a in naming] if given else None,
    }
    if not given:
        return row
    if r.role == "genuine":
        row["false_flag"] = bool(naming)
        return row
    lie = np.inf if t_lie is None else t_lie
    early = [a for a in naming if a.t_end_s is not None and a.t_end_s < lie]
    row["false_flag"] = bool(early)
    if t_lie is None:
        return row
    hit = next((a for a in naming if a not in early), None)
    row["in_time"] = False
    if hit is not None:
        delay = max(0.0, hit.t_start_s - t_lie)
        row.update(alert_id=hit.alert_id, alert_t_start_s=hit.t_start_s, delay_s=delay,
                   in_time=delay <= MAX_DELAY_S)
    return row
