"""Interacting multiple models (IMM, Blom & Bar-Shalom 1988), all tracks at once.

Every track carries ``M`` mode-conditioned estimates ``(x_j, P_j)`` of the same
6-D state (:attr:`TrackBank.mode_x`, :attr:`TrackBank.mode_P`), one per
nearly-constant-velocity mode with its own acceleration PSD ``q_j`` (a quiet
mode and a manoeuvring one), and mode probabilities ``μ_j``
(:attr:`TrackBank.mode_prob`). The bank's ``x, P`` stay the moment-matched
combination, so gating, initiation, management and output never see the modes.

Mode switches are a continuous-time Markov chain: mode ``i`` lasts on average
``τ_i`` seconds (its sojourn time) and then jumps to one of the other modes,
each equally likely. Its generator and the transition matrix over a step::

    G_ii = −1/τ_i        G_ij = 1/(τ_i (M − 1))  (j ≠ i)        Π(dt) = exp(G dt)

``p_ii(dt) ≈ exp(−dt/τ_i)`` for ``dt ≪ τ``; the matrix exponential makes
``Π(a) Π(b) = Π(a + b)`` exactly, so the asynchronous engine, which predicts
to every sensor's scan, predicts the mode probabilities the same however a
time step is split. One cycle (``i`` the mode a track comes from, ``j`` the
mode it goes to)::

    mixing     c_j   = Σ_i p_ij μ_i                      predicted mode probability
               μ_i|j = p_ij μ_i / c_j                    mixing probabilities
               x0_j  = Σ_i μ_i|j x_i
               P0_j  = Σ_i μ_i|j [P_i + (x_i − x0_j)(x_i − x0_j)ᵀ]
    predict    x_j⁻  = F x0_j        P_j⁻ = F P0_j Fᵀ + Q_j     (motion.py, q_j)
    update     (x_j, P_j, Λ_j) = update(x_j⁻, P_j⁻)          any single-model update;
                                                        Λ_j its measurement likelihood
               μ_j   = c_j Λ_j / Σ_k c_k Λ_k
    combine    x = Σ_j μ_j x_j    P = Σ_j μ_j [P_j + (x_j − x)(x_j − x)ᵀ]

Mixing and prediction run at every :meth:`Tracker.predict` (over all tracks);
the update runs for the tracks a scan updates, each mode with the same pairs,
through one function of a single mode's ``(x, P)`` (:data:`ModeUpdate`), so a
different update (a probabilistic data association, say) slots in unchanged.
A track no report updates keeps ``μ = c``. The maths follows filterpy's
``IMMEstimator``, with einsum over tracks and modes instead of its loops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree

from skyfence.tracker import motion, small_linalg
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.base import STATE_DIM, BoolArray, FloatArray, IntArray, MeasurementModel
from skyfence.tracker.constraint import _NEGLIGIBLE, _UP, truncate_height
from skyfence.tracker.gating import Hypotheses, pair_statistics
from skyfence.tracker.measurement import RadarPolar
from skyfence.tracker.params import TrackerParams
from skyfence.tracker.radar_filters import RadarUpdate, radar_update_scored
from skyfence.tracker.updater import innovation, mahalanobis2

ModeUpdate = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray, FloatArray]]
"""One mode's update of K tracks: ``(x (K, 6), P (K, 6, 6)) → (x, P, ln Λ (K,))``,
``Λ`` the likelihood of what updated each track under that mode's prediction."""

_TINY = 1e-300  # keeps c_j > 0 for the division in the mixing probabilities


