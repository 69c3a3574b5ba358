r"""GOSPA: the generalised optimal sub-pattern assignment metric, many ticks at once.

For truth points :math:`X = \{x_1..x_n\}` and estimates :math:`Y = \{y_1..y_m\}`
at one tick, with cut-off :math:`c`, order :math:`p` and :math:`\alpha = 2`
(Rahmathullah, García-Fernández, Svensson 2017, eq. 2 in its assignment form):

.. math::

    d^{(c,2)}_p(X, Y) = \Big( \min_{\gamma} \sum_{(i,j) \in \gamma} d(x_i, y_j)^p
        + \sum_{i \notin \gamma} \mu_i + \frac{c^p}{\alpha} \, (m - |\gamma|) \Big)^{1/p}

where :math:`\gamma` is any set of disjoint (truth, track) pairs with
:math:`d(x_i, y_j) < c`, :math:`d` is the 3-D Euclidean distance, and
:math:`\mu_i = c^p / \alpha` is the cost of missing truth *i*. The three sums
are reported separately, BEFORE the p-th root:

- ``localisation`` :math:`= \sum_{(i,j)\in\gamma} d(x_i, y_j)^p`
- ``missed`` :math:`= \sum_{i \notin \gamma} \mu_i`
- ``false`` :math:`= (c^p/\alpha) \cdot (\text{tracks not in } \gamma)`

and ``distance`` :math:`= (\text{localisation} + \text{missed} + \text{false})^{1/p}`.

Detectability: a truth that no sensor could report has :math:`\mu_i = 0`;
a track assigned to it is not false (its localisation error still counts).
With every truth detectable this is exactly standard GOSPA.

How it scales (no dense n x m assignment): candidate pairs within ``c`` come
from a k-d tree (the ticks of a block are laid side by side along x, so a
block of many ticks is searched at once and pairs never cross ticks); a pair
is kept only if assigning it beats leaving both ends unassigned,
:math:`d^p < \mu_i + c^p/\alpha`; the kept pairs split into connected
components; a 1-truth/1-track component is assigned outright (vectorised),
a small one is solved with ``linear_sum_assignment`` on its dense *savings*
matrix :math:`s_{ij} = \min(0,\, d_{ij}^p - \mu_i - c^p/\alpha)` (a full
rectangular assignment on it is an optimal partial assignment: a zero means
"leave unassigned"), and a large one (a dense swarm) with the sparse
Jonker-Volgenant solver on the augmented matrix (see :func:`_solve_sparse`).

The kept pairs of every group are returned too (:class:`Pairs`): the
identity metric (:mod:`skyfence.evaluate.identity`) builds its persistent
CLEAR MOT correspondence from them with :func:`assign_pairs`, the same
assignment machinery; the GOSPA numbers do not depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching
from scipy.spatial import cKDTree

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BLOCK_POINTS = 200_000
"""Most truth + track points searched in one k-d tree (bounds memory)."""

DENSE_MAX_CELLS = 4096
"""Largest truths x tracks of a component solved densely; larger ones go sparse."""


@dataclass(frozen=True)
class GospaParams:
    """Cut-off ``c_m`` (metres), order ``p`` and ``alpha`` (2: the assignment form)."""

    c_m: float = 100.0
    p: float = 2.0
    alpha: float = 2.0

    @property
    def unassigned_cost(self) -> float:
        """:math:`c^p / \\alpha`: the cost of one missed truth or one false track."""
        return float(self.c_m**self.p / self.alpha)


STANDARD = GospaParams()
"""c = 100 m, p = 2, alpha = 2: the parameters of DESIGN.md's contract."""


@dataclass(frozen=True)
class Pairs:
    """The admissible (truth, track) pairs of every group: same group, :math:`d < c`
    and :math:`s = d^p - \\mu_i - c^p/\\alpha < 0` (assigning beats leaving both ends
    unassigned). Row indices into the truths and tracks as given; any order."""

    truth: IntArray
    track: IntArray
    saving: FloatArray


