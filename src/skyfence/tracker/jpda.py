"""Joint probabilistic data association (JPDA): association probabilities and the PDA update.

Likelihood ratios (the terms GNN's costs are made of, see :mod:`.association`)
for a gated pair (track i, measurement j) and for track i missing::

    L_ij = P_D · g_ij / λ          g_ij = N(ν_ij; 0, S_i)
    L_i0 = 1 − P_D · P_G

A *joint event* θ gives every track of a cluster at most one measurement and
every measurement at most one track; the rest are clutter or new targets.
Its probability is proportional to the product of its terms::

    P(θ) ∝ Π_{i detected in θ} L_{i,θ(i)} · Π_{i missed in θ} L_i0

and the marginal association probabilities sum over the events::

    β_ij = Σ_{θ: θ(i) = j} P(θ),       β_i0 = Σ_{θ: θ(i) = ∅} P(θ),
    β_i0 + Σ_j β_ij = 1.

Clusters (connected components of the gated pairs' bipartite graph) are
independent, so each is solved apart:

* a cluster with a cycle and at most :data:`MAX_EVENTS` candidate event
  tuples ``Π_i (1 + deg_i)`` (before the exclusivity test) is enumerated
  exactly (:func:`enumerate_events`, all such clusters in one array pass);
* every other cluster — a tree (no two tracks share two measurements; the
  common case, a lone track is a star) or a cluster too large to enumerate —
  is solved by loopy belief propagation on the bipartite graph (Williams &
  Lau, 2014, "Approximate evaluation of marginal association probabilities
  with belief propagation", IEEE TAES 50(4)). With ``w_ij = L_ij / L_i0``::

      μ_{i→j} = w_ij / (1 + Σ_{j'≠j} w_ij' ν_{j'→i})
      ν_{j→i} = 1 / (1 + Σ_{i'≠i} μ_{i'→j})          (ν starts at 1)
      β_ij = w_ij ν_{j→i} / (1 + Σ_j' w_ij' ν_{j'→i}),   β_i0 = 1 / (1 + Σ_j' …)

  BP is exact on a tree and Williams & Lau prove it converges on any graph;
  on crowded loopy clusters its β are off by 0.015 on average (the worst
  of a cluster by 0.03 in the median, tested), which is why small loopy
  clusters are enumerated. In large, crowded clusters (a bird flock in a
  radar's gates) convergence slows down: at most :data:`BP_MAX_ITERATIONS`.
  It was chosen over Fitzgerald's cheap JPDA because it is as fast (a few
  vectorised passes over the edges, all clusters at once), exact on trees,
  and accurate where the cheap JPDA's ad-hoc normalisation is not.

The PDA update (Bar-Shalom & Tse) of one Gaussian per track, linearised at the
prediction x⁻ like the EKF of :mod:`.updater`::

    ν_i = Σ_j β_ij ν_ij                         combined innovation
    K_i = P⁻ Hᵀ S⁻¹
    x   = x⁻ + K ν_i
    P_c = (I − K H) P⁻ (I − K H)ᵀ + K R Kᵀ       Kalman update, Joseph form
    P̃   = K (Σ_j β_ij ν_ij ν_ijᵀ − ν_i ν_iᵀ) Kᵀ    spread of the innovations
    P   = β_i0 P⁻ + (1 − β_i0) P_c + P̃

In the engine (Tracker._jpda_update), per scan of a sensor associated by JPDA:

* Track score: the likelihood ratio of the scan's gated reports under "track
  i is a target" against "all of them are clutter or new" is
  ``L_i0 + Σ_j L_ij`` (:func:`score_gain`); the score adds its log. It
  reduces to GNN's ``ln L_ij`` when one report dominates and to the miss
  term ``ln L_i0`` when none is near. For a sensor whose silence is no
  evidence (not in ``miss_sensor_types``) the score adds
  ``ln(1 + Σ_j L_ij / L_i0)`` instead, ≥ 0 like a GNN hit's absent miss.
* A track is *hit* (M-of-N history, consecutive misses, time of update)
  when ``1 − β_i0 > ½`` (:data:`HIT_PROBABILITY`); every track with a gated
  report gets the PDA update either way.
* A report starts a track only when ``Σ_i β_ij ≤ 0.65``
  (:data:`SPAWN_MAX_PROBABILITY`). GNN's rule, "no report inside any gate",
  starved JPDA of new tracks in bird flocks (birds-only GOSPA 291 against
  196 with 0.5, missed part 72443 against 11927).
* Class evidence of a report is shared among its tracks by β.
* Tracks that coalesced are merged (:func:`coalesced`, ``jpda_merge_d2``).
* Cooperative reports (ADS-B, Remote ID) always take GNN: their identity
  must name one track. Bearings follow ``bearing_update``: JPDA on bearings
  made night-swarm worse (GOSPA 67.5 against 60.3, 11 ID switches against
  7), so the default is the clear-margin rule ("margin", ambiguity.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from skyfence.tracker.bank import TrackBank
from skyfence.tracker.base import BoolArray, FloatArray, IntArray, MeasurementModel
from skyfence.tracker.gating import pair_statistics
from skyfence.tracker.params import TrackerParams
from skyfence.tracker.updater import innovation

MAX_EVENTS = 4096
"""Exact enumeration only for loopy clusters with at most this many candidate
event tuples ``Π_i (1 + deg_i)``; larger ones go to belief propagation."""
BP_TOLERANCE = 1e-6
"""Belief propagation stops when no β changes by more than this in an iteration."""
BP_MAX_ITERATIONS = 50
"""...or after this many iterations. In a bird flock's cluster (20 tracks, 150
pairs) β still move by ~10⁻³ after 50 iterations, yet GOSPA was the same as
with 200 (birds-only 196.3 and 197.1, airport-mixed 151.4 and 151.5) at a
quarter of the time."""
HIT_PROBABILITY = 0.5
"""A track counts as hit (M-of-N history, consecutive misses, time of its last
update) when ``1 − β_i0`` exceeds this: for one gated report that is GNN's
rule ``L_ij > L_i0``."""
SPAWN_MAX_PROBABILITY = 0.65
"""A report may start a track only when ``Σ_i β_ij`` is at most this: a report
that is likely some track's is not a new target. Measured (GOSPA night-swarm,
airport-mixed, birds-only, dense-swarm): 0.5: 60.3, 151.6, 195.2, 914.4;
0.65: 60.3, 146.0, 191.8, 918.5; 0.8: 60.3, 147.1, 190.6, 926.2 (more new
tracks in flocks and swarms, more ID switches)."""
_LOG_W_MAX = 700.0  # keeps exp() finite; a ratio of e^700 is far past any real one


def selected(bearing_only: bool, params: TrackerParams) -> bool:
    """Whether reports of this kind (bearings or not) are associated by JPDA."""
    method = params.bearing_update if bearing_only else params.association
    return method == "jpda"


# --------------------------------------------------------------- clustering
def cluster_labels(track: IntArray, meas: IntArray) -> tuple[IntArray, int]:
    """Cluster of every gated pair (connected components of the bipartite
    track–measurement graph) and the number of clusters."""
    if track.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    _, t_local = np.unique(track, return_inverse=True)
    m_ids, m_local = np.unique(meas, return_inverse=True)
    nt = int(t_local.max()) + 1
    n = nt + m_ids.size
    graph = coo_matrix((np.ones(track.size), (t_local, nt + m_local)), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    return np.asarray(label[t_local], dtype=np.int64), int(count)


# --------------------------------------------------------------- marginals
def marginals(
    track: IntArray, meas: IntArray, log_ratio: FloatArray, log_miss: FloatArray,
    method: Literal["auto", "exact", "bp"] = "auto",
) -> tuple[FloatArray, FloatArray]:
    """Association probabilities of gated pairs ``(track[k], meas[k])``.

    ``log_ratio[k] = ln L_ij`` of each pair; ``log_miss`` (indexed by track
    row, like GNN's ``miss``) holds ``ln L_i0``. Returns ``beta`` (K,) and
    ``beta0`` (len(log_miss),), the latter 1 for tracks without any pair.
    ``method``: "auto" (exact for small loopy clusters, belief propagation for
    the rest), "exact" (enumerate every cluster, whatever its size) or "bp".
    """
    beta = np.zeros(track.size)
    beta0 = np.ones(log_miss.shape[0])
    if track.size == 0:
        return beta, beta0
    if method not in ("auto", "exact", "bp"):
        raise ValueError(f"unknown JPDA method {method!r}")
    log_w = log_ratio - log_miss[track]  # ln w_ij = ln(L_ij / L_i0)
    comp, n_comp = cluster_labels(track, meas)
    exact = np.zeros(n_comp, dtype=np.bool_)
    if method != "bp":
        exact = _enumerable(track, meas, comp, n_comp) if method == "auto" else ~exact
    by_bp = ~exact[comp]
    if by_bp.any():
        edges = np.flatnonzero(by_bp)
        beta[edges], b0 = belief_propagation(track[edges], meas[edges], log_w[edges])
        beta0[np.unique(track[edges])] = b0
    if exact.any():
        edges = np.flatnonzero(~by_bp)
        beta[edges], b0 = enumerate_events(track[edges], meas[edges], log_w[edges],
                                           comp[edges])
        beta0[np.unique(track[edges])] = b0
    return beta, beta0


def _enumerable(track: IntArray, meas: IntArray, comp: IntArray, n_comp: int) -> BoolArray:
    """Clusters to enumerate: with a cycle (edges ≥ nodes) and few enough events."""
    t_ids, t_first = np.unique(track, return_index=True)
    _, m_first = np.unique(meas, return_index=True)
    edges = np.bincount(comp, minlength=n_comp)
    nodes = np.bincount(comp[t_first], minlength=n_comp) + np.bincount(comp[m_first],
                                                                        minlength=n_comp)
    deg = np.bincount(np.searchsorted(t_ids, track), minlength=t_ids.size)
    log_events = np.bincount(comp[t_first], np.log1p(deg), minlength=n_comp)
    return np.asarray((edges >= nodes) & (log_events <= math.log(MAX_EVENTS) + 1e-9),
                      dtype=np.bool_)


def enumerate_events(
    track: IntArray, meas: IntArray, log_w: FloatArray, comp: IntArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Exact marginals by enumerating every joint event of every cluster at once.

    ``log_w`` is ``ln(L_ij / L_i0)`` per pair, so a missed track contributes 0.
    Returns β per pair and β0 per distinct track (sorted by track row). Event
    ``e`` of a cluster gives its ``s``-th track the option
    ``(e // stride_s) mod (1 + deg_s)`` (0: missed, o ≥ 1: its o-th pair); the
    events that use a measurement twice are dropped. Memory and time grow
    with ``Σ_clusters Π_i (1 + deg_i)`` (see :data:`MAX_EVENTS`). ``comp``:
    each pair's cluster label when the caller has them (any integers).
    """
    t_ids, ti = np.unique(track, return_inverse=True)
    nt = t_ids.size
    if comp is None:
        comp, n_comp = cluster_labels(track, meas)
    else:
        labels, comp = np.unique(comp, return_inverse=True)
        n_comp = labels.size
    t_comp = np.zeros(nt, dtype=np.int64)
    t_comp[ti] = comp
    deg = np.bincount(ti, minlength=nt)
    # each track's slot in its cluster, and per-cluster tables (n_comp, width)
    per_comp = np.bincount(t_comp, minlength=n_comp)
    t_order = np.argsort(t_comp, kind="stable")
    slot = np.empty(nt, dtype=np.int64)
    slot[t_order] = np.arange(nt) - np.repeat(np.cumsum(per_comp) - per_comp, per_comp)
    width = int(per_comp.max())
    base = np.ones((n_comp, width), dtype=np.int64)
    base[t_comp, slot] = deg + 1
    stride = np.cumprod(base, axis=1) // base
    owner = np.full((n_comp, width), -1, dtype=np.int64)
    owner[t_comp, slot] = np.arange(nt)
    first = np.zeros((n_comp, width), dtype=np.int64)  # of the track's pairs in e_order
    first[t_comp, slot] = np.cumsum(deg) - deg
    e_order = np.argsort(ti, kind="stable")
    # every event of every cluster
    n_events = np.prod(base, axis=1)
    ev_comp = np.repeat(np.arange(n_comp), n_events)
    ev_local = np.arange(ev_comp.size) - np.repeat(np.cumsum(n_events) - n_events, n_events)
    option = (ev_local[:, None] // stride[ev_comp]) % base[ev_comp]  # (E, width)
    pair = np.where(option > 0, e_order[first[ev_comp] + np.maximum(option - 1, 0)], -1)
    used = np.where(pair >= 0, meas[np.maximum(pair, 0)], -1 - np.arange(width))
    used.sort(axis=1)
    feasible = ~(used[:, 1:] == used[:, :-1]).any(axis=1)
    pair, option, ev_comp = pair[feasible], option[feasible], ev_comp[feasible]
    log_p = np.where(pair >= 0, log_w[np.maximum(pair, 0)], 0.0).sum(axis=1)
    starts = np.flatnonzero(np.r_[True, ev_comp[1:] != ev_comp[:-1]])
    p = np.exp(log_p - np.maximum.reduceat(log_p, starts)[ev_comp])
    p /= np.add.reduceat(p, starts)[ev_comp]
    p_cell = np.broadcast_to(p[:, None], pair.shape)
    beta = np.bincount(pair[pair >= 0], p_cell[pair >= 0], minlength=track.size)
    missed = (option == 0) & (owner[ev_comp] >= 0)
    beta0 = np.bincount(owner[ev_comp][missed], p_cell[missed], minlength=nt)
    return np.asarray(beta, dtype=np.float64), np.asarray(beta0, dtype=np.float64)


def belief_propagation(
    track: IntArray, meas: IntArray, log_w: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Marginals by belief propagation (Williams & Lau 2014), all clusters at once.

    Same arguments and results as :func:`enumerate_events` (β per pair, β0
    per distinct track sorted by row); exact on trees. Stops when no β moves
    by more than :data:`BP_TOLERANCE`, or after :data:`BP_MAX_ITERATIONS`.
    """
    t_ids, ti = np.unique(track, return_inverse=True)
    _, mi = np.unique(meas, return_inverse=True)
    nt, nm = t_ids.size, int(mi.max()) + 1
    w = np.exp(np.minimum(log_w, _LOG_W_MAX))
    nu: FloatArray = np.ones(track.size)
    beta: FloatArray = np.zeros(track.size)
    denominator: FloatArray = np.ones(nt)
    for _ in range(BP_MAX_ITERATIONS):
        mu = w / _leave_one_out(ti, w * nu, nt)
        nu = 1.0 / _leave_one_out(mi, mu, nm)
        wn = w * nu
        denominator = 1.0 + np.bincount(ti, wn, minlength=nt).astype(np.float64)
        new = wn / denominator[ti]
        change = float(np.max(np.abs(new - beta)))
        beta = new
        if change < BP_TOLERANCE:
            break
    return np.asarray(beta, dtype=np.float64), np.asarray(1.0 / denominator, dtype=np.float64)


def _leave_one_out(group: IntArray, value: FloatArray, n_groups: int) -> FloatArray:
    """``1 + Σ value`` over each element's group without the element itself.

    ``total − value`` loses the 1 when one value dominates its group, so the
    (at most one) element above half its group's total gets the sum of the
    others directly.
    """
    total = 1.0 + np.bincount(group, value, minlength=n_groups)
    dominant = value > 0.5 * total[group]
    others = 1.0 + np.bincount(group, np.where(dominant, 0.0, value), minlength=n_groups)
    return np.asarray(np.where(dominant, others[group], total[group] - value), dtype=np.float64)


# --------------------------------------------------------------- coalescence
def coalesced(bank: TrackBank, track: IntArray, meas: IntArray, d2_max: float) -> IntArray:
    """Rows of tracks that JPDA pulled onto another track (to delete).

    Tracks that share reports are pulled towards each other and, once on top
    of each other, share every report and stay there (track coalescence, the
    known weakness of JPDA). Of two tracks that gate a common report (pairs
    ``(track[k], meas[k])``) and whose states agree within
    ``Δxᵀ (P₁ + P₂)⁻¹ Δx < d2_max``, the one without identity, else the
    tentative, else the younger goes (the rule of manager.duplicates).
    """
    order = np.lexsort((track, meas))
    t, m = track[order], meas[order]
    firsts, seconds = [], []
    for k in range(1, t.size):  # pairs k apart in a report's run of tracks
        same = m[:-k] == m[k:]
        if not same.any():
            break
        firsts.append(t[:-k][same])
        seconds.append(t[k:][same])
    if not firsts:
        return np.zeros(0, dtype=np.int64)
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    n = len(bank)
    key = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
    a, b = key // n, key % n
    dx = bank.x[a] - bank.x[b]
    d2 = np.einsum("pi,pi->p", dx, np.linalg.solve(bank.P[a] + bank.P[b], dx[:, :, None])[:, :, 0])
    a, b = a[d2 < d2_max], b[d2 < d2_max]
    ident = bank.cooperative_id
    coop_a = np.array([c is not None for c in ident[a]], dtype=np.bool_)
    coop_b = np.array([c is not None for c in ident[b]], dtype=np.bool_)
    keep_apart = coop_a & coop_b & (ident[a] != ident[b])
    rank_a = 2 * coop_a.astype(np.int64) + bank.confirmed[a]
    rank_b = 2 * coop_b.astype(np.int64) + bank.confirmed[b]
    a_wins = (rank_a > rank_b) | ((rank_a == rank_b) & (bank.id[a] < bank.id[b]))
    return np.asarray(np.unique(np.where(a_wins, b, a)[~keep_apart]), dtype=np.int64)


# --------------------------------------------------------------- update
def pda_update(
    x: FloatArray, P: FloatArray, z: FloatArray, model: MeasurementModel,
    pair_track: IntArray, pair_meas: IntArray, beta: FloatArray, beta0: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """PDA update of one Gaussian per track (see module doc); new arrays.

    ``x`` (N, 6) and ``P`` (N, 6, 6) are the predicted tracks; ``z`` (M, k)
    the reports in ``model``'s components; pair ``k`` says report
    ``pair_meas[k]`` came from track ``pair_track[k]`` (a row of ``x``) with
    probability ``beta[k]``; ``beta0`` (N,) is each track's probability of
    having no report. Rows without a pair come back unchanged. Per motion
    model of an IMM, call it once with that model's ``x`` and ``P``.
    """
    x_new, P_new = x.copy(), P.copy()
    if pair_track.size == 0:
        return x_new, P_new
    rows, local = np.unique(pair_track, return_inverse=True)
    xr, Pr = x[rows], P[rows]
    inn = innovation(xr, Pr, model)
    PHt = Pr @ inn.H.transpose(0, 2, 1)  # (n, 6, k)
    K = PHt @ inn.S_inv  # (n, 6, k)
    y = model.residual(z[pair_meas], inn.z_pred[local])  # ν_ij, (K, k)
    n, k = rows.size, y.shape[1]
    by = beta[:, None] * y
    nu = np.zeros((n, k))
    np.add.at(nu, local, by)  # ν_i = Σ_j β_ij ν_ij
    spread = np.zeros((n, k, k))
    np.add.at(spread, local, by[:, :, None] * y[:, None, :])  # Σ_j β_ij ν_ij ν_ijᵀ
    spread -= nu[:, :, None] * nu[:, None, :]
    I_KH = np.eye(x.shape[1]) - K @ inn.H
    Kt = K.transpose(0, 2, 1)
    P_c = I_KH @ Pr @ I_KH.transpose(0, 2, 1) + K @ model.R @ Kt
    b0 = beta0[rows][:, None, None]
    P_r = b0 * Pr + (1.0 - b0) * P_c + K @ spread @ Kt
    x_new[rows] = xr + np.einsum("nij,nj->ni", K, nu)
    P_new[rows] = 0.5 * (P_r + P_r.transpose(0, 2, 1))
    return x_new, P_new


def mode_update(
    z: FloatArray, model: MeasurementModel, pair_track: IntArray, pair_meas: IntArray,
    beta: FloatArray, beta0: FloatArray, log_pd_over_lam: float, log_miss: float,
) -> Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray, FloatArray]]:
    """The PDA update as one IMM mode's update (imm.ModeUpdate) of the tracks
    ``0..n−1`` that ``pair_track`` indexes (β from the combined estimate).

    Returns ``(x, P) → (x, P, ln Λ)`` with the mode's PDA likelihood (IMM-PDA,
    up to a factor common to all modes)::

        Λ = (1 − P_D P_G) + Σ_j P_D g_ij / λ,   g_ij under this mode's prediction
    """

    def update(x: FloatArray, P: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        x_new, P_new = pda_update(x, P, z, model, pair_track, pair_meas, beta, beta0)
        _, log_g = pair_statistics(x, P, z, model, pair_track, pair_meas)
        miss = np.full(x.shape[0], log_miss)
        return x_new, P_new, score_gain(pair_track, log_pd_over_lam + log_g, miss)

    return update


def score_gain(
    pair_track: IntArray, log_ratio: FloatArray, log_miss: FloatArray
) -> FloatArray:
    """``ln(L_i0 + Σ_j L_ij)`` per track row (len(log_miss),); ``ln L_i0`` for
    tracks without a pair. Summed in logs (the ratios can be large)."""
    n = log_miss.shape[0]
    out = np.asarray(log_miss, dtype=np.float64).copy()
    if pair_track.size == 0:
        return out
    top = out.copy()
    np.maximum.at(top, pair_track, log_ratio)
    total = np.exp(out - top) + np.bincount(pair_track, np.exp(log_ratio - top[pair_track]),
                                            minlength=n)
    return np.asarray(top + np.log(total), dtype=np.float64)
