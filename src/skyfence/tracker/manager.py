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

Continuation (track segment association, after Yeom, Kirubarajan &
Bar-Shalom 2004): a target whose track broke (a manoeuvre the filter did not
follow, a fade) soon gets a new track, which would show it under a new id.
So when a track is confirmed it is tested against the confirmed tracks that
have lost their target: those deleted, while their predicted position σ is
still under ``reacquire_max_sigma_m``, and live ones whose run of misses is
improbable under their own detection record (:func:`miss_run_probability`
below e^−delete_score_drop, the deleter's own bar). A candidate that has had
no report since the newcomer's birth and whose state agrees with the
newcomer's, ``Δxᵀ (P_new + P_old)⁻¹ Δx`` under the χ²₆ quantile of
``gate_probability`` in one of its IMM modes, is the same target; the pairs
are chosen one-to-one by likelihood. The newcomer then carries the old id,
age and class evidence, and the old track is gone.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree
from scipy.special import betaln, logsumexp
from scipy.stats import chi2

from skyfence.tracker import evidence
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.base import STATE_DIM, BoolArray, FloatArray, IntArray
from skyfence.tracker.params import TrackerParams

SCORE_DELETE = math.log(0.1 / (1.0 - 1e-4))
"""ln(β/(1−α)): a tentative track whose score falls below this is deleted."""
_HISTORY_BITS = 31
_HISTORY_MASK = (1 << _HISTORY_BITS) - 1


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


def miss_run_probability(bank: TrackBank) -> FloatArray:
    """Per track: the probability that a target still there gives the track's
    current run of misses, under the track's own detection record. With ``h``
    hits in the ``n`` opportunities of its M-of-N history before the run and a
    uniform prior on its detection probability ``p``, the posterior-predictive
    probability of ``k`` misses in a row is

        E[(1 − p)^k] = B(h + 1, n − h + 1 + k) / B(h + 1, n − h + 1)

    so a track seen on each of its last 28 scans cannot miss 3 in a row
    (2·10⁻⁴), one seen on 3 of 3 easily can (0.03)."""
    k = bank.misses.astype(np.float64)
    width = np.minimum(bank.opportunities, _HISTORY_BITS)
    h = hits_in_window(bank, width).astype(np.float64)  # the run's own bits are 0
    n = np.maximum(width - bank.misses, 0).astype(np.float64)
    a, b = h + 1.0, np.maximum(n - h, 0.0) + 1.0
    return np.asarray(np.exp(betaln(a, b + k) - betaln(a, b)), dtype=np.float64)


Predict = Callable[[TrackBank, float], None]
"""Moves a bank ``dt`` seconds ahead, in place (the tracker's motion model)."""


class Reacquirer:
    """Continuation of broken tracks under their old id (see the module doc):
    remembers the confirmed tracks deleted lately and matches newly confirmed
    tracks to them and to live tracks that have lost their target."""

    def __init__(self, params: TrackerParams) -> None:
        self.params = params
        self.lost: TrackBank | None = None  # as they were when deleted
        self.t_lost_s = np.zeros(0)
        self.gate_d2 = float(chi2.ppf(params.gate_probability, STATE_DIM))
        self.continued = 0  # confirmations that continued an older track

    def step(self, bank: TrackBank, fresh: BoolArray, keep: BoolArray, deleted: BoolArray,
             t_s: float, predict: Predict) -> int:
        """At the end of a scan at ``t_s``: ``fresh``, the tracks confirmed in it;
        ``keep``, the rows to keep (cleared here for live tracks a newcomer
        continues); ``deleted``, the rows the deleter removes. Remembers the
        confirmed tracks deleted now, gives the old id to each newcomer that
        continues a lost track; returns how many did."""
        gone = deleted & bank.confirmed & ~fresh
        arrived = fresh & keep
        if not (gone.any() or arrived.any()):
            return 0
        named = bank.has_identity()  # cooperative tracks keep the id their reports give
        gone &= ~named
        if gone.any():
            if self.lost is None:
                self.lost = bank.take(gone)
            else:
                self.lost.extend(bank.take(gone))
            self.t_lost_s = np.concatenate((self.t_lost_s, np.full(int(gone.sum()), t_s)))
        new = np.flatnonzero(arrived & ~named)
        if new.size == 0:
            return 0
        starved = bank.confirmed & ~fresh & keep & ~named
        starved &= miss_run_probability(bank) < math.exp(-self.params.delete_score_drop)
        cand = self._remembered(t_s, predict, bank.take(starved))
        n_lost = len(cand) - int(starved.sum())
        if len(cand) == 0:
            return 0
        gated, cost = continuation_costs(bank.x[new], bank.P[new], cand, self.gate_d2)
        gated &= cand.t_update_s[None, :] < bank.t_init_s[new][:, None]
        if not gated.any():
            return 0
        rows, cols = linear_sum_assignment(np.where(gated, cost, _FAR))
        ok = gated[rows, cols]
        rows, cols = rows[ok], cols[ok]
        dst = new[rows]
        bank.id[dst] = cand.id[cols]
        bank.t_init_s[dst] = cand.t_init_s[cols]
        evidence.add_contributions(bank.class_loglik, dst, cand.class_loglik[cols],
                                   self.params.evidence)
        keep[np.flatnonzero(starved)[cols[cols >= n_lost] - n_lost]] = False
        if self.lost is not None:
            self._forget(np.isin(self.lost.id, cand.id[cols[cols < n_lost]]))
        self.continued += int(rows.size)
        return int(rows.size)

    def _remembered(self, t_s: float, predict: Predict, live: TrackBank) -> TrackBank:
        """The lost tracks predicted to ``t_s``, then the ``live`` candidates (a new
        bank); forgets the lost tracks whose position σ has grown past
        ``reacquire_max_sigma_m``."""
        if self.lost is None:
            return live
        out = self.lost.take(np.ones(len(self.lost), dtype=np.bool_))
        gaps = t_s - self.t_lost_s
        for dt in np.unique(gaps[gaps > 0]):
            rows = gaps == dt
            part = out.take(rows)
            predict(part, float(dt))
            for name in ("x", "P", "mode_x", "mode_P", "mode_prob"):
                getattr(out, name)[rows] = getattr(part, name)
        sigma = np.sqrt(out.P[:, 0, 0] + out.P[:, 1, 1] + out.P[:, 2, 2])
        sharp = np.asarray(sigma <= self.params.reacquire_max_sigma_m, dtype=np.bool_)
        self._forget(~sharp)
        out.keep(sharp)
        out.extend(live)
        return out

    def _forget(self, rows: BoolArray) -> None:
        """Drop lost tracks ``rows``."""
        if self.lost is not None and rows.any():
            self.lost.keep(~rows)
            self.t_lost_s = self.t_lost_s[~rows]


_FAR = 1e12  # cost of a pair outside the gate: never chosen


def continuation_costs(x: FloatArray, P: FloatArray, cand: TrackBank,
                       gate_d2: float) -> tuple[BoolArray, FloatArray]:
    """(gated, cost), each ``(len(x), len(cand))``: whether a candidate's state,
    under any of its IMM modes (or its single filter), agrees with each
    newcomer's ``(x, P)`` within ``gate_d2``, and −ln of the mode mixture's
    likelihood of their difference (constants dropped)."""
    if cand.mode_prob.shape[1]:
        mx, mP, mu = cand.mode_x, cand.mode_P, cand.mode_prob
    else:
        mx, mP, mu = cand.x[:, None], cand.P[:, None], np.ones((len(cand), 1))
    dx = x[:, None, None, :] - mx[None]  # (N, C, M, 6)
    S = P[:, None, None] + mP[None]
    d2 = np.einsum("ncmi,ncmi->ncm", dx, np.linalg.solve(S, dx[..., None])[..., 0])
    log_l = np.log(np.maximum(mu, 1e-300))[None] - 0.5 * (d2 + np.linalg.slogdet(S)[1])
    gated = np.asarray((d2 < gate_d2).any(axis=2), dtype=np.bool_)
    return gated, np.asarray(-logsumexp(log_l, axis=2), dtype=np.float64)
