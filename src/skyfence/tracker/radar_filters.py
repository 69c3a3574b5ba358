"""Radar updates beside the plain EKF, vectorised over tracks: second-order EKF, UKF, converted.

Each takes and returns what :func:`skyfence.tracker.updater.update` does —
``(x (K, 6), P (K, 6, 6), z (K, k), model) → (x, P, d²)`` — so any can
stand in for it (:func:`radar_update` picks one by name). Which one the
tracker uses was settled by measurement (``bench/radar_filters.py``).

**Unscented update** (Julier & Uhlmann; scaled form of Wan & van der Merwe).
With n = 6, λ = α²(n + κ) − n and ``L Lᵀ = P⁻``, the 2n + 1 sigma points::

    X₀ = x⁻,   X_i = x⁻ ± √(n + λ) L_i        (columns of L)
    W₀ᵐ = λ/(n + λ),  W₀ᶜ = W₀ᵐ + 1 − α² + β,  W_iᵐ = W_iᶜ = 1/(2(n + λ))

go through h. Angles are averaged as offsets from the centre point, so an
azimuth spread across ±π averages to a direction near the points, not to 0::

    Z_i = h(X_i),   δ_i = wrap(Z_i − Z₀),   δ̄ = Σ W_iᵐ δ_i,   ẑ = Z₀ + δ̄
    S = Σ W_iᶜ (δ_i − δ̄)(δ_i − δ̄)ᵀ + R       C = Σ W_iᶜ (X_i − x⁻)(δ_i − δ̄)ᵀ
    y = wrap(z − Z₀) − δ̄,   K = C S⁻¹,   x = x⁻ + K y,   P = P⁻ − K S Kᵀ

Defaults α = 1, β = 2, κ = 0 put the points at ±√6 σ with W₀ᵐ = 0 and every
other weight 1/12 positive (no negative-weight covariance).

**Converted-measurement update** (the unbiased conversion of Longbin, Song,
Zhou, Sun & Bar-Shalom 1998; its covariance at the predicted measurement as in
Duan, Han & Li 2004 — the decorrelation Bordonaro, Willett & Bar-Shalom 2014
refine). With ``λ_a = e^{−σ_a²/2}``, ``λ_e = e^{−σ_e²/2}``
(``E[cos(a + w)] = λ_a cos a``), the plot ``(ρₘ, aₘ, eₘ)`` becomes::

    p_c = s + [ρₘ cos eₘ sin aₘ / (λ_a λ_e),  ρₘ cos eₘ cos aₘ / (λ_a λ_e),  ρₘ sin eₘ / λ_e]

which is unbiased: ``E[p_c | p] = p``. Its covariance given the true
``(ρ, a, e)`` is exact, ``R_c = E[p_c p_cᵀ] − p pᵀ`` from the moments
``E[ρₘ²] = ρ² + σ_ρ²``, ``E[sin² aₘ] = ½(1 − λ_a⁴ cos 2a)``,
``E[cos² aₘ] = ½(1 + λ_a⁴ cos 2a)``, ``E[sin aₘ cos aₘ] = ½ λ_a⁴ sin 2a`` (and
the same in e), evaluated at ``(ρ, a, e) = h(x⁻)``; evaluating it at the
measurement instead (``covariance_at="measurement"``) correlates the gain with
the very error it weighs. The position update is then linear, ``H = [I₃ 0]``,
in Joseph form; range rate, which is independent of the position errors, follows
as a scalar EKF update linearised at the updated state, and the two squared
distances add (χ² with 3 + 1 degrees of freedom). Rows without elevation cannot
be converted to 3-D: a model lacking component 2 falls back to the EKF.

**Second-order EKF** (the truncated second-order filter, Bar-Shalom, Li &
Kirubarajan 2001 §10.3, kept to the terms that matter here). Range and range
rate share one Hessian, ``M = ∂û/∂p = (I − û ûᵀ)/ρ̂``::

    ∇²ρ = | M 0 |          ∇²ṙ ≈ | 0 M |
          | 0 0 |                | M 0 |

(the p-p block of ∇²ṙ, −(û gᵀ + g ûᵀ + ṙ M)/ρ with g = v⊥/ρ, moves ẑ_ṙ by
~v σ⊥²/ρ² < 0.01 m/s even just after initiation: left out)
and add their expected curvature to ẑ and S (with ``A = M P_pp``,
``B = M P_pv``, ``C = M P_vv``)::

    ẑ_ρ += ½ tr(∇²ρ P) = ½ tr A            ẑ_ṙ += ½ tr(∇²ṙ P) = tr B
    S_ρρ += ½ tr(A A)     S_ṙṙ += tr(C A) + tr(B B)     S_ρṙ += tr(A B)

The EKF leaves these out. Far out they matter in two ways: the range is
convex in position (E[ρ] exceeds ρ(x̂) by ½ tr A), and leaving that out
biases the EKF along the line of sight — measured at 15 km: +0.5 m, 0.2 σ
of the range axis, the tightest one (~2.6 m) once ṙ has smoothed it; and
just after one-plot initiation (σ⊥ ~ 250 m, σv⊥ ~ 35 m/s) the
position × velocity product in ṙ spreads it by ~σ⊥σv⊥/ρ ≈ 0.6 m/s, more
than σ_ṙ, so the EKF over-trusts range rate and stays overconfident for
about a minute (NEES ~6.7 twenty to forty scans in). Angle curvature
(~σ⊥²/ρ² rad) is negligible. The terms enter as ``R + ΔR`` in the Joseph update.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from skyfence.tracker import small_linalg
from skyfence.tracker.base import FloatArray, MeasurementModel
from skyfence.tracker.measurement import RadarPolar
from skyfence.tracker.updater import mahalanobis2
from skyfence.tracker.updater import update as ekf_update


# ------------------------------------------------------------------ second order
def second_order_terms(
    x: FloatArray, P: FloatArray, model: RadarPolar
) -> tuple[FloatArray, FloatArray]:
    """(Δẑ (K, k), ΔR (K, k, k)): range and range-rate curvature over P (module doc)."""
    d = x[:, :3] - model.sensor_enu_m
    rho = np.maximum(np.linalg.norm(d, axis=1), 1.0)
    u = d / rho[:, None]
    M = (np.eye(3) - np.einsum("ki,kj->kij", u, u)) / rho[:, None, None]
    A, B, C = M @ P[:, :3, :3], M @ P[:, :3, 3:], M @ P[:, 3:, 3:]
    dz = np.zeros((x.shape[0], 4))
    dR = np.zeros((x.shape[0], 4, 4))
    dz[:, 0] = 0.5 * np.trace(A, axis1=1, axis2=2)
    dz[:, 3] = np.trace(B, axis1=1, axis2=2)
    dR[:, 0, 0] = 0.5 * np.einsum("kij,kji->k", A, A)
    dR[:, 3, 3] = np.einsum("kij,kji->k", C, A) + np.einsum("kij,kji->k", B, B)
    dR[:, 0, 3] = dR[:, 3, 0] = np.einsum("kij,kji->k", A, B)
    idx = np.asarray(model.components, dtype=np.intp)
    return dz[:, idx], dR[:, idx[:, None], idx[None, :]]


def ekf2_update(
    x: FloatArray, P: FloatArray, z: FloatArray, model: RadarPolar
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Second-order EKF update of K pairs (module doc) → (x, P, d²), new arrays."""
    x_new, P_new, d2, _ = ekf2_scored(x, P, z, model)
    return x_new, P_new, d2


