r"""Where did a drone come from? Back-extrapolation of its first track states.

A constant-velocity line is fitted by least squares to the states of the first
``fit_window_s`` seconds after first detection (times :math:`t_i`, positions
:math:`y_i \in \mathbb{R}^3`, :math:`t_0` the first time):

.. math::
    y_i = p_0 + v\,(t_i - t_0) + e_i, \qquad
    A = [\,1 \;\; t_i - t_0\,], \qquad
    \hat B = (A^\top A)^{-1} A^\top Y, \qquad M = (A^\top A)^{-1}

with the noise covariance taken as :math:`\Sigma = \bar P + R`: the mean of the
states' own position covariances plus the residual covariance
:math:`R = \sum e_i e_i^\top / (n-2)` (0 for two states). The position
:math:`\Delta` seconds before :math:`t_0` and its covariance are

.. math::
    \hat p(-\Delta) = \hat p_0 - \Delta \hat v, \qquad
    \operatorname{Cov} = (h^\top M h)\,\Sigma + \tfrac14 \sigma_a^2 \Delta^4 I,
    \qquad h = [1, -\Delta]^\top

— :math:`h^\top M h = \operatorname{var}(\hat p_0) - 2\Delta\,\operatorname{cov}
(\hat p_0, \hat v) + \Delta^2 \operatorname{var}(\hat v)` in units of
:math:`\Sigma`: the area grows with the square of the time back through the
fitted velocity's covariance. :math:`\sigma_a` (default 0) adds an unmodelled
acceleration.

Going back stops at the first of: ``back_s`` seconds; the ground (up = 0 m,
the site origin's height: a climbing track met the ground there, a plausible
launch point); leaving the sensors' covered area (before that the track could
not have been seen, so the line says nothing more). The area drawn is the
95 % ellipse of the horizontal covariance (:math:`\chi^2_2 = 5.991`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from skyfence.report.geometry import Coverage

FloatArray = npt.NDArray[np.float64]
CHI2_2D_95 = 5.991464547107979
STOP_TIME, STOP_GROUND, STOP_COVERAGE = "time", "ground", "coverage"


@dataclass(frozen=True, slots=True)
class CvFit:
    """A constant-velocity least-squares fit: ``p0`` at ``t0_s``, velocity ``v``,
    ``M = (AᵀA)⁻¹`` and the noise covariance ``sigma`` (module doc)."""

    t0_s: float
    n: int
    p0_m: FloatArray  # (3,)
    v_mps: FloatArray  # (3,)
    M: FloatArray  # (2, 2)
    sigma_m2: FloatArray  # (3, 3)

    def at(self, dt_s: float, accel_sd_mps2: float = 0.0) -> tuple[FloatArray, FloatArray]:
        """Position and covariance ``dt_s`` seconds after ``t0_s`` (negative: before)."""
        h = np.array([1.0, dt_s])
        p = self.p0_m + dt_s * self.v_mps
        cov = float(h @ self.M @ h) * self.sigma_m2
        cov = cov + 0.25 * accel_sd_mps2**2 * dt_s**4 * np.eye(3)
        return p, cov


def fit_constant_velocity(t_s: FloatArray, enu_m: FloatArray,
                          pos_cov_m2: FloatArray) -> CvFit | None:
    """The fit of module doc; None with fewer than two distinct times."""
    t = np.asarray(t_s, dtype=np.float64)
    Y = np.asarray(enu_m, dtype=np.float64)
    ok = np.isfinite(t) & np.all(np.isfinite(Y), axis=1)
    t, Y = t[ok], Y[ok]
    P = np.asarray(pos_cov_m2, dtype=np.float64)[ok]
    if len(np.unique(t)) < 2:
        return None
    t0 = float(t.min())
    A = np.column_stack([np.ones_like(t), t - t0])
    M = np.linalg.inv(A.T @ A)
    B = M @ A.T @ Y  # (2, 3): p0, v
    E = Y - A @ B
    n = len(t)
    R = E.T @ E / (n - 2) if n > 2 else np.zeros((3, 3))
    P_finite = P[np.all(np.isfinite(P), axis=(1, 2))]
    P_mean = P_finite.mean(axis=0) if len(P_finite) else np.zeros((3, 3))
    return CvFit(t0_s=t0, n=n, p0_m=B[0], v_mps=B[1], M=M, sigma_m2=P_mean + R)


@dataclass(frozen=True, slots=True)
class OriginEstimate:
    """The back-extrapolated origin of one track (module doc)."""

    track_id: int
    fit: CvFit
    back_s: float  # how far back the line was followed
    stop: str  # STOP_TIME | STOP_GROUND | STOP_COVERAGE
    enu_m: FloatArray  # (3,) the estimated origin
    cov_m2: FloatArray  # (3, 3)
    path_enu_m: FloatArray  # (K, 3) first detection -> origin

    @property
    def t_s(self) -> float:
        return self.fit.t0_s - self.back_s

    def ellipse_m(self) -> tuple[float, float, float]:
        """95 % horizontal ellipse: semi-major, semi-minor (m), and the major axis's
        azimuth (deg clockwise from north)."""
        w, V = np.linalg.eigh(self.cov_m2[:2, :2])
        w = np.clip(w, 0.0, None)
        major = V[:, 1]  # east, north of the largest eigenvalue
        azimuth = math.degrees(math.atan2(major[0], major[1])) % 180.0
        return (math.sqrt(CHI2_2D_95 * w[1]), math.sqrt(CHI2_2D_95 * w[0]), azimuth)

    def area_km2(self) -> float:
        a, b, _ = self.ellipse_m()
        return math.pi * a * b / 1e6


def estimate_origin(track_id: int, t_s: FloatArray, enu_m: FloatArray, pos_cov_m2: FloatArray,
                    coverage: Coverage | None = None, fit_window_s: float = 10.0,
                    back_s: float = 60.0, step_s: float = 0.5,
                    accel_sd_mps2: float = 0.0) -> OriginEstimate | None:
    """Back-extrapolate one track's first states (module doc); None when fewer
    than two states fall in the first ``fit_window_s`` seconds."""
    t = np.asarray(t_s, dtype=np.float64)
    if len(t) == 0:
        return None
    first = t <= float(np.nanmin(t)) + fit_window_s
    fit = fit_constant_velocity(t[first], np.asarray(enu_m)[first],
                                np.asarray(pos_cov_m2)[first])
    if fit is None:
        return None
    dt, stop = _how_far_back(fit, coverage, back_s, step_s)
    p, cov = fit.at(-dt, accel_sd_mps2)
    grid = np.append(np.arange(0.0, dt, step_s), dt)
    path = fit.p0_m[None, :] - grid[:, None] * fit.v_mps[None, :]
    return OriginEstimate(track_id=track_id, fit=fit, back_s=dt, stop=stop, enu_m=p,
                          cov_m2=cov, path_enu_m=path)


def _how_far_back(fit: CvFit, coverage: Coverage | None, back_s: float,
                  step_s: float) -> tuple[float, str]:
    """Seconds back before the line meets the ground or leaves the covered area."""
    dt, stop = float(back_s), STOP_TIME
    up0, vu = float(fit.p0_m[2]), float(fit.v_mps[2])
    if up0 > 0.0 and vu > 0.0 and up0 / vu < dt:  # climbing: lower the further back
        dt, stop = up0 / vu, STOP_GROUND
    if coverage is not None and bool(coverage.contains(fit.p0_m[None, :2])[0]):
        grid = np.append(np.arange(0.0, dt, step_s), dt)
        xy = fit.p0_m[None, :2] - grid[:, None] * fit.v_mps[None, :2]
        outside = np.flatnonzero(~coverage.contains(xy))
        if len(outside):
            dt, stop = _edge(fit, coverage, float(grid[outside[0] - 1]),
                             float(grid[outside[0]])), STOP_COVERAGE
    return dt, stop


def _edge(fit: CvFit, coverage: Coverage, inside_s: float, outside_s: float) -> float:
    """Bisect the time back at which the line leaves the covered area."""
    for _ in range(30):
        mid = 0.5 * (inside_s + outside_s)
        xy = fit.p0_m[:2] - mid * fit.v_mps[:2]
        if bool(coverage.contains(xy[None, :])[0]):
            inside_s = mid
        else:
            outside_s = mid
    return inside_s
