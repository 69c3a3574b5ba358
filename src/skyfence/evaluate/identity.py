"""Track identity over time, from the GOSPA assignment at each tick.

A truth point is MATCHED at a tick when GOSPA assigned it a track there
(always at a distance below ``c``). Per target, in tick order:

- ID switch: a matched tick whose ``track_id`` differs from the ``track_id``
  the target was last matched to (unmatched ticks in between do not reset
  it). A target that loses its track and is picked up again by a new track
  counts one switch and one fragmentation.
- Fragmentation: coverage interrupted and resumed: matched, then unmatched at
  one or more ticks where the target was detectable, then matched again.
  Unmatched ticks where it was not detectable are skipped (losing what no
  sensor could see is not a fragmentation); ticks with no truth line for the
  target (not in the air) are not part of its sequence at all.

All counts are computed with array operations over every target at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Matches:
    """Matched truth points, sorted by (target, tick); ``track`` is a track index."""

    target: IntArray
    tick: IntArray
    track: IntArray

    def tracks_until(self, target: int, last_tick: int) -> set[int]:
        """Track indices matched to ``target`` at any tick <= ``last_tick``."""
        a, b = np.searchsorted(self.target, [target, target + 1])
        stop = a + int(np.searchsorted(self.tick[a:b], last_tick, side="right"))
        return {int(k) for k in self.track[a:stop]}


@dataclass(frozen=True)
class IdentityStats:
    """Per-target counts (index = target); ``-1`` ticks mean never."""

    ticks: IntArray  # truth ticks of the target
    detectable_ticks: IntArray
    matched_ticks: IntArray
    id_switches: IntArray
    fragmentations: IntArray
    first_match_tick: IntArray
    first_detectable_tick: IntArray
    tracks: list[list[int]]  # distinct track indices, in order of first match
    matches: Matches


def identity_stats(
    target: IntArray,
    tick: IntArray,
    matched_track: IntArray,
    detectable: BoolArray,
    n_targets: int,
) -> IdentityStats:
    """Identity metrics from per-truth-row target, tick, matched track (-1) and detectability."""
    order = np.lexsort((tick, target))
    target, tick = target[order], tick[order]
    matched_track, detectable = matched_track[order], detectable[order]
    matched = matched_track >= 0
    matches = Matches(target[matched], tick[matched], matched_track[matched])
    return IdentityStats(
        ticks=np.bincount(target, minlength=n_targets),
        detectable_ticks=np.bincount(target[detectable], minlength=n_targets),
        matched_ticks=np.bincount(matches.target, minlength=n_targets),
        id_switches=count_switches(matches.target, matches.track, n_targets),
        fragmentations=count_fragmentations(
            target[matched | detectable], matched[matched | detectable], n_targets
        ),
        first_match_tick=_first_tick(matches.target, matches.tick, n_targets),
        first_detectable_tick=_first_tick(target[detectable], tick[detectable], n_targets),
        tracks=_tracks_in_order(matches, n_targets),
        matches=matches,
    )


def count_switches(target: IntArray, track: IntArray, n_targets: int) -> IntArray:
    """Per target: matched rows (sorted by target, tick) whose track differs from the last."""
    switch = (target[1:] == target[:-1]) & (track[1:] != track[:-1])
    return np.bincount(target[1:][switch], minlength=n_targets)


def count_fragmentations(target: IntArray, matched: BoolArray, n_targets: int) -> IntArray:
    """Per target: resumptions of a match after a gap, in a (target, tick)-sorted sequence.

    ``matched`` is the state of each kept row (detectable gaps are False rows).
    Row *k* resumes when it is matched, row *k-1* is the same target and
    unmatched, and the target had been matched at or before row *k-1*.
    """
    if len(target) == 0:
        return np.zeros(n_targets, dtype=np.int64)
    m = matched.astype(np.int64)
    total = np.cumsum(m)
    new_target = np.r_[True, target[1:] != target[:-1]]
    group_start = np.maximum.accumulate(np.where(new_target, np.arange(len(m)), 0))
    matched_so_far = total - (total[group_start] - m[group_start])
    resume = ~new_target[1:] & matched[1:] & ~matched[:-1] & (matched_so_far[:-1] > 0)
    return np.bincount(target[1:][resume], minlength=n_targets)


def _first_tick(target: IntArray, tick: IntArray, n_targets: int) -> IntArray:
    """Per target the first tick of rows sorted by (target, tick); -1 where none."""
    first = np.full(n_targets, -1, dtype=np.int64)
    ids, at = np.unique(target, return_index=True)
    first[ids] = tick[at]
    return first


def _tracks_in_order(matches: Matches, n_targets: int) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(n_targets)]
    pairs = np.column_stack((matches.target, matches.track))
    if len(pairs) == 0:
        return out
    unique, at = np.unique(pairs, axis=0, return_index=True)
    for k, track in unique[np.argsort(at, kind="stable")]:
        out[int(k)].append(int(track))
    return out