def ekf2_scored(
    x: FloatArray, P: FloatArray, z: FloatArray, model: RadarPolar
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`ekf2_update`, and ``−½ ln det(2π S₁)`` of the first-order ``S₁ = H P Hᵀ + R``
    (``S`` less the curvature terms), which the IMM's mode likelihood uses."""
    dz, dR = second_order_terms(x, P, model)
    H = model.jacobian(x)
    y = model.residual(z, model.function(x) + dz)
    R = model.R + dR
    PHt = P @ H.transpose(0, 2, 1)
    S = H @ PHt + R
    S = 0.5 * (S + S.transpose(0, 2, 1))
    S_inv = small_linalg.inverse(small_linalg.cholesky(S))  # for the gain and the distance
    gain = PHt @ S_inv  # P Hᵀ S⁻¹
    x_new = x + (gain @ y[:, :, None])[:, :, 0]
    I_KH = np.eye(x.shape[1]) - gain @ H
    P_new = I_KH @ P @ I_KH.transpose(0, 2, 1) + gain @ R @ gain.transpose(0, 2, 1)
    P_new = 0.5 * (P_new + P_new.transpose(0, 2, 1))
    log_det_1 = small_linalg.log_det(small_linalg.cholesky(S - dR))
    log_norm = -0.5 * (log_det_1 + model.dim * np.log(2.0 * np.pi))
    return x_new, P_new, mahalanobis2(y, S_inv), log_norm


# ------------------------------------------------------------------ unscented
def unscented_weights(
    n: int, alpha: float = 1.0, beta: float = 2.0, kappa: float = 0.0
) -> tuple[float, FloatArray, FloatArray]:
    """(spread √(n + λ), mean weights Wᵐ (2n+1,), covariance weights Wᶜ (2n+1,))."""
    lam = alpha**2 * (n + kappa) - n
    Wm = np.full(2 * n + 1, 0.5 / (n + lam))
    Wc = Wm.copy()
    Wm[0] = lam / (n + lam)
    Wc[0] = Wm[0] + 1.0 - alpha**2 + beta
    return float(np.sqrt(n + lam)), Wm, Wc


def sigma_points(x: FloatArray, P: FloatArray, spread: float) -> FloatArray:
    """(K, 2n+1, n): x, then x + spread·Lᵢ, then x − spread·Lᵢ, with L Lᵀ = P."""
    try:
        L = np.linalg.cholesky(P)
    except np.linalg.LinAlgError:  # a marginally indefinite P: square root by eigenvalues
        w, V = np.linalg.eigh(P)
        L = V * np.sqrt(np.maximum(w, 0.0))[:, None, :]
    offsets = spread * L.transpose(0, 2, 1)  # rows are the columns of L
    return np.concatenate((x[:, None, :], x[:, None, :] + offsets, x[:, None, :] - offsets),
                          axis=1)


def ukf_update(
    x: FloatArray, P: FloatArray, z: FloatArray, model: MeasurementModel,
    alpha: float = 1.0, beta: float = 2.0, kappa: float = 0.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Unscented update of K pairs (see module doc) → (x, P, d²), new arrays."""
    K_, n = x.shape
    spread, Wm, Wc = unscented_weights(n, alpha, beta, kappa)
    X = sigma_points(x, P, spread)  # (K, m, n)
    m = X.shape[1]
    Z = model.function(X.reshape(K_ * m, n)).reshape(K_, m, -1)
    k = Z.shape[2]
    Z0 = np.repeat(Z[:, :1, :], m, axis=1)
    dZ = model.residual(Z.reshape(K_ * m, k), Z0.reshape(K_ * m, k)).reshape(K_, m, k)
    d_mean = np.einsum("m,pmi->pi", Wm, dZ)
    D = dZ - d_mean[:, None, :]
    WD = D * Wc[None, :, None]
    S = D.transpose(0, 2, 1) @ WD + model.R  # Σ Wᶜ D Dᵀ
    S = 0.5 * (S + S.transpose(0, 2, 1))
    C = (X - x[:, None, :]).transpose(0, 2, 1) @ WD  # (K, n, k)
    y = model.residual(z, Z[:, 0, :]) - d_mean
    gain = np.linalg.solve(S, C.transpose(0, 2, 1)).transpose(0, 2, 1)  # C S⁻¹
    x_new = x + np.einsum("pij,pj->pi", gain, y)
    P_new = P - gain @ S @ gain.transpose(0, 2, 1)
    P_new = 0.5 * (P_new + P_new.transpose(0, 2, 1))
    d2 = np.einsum("pi,pi->p", y, np.linalg.solve(S, y[:, :, None])[:, :, 0])
    return x_new, P_new, d2


# ------------------------------------------------------------------ converted
def unbiased_conversion(z: FloatArray, sigma_az: float, sigma_el: float) -> FloatArray:
    """(K, 3) ENU offsets from the sensor of plots ``z`` = [ρ, az, el] (K, ≥3), debiased."""
    la, le = np.exp(-0.5 * sigma_az**2), np.exp(-0.5 * sigma_el**2)
    rho, az, el = z[:, 0], z[:, 1], z[:, 2]
    ground = rho * np.cos(el) / (la * le)
    return np.column_stack((ground * np.sin(az), ground * np.cos(az), rho * np.sin(el) / le))


def conversion_covariance(
    rho: FloatArray, az: FloatArray, el: FloatArray, sigma: FloatArray
) -> FloatArray:
    """(K, 3, 3) covariance of the unbiased conversion given the true (ρ, az, el)."""
    s_r, s_a, s_e = sigma[0], sigma[1], sigma[2]
    la, le = np.exp(-0.5 * s_a**2), np.exp(-0.5 * s_e**2)
    la4, le4 = la**4, le**4
    m2 = rho**2 + s_r**2  # E[ρₘ²]
    a_ss, a_cc, a_sc = 0.5 * (1 - la4 * np.cos(2 * az)), 0.5 * (1 + la4 * np.cos(2 * az)), \
        0.5 * la4 * np.sin(2 * az)
    e_ss, e_cc, e_sc = 0.5 * (1 - le4 * np.cos(2 * el)), 0.5 * (1 + le4 * np.cos(2 * el)), \
        0.5 * le4 * np.sin(2 * el)
    g2 = m2 * e_cc / (la * le) ** 2
    M = np.empty((rho.shape[0], 3, 3))  # E[p_c p_cᵀ] relative to the sensor
    M[:, 0, 0], M[:, 1, 1], M[:, 0, 1] = g2 * a_ss, g2 * a_cc, g2 * a_sc
    M[:, 2, 2] = m2 * e_ss / le**2
    M[:, 0, 2] = m2 * e_sc * np.sin(az) / le**2  # E[sin aₘ] = λ_a sin a cancels one 1/λ_a
    M[:, 1, 2] = m2 * e_sc * np.cos(az) / le**2
    M[:, 1, 0], M[:, 2, 0], M[:, 2, 1] = M[:, 0, 1], M[:, 0, 2], M[:, 1, 2]
    p = np.column_stack((rho * np.cos(el) * np.sin(az), rho * np.cos(el) * np.cos(az),
                         rho * np.sin(el)))
    return np.asarray(M - np.einsum("ki,kj->kij", p, p), dtype=np.float64)


def converted_update(
    x: FloatArray, P: FloatArray, z: FloatArray, model: RadarPolar,
    covariance_at: Literal["predicted", "measurement"] = "predicted",
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Converted-position update then scalar range-rate EKF (see module doc) → (x, P, d²)."""
    comps = model.components
    if not {0, 1, 2} <= set(comps):
        return ekf_update(x, P, z, model)
    col = {c: i for i, c in enumerate(comps)}
    polar = z[:, [col[0], col[1], col[2]]]
    s = model.sigma
    p_c = model.sensor_enu_m + unbiased_conversion(polar, s[1], s[2])
    at = model.subset((0, 1, 2)).function(x) if covariance_at == "predicted" else polar
    R = conversion_covariance(at[:, 0], at[:, 1], at[:, 2], s)
    S = P[:, :3, :3] + R
    PHt = P[:, :, :3]  # P Hᵀ for H = [I₃ 0]
    gain = np.linalg.solve(S, PHt.transpose(0, 2, 1)).transpose(0, 2, 1)
    y = p_c - x[:, :3]
    x_new = x + np.einsum("pij,pj->pi", gain, y)
    I_KH = np.broadcast_to(np.eye(6), P.shape).copy()
    I_KH[:, :, :3] -= gain
    P_new = I_KH @ P @ I_KH.transpose(0, 2, 1) + gain @ R @ gain.transpose(0, 2, 1)
    P_new = 0.5 * (P_new + P_new.transpose(0, 2, 1))
    d2 = np.einsum("pi,pi->p", y, np.linalg.solve(S, y[:, :, None])[:, :, 0])
    if 3 in col:
        x_new, P_new, d2_rr = ekf_update(x_new, P_new, z[:, [col[3]]], model.subset((3,)))
        d2 = d2 + d2_rr
    return x_new, P_new, d2


# ------------------------------------------------------------------ by name
RadarUpdate = Literal["ekf", "ekf2", "ukf", "converted"]


def radar_update_scored(
    x: FloatArray, P: FloatArray, z: FloatArray, model: RadarPolar, method: RadarUpdate
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None]:
    """:func:`radar_update`, and ``−½ ln det(2π S₁)`` of the first-order ``S₁`` where the
    filter has it at hand (``ekf2``; else None)."""
    if method == "ekf2":
        return ekf2_scored(x, P, z, model)
    return (*radar_update(x, P, z, model, method), None)


def radar_update(
    x: FloatArray, P: FloatArray, z: FloatArray, model: RadarPolar, method: RadarUpdate
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The radar update named ``method`` (see :attr:`TrackerParams.radar_update`)."""
    if method == "ekf2":
        return ekf2_update(x, P, z, model)
    if method == "ukf":
        return ukf_update(x, P, z, model)
    if method == "converted":
        return converted_update(x, P, z, model)
    return ekf_update(x, P, z, model)
