"""State constraints: nothing flies below the ground.

Radar elevation noise (1° is 140 m of height at 8 km) spreads a low target's
height estimate below the ground. The site frame's ground is ``u = 0``, so
the height is truncated there (Simon & Simon, 2010, truncated-Gaussian
constraint): with ``u ~ N(μ, σ²)`` and ``α = (u_min − μ)/σ``,

    λ  = φ(α) / (1 − Φ(α)) = √(2/π) / erfcx(α/√2)
    μ' = μ + σ λ                 σ'² = σ² (1 + α λ − λ²)

and the rest of the state moves with the height by its regression
``k = P[:, u] / σ²``::

    x' = x + k (μ' − μ)          P' = P − k kᵀ (σ² − σ'²)
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfcx

from skyfence.tracker.base import FloatArray

_UP = 2
_NEGLIGIBLE = -6.0  # α below this: less than 1e-9 of the mass under the floor


def truncate_height(
    x: FloatArray, P: FloatArray, floor_m: float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Every state conditioned on ``u ≥ floor_m`` (arrays modified in place, returned)."""
    sigma2 = P[:, _UP, _UP]
    sigma = np.sqrt(np.maximum(sigma2, 1e-12))
    alpha = (floor_m - x[:, _UP]) / sigma
    flagged = np.flatnonzero(alpha > _NEGLIGIBLE)
    if flagged.size == 0:
        return x, P
    # every row (the IMM passes only the modes that need it): views, not copies
    rows = slice(None) if flagged.size == x.shape[0] else flagged
    a, s, s2 = alpha[rows], sigma[rows], sigma2[rows]
    lam = math.sqrt(2.0 / math.pi) / erfcx(a / math.sqrt(2.0))
    mean = x[rows, _UP] + s * lam
    var = s2 * np.clip(1.0 + a * lam - lam**2, 1e-6, 1.0)
    k = P[rows, :, _UP] / s2[:, None]  # (R, 6)
    x[rows] += k * (mean - x[rows, _UP])[:, None]
    P[rows] -= np.einsum("ri,rj->rij", k, k) * (s2 - var)[:, None, None]
    P[rows] = 0.5 * (P[rows] + P[rows].transpose(0, 2, 1))
    return x, P