@dataclass(frozen=True, slots=True)
class ImmModes:
    """The modes: acceleration PSDs, sojourn times, initial probabilities."""

    q: FloatArray  # (M, 3) acceleration PSD per mode, axes (e, n, u), m²/s³
    sojourn_s: FloatArray  # (M,) mean time in each mode, s
    initial_prob: FloatArray  # (M,) mode probabilities of a new track

    @classmethod
    def from_params(cls, params: TrackerParams) -> ImmModes:
        h = np.asarray(params.imm_accel_noise_psd_m2ps3, dtype=np.float64)
        v = np.asarray(params.imm_vertical_accel_noise_psd_m2ps3, dtype=np.float64)
        return cls(q=np.column_stack((h, h, v)),
                   sojourn_s=np.asarray(params.imm_sojourn_s, dtype=np.float64),
                   initial_prob=np.asarray(params.imm_initial_mode_prob, dtype=np.float64))

    @property
    def count(self) -> int:
        return int(self.sojourn_s.shape[0])

    def transition(self, dt: float) -> FloatArray:
        """Π(dt) (M, M), rows sum to 1: ``p_ij`` = P(mode j at t + dt | mode i at t)."""
        return transition_matrix(self.sojourn_s, dt)


def transition_matrix(sojourn_s: FloatArray, dt: float) -> FloatArray:
    """Π(dt) = exp(G dt) for mean sojourn times ``τ`` (M,), switches uniform over the others.

    ``G = D A`` with ``D = diag(1/τ)`` and ``A`` symmetric (−1 on the diagonal,
    1/(M−1) off it), so ``S = D^½ A D^½ = V diag(λ) Vᵀ`` is symmetric and
    ``exp(G dt) = D^½ V diag(e^{λ dt}) Vᵀ D^−½``: an eigendecomposition of an
    M × M matrix (a general ``expm`` costs ~100× more per call).
    """
    if sojourn_s.shape[0] == 1:
        return np.ones((1, 1))
    root, lam, V = _generator_eigen(tuple(float(t) for t in sojourn_s))
    Pi = (root[:, None] * V * np.exp(lam * dt)) @ (V.T / root[None, :])
    Pi = np.clip(Pi, 0.0, 1.0)
    return np.asarray(Pi / Pi.sum(axis=1, keepdims=True), dtype=np.float64)


