r"""Swarm alerts against the true swarms: one alert, in time, naming the right size.

A TRUE SWARM is a scenario target of type ``swarm``; its members are the
``count`` truth ids the simulator gives it (``swarm-ene-01`` … ``swarm-ene-13``
for ``id: swarm-ene``, ``swarm-1-01`` … for the first swarm entry without an
id; :func:`skyfence.sim.targets.expand_targets`). Per true swarm, with
*matched* meaning matched in the identity correspondence
(:mod:`skyfence.evaluate.identity`):

- :math:`t_3`, the time its third member was first matched to a track (its
  third drone's first confirmed track; null with fewer than three), and the
  deadline :math:`t_3 + W`, :math:`W` = 30 s;
- ``confirmed_by_deadline``: members first matched by the deadline, the
  drones that any track-based alert could know of by then (the swarm's
  drones come into radar range one after another: at the deadline most of a
  long stream may not have been seen yet); ``tracked_at_deadline``, for
  information: members matched at the deadline tick (the last tick at or
  before it; a track more than c = 100 m from its drone, common at 8–10 km
  from a radar, is not matched, so this undercounts what is tracked);
- its alerts: the ``swarm_detected`` alerts whose ``track_ids`` include a
  track matched to one of its members at any tick; ``alerts`` counts them;
- of the first of them (earliest ``t_start``): its start, the delay
  :math:`t_\text{start} - t_3`, the size it named at the deadline (the count
  in effect then in its ``size_history``: the last ``[t, n]`` with
  :math:`t \le t_3 + W`; null if it started after the deadline or its record
  has no ``size_history``) and its peak size (the largest ``n``).

It PASSES when all of

.. math::

    \text{alerts} = 1,\quad t_\text{start} \le t_3 + W,\quad
    |n(t_3 + W) - \text{confirmed by deadline}| \le 2,\quad
    |n_\text{peak} - \text{count}| \le 2

hold: one alert, raised in time, whose size was right for what had been seen
by the deadline and right for the whole swarm once it was all in view. A
swarm with fewer than three members ever matched is not judged
(``passed`` null).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from skyfence.assess.alerts import KIND_SWARM
from skyfence.evaluate.identity import Matches
from skyfence.evaluate.records import Alert
from skyfence.scenario import Scenario
from skyfence.scenario.model import BirdFlock, SwarmTarget

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

WINDOW_S = 30.0
"""W: seconds after the third member's first track by which the alert must name the size."""
NTH_MEMBER = 3
"""The member whose first track starts the window (a swarm alert needs three tracks)."""
SIZE_TOLERANCE = 2
"""Largest error (drones) of a named size that still passes."""


@dataclass(frozen=True)
class TrueSwarm:
    name: str  # the scenario entry's id, or swarm-K
    members: list[str]  # truth ids


def true_swarms(scenario: Scenario, truth_ids: Sequence[str]) -> list[TrueSwarm]:
    """The swarm entries of ``scenario`` and their member truth ids, in scenario order.

    ``truth_ids`` is the simulator's id list (``expand_targets(...).attributes.ids``):
    one id per drone or aircraft entry, ``count`` per swarm or flock, in entry order.
    """
    out: list[TrueSwarm] = []
    at = 0
    swarms = 0
    for entry in scenario.targets:
        n = entry.count if isinstance(entry, SwarmTarget | BirdFlock) else 1
        if isinstance(entry, SwarmTarget):
            swarms += 1
            out.append(TrueSwarm(entry.id or f"swarm-{swarms}", list(truth_ids[at : at + n])))
        at += n
    if at != len(truth_ids):
        raise ValueError(f"{len(truth_ids)} truth ids for {at} scenario targets")
    return out


