"""Track management: detection opportunities, confirmation, deletion, duplicates.

A scan of a miss-counting sensor (radar by default) is an *opportunity* for
every track it covers: a hit sets the newest bit of the track's history, a
miss clears it. The log-likelihood-ratio score (Blackman & Popoli) adds

    hit:   ln(P_D) + ln g − ln λ          miss: ln(1 − P_D P_G)

Confirmation: M hits in the first N opportunities (default 3 of 5; tracks
started by triangulation have their own M and N, passive_initiator.py), or the
score crossing ln((1−β)/α). Deletion (the deleter): a tentative track that
can no longer make M of N, or whose score falls below ln(β/(1−α)); a
confirmed track after K consecutive misses (any report in between resets the
count) or once its score has fallen ``delete_score_drop`` below its best (a
P_D-aware run of misses); any track not updated for too long or too
uncertain to be useful.
Duplicates: two tracks whose states agree within the merge gate are one
object; the younger goes.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from skyfence.tracker.bank import TrackBank
from skyfence.tracker.base import BoolArray, FloatArray, IntArray
from skyfence.tracker.params import TrackerParams

SCORE_DELETE = math.log(0.1 / (1.0 - 1e-4))
"""ln(β/(1−α)): a tentative track whose score falls below this is deleted."""
_HISTORY_MASK = (1 << 31) - 1


def record_hits(bank: TrackBank, rows: IntArray, t_s: float, score_gain: FloatArray) -> None:
    """Tracks ``rows`` were updated by a report at ``t_s`` (any sensor)."""
    bank.hits[rows] += 1
    bank.misses[rows] = 0
    bank.t_update_s[rows] = t_s
    bank.score[rows] += score_gain
    bank.score_max[rows] = np.maximum(bank.score_max[rows], bank.score[rows])


def record_opportunities(
    bank: TrackBank, covered: BoolArray, hit: BoolArray, miss_score: float
) -> None:
    """One scan of a miss-counting sensor: ``covered``/``hit`` over the first rows."""
    n = covered.shape[0]
    opp = covered | hit
    bank.opportunities[:n] += opp
    shifted = ((bank.history[:n] << 1) | hit) & _HISTORY_MASK
    bank.history[:n] = np.where(opp, shifted, bank.history[:n])
    missed = opp & ~hit
    bank.misses[:n] += missed
    bank.score[:n] += np.where(missed, miss_score, 0.0)


def hits_in_window(bank: TrackBank, n: int | IntArray) -> IntArray:
    """Hits among each track's latest ``n`` opportunities (``n`` one for all, or per track)."""
    width = np.broadcast_to(np.asarray(n, dtype=np.int64), (len(bank),))
    lags = np.arange(int(width.max(initial=0)))
    bits = (bank.history[:, None] >> lags) & (lags < width[:, None])
    return np.asarray(bits.sum(axis=1), dtype=np.int64)


def confirm_window(bank: TrackBank, params: TrackerParams) -> tuple[IntArray, IntArray]:
    """(M, N) of each track's M-of-N test: the passive one for tracks started by
    triangulation (passive_initiator.py), the usual one for the rest."""
    passive = bank.passive_sensors != 0
    m = np.where(passive, params.passive_confirm_m, params.confirm_m).astype(np.int64)
    n = np.where(passive, params.passive_confirm_n, params.confirm_n).astype(np.int64)
    return m, n


def confirm(bank: TrackBank, params: TrackerParams) -> int:
    """Promote tentative tracks that passed the confirmation test; how many."""
    if params.confirmation == "m_of_n":
        m, n = confirm_window(bank, params)
        passed = hits_in_window(bank, n) >= m
    else:
        passed = bank.score >= params.confirm_score
    new = passed & ~bank.confirmed
    bank.confirmed |= passed
    return int(new.sum())


def survivors(bank: TrackBank, t_s: float, params: TrackerParams) -> BoolArray:
    """Rows to keep at ``t_s``."""
    coast = t_s - bank.t_update_s
    pos_sigma = np.sqrt(bank.P[:, 0, 0] + bank.P[:, 1, 1] + bank.P[:, 2, 2])
    if params.confirmation == "m_of_n":
        m, n = confirm_window(bank, params)
        hopeless = (bank.opportunities >= n) | (
            hits_in_window(bank, n) + (n - bank.opportunities) < m
        )
    else:
        hopeless = bank.score < SCORE_DELETE
    tentative_dead = ~bank.confirmed & (hopeless | (coast > params.tentative_max_coast_s))
    confirmed_dead = bank.confirmed & (
        (bank.score_max - bank.score > params.delete_score_drop)
        | (bank.misses >= params.delete_after_misses)
        | (coast > params.max_coast_s)
    )
    lost = ~np.isfinite(pos_sigma) | (pos_sigma > params.max_position_sigma_m)
    return np.asarray(~(tentative_dead | confirmed_dead | lost), dtype=np.bool_)


def duplicates(bank: TrackBank, params: TrackerParams) -> BoolArray:
    """Rows that duplicate an older or better track (to delete).

    Pairs closer than ``merge_radius_m`` are tested with
    ``Δxᵀ (P₁ + P₂)⁻¹ Δx < merge_d2`` over the whole state (so targets that
    cross, with different velocities, are not merged); tracks of two different
    cooperative identities never merge. Of a duplicate pair the one without
    identity, else the tentative, else the younger (higher id), goes.
    """
    drop = np.zeros(len(bank), dtype=np.bool_)
    if len(bank) < 2:
        return drop
    pairs = cKDTree(bank.x[:, :3]).query_pairs(params.merge_radius_m, output_type="ndarray")
    if pairs.size == 0:
        return drop
    a, b = pairs[:, 0], pairs[:, 1]
    dx = bank.x[a] - bank.x[b]
    S = bank.P[a] + bank.P[b]
    d2 = np.einsum("pi,pi->p", dx, np.linalg.solve(S, dx[:, :, None])[:, :, 0])
    coop = bank.has_identity()
    other_identity = coop[a] & coop[b] & (bank.cooperative_id[a] != bank.cooperative_id[b])
    same = (d2 < params.merge_d2) & ~other_identity
    a, b = a[same], b[same]
    # the loser: without identity before with, tentative before confirmed, then younger
    rank = 2 * coop.astype(np.int64) + bank.confirmed.astype(np.int64)
    a_wins = (rank[a] > rank[b]) | ((rank[a] == rank[b]) & (bank.id[a] < bank.id[b]))
    drop[np.where(a_wins, b, a)] = True
    return drop
