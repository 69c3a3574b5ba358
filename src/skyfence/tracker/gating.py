"""Hypothesiser/gater: which (track, measurement) pairs are plausible, and how likely.

1. Candidates: the gate ``yᵀ S⁻¹ y ≤ γ`` is an ellipsoid in measurement
   space around each track's predicted measurement ``ẑ``; its shadow on
   component ``c`` is the interval ``|y_c| ≤ √(γ S_cc)`` (exactly: the
   largest ``y_c`` on the ellipsoid). So every gated measurement lies in the
   box of those half-widths. The scan's measurements are sorted along the
   most selective component (in bins of a second one where that helps), and
   each track's box is found by binary search (``np.searchsorted``): all
   array code, cost ~ N log M plus the candidates. Angles wrap (each sorted
   angle is repeated at ±2π, so a window across ±π is one search).
2. Exact gate: for the candidates only, ``d² = yᵀ S⁻¹ y ≤ γ`` where γ is the
   chi-square quantile of the gate probability for the measurement's
   dimension, and ``ln g = −½ d² − ½ ln det(2π S)``.

A model that does not say which of its components are angles (no
``angular`` attribute) is searched with a k-d tree instead (scipy cKDTree
over the model's metric embedding, per-track radius bounding the gate).

For an azimuth-only bearing the box is the gate itself: the candidates are
exactly the gated pairs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import chi2

from skyfence.tracker import small_linalg
from skyfence.tracker.base import BoolArray, FloatArray, IntArray, MeasurementModel
from skyfence.tracker.measurement import wrap_angle
from skyfence.tracker.updater import Innovation, innovation, mahalanobis2

_TWO_PI = 2.0 * math.pi
_PAD_REL = 1e-9
"""Box half-widths are widened by this fraction (and ``_PAD_ABS``) so rounding
never drops a pair on the gate's edge; the exact test decides."""
_PAD_ABS = 1e-9
_MAX_HALF_ANGLE = math.pi * (1.0 - 1e-12)
"""Angular half-widths are capped below π: a window then holds each angle once."""
_BIN_SELECTIVITY = 0.3
"""A second component is binned only if its boxes cover less than this fraction
of the measurements' spread (else one sorted component is as good)."""
_BIN_MIN_MEASUREMENTS = 64
_BIN_MIN_PER_BOX = 4.0
"""...and only where a box's slab along the first component would hold more than
this many measurements (else the bins cost more than the candidates they save)."""


@dataclass(frozen=True, slots=True)
class Hypotheses:
    """Gated pairs: track row ``track[i]`` may have made measurement ``meas[i]``."""

    track: IntArray  # (K,) rows of the track bank
    meas: IntArray  # (K,) rows of the scan
    d2: FloatArray  # (K,) squared Mahalanobis distance
    log_likelihood: FloatArray  # (K,) ln N(y; 0, S)

    def __len__(self) -> int:
        return int(self.track.shape[0])

    def take(self, mask: BoolArray) -> Hypotheses:
        return Hypotheses(self.track[mask], self.meas[mask], self.d2[mask],
                          self.log_likelihood[mask])


def _no_hypotheses() -> Hypotheses:
    empty = np.zeros(0, dtype=np.int64)
    return Hypotheses(empty, empty, np.zeros(0), np.zeros(0))


@lru_cache(maxsize=64)
def gate_threshold(probability: float, dim: int) -> float:
    """γ: the chi-square quantile of ``probability`` with ``dim`` degrees of freedom
    (cached: scipy's ppf costs ~0.3 ms and every batch of every scan asks)."""
    return float(chi2.ppf(probability, dim))


