"""Hypothesiser/gater: which (track, measurement) pairs are plausible, and how likely.

1. Candidates: a k-d tree (scipy cKDTree) over the scan's measurements,
   embedded in a metric space by the measurement model, searched around each
   track with a radius that bounds its Mahalanobis gate. Cost grows like
   N log M, not N·M.
2. Exact gate: for the candidates only, ``d² = yᵀ S⁻¹ y ≤ γ`` where γ is the
   chi-square quantile of the gate probability for the measurement's
   dimension, and ``ln g = −½ d² − ½ ln det(2π S)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import chi2

from skyfence.tracker.base import BoolArray, FloatArray, IntArray, MeasurementModel
from skyfence.tracker.updater import innovation, mahalanobis2


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
    empty = np.zeros(0, dtype=np.int64)
    rows = np.arange(x.shape[0]) if eligible is None else np.flatnonzero(eligible)
    if rows.size == 0 or z.shape[0] == 0:
        return Hypotheses(empty, empty, np.zeros(0), np.zeros(0))
    points, radius = model.embed_tracks(x[rows], P[rows], gate_d2)
    tree = cKDTree(model.embed_measurements(z))
    found = tree.query_ball_point(points, r=radius)
    counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
    if counts.sum() == 0:
        return Hypotheses(empty, empty, np.zeros(0), np.zeros(0))
    track = np.repeat(rows, counts).astype(np.int64)
    meas = np.concatenate([f for f in found if f]).astype(np.int64)
    d2, loglik = pair_statistics(x, P, z, model, track, meas)
    inside = d2 <= gate_d2
    return Hypotheses(track[inside], meas[inside], d2[inside], loglik[inside])
