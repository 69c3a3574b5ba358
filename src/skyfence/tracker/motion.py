"""Predictor: the 3-D nearly-constant-velocity (white-noise acceleration) model.

State ``x = [e, n, u, ve, vn, vu]``. Over a step ``dt`` each axis ``a`` obeys

    p' = p + dt·v,          v' = v   (+ the integral of white acceleration)

    F(dt) = | I₃  dt·I₃ |        Q(dt) = | dt³/3·Qa  dt²/2·Qa |
            | 0   I₃    |                | dt²/2·Qa  dt·Qa    |

with ``Qa = diag(q_e, q_n, q_u)`` the acceleration power spectral densities
(m²/s³). This discretisation is exact, so predicting over ``a`` then ``b`` is
the same as over ``a + b``: the engine may keep every track at the latest
scan time.

    x⁻ = F x            P⁻ = F P Fᵀ + Q
"""

from __future__ import annotations

import numpy as np

from skyfence.tracker.base import FloatArray


def transition_matrix(dt: float) -> FloatArray:
    """F(dt), (6, 6)."""
    F = np.eye(6)
    F[0, 3] = F[1, 4] = F[2, 5] = dt
    return F


def process_noise(dt: float, q: FloatArray) -> FloatArray:
    """Q(dt), (6, 6), for acceleration PSDs ``q = (q_e, q_n, q_u)``."""
    Qa = np.diag(np.asarray(q, dtype=np.float64))
    Q = np.empty((6, 6))
    Q[:3, :3] = dt**3 / 3.0 * Qa
    Q[:3, 3:] = Q[3:, :3] = dt**2 / 2.0 * Qa
    Q[3:, 3:] = dt * Qa
    return Q


def predict(
    x: FloatArray, P: FloatArray, dt: float, q: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """All tracks ``dt`` seconds ahead: x (N, 6), P (N, 6, 6) → (x⁻, P⁻), new arrays.

    Written with the block structure of F instead of two 6×6 products::

        x⁻ = [p + dt·v, v]
        P⁻pp = Ppp + dt(Ppv + Pvp) + dt²Pvv + Qpp,   P⁻pv = Ppv + dt·Pvv + Qpv,
        P⁻vv = Pvv + Qvv
    """
    if dt == 0.0:
        return x.copy(), P.copy()
    x_pred = x.copy()
    x_pred[:, :3] += dt * x[:, 3:]
    Ppp, Ppv, Pvp, Pvv = P[:, :3, :3], P[:, :3, 3:], P[:, 3:, :3], P[:, 3:, 3:]
    P_pred = np.empty_like(P)
    P_pred[:, :3, :3] = Ppp + dt * (Ppv + Pvp) + dt * dt * Pvv
    P_pred[:, :3, 3:] = Ppv + dt * Pvv
    P_pred[:, 3:, :3] = Pvp + dt * Pvv
    P_pred[:, 3:, 3:] = Pvv
    P_pred += process_noise(dt, q)
    return x_pred, P_pred
