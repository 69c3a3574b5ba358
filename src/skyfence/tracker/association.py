"""Data associator: global nearest neighbour (GNN) over independent clusters.

Costs are negative log-likelihood ratios against "false or new": for a
gated pair (track i, measurement j) and a missed track i,

    c_ij   = −ln( P_D · g_ij / λ )          g_ij = N(y_ij; 0, S_i)
    c_i,∅  = −ln( 1 − P_D · P_G )

and an unassigned measurement costs 0. The gated pairs form a bipartite
graph; its connected components (clusters) are independent. A cluster of a
single pair is decided directly (take it when c_ij < c_i,∅), all at once; the
other clusters are solved together, as one sparse minimum-weight bipartite
matching (scipy's ``min_weight_full_bipartite_matching``) of the gated pairs'
costs augmented with one "missed" column per track (the dense form of that
matrix)::

    | c_11 … c_1m   c_1,∅   ∞    … |
    | …             ∞      c_2,∅ … |
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

from skyfence.tracker import ambiguity
from skyfence.tracker.base import BoolArray, FloatArray, IntArray


def pair_costs(log_likelihood: FloatArray, pd: float, clutter_density: float) -> FloatArray:
    """c_ij = −(ln P_D + ln g_ij − ln λ)."""
    return np.asarray(-(np.log(pd) + log_likelihood - np.log(clutter_density)), dtype=np.float64)


def miss_cost(pd: float, gate_probability: float) -> float:
    """c_∅ = −ln(1 − P_D P_G)."""
    return float(-np.log1p(-pd * gate_probability))


def gnn(track: IntArray, meas: IntArray, cost: FloatArray, miss: FloatArray,
        solve: BoolArray | None = None) -> IntArray:
    """The cheapest one-to-one assignment of gated pairs ``(track[i], meas[i])``
    with costs ``cost[i]``; ``miss`` is indexed by track row. Returns the
    indices ``i`` of the chosen pairs. With ``solve`` (a mask over the pairs)
    only the clusters holding a marked pair are solved (the others' pairs are
    not returned): for a caller that keeps only some pairs of the assignment."""
    if track.size == 0 or (solve is not None and not solve.any()):
        return np.zeros(0, dtype=np.int64)
    live = np.arange(track.size) if solve is None else _clusters_holding(track, meas, solve)
    t, m = track[live], meas[live]
    single = (np.bincount(t)[t] == 1) & (np.bincount(m)[m] == 1)  # a cluster of one pair
    chosen = [np.flatnonzero(single & (cost[live] < miss[t]))]
    rest = np.flatnonzero(~single)
    if rest.size:
        chosen.append(_solve_sparse(rest, t, m, cost[live], miss))
    return np.asarray(live[np.concatenate(chosen)], dtype=np.int64)


def _clusters_holding(track: IntArray, meas: IntArray, marked: BoolArray) -> IntArray:
    """The pairs of the clusters (connected components) that hold a marked pair."""
    t_ids, t_local = np.unique(track, return_inverse=True)
    m_ids, m_local = np.unique(meas, return_inverse=True)
    nt, nm = t_ids.size, m_ids.size
    graph = coo_matrix(
        (np.ones(track.size), (t_local, nt + m_local)), shape=(nt + nm, nt + nm)
    )
    _, label = connected_components(graph, directed=False)
    comp = label[t_local]
    wanted = np.zeros(int(label.max()) + 1, dtype=np.bool_)
    wanted[comp[marked]] = True
    return np.flatnonzero(wanted[comp])


def _solve_sparse(edges: IntArray, t_local: IntArray, m_local: IntArray, cost: FloatArray,
                  miss: FloatArray) -> IntArray:
    """The clusters of pairs ``edges`` (indices into the pair arrays; ``t_local``,
    ``m_local`` the pairs' track and report numbers, ``miss`` by track number), all
    in one sparse bipartite matching (LAPJVsp): the clusters share no track or
    report, so its optimum is each cluster's. Costs are taken relative to the
    miss, ``c_ij − c_i,∅`` (the same optimum as the augmented matrix of the module
    doc); the smaller side (tracks or reports) is matched in full, each of its
    members to a partner or to a zero-cost column of its own (missed / unused),
    and all weights are shifted by one constant to be positive (a zero weight is
    no edge), which a full matching does not notice."""
    t_ids, ti = np.unique(t_local[edges], return_inverse=True)
    m_ids, mi = np.unique(m_local[edges], return_inverse=True)
    gain = cost[edges] - miss[t_ids][ti]
    if m_ids.size <= t_ids.size:
        rows, cols, n_rows, n_cols = mi, ti, m_ids.size, t_ids.size
    else:
        rows, cols, n_rows, n_cols = ti, mi, t_ids.size, m_ids.size
    shift = 1.0 - min(float(gain.min()), 0.0)
    weights = np.concatenate((gain + shift, np.full(n_rows, shift)))
    graph = csr_matrix((weights, (np.concatenate((rows, np.arange(n_rows))),
                                  np.concatenate((cols, n_cols + np.arange(n_rows))))),
                       shape=(n_rows, n_cols + n_rows))
    r, c = min_weight_full_bipartite_matching(graph)
    real = c < n_cols
    key = rows.astype(np.int64) * n_cols + cols  # one pair per (track, report)
    order = np.argsort(key)
    at = np.searchsorted(key[order], r[real].astype(np.int64) * n_cols + c[real])
    return np.asarray(edges[order[at]], dtype=np.int64)


def clear_pairs(track: IntArray, meas: IntArray, cost: FloatArray, margin: float) -> BoolArray:
    """Which pairs pass ``ambiguity.clear_winners``'s margin test (each is decided by
    the costs of the pairs sharing its track or its report alone), computed where
    it can matter: first the pairs that beat the other pairs of their own track by
    ``margin`` (a necessary condition; with pairs in track order, one pass), then
    the test itself on the pairs that share a track or a report with those. In a
    swarm almost no bearing pair is that clear, and the full test over every
    gated pair (tens of thousands per scan) is skipped."""
    clear = np.zeros(track.size, dtype=np.bool_)
    maybe = np.flatnonzero(_beats_own_track(track, cost, margin))
    if maybe.size == 0:
        return clear
    near = np.flatnonzero(_member(track, track[maybe]) | _member(meas, meas[maybe]))
    local = np.searchsorted(near, maybe)  # the subset keeps the pairs' order (ties)
    wins = ambiguity.clear_winners(track[near], meas[near], cost[near], local, margin)
    clear[near[wins]] = True
    return clear


def _beats_own_track(track: IntArray, cost: FloatArray, margin: float) -> BoolArray:
    """Pairs whose cost plus ``margin`` is at most that of every other pair of their
    track (of tied cheapest pairs only the first can: ambiguity.py's rule); every
    pair where the pairs are not in track order (no cheap test then)."""
    n = track.size
    if n == 0 or not bool((track[1:] >= track[:-1]).all()):
        return np.ones(n, dtype=np.bool_)
    start = np.flatnonzero(np.r_[True, track[1:] != track[:-1]])
    size = np.diff(np.r_[start, n])
    best = np.repeat(np.minimum.reduceat(cost, start), size)
    hit = np.flatnonzero(cost == best)  # ascending: a track's first hit is its first
    seg = np.searchsorted(start, hit, side="right") - 1
    first = hit[np.r_[True, seg[1:] != seg[:-1]]]  # the pair attaining its least cost
    rest = cost.copy()
    rest[first] = np.inf
    other = np.repeat(np.minimum.reduceat(rest, start), size)  # the first's competitor
    is_first = np.zeros(n, dtype=np.bool_)
    is_first[first] = True
    return np.asarray(cost + margin <= np.where(is_first, other, best), dtype=np.bool_)


def _member(values: IntArray, of: IntArray) -> BoolArray:
    """``np.isin`` for small non-negative integers (a lookup table: one pass)."""
    table = np.zeros(int(max(values.max(), of.max())) + 1, dtype=np.bool_)
    table[of] = True
    return np.asarray(table[values], dtype=np.bool_)
