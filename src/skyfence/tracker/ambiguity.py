"""Ambiguity test for bearing associations: take a pair only when it is clearly best.

A bearing says nothing of range, so in a flock or swarm one line of sight
often passes several tracks. Global nearest neighbour on bearings then
assigns many of them by a hair and pulls tracks onto each other's targets.
The strictest remedy ("unambiguous") takes a pair only when its track and its
bearing gate nothing else, and so throws away most bearings in a crowd. This
module's rule lies between: of the GNN's chosen pairs, keep those whose cost
beats every competing pair — any other bearing for the same track, any other
track for the same bearing — by at least a margin ``Δ`` (nats)::

    keep (i, j)  iff  c_ij + Δ ≤ min( min_{j'≠j} c_ij',  min_{i'≠i} c_i'j )

that is, the chosen association is at least ``e^Δ`` times as likely as any
single alternative. With no competing pair it is the "unambiguous" rule;
Δ = 0 is plain GNN.
"""

from __future__ import annotations

import numpy as np

from skyfence.tracker.base import BoolArray, FloatArray, IntArray


def clear_winners(track: IntArray, meas: IntArray, cost: FloatArray, chosen: IntArray,
                  margin: float) -> IntArray:
    """The pairs of ``chosen`` (indices into the pair arrays) that beat each of
    their competitors by ``margin``."""
    if chosen.size == 0:
        return chosen
    by_track = _alternative(track, cost, chosen)
    by_meas = _alternative(meas, cost, chosen)
    keep: BoolArray = cost[chosen] + margin <= np.minimum(by_track, by_meas)
    return np.asarray(chosen[keep], dtype=np.int64)


def _alternative(key: IntArray, cost: FloatArray, chosen: IntArray) -> FloatArray:
    """For each chosen pair, the cheapest other pair sharing its ``key`` (∞ if none)."""
    n = int(key.max()) + 1
    best = np.full(n, np.inf)
    np.minimum.at(best, key, cost)
    first = np.full(n, -1, dtype=np.int64)  # one pair index attaining the minimum
    is_best = cost == best[key]
    idx = np.flatnonzero(is_best)
    first[key[idx[::-1]]] = idx[::-1]  # the lowest index wins
    second = np.full(n, np.inf)
    others = np.ones(cost.shape[0], dtype=np.bool_)
    others[first[key[idx]]] = False  # drop one attaining pair per key
    np.minimum.at(second, key[others], cost[others])
    k = key[chosen]
    return np.where(first[k] == chosen, second[k], best[k])