@lru_cache(maxsize=16)
def _generator_eigen(sojourn_s: tuple[float, ...]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(D^½ diagonal, λ, V)`` of ``S = D^½ A D^½`` (see :func:`transition_matrix`)."""
    m = len(sojourn_s)
    root = np.sqrt(1.0 / np.asarray(sojourn_s))
    A = np.full((m, m), 1.0 / (m - 1))
    A[np.diag_indices(m)] = -1.0
    lam, V = np.linalg.eigh(root[:, None] * A * root[None, :])
    return root, np.asarray(lam, dtype=np.float64), np.asarray(V, dtype=np.float64)


def mix(
    mu: FloatArray, x: FloatArray, P: FloatArray, Pi: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mixing: μ (N, M), x (N, M, 6), P (N, M, 6, 6), Π (M, M) → (c, x0, P0).

    Sums over the source mode ``i`` as batched matrix products (N·M small
    products beat einsum's generic loops several times over)."""
    n, m = mu.shape
    c = mu @ Pi  # c_j = Σ_i μ_i p_ij
    w = mu[:, :, None] * Pi[None] / np.maximum(c, _TINY)[:, None, :]  # μ_i|j (N, i, j)
    wt = w.transpose(0, 2, 1)  # (N, j, i)
    x0 = wt @ x  # Σ_i μ_i|j x_i
    d = x[:, None, :, :] - x0[:, :, None, :]  # x_i − x0_j (N, j, i, 6)
    P0 = (wt @ P.reshape(n, m, STATE_DIM * STATE_DIM)).reshape(n, m, STATE_DIM, STATE_DIM)
    P0 += _weighted_outer(wt, d)
    return c, x0, P0


def _weighted_outer(w: FloatArray, d: FloatArray) -> FloatArray:
    """``Σ_i w[..., i] d[..., i, :] d[..., i, :]ᵀ`` for w (..., I), d (..., I, 6)."""
    wd = np.ascontiguousarray(np.swapaxes(w[..., None] * d, -1, -2))
    return np.asarray(wd @ d, dtype=np.float64)


def predict(
    mu: FloatArray, x: FloatArray, P: FloatArray, dt: float, modes: ImmModes
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mix, then every mode ``dt`` ahead under its own Q: → (c, x⁻, P⁻), new arrays."""
    if dt == 0.0:
        return mu.copy(), x.copy(), P.copy()
    c, x0, P0 = mix(mu, x, P, modes.transition(dt))
    Q = np.stack([motion.process_noise(dt, q) for q in modes.q])  # (M, 6, 6), M small
    # motion.predict's F x, F P Fᵀ by blocks (x0, P0 are mix's fresh arrays), then Q_j
    x0[..., :3] += dt * x0[..., 3:]
    Ppp, Ppv, Pvp, Pvv = P0[..., :3, :3], P0[..., :3, 3:], P0[..., 3:, :3], P0[..., 3:, 3:]
    Pf = np.empty_like(P0)
    Pf[..., :3, :3] = Ppp + dt * (Ppv + Pvp) + dt * dt * Pvv
    Pf[..., :3, 3:] = Ppv + dt * Pvv
    Pf[..., 3:, :3] = Pvp + dt * Pvv
    Pf[..., 3:, 3:] = Pvv
    Pf += Q
    return c, x0, Pf


def combine(mu: FloatArray, x: FloatArray, P: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Moment matching: μ (N, M), x (N, M, 6), P (N, M, 6, 6) → (x (N, 6), P (N, 6, 6))."""
    n, m = mu.shape
    xc = (mu[:, None, :] @ x)[:, 0]
    d = x - xc[:, None, :]
    Pc = (mu[:, None, :] @ P.reshape(n, m, STATE_DIM * STATE_DIM))[:, 0]
    Pc = Pc.reshape(n, STATE_DIM, STATE_DIM) + _weighted_outer(mu, d)
    return xc, 0.5 * (Pc + Pc.transpose(0, 2, 1))


def update_modes(
    mu: FloatArray, x: FloatArray, P: FloatArray, update_mode: ModeUpdate
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Every mode's update and the mode probabilities: ``μ_j ∝ c_j Λ_j``. New arrays.

    ``update_mode`` is called once per mode (M is 2 or 3) on all K tracks; a
    :class:`PairUpdate` once on all K·M (track, mode) rows.
    """
    n, m = mu.shape
    if isinstance(update_mode, PairUpdate):
        xs, Ps, ll = update_mode(x.reshape(n * m, STATE_DIM),
                                 P.reshape(n * m, STATE_DIM, STATE_DIM))
        x_new, P_new = xs.reshape(x.shape), Ps.reshape(P.shape)
        log_lik = ll.reshape(n, m)
    else:
        x_new, P_new = np.empty_like(x), np.empty_like(P)
        log_lik = np.empty_like(mu)
        for j in range(m):
            x_new[:, j], P_new[:, j], log_lik[:, j] = update_mode(x[:, j], P[:, j])
    with np.errstate(divide="ignore"):
        log_post = np.log(mu) + log_lik
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    return post / post.sum(axis=1, keepdims=True), x_new, P_new


PairFilter = Callable[[FloatArray, FloatArray, FloatArray],
                      tuple[FloatArray, FloatArray, FloatArray]]
"""A pair update ``(x (K, 6), P (K, 6, 6), z (K, k)) → (x, P, d²)`` (radar_filters.py)."""
ScoredPairFilter = Callable[[FloatArray, FloatArray, FloatArray],
                            tuple[FloatArray, FloatArray, FloatArray, FloatArray | None]]
"""A pair update that also gives ``−½ ln det(2π S)`` of its first-order ``S`` (or None)."""


class PairUpdate:
    """A :data:`ModeUpdate` of K tracks by one report each, ``z`` (K, k): the EKF
    (updater.py's, returning ``ln Λ = −½ yᵀS⁻¹y − ½ ln det(2πS)``) or any
    :data:`PairFilter` (``ln det S`` then from the first-order ``S``; a filter's
    own ``S`` differs by its higher-order terms, which move it little)::

        K = P Hᵀ S⁻¹     x = x⁻ + K y     P = (I − K H) P⁻ (I − K H)ᵀ + K R Kᵀ

    It also takes all modes at once, K·M rows track after track (each report
    repeated M times): :func:`update_modes` makes one call, not M.
    """

    def __init__(self, z: FloatArray, model: MeasurementModel,
                 pair_filter: PairFilter | None = None,
                 scored_filter: ScoredPairFilter | None = None) -> None:
        self.z, self.model, self.pair_filter = z, model, pair_filter
        self.scored_filter = scored_filter

    def __call__(self, x: FloatArray, P: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        model = self.model
        z = np.repeat(self.z, x.shape[0] // max(self.z.shape[0], 1), axis=0)
        if self.scored_filter is not None:
            x_new, P_new, d2, log_norm = self.scored_filter(x, P, z)
            if log_norm is None:
                log_norm = _log_norm(x, P, model)
            return x_new, P_new, log_norm - 0.5 * d2
        if self.pair_filter is not None:
            x_new, P_new, d2 = self.pair_filter(x, P, z)
            return x_new, P_new, _log_norm(x, P, model) - 0.5 * d2
        inn = innovation(x, P, model)
        y = model.residual(z, inn.z_pred)
        K = P @ inn.H.transpose(0, 2, 1) @ inn.S_inv
        x_new = x + np.einsum("pij,pj->pi", K, y)
        I_KH = np.eye(STATE_DIM) - K @ inn.H
        P_new = I_KH @ P @ I_KH.transpose(0, 2, 1) + K @ model.R @ K.transpose(0, 2, 1)
        P_new = 0.5 * (P_new + P_new.transpose(0, 2, 1))
        return x_new, P_new, inn.log_norm - 0.5 * mahalanobis2(y, inn.S_inv)


def _log_norm(x: FloatArray, P: FloatArray, model: MeasurementModel) -> FloatArray:
    """``−½ ln det(2π S)`` of the first-order ``S = H P Hᵀ + R`` (as updater.innovation
    has it, without the predicted measurement and ``S⁻¹`` it has no use for here)."""
    H = model.jacobian(x)
    S = H @ P @ H.transpose(0, 2, 1) + model.R
    S = 0.5 * (S + S.transpose(0, 2, 1))
    logdet = small_linalg.log_det(small_linalg.cholesky(S))
    return np.asarray(-0.5 * (logdet + model.dim * np.log(2.0 * np.pi)), dtype=np.float64)


def ekf(z: FloatArray, model: MeasurementModel) -> PairUpdate:
    """The EKF update of each track by its report ``z`` (K, k), as a :data:`ModeUpdate`."""
    return PairUpdate(z, model)


def pairwise(pair_filter: PairFilter, z: FloatArray, model: MeasurementModel) -> PairUpdate:
    """Any :data:`PairFilter` (a radar filter of radar_filters.py) of each track by
    its report ``z`` (K, k), as a :data:`ModeUpdate`."""
    return PairUpdate(z, model, pair_filter)


def radar(z: FloatArray, model: RadarPolar, method: RadarUpdate) -> PairUpdate:
    """The radar filter ``method`` (radar_filters.py) of each track by its plot ``z``
    (K, k), as a :data:`ModeUpdate`: :func:`pairwise` on it, the first-order ``S``
    taken from the filter where it has one (no second Jacobian)."""
    return PairUpdate(z, model, scored_filter=lambda x, P, zz: radar_update_scored(
        x, P, zz, model, method))


def gate_modes(
    bank: TrackBank, z: FloatArray, model: MeasurementModel, gate_d2: float,
    eligible: BoolArray | None = None,
) -> Hypotheses:
    """Pairs inside the gate of any mode, scored by the mode mixture::

        ln g = ln Σ_j μ_j N(y_j; 0, S_j)        d² = min_j d²_j

    A track sure of its quiet mode gates on the combined estimate almost as
    tightly as on that mode alone, so a report that a sudden manoeuvre carried
    out of it would be lost; it is still inside the manoeuvring mode's gate.
    Candidates come from one k-d tree search (gating.py) around the combined
    estimate with a radius that covers every mode's search ball (triangle
    inequality in the embedding), then every mode's exact statistics.
    """
    rows = np.arange(len(bank)) if eligible is None else np.flatnonzero(eligible)
    if rows.size == 0 or z.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Hypotheses(empty, empty, np.zeros(0), np.zeros(0))
    m = bank.mode_prob.shape[1]
    points, radius = model.embed_tracks(bank.x[rows], bank.P[rows], gate_d2)
    for j in range(m):
        p_j, r_j = model.embed_tracks(bank.mode_x[rows, j], bank.mode_P[rows, j], gate_d2)
        radius = np.maximum(radius, r_j + np.linalg.norm(p_j - points, axis=1))
    found = cKDTree(model.embed_measurements(z)).query_ball_point(points, r=radius)
    counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
    track = np.repeat(rows, counts).astype(np.int64)
    meas = np.asarray(np.concatenate([f for f in found if f] or [[]]), dtype=np.int64)
    d2 = np.empty((track.size, m))
    log_g = np.empty((track.size, m))
    for j in range(m):
        if track.size:
            d2[:, j], log_g[:, j] = pair_statistics(bank.mode_x[:, j], bank.mode_P[:, j], z,
                                                    model, track, meas)
    with np.errstate(divide="ignore"):
        log_g += np.log(bank.mode_prob[track])
    top = log_g.max(axis=1, initial=-np.inf)
    loglik = top + np.log(np.exp(log_g - top[:, None]).sum(axis=1))
    d2_min = d2.min(axis=1, initial=np.inf)
    inside = d2_min <= gate_d2
    return Hypotheses(track[inside], meas[inside], d2_min[inside], loglik[inside])


# ------------------------------------------------------------ on the track bank
def predict_bank(bank: TrackBank, dt: float, modes: ImmModes) -> None:
    """Every track's modes ``dt`` ahead, and ``x, P`` their combination (in place)."""
    bank.mode_prob, bank.mode_x, bank.mode_P = predict(
        bank.mode_prob, bank.mode_x, bank.mode_P, dt, modes)
    bank.x, bank.P = combine(bank.mode_prob, bank.mode_x, bank.mode_P)


def update_bank(bank: TrackBank, rows: IntArray, update_mode: ModeUpdate) -> None:
    """Tracks ``rows`` (distinct) updated in every mode by ``update_mode`` (in place)."""
    mu, x, P = update_modes(bank.mode_prob[rows], bank.mode_x[rows], bank.mode_P[rows],
                            update_mode)
    bank.mode_prob[rows], bank.mode_x[rows], bank.mode_P[rows] = mu, x, P
    bank.x[rows], bank.P[rows] = combine(mu, x, P)


def restart_rows(bank: TrackBank, rows: IntArray, initial_prob: FloatArray) -> None:
    """Tracks ``rows`` restarted on their ``x, P``: every mode there, ``μ`` initial."""
    bank.mode_prob[rows] = initial_prob
    bank.mode_x[rows] = bank.x[rows, None, :]
    bank.mode_P[rows] = bank.P[rows, None, :, :]


def truncate_modes(bank: TrackBank, floor_m: float, rows: IntArray | None = None) -> None:
    """The ground constraint (constraint.py) on every mode of the tracks ``rows``
    (distinct; default every track) whose modes reach below ``floor_m``; their
    ``x, P`` are then recombined (in place)."""
    rows = np.arange(len(bank)) if rows is None else rows
    sigma = np.sqrt(np.maximum(bank.mode_P[rows, :, _UP, _UP], 1e-12))
    low = (floor_m - bank.mode_x[rows, :, _UP]) / sigma > _NEGLIGIBLE
    track, mode = np.nonzero(low)  # (track, mode) pairs that reach below the floor
    if track.size == 0:
        return
    track = rows[track]
    x, P = truncate_height(bank.mode_x[track, mode], bank.mode_P[track, mode], floor_m)
    bank.mode_x[track, mode], bank.mode_P[track, mode] = x, P
    low_rows = np.unique(track)
    bank.x[low_rows], bank.P[low_rows] = combine(bank.mode_prob[low_rows], bank.mode_x[low_rows],
                                                 bank.mode_P[low_rows])
