"""Updater: the extended Kalman filter update, for many (track, measurement) pairs at once.

For each pair, with H the Jacobian of h at the predicted state x⁻::

    y = z − h(x⁻)                       innovation (angles wrapped)
    S = H P⁻ Hᵀ + R                     innovation covariance
    K = P⁻ Hᵀ S⁻¹                       gain
    x = x⁻ + K y
    P = (I − K H) P⁻ (I − K H)ᵀ + K R Kᵀ    Joseph form: stays symmetric, PSD
    d² = yᵀ S⁻¹ y                       squared Mahalanobis distance
    ln g = −½ d² − ½ ln det(2π S)       log likelihood of the measurement
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skyfence.tracker.base import FloatArray, MeasurementModel


@dataclass(frozen=True, slots=True)
class Innovation:
    """Predicted measurement statistics of N tracks under one model."""

    z_pred: FloatArray  # (N, k)
    H: FloatArray  # (N, k, 6)
    S: FloatArray  # (N, k, k)
    S_inv: FloatArray  # (N, k, k)
    log_norm: FloatArray  # (N,) −½ ln det(2π S)


def innovation(x: FloatArray, P: FloatArray, model: MeasurementModel) -> Innovation:
    """ẑ, H, S, S⁻¹ and the Gaussian normaliser for every track."""
    z_pred = model.function(x)
    H = model.jacobian(x)
    S = H @ P @ H.transpose(0, 2, 1) + model.R
    S = 0.5 * (S + S.transpose(0, 2, 1))
    L = np.linalg.cholesky(S)
    logdet = 2.0 * np.sum(np.log(np.diagonal(L, axis1=1, axis2=2)), axis=1)
    S_inv = np.asarray(np.linalg.inv(S), dtype=np.float64)
    k = model.dim
    log_norm = -0.5 * (logdet + k * np.log(2.0 * np.pi))
    return Innovation(z_pred, H, S, S_inv, log_norm)


def mahalanobis2(y: FloatArray, S_inv: FloatArray) -> FloatArray:
    """yᵢᵀ S⁻¹ᵢ yᵢ for rows y (K, k), S_inv (K, k, k)."""
    return np.asarray(np.einsum("pi,pij,pj->p", y, S_inv, y), dtype=np.float64)


def update(
    x: FloatArray, P: FloatArray, z: FloatArray, model: MeasurementModel
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """EKF update of K pairs: x (K, 6), P (K, 6, 6), z (K, k) → (x, P, d²), new arrays."""
    z_pred = model.function(x)
    H = model.jacobian(x)
    y = model.residual(z, z_pred)
    PHt = P @ H.transpose(0, 2, 1)  # (K, 6, k)
    S = H @ PHt + model.R
    S = 0.5 * (S + S.transpose(0, 2, 1))
    K = np.linalg.solve(S, PHt.transpose(0, 2, 1)).transpose(0, 2, 1)  # P Hᵀ S⁻¹
    x_new = x + np.einsum("pij,pj->pi", K, y)
    I_KH = np.eye(x.shape[1]) - K @ H
    P_new = I_KH @ P @ I_KH.transpose(0, 2, 1) + K @ model.R @ K.transpose(0, 2, 1)
    P_new = 0.5 * (P_new + P_new.transpose(0, 2, 1))
    d2 = np.einsum("pi,pi->p", y, np.linalg.solve(S, y[:, :, None])[:, :, 0])
    return x_new, P_new, d2
