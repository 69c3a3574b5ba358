"""Batched linear algebra of many small symmetric positive-definite matrices.

The engine factors thousands of k × k innovation covariances (k ≤ 4) per
scan. ``numpy.linalg`` calls LAPACK once per matrix, and at this size the
call costs more than the arithmetic (~0.7 µs a matrix); here the Cholesky
factorisation ``S = L Lᵀ`` and the triangular solves run element by element
of the k × k pattern, each step one array operation over the whole batch.
Same algorithm as LAPACK's unblocked ``potrf``; results agree to rounding.

A matrix that is not positive definite (a failed pivot) is handed to
``numpy.linalg`` instead, which raises or answers exactly as before.
"""

from __future__ import annotations

import numpy as np

from skyfence.tracker.base import FloatArray

_MAX_DIM = 8
"""Beyond this the element loops cost more than LAPACK's calls."""


def cholesky(S: FloatArray) -> FloatArray:
    """Lower factor ``L`` (n, k, k) of SPD ``S`` (n, k, k), ``L Lᵀ = S``."""
    n, k, _ = S.shape
    if k > _MAX_DIM or n == 0:
        return np.asarray(np.linalg.cholesky(S), dtype=np.float64)
    A = np.moveaxis(S, 0, -1)  # (k, k, n): one batch-long vector per element
    L = np.zeros((k, k, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(k):
            d = A[j, j] - np.sum(L[j, :j] ** 2, axis=0) if j else A[j, j].copy()
            np.sqrt(d, out=d)
            L[j, j] = d
            for i in range(j + 1, k):
                s = A[i, j] - np.sum(L[i, :j] * L[j, :j], axis=0) if j else A[i, j]
                L[i, j] = s / d
    out = np.ascontiguousarray(np.moveaxis(L, -1, 0))
    bad = ~np.isfinite(np.diagonal(out, axis1=1, axis2=2)).all(axis=1)
    bad |= ~(np.diagonal(out, axis1=1, axis2=2) > 0).all(axis=1)
    if bad.any():  # not positive definite: LAPACK's answer (or its error)
        out[bad] = np.linalg.cholesky(S[bad])
    return out


def cho_solve(L: FloatArray, B: FloatArray) -> FloatArray:
    """``S⁻¹ B`` for ``S = L Lᵀ``: L (n, k, k), B (n, k, r) → (n, k, r)."""
    n, k, _ = L.shape
    if k > _MAX_DIM or n == 0:
        return np.asarray(np.linalg.solve(L @ L.transpose(0, 2, 1), B), dtype=np.float64)
    Lt = np.moveaxis(L, 0, -1)  # (k, k, n)
    Y = np.moveaxis(B, 0, -1).copy()  # (k, r, n)
    for i in range(k):  # forward: L y = b
        for j in range(i):
            Y[i] -= Lt[i, j] * Y[j]
        Y[i] /= Lt[i, i]
    for i in range(k - 1, -1, -1):  # back: Lᵀ x = y
        for j in range(i + 1, k):
            Y[i] -= Lt[j, i] * Y[j]
        Y[i] /= Lt[i, i]
    return np.ascontiguousarray(np.moveaxis(Y, -1, 0))


def inverse(L: FloatArray) -> FloatArray:
    """``S⁻¹`` (n, k, k) from the factor ``L`` of ``S``."""
    n, k, _ = L.shape
    return cho_solve(L, np.broadcast_to(np.eye(k), (n, k, k)))


def log_det(L: FloatArray) -> FloatArray:
    """``ln det S`` (n,) from the factor ``L`` of ``S``."""
    return np.asarray(2.0 * np.sum(np.log(np.diagonal(L, axis1=1, axis2=2)), axis=1),
                      dtype=np.float64)
