"""Data associator: global nearest neighbour (GNN) over independent clusters.

Costs are negative log-likelihood ratios against "false or new": for a
gated pair (track i, measurement j) and a missed track i,

    c_ij   = −ln( P_D · g_ij / λ )          g_ij = N(y_ij; 0, S_i)
    c_i,∅  = −ln( 1 − P_D · P_G )

and an unassigned measurement costs 0. The gated pairs form a bipartite
graph; its connected components (clusters) are solved apart. A cluster of a
single pair is decided directly (take it when c_ij < c_i,∅); larger ones by
scipy's ``linear_sum_assignment`` on the cluster's cost matrix augmented with
one "missed" column per track::

    | c_11 … c_1m   c_1,∅   ∞    … |
    | …             ∞      c_2,∅ … |
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from skyfence.tracker.base import FloatArray, IntArray

_FORBIDDEN = 1e12  # finite "infinity": keeps every augmented matrix feasible


def pair_costs(log_likelihood: FloatArray, pd: float, clutter_density: float) -> FloatArray:
    """c_ij = −(ln P_D + ln g_ij − ln λ)."""
    return np.asarray(-(np.log(pd) + log_likelihood - np.log(clutter_density)), dtype=np.float64)


def miss_cost(pd: float, gate_probability: float) -> float:
    """c_∅ = −ln(1 − P_D P_G)."""
    return float(-np.log1p(-pd * gate_probability))


def gnn(track: IntArray, meas: IntArray, cost: FloatArray, miss: FloatArray) -> IntArray:
    """The cheapest one-to-one assignment of gated pairs ``(track[i], meas[i])``
    with costs ``cost[i]``; ``miss`` is indexed by track row. Returns the
    indices ``i`` of the chosen pairs."""
    if track.size == 0:
        return np.zeros(0, dtype=np.int64)
    t_ids, t_local = np.unique(track, return_inverse=True)
    m_ids, m_local = np.unique(meas, return_inverse=True)
    nt, nm = t_ids.size, m_ids.size
    graph = coo_matrix(
        (np.ones(track.size), (t_local, nt + m_local)), shape=(nt + nm, nt + nm)
    )
    _, label = connected_components(graph, directed=False)
    comp = label[t_local]
    per_comp = np.bincount(comp)
    single = per_comp[comp] == 1
    chosen = [np.flatnonzero(single & (cost < miss[track]))]
    multi = np.flatnonzero(~single)
    if multi.size:
        order = multi[np.argsort(comp[multi], kind="stable")]
        bounds = np.flatnonzero(np.diff(comp[order])) + 1
        for edges in np.split(order, bounds):
            chosen.append(_solve_cluster(edges, track, meas, cost, miss))
    return np.asarray(np.concatenate(chosen), dtype=np.int64)


def _solve_cluster(
    edges: IntArray, track: IntArray, meas: IntArray, cost: FloatArray, miss: FloatArray
) -> IntArray:
    """Edges (indices into the pair arrays) chosen by one cluster's assignment."""
    t_ids, ti = np.unique(track[edges], return_inverse=True)
    m_ids, mi = np.unique(meas[edges], return_inverse=True)
    nt, nm = t_ids.size, m_ids.size
    C = np.full((nt, nm + nt), _FORBIDDEN)
    C[ti, mi] = cost[edges]
    C[np.arange(nt), nm + np.arange(nt)] = miss[t_ids]
    rows, cols = linear_sum_assignment(C)
    lookup = np.full((nt, nm), -1, dtype=np.int64)
    lookup[ti, mi] = edges
    real = cols < nm
    return np.asarray(lookup[rows[real], cols[real]], dtype=np.int64)