@dataclass(frozen=True)
class GospaResult:
    """Per-group parts (before the p-th root) and the assignment behind them."""

    localisation: FloatArray  # (G,) sum of d^p over assigned pairs
    missed: FloatArray  # (G,) sum of mu_i over unassigned truths
    false: FloatArray  # (G,) c^p/alpha per unassigned track
    distance: FloatArray  # (G,) (localisation + missed + false)^(1/p)
    truth_to_track: IntArray  # (n,) index of the assigned track, -1 if none
    pair_distance_m: FloatArray  # (n,) distance to the assigned track, NaN if none
    pairs: Pairs  # every admissible pair the assignment was chosen from


def gospa(
    truth_enu_m: npt.ArrayLike,
    track_enu_m: npt.ArrayLike,
    params: GospaParams = STANDARD,
    truth_detectable: npt.ArrayLike | None = None,
) -> GospaResult:
    """GOSPA between one set of truth points and one set of track points (one tick)."""
    truth = _points(truth_enu_m)
    track = _points(track_enu_m)
    return gospa_grouped(
        truth,
        np.zeros(len(truth), dtype=np.int64),
        track,
        np.zeros(len(track), dtype=np.int64),
        1,
        params,
        truth_detectable,
    )


def gospa_grouped(
    truth_enu_m: FloatArray,
    truth_group: IntArray,
    track_enu_m: FloatArray,
    track_group: IntArray,
    n_groups: int,
    params: GospaParams = STANDARD,
    truth_detectable: npt.ArrayLike | None = None,
) -> GospaResult:
    """GOSPA per group (tick): truths and tracks are matched only within a group.

    ``*_group`` are integers in ``[0, n_groups)``; results are per group and
    per truth row, in the order given.
    """
    truth = _points(truth_enu_m)
    track = _points(track_enu_m)
    tg = np.asarray(truth_group, dtype=np.int64)
    kg = np.asarray(track_group, dtype=np.int64)
    detectable = (
        np.ones(len(truth), dtype=bool)
        if truth_detectable is None
        else np.asarray(truth_detectable, dtype=bool)
    )
    miss_cost = np.where(detectable, params.unassigned_cost, 0.0)
    truth_to_track = np.full(len(truth), -1, dtype=np.int64)
    found: list[tuple[IntArray, IntArray, FloatArray]] = []
    for t_rows, k_rows in _blocks(tg, kg, n_groups):
        if len(t_rows) == 0 or len(k_rows) == 0:
            continue
        i, j, saving = _candidate_pairs(
            truth[t_rows], tg[t_rows], track[k_rows], kg[k_rows], miss_cost[t_rows], params
        )
        local = assign_pairs(i, j, saving, len(t_rows), len(k_rows))
        hit = local >= 0
        truth_to_track[t_rows[hit]] = k_rows[local[hit]]
        found.append((t_rows[i], k_rows[j], saving))
    pairs = Pairs(
        np.concatenate([f[0] for f in found]) if found else np.zeros(0, dtype=np.int64),
        np.concatenate([f[1] for f in found]) if found else np.zeros(0, dtype=np.int64),
        np.concatenate([f[2] for f in found]) if found else np.zeros(0),
    )
    return _tally(truth, tg, track, kg, n_groups, miss_cost, truth_to_track, params, pairs)


def _points(xyz: npt.ArrayLike) -> FloatArray:
    return np.asarray(xyz, dtype=np.float64).reshape(-1, 3)


def _blocks(
    truth_group: IntArray, track_group: IntArray, n_groups: int
) -> list[tuple[IntArray, IntArray]]:
    """Row indices of truths and tracks in runs of whole groups of <= BLOCK_POINTS."""
    t_order = np.argsort(truth_group, kind="stable")
    k_order = np.argsort(track_group, kind="stable")
    t_end = np.cumsum(np.bincount(truth_group, minlength=n_groups))
    k_end = np.cumsum(np.bincount(track_group, minlength=n_groups))
    blocks: list[tuple[IntArray, IntArray]] = []
    g0, t0, k0 = 0, 0, 0
    while g0 < n_groups:
        # last group g1 - 1 such that the block holds <= BLOCK_POINTS (at least one group)
        load = t_end[g0:] + k_end[g0:] - t0 - k0
        g1 = g0 + max(1, int(np.searchsorted(load, BLOCK_POINTS, side="right")))
        t1, k1 = int(t_end[g1 - 1]), int(k_end[g1 - 1])
        blocks.append((t_order[t0:t1], k_order[k0:k1]))
        g0, t0, k0 = g1, t1, k1
    return blocks