def pair_statistics(
    x: FloatArray, P: FloatArray, z: FloatArray, model: MeasurementModel,
    track: IntArray, meas: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """d² and ln g of given pairs (innovation computed once per distinct track)."""
    rows, inverse = np.unique(track, return_inverse=True)
    inn = innovation(x[rows], P[rows], model)
    y = model.residual(z[meas], inn.z_pred[inverse])
    d2 = mahalanobis2(y, inn.S_inv[inverse])
    return d2, inn.log_norm[inverse] - 0.5 * d2


def gate(
    x: FloatArray,
    P: FloatArray,
    z: FloatArray,
    model: MeasurementModel,
    gate_d2: float,
    eligible: BoolArray | None = None,
) -> Hypotheses:
    """All pairs within the gate; ``eligible`` restricts the tracks considered."""
    rows = np.arange(x.shape[0]) if eligible is None else np.flatnonzero(eligible)
    if rows.size == 0 or z.shape[0] == 0:
        return _no_hypotheses()
    angular = getattr(model, "angular", None)
    if angular is None:
        return _kdtree_gate(x, P, z, model, gate_d2, rows)
    inn = _innovation(x[rows], P[rows], model)
    half = np.sqrt(gate_d2 * np.diagonal(inn.S, axis1=1, axis2=2))
    local, meas, offset = box_candidates(inn.z_pred, half, z, np.asarray(angular, dtype=np.bool_))
    if local.size == 0:
        return _no_hypotheses()
    if z.shape[1] == 1:  # the offset found by the search is the residual
        d2 = offset**2 * inn.S_inv[local, 0, 0]
    else:
        d2 = mahalanobis2(model.residual(z[meas], inn.z_pred[local]), inn.S_inv[local])
    inside = d2 <= gate_d2
    if not inside.all():
        local, meas, d2 = local[inside], meas[inside], d2[inside]
    return Hypotheses(rows[local], meas, d2, inn.log_norm[local] - 0.5 * d2)


def _innovation(x: FloatArray, P: FloatArray, model: MeasurementModel) -> Innovation:
    """updater.innovation's statistics, with S factored by small_linalg."""
    z_pred = model.function(x)
    H = model.jacobian(x)
    S = H @ P @ H.transpose(0, 2, 1) + model.R
    S = 0.5 * (S + S.transpose(0, 2, 1))
    L = small_linalg.cholesky(S)
    log_norm = -0.5 * (small_linalg.log_det(L) + model.dim * np.log(2.0 * np.pi))
    return Innovation(z_pred, H, S, small_linalg.inverse(L), log_norm)


def _kdtree_gate(x: FloatArray, P: FloatArray, z: FloatArray, model: MeasurementModel,
                 gate_d2: float, rows: IntArray) -> Hypotheses:
    """Candidates from a k-d tree over the model's embedding, then the exact gate."""
    points, radius = model.embed_tracks(x[rows], P[rows], gate_d2)
    found = cKDTree(model.embed_measurements(z)).query_ball_point(points, r=radius)
    counts = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
    total = int(counts.sum())
    if total == 0:
        return _no_hypotheses()
    track = np.repeat(rows, counts).astype(np.int64)
    meas = np.fromiter(itertools.chain.from_iterable(found), dtype=np.int64, count=total)
    d2, loglik = pair_statistics(x, P, z, model, track, meas)
    inside = d2 <= gate_d2
    return Hypotheses(track[inside], meas[inside], d2[inside], loglik[inside])


# ------------------------------------------------------------------ box search
def box_candidates(
    center: FloatArray, half: FloatArray, z: FloatArray, angular: BoolArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Pairs (query row, measurement row) where measurement ``z[j]`` lies in the box
    ``|z[j] − center[i]| ≤ half[i]`` (per component, angles wrapped) — all of them,
    and usually few others (one or two components are searched, the rest are
    left to the caller's exact test). ``center``, ``half`` (N, k); ``z`` (M, k).
    Also each pair's offset ``z[j] − center[i]`` on the searched component (wrapped)."""
    n, k = center.shape
    m = z.shape[0]
    empty = np.zeros(0, dtype=np.int64)
    if n == 0 or m == 0:
        return empty, empty, np.zeros(0)
    half = half * (1.0 + _PAD_REL) + _PAD_ABS
    half = np.where(angular, np.minimum(half, _MAX_HALF_ANGLE), half)
    values = np.where(angular, wrap_angle(z), z)
    center = np.where(angular, wrap_angle(center), center)
    span = np.where(angular, np.minimum(np.ptp(values, axis=0), _TWO_PI), np.ptp(values, axis=0))
    typical = _typical(2.0 * half)  # a box's usual width per component
    cover = typical / np.maximum(span, 1e-300)
    finite = np.isfinite(cover) & np.isfinite(values).all(axis=0)
    order = np.argsort(np.where(finite, cover, np.inf), kind="stable")
    primary = int(order[0])
    second = int(order[1]) if k > 1 else -1
    use_bins = (second >= 0 and m >= _BIN_MIN_MEASUREMENTS and finite[second]
                and cover[second] < _BIN_SELECTIVITY
                and m * cover[primary] > _BIN_MIN_PER_BOX)
    if use_bins:
        query, meas, offset = _binned_search(center, half, values, angular, primary, second,
                                             float(typical[second]))
    else:
        query, meas, offset = _sorted_search(center[:, primary], half[:, primary],
                                             values[:, primary], bool(angular[primary]))
    if second >= 0 and query.size:  # the cheap test on a second component
        y = values[meas, second] - center[query, second]
        if angular[second]:
            y = wrap_angle(y)
        keep = np.abs(y) <= half[query, second]
        query, meas, offset = query[keep], meas[keep], offset[keep]
    return query, meas, offset


def _typical(width: FloatArray) -> FloatArray:
    """The median of each column (of at most 256 evenly spaced rows: it only sizes
    bins and picks components, so an estimate serves)."""
    step = max(1, width.shape[0] // 256)
    return np.asarray(np.median(width[::step], axis=0), dtype=np.float64)


def _window_hits(keys: FloatArray, lo: FloatArray, hi: FloatArray) -> tuple[IntArray, IntArray]:
    """(window, position) of every sorted key inside each window ``[lo, hi]``."""
    start = np.searchsorted(keys, lo, side="left")
    count = np.maximum(np.searchsorted(keys, hi, side="right") - start, 0)
    total = int(count.sum())
    window = np.repeat(np.arange(lo.size, dtype=np.int64), count)
    position = np.arange(total, dtype=np.int64)
    position -= np.repeat(np.cumsum(count) - count - start, count)
    return window, position


def _sorted_keys(v: FloatArray, angular: bool) -> tuple[FloatArray, IntArray]:
    """Sorted values and their rows; angles (in (−π, π]) repeated at ±2π."""
    order = np.argsort(v, kind="stable")
    keys = v[order]
    if angular:
        keys = np.concatenate((keys - _TWO_PI, keys, keys + _TWO_PI))
        order = np.tile(order, 3)
    return keys, order.astype(np.int64)


def _sorted_search(c: FloatArray, h: FloatArray, v: FloatArray,
                   angular: bool) -> tuple[IntArray, IntArray, FloatArray]:
    """One component: all ``|v_j − c_i| ≤ h_i`` (wrapped if ``angular``), with ``v_j − c_i``."""
    keys, rows = _sorted_keys(v, angular)
    query, position = _window_hits(keys, c - h, c + h)
    return query, rows[position], keys[position] - c[query]


def _binned_search(
    center: FloatArray, half: FloatArray, values: FloatArray, angular: BoolArray,
    primary: int, binned: int, typical: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Two components: measurements in bins of ``binned`` (about ``typical``, a usual
    box width, wide), sorted by ``primary`` within each bin (one composite key), each
    box searched in every bin it overlaps."""
    v, c, h = values[:, primary], center[:, primary], half[:, primary]
    b, cb, hb = values[:, binned], center[:, binned], half[:, binned]
    # bins of the second component, about one box wide
    if angular[binned]:
        nb = int(max(1, min(values.shape[0], math.floor(_TWO_PI / max(typical, 1e-12)))))
        width = _TWO_PI / nb
        bin_of = np.mod(np.floor((b + math.pi) / width), nb).astype(np.int64)
        # one bin more either side where an end lies on a boundary (rounding)
        first_f = np.floor((cb - hb + math.pi) / width - 1e-9)
        last_f = np.floor((cb + hb + math.pi) / width + 1e-9)
        bad = np.isnan(first_f) | np.isnan(last_f)  # no box: gates nothing
        first = np.where(bad, 0, first_f).astype(np.int64)
        count = np.where(bad, 0, np.minimum(np.where(bad, 0, last_f - first_f) + 1, nb))
        count = count.astype(np.int64)
    else:
        low, high = float(b.min()), float(b.max())
        width = max(typical, (high - low) / values.shape[0], 1e-12)
        nb = math.floor((high - low) / width) + 1
        bin_of = np.minimum(np.floor((b - low) / width), nb - 1).astype(np.int64)
        first_f = np.floor((cb - hb - low) / width)  # may be ±∞ (an unbounded box)
        last_f = np.floor((cb + hb - low) / width)
        bad = np.isnan(first_f) | np.isnan(last_f) | (last_f < 0) | (first_f > nb - 1)
        first = np.where(bad, 0, np.clip(first_f, 0, nb - 1)).astype(np.int64)
        last = np.where(bad, -1, np.clip(last_f, 0, nb - 1)).astype(np.int64)
        count = last - first + 1
    # composite key: bin · L + offset of the primary value within its bin
    if angular[primary]:
        base, length = -3.0 * math.pi, 6.0 * math.pi + 1.0
        reps = 3
        vv = np.concatenate((v - _TWO_PI, v, v + _TWO_PI))
    else:
        base, length = float(v.min()), float(np.ptp(v)) + 1.0
        reps = 1
        vv = v
    rows = np.tile(np.arange(values.shape[0], dtype=np.int64), reps)
    keys = np.tile(bin_of, reps) * length + (vv - base)
    order = np.argsort(keys, kind="stable")
    keys, rows, vv = keys[order], rows[order], vv[order]
    # one window per (track, bin) it overlaps
    box = np.repeat(np.arange(center.shape[0], dtype=np.int64), count)
    step = np.arange(box.size) - np.repeat(np.cumsum(count) - count, count)
    bins = np.repeat(first, count) + step
    if angular[binned]:
        bins = np.mod(bins, nb)
    lo, hi = c[box] - h[box], c[box] + h[box]
    if not angular[primary]:
        lo, hi = np.maximum(lo, base), np.minimum(hi, base + length - 1.0)
    window, position = _window_hits(keys, bins * length + (lo - base), bins * length + (hi - base))
    query = box[window]
    return query, rows[position], vv[position] - c[query]