def swarm_section(
    swarms: Sequence[TrueSwarm],
    target_ids: Sequence[str],
    tick_t_s: FloatArray,
    first_match_tick: IntArray,
    matches: Matches,
    track_names: Sequence[str],
    alerts: Sequence[Alert] | None,
) -> dict[str, Any]:
    """The ``swarms`` report section (module doc).

    ``target_ids`` names the scored targets (index = target); ``first_match_tick``
    (-1: never) and ``matches`` are per target, as in
    :class:`~skyfence.evaluate.identity.IdentityStats`; ``track_names`` names
    the track indices of ``matches``. Members missing from the truth file are
    counted in ``count`` but never matched.
    """
    index = {name: k for k, name in enumerate(target_ids)}
    swarm_alerts = [] if alerts is None else [a for a in alerts if a.kind == KIND_SWARM]
    rows = [_one(s, index, tick_t_s, first_match_tick, matches, track_names, swarm_alerts,
                 alerts is not None) for s in swarms]
    judged = [r for r in rows if r["passed"] is not None]
    return {
        "alerts_given": alerts is not None,
        "window_s": WINDOW_S,
        "size_tolerance": SIZE_TOLERANCE,
        "count": len(rows),
        "judged": len(judged) if alerts is not None else None,
        "passed": sum(r["passed"] for r in judged) if alerts is not None else None,
        "per_swarm": rows,
    }


def _one(
    swarm: TrueSwarm, index: dict[str, int], tick_t_s: FloatArray, first_match_tick: IntArray,
    matches: Matches, track_names: Sequence[str], swarm_alerts: list[Alert], given: bool,
) -> dict[str, Any]:
    members = [index[m] for m in swarm.members if m in index]
    first = sorted(float(tick_t_s[first_match_tick[k]]) for k in members
                   if first_match_tick[k] >= 0)
    t3 = first[NTH_MEMBER - 1] if len(first) >= NTH_MEMBER else None
    deadline = None if t3 is None else t3 + WINDOW_S
    tracks: set[str] = set()
    for k in members:
        a, b = np.searchsorted(matches.target, [k, k + 1])
        tracks.update(track_names[j] for j in np.unique(matches.track[a:b]).tolist())
    about = sorted((a for a in swarm_alerts if not a.track_ids.isdisjoint(tracks)),
                   key=lambda a: a.t_start_s)
    row: dict[str, Any] = {
        "swarm": swarm.name,
        "count": len(swarm.members),
        "members_tracked": len(first),
        "third_track_t_s": t3,
        "deadline_t_s": deadline,
        "confirmed_by_deadline": None if deadline is None else sum(t <= deadline for t in first),
        "tracked_at_deadline": (None if deadline is None else
                                _matched_at(matches, members, tick_t_s, deadline)),
        "alerts": len(about) if given else None,
        "alert_ids": [a.alert_id for a in about],
        "alert_id": None, "alert_t_start_s": None, "alert_delay_s": None,
        "size_at_deadline": None, "size_peak": None, "passed": None,
    }
    if not about:
        row["passed"] = False if given and t3 is not None else None
        return row
    alert = about[0]
    named = [n for t, n in alert.size_history if deadline is not None and t <= deadline]
    row.update({
        "alert_id": alert.alert_id,
        "alert_t_start_s": alert.t_start_s,
        "alert_delay_s": None if t3 is None else alert.t_start_s - t3,
        "size_at_deadline": named[-1] if named else None,
        "size_peak": max((n for _, n in alert.size_history), default=None),
    })
    if t3 is not None:
        row["passed"] = bool(
            len(about) == 1 and row["size_at_deadline"] is not None
            and abs(row["size_at_deadline"] - row["confirmed_by_deadline"]) <= SIZE_TOLERANCE
            and abs(row["size_peak"] - row["count"]) <= SIZE_TOLERANCE
        )
    return row


def _matched_at(matches: Matches, members: list[int], tick_t_s: FloatArray,
                t_s: float) -> int:
    """How many of ``members`` are matched at the last tick at or before ``t_s``."""
    tick = int(np.searchsorted(tick_t_s, t_s + 1e-6, side="right")) - 1
    n = 0
    for k in members:
        a, b = np.searchsorted(matches.target, [k, k + 1])
        i = a + int(np.searchsorted(matches.tick[a:b], tick))
        n += bool(i < b and matches.tick[i] == tick)
    return n