def assign_pairs(i: IntArray, j: IntArray, saving: FloatArray, n: int, m: int) -> IntArray:
    """Optimal assignment over candidate pairs: for each of ``n`` truths the track or -1.

    ``(i[e], j[e])`` are the candidate pairs (truth in ``[0, n)``, track in
    ``[0, m)``, at most one per pair) and ``saving[e] < 0`` what assigning each
    saves; the result minimises the total saving of the chosen disjoint pairs
    (unchosen ends cost 0), component by component.
    """
    out = np.full(n, -1, dtype=np.int64)
    if len(i) == 0:
        return out
    graph = coo_matrix((np.ones(len(i)), (i, n + j)), shape=(n + m, n + m))
    n_comp, label = connected_components(graph, directed=False)
    truth_at = _Members(label[:n], n_comp)
    track_at = _Members(label[n:], n_comp)
    comp = label[i]
    simple = (truth_at.count[comp] == 1) & (track_at.count[comp] == 1)
    out[i[simple]] = j[simple]
    order = np.flatnonzero(~simple)[np.argsort(comp[~simple], kind="stable")]
    for a, b in runs(comp[order]):
        edges, c = order[a:b], int(comp[order[a]])
        r, q = _solve_component(
            truth_at.rank[i[edges]], track_at.rank[j[edges]], saving[edges],
            int(truth_at.count[c]), int(track_at.count[c]),
        )
        out[truth_at.member(c, r)] = track_at.member(c, q)
    return out


def runs(keys: IntArray) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal values in ``keys`` (sorted or grouped)."""
    if len(keys) == 0:
        return []
    starts = np.flatnonzero(np.diff(keys, prepend=keys[0] - 1)).tolist()
    return list(zip(starts, [*starts[1:], len(keys)], strict=True))


class _Members:
    """Nodes of one side grouped by component: counts, rank within, and back."""

    def __init__(self, label: IntArray, n_comp: int) -> None:
        self.sorted = np.argsort(label, kind="stable")
        self.count = np.bincount(label, minlength=n_comp)
        self.start = np.cumsum(self.count) - self.count
        self.rank = np.empty(len(label), dtype=np.int64)
        self.rank[self.sorted] = np.arange(len(label)) - self.start[label[self.sorted]]

    def member(self, comp: int, rank: IntArray) -> IntArray:
        """Node indices of ``comp``'s members of the given ranks."""
        nodes: IntArray = self.sorted[self.start[comp] + rank]
        return nodes


def _candidate_pairs(
    truth: FloatArray,
    truth_group: IntArray,
    track: FloatArray,
    track_group: IntArray,
    miss_cost: FloatArray,
    params: GospaParams,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Pairs worth assigning and their saving :math:`d^p - \\mu_i - c^p/\\alpha` (< 0).

    The groups of the block are laid side by side along x, ``span`` apart
    (the block's x extent plus 2c), so one 3-D k-d tree serves them all and
    no pair within ``c`` crosses groups. Distances are then recomputed from
    the unshifted points; the search radius has 1 % slack for the rounding
    of the shifted coordinates.
    """
    c = params.c_m
    x = np.concatenate((truth[:, 0], track[:, 0]))
    g0 = min(int(truth_group.min()), int(track_group.min()))
    span = float(x.max() - x.min()) + 2.0 * c
    t3 = truth.copy()
    t3[:, 0] += (truth_group - g0) * span
    k3 = track.copy()
    k3[:, 0] += (track_group - g0) * span
    found = cKDTree(t3).sparse_distance_matrix(cKDTree(k3), 1.01 * c, output_type="ndarray")
    i = found["i"].astype(np.int64)
    j = found["j"].astype(np.int64)
    d = np.linalg.norm(truth[i] - track[j], axis=1)
    saving = d**params.p - miss_cost[i] - params.unassigned_cost
    keep = (truth_group[i] == track_group[j]) & (d < c) & (saving < 0.0)
    return i[keep], j[keep], saving[keep]


def _solve_component(
    li: IntArray, lj: IntArray, saving: FloatArray, k: int, l_: int
) -> tuple[IntArray, IntArray]:
    """Optimal pairs (local truth, local track) of one component of k truths, l tracks."""
    if k * l_ <= DENSE_MAX_CELLS:
        return _solve_dense(li, lj, saving, k, l_)
    return _solve_sparse(li, lj, saving, k, l_)


def _solve_dense(
    li: IntArray, lj: IntArray, saving: FloatArray, k: int, l_: int
) -> tuple[IntArray, IntArray]:
    """``linear_sum_assignment`` on :math:`s_{ij}` (0 off the edges); drop zero picks."""
    s = np.zeros((k, l_))
    s[li, lj] = saving
    r, q = linear_sum_assignment(s)
    used = s[r, q] < 0.0
    return r[used].astype(np.int64), q[used].astype(np.int64)


def _solve_sparse(
    li: IntArray, lj: IntArray, saving: FloatArray, k: int, l_: int
) -> tuple[IntArray, IntArray]:
    r"""Sparse J-V on the augmented (k + l) x (l + k) matrix, every entry shifted by 1.

    Rows: truths, then one dummy per track; columns: tracks, then one dummy per
    truth. Entries (savings form, so unassigned ends cost 0 and the optimum is
    the same as with :math:`d^p`, :math:`\mu_i`, :math:`c^p/\alpha`):

    - truth i - track j (an edge): :math:`s_{ij}`
    - truth i - its own dummy column: 0 (truth left unassigned)
    - track j's dummy row - track j: 0 (track left unassigned)
    - track j's dummy row - truth i's dummy column, for each edge (i, j): 0

    The last block has the transposed pattern of the edges, which is enough:
    the dummy rows of the assigned tracks meet the dummy columns of the
    assigned truths through the assigned edges themselves. Every perfect
    matching has k + l entries, so the shift by 1 (the solver needs non-zero
    weights) does not move the optimum.
    """
    n_edges = len(li)
    ak, al = np.arange(k), np.arange(l_)
    rows = np.concatenate((li, ak, k + al, k + lj))
    cols = np.concatenate((lj, l_ + ak, al, l_ + li))
    vals = np.concatenate((saving, np.zeros(k + l_ + n_edges))) + 1.0
    aug = csr_matrix((vals, (rows, cols)), shape=(k + l_, l_ + k))
    r, q = min_weight_full_bipartite_matching(aug)
    real = (r < k) & (q < l_)
    return r[real].astype(np.int64), q[real].astype(np.int64)


def _tally(
    truth: FloatArray,
    truth_group: IntArray,
    track: FloatArray,
    track_group: IntArray,
    n_groups: int,
    miss_cost: FloatArray,
    truth_to_track: IntArray,
    params: GospaParams,
    pairs: Pairs,
) -> GospaResult:
    """Sum the parts per group from the assignment."""
    assigned = truth_to_track >= 0
    pair_d = np.full(len(truth), np.nan)
    pair_d[assigned] = np.linalg.norm(truth[assigned] - track[truth_to_track[assigned]], axis=1)
    localisation = np.bincount(
        truth_group[assigned], weights=pair_d[assigned] ** params.p, minlength=n_groups
    ).astype(np.float64)
    missed = np.bincount(
        truth_group[~assigned], weights=miss_cost[~assigned], minlength=n_groups
    ).astype(np.float64)
    track_free = np.ones(len(track), dtype=bool)
    track_free[truth_to_track[assigned]] = False
    false = params.unassigned_cost * np.bincount(
        track_group[track_free], minlength=n_groups
    ).astype(np.float64)
    distance = (localisation + missed + false) ** (1.0 / params.p)
    return GospaResult(
        localisation=localisation,
        missed=missed,
        false=false,
        distance=distance,
        truth_to_track=truth_to_track,
        pair_distance_m=pair_d,
        pairs=pairs,
    )
