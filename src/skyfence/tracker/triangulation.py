"""Passive initiation, the geometry: where bearings of several sensors cross.

A bearing (RF, acoustic, EO/IR) is a ray ``s + ρ u(az, el)`` from the sensor
``s``; an RF direction finder often gives azimuth only (a vertical half-plane).
Bearings of two or more sensors fix a point. :mod:`.passive_initiator` keeps
the bearings no track explained, asks this module which of them cross, and
starts tentative tracks there; this module is pure array code over all
candidate pairs and triples at once.

**The fix** (least squares, Gauss–Newton on the angles). Per ray, with
``d = p − s``, ground range ``g`` and slant range ``ρ``, the angles move with
the point along two unit vectors across the line of sight::

    ∂az/∂p = e_azᵀ / g      e_az = [cos az, −sin az, 0]
    ∂el/∂p = e_elᵀ / ρ      e_el = [−sin el sin az, −sin el cos az, cos el]

so the point that best fits every ray's angles solves the normal equations::

    A = Σ_r  e_az e_azᵀ / (g² σ_az'²)  +  e_el e_elᵀ / (ρ² σ_el'²)   [+ e_u e_uᵀ / σ_h²]
    b = Σ_r (e_az e_azᵀ / (g² σ_az'²)  +  e_el e_elᵀ / (ρ² σ_el'²)) s  [+ e_u h₀ / σ_h²]
    p = A⁻¹ b          Cov(p) = A⁻¹   (the bearing sigmas through the Jacobian)

iterated three times (ranges from the previous fix; the first with ranges 1).
Where no ray has an elevation (two azimuth-only RF bearings) the height comes
from a prior ``N(h₀, σ_h²)``, the bracketed term. Where one ray has an
elevation, three angles fix the point exactly.

**Time.** Sensors report at different times, and an acoustic bearing points
where the target was when the sound left it, ``ρ/c`` before the report. Each
ray's effective time is ``t_r = t_report − ρ/c`` (``c = ∞`` but for acoustic
arrays); the fix is the position at their mean ``t̄``, and a target moving at
an unknown velocity ``v ~ N(0, σ_v² I)`` (``σ_v = v_max/√3``) has moved
``v (t_r − t̄)`` by each ray's time, which widens that ray's angles::

    σ_az'² = σ_az² + σ_v² (t_r − t̄)² / g²       σ_el'² = σ_el² + σ_v² (t_r − t̄)² / ρ²

The new track's state is ``[p, 0]`` with ``blockdiag(A⁻¹, σ_v² I)`` at ``t̄``,
predicted by the motion model to the scan time (so position and velocity
are correlated as they should be).

**Gates.** A candidate is kept only if

- the residuals agree: ``d² = Σ (angle residual / σ')² [+ ((p_u − h₀)/σ_h)²]``
  is within the chi-square quantile of the gate probability for
  ``n_angles [+ 1] − 3`` degrees of freedom (no test with none: two bearings
  of which one is azimuth-only fit any point exactly);
- the point is in front of every sensor (``d · u > 0``) and within each
  one's ``max_range_m`` (plus 3 σ of the fix along the line of sight);
- the rays cross at an angle of at least ``passive_min_crossing_angle_deg``
  (in 3-D where both rays have elevations, else in the horizontal plane) and
  the fix is useful (``√tr A⁻¹ ≤ passive_max_position_sigma_m``);
- it is not below the ground (by more than 3 σ).

**Ghosts.** N targets seen by two sensors give up to N² crossings, most of
them ghosts. Three defences: (a) a third sensor: every gated pair is extended
by each bearing of a third sensor, and a triple whose three rays agree scores
far above any pair; (b) each bearing is used once: the candidates sharing a
bearing compete, and the chosen set maximises the summed score — exactly
(``linear_sum_assignment``) where a conflict cluster is pairs of two sensors,
greedily (best score first) where triples or three sensors make it an
S-dimensional assignment; (c) persistence: new tracks are tentative, with a
velocity prior only, and must be confirmed by later bearings (M of N over
passive scans, see :mod:`.passive_initiator`); a ghost's crossing does not
move like a target, and the sensors that see the real targets keep missing it.

**Score** of a candidate (log likelihood ratio, new target against clutter,
the position integrated out by Laplace's method)::

    L = Σ_r [ln P_D,r − ln λ_r − ½ ln det(2π R_r')] − ½ d² + ½ ln det(2π A⁻¹)

with ``λ_r`` the sensor's clutter density per radian (azimuth only) or per
square radian. Adding an agreeing third bearing adds its ``ln(P_D g / λ)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import chi2

from skyfence.tracker.base import BoolArray, FloatArray, IntArray
from skyfence.tracker.measurement import wrap_angle

_MIN_RANGE_M = 1.0
_ITERATIONS = 3
_FORBIDDEN = 1e12
_MAX_DOF = 6  # three rays with elevations: 6 angles − 3


@dataclass(frozen=True, slots=True)
class Rays:
    """C candidates of R rays each (a ray is absent where ``valid`` is False).

    Angles in radians, ``el`` NaN for an azimuth-only bearing; ``sound_mps``
    is the propagation speed (∞ but for acoustic arrays); ``t_s`` the report time.
    """

    origin: FloatArray  # (C, R, 3) sensor positions, ENU m
    az: FloatArray  # (C, R)
    el: FloatArray  # (C, R)
    sigma_az: FloatArray  # (C, R)
    sigma_el: FloatArray  # (C, R)
    t_s: FloatArray  # (C, R)
    sound_mps: FloatArray  # (C, R)
    valid: BoolArray  # (C, R)

    @classmethod
    def simple(
        cls, origin: FloatArray, az: FloatArray, el: FloatArray, sigma_az: FloatArray | float,
        sigma_el: FloatArray | float,
    ) -> Rays:
        """Rays reported at one time by sensors with instantaneous propagation."""
        az = np.asarray(az, dtype=np.float64)
        return cls(np.asarray(origin, dtype=np.float64), az, np.asarray(el, dtype=np.float64),
                   np.broadcast_to(sigma_az, az.shape).astype(np.float64),
                   np.broadcast_to(sigma_el, az.shape).astype(np.float64),
                   np.zeros(az.shape), np.full(az.shape, np.inf),
                   np.ones(az.shape, dtype=np.bool_))

    def __len__(self) -> int:
        return int(self.az.shape[0])


@dataclass(frozen=True, slots=True)
class Fix:
    """The least-squares point of each candidate and what the gates need."""

    p: FloatArray  # (C, 3) position at t_ref, ENU m
    P: FloatArray  # (C, 3, 3) its covariance A⁻¹
    t_ref_s: FloatArray  # (C,) mean effective time of the rays
    d2: FloatArray  # (C,) normalised squared residual
    dof: IntArray  # (C,) its degrees of freedom
    log_density: FloatArray  # (C,) −½ d² − ½ Σ ln(2π σ'²) + ½ ln det(2π A⁻¹)
    range_m: FloatArray  # (C, R) slant range from each sensor
    range_sigma_m: FloatArray  # (C, R) σ of the fix along each line of sight
    in_front: BoolArray  # (C,) in front of every sensor
    sin_crossing: FloatArray  # (C,) sine of the widest crossing angle of two rays


def directions(az: FloatArray, el: FloatArray) -> FloatArray:
    """Unit lines of sight (..., 3); horizontal where ``el`` is NaN."""
    e = np.where(np.isfinite(el), el, 0.0)
    return np.stack((np.cos(e) * np.sin(az), np.cos(e) * np.cos(az), np.sin(e)), axis=-1)


def triangulate(
    rays: Rays, sigma_v_mps: float, prior_height_m: float, prior_height_sigma_m: float,
) -> Fix:
    """The least-squares fix of every candidate (see the module doc)."""
    valid = rays.valid
    has_el = valid & np.isfinite(rays.el)
    el = np.where(has_el, rays.el, 0.0)
    sa, ca, se, ce = np.sin(rays.az), np.cos(rays.az), np.sin(el), np.cos(el)
    zero = np.zeros_like(sa)
    e_az = np.stack((ca, -sa, zero), axis=-1)
    e_el = np.stack((-se * sa, -se * ca, ce), axis=-1)
    s_az = np.einsum("cri,cri->cr", e_az, rays.origin)  # e·s: where each line lies
    s_el = np.einsum("cri,cri->cr", e_el, rays.origin)
    use_prior = ~has_el.any(axis=1)
    g = rho = np.ones(valid.shape)
    var_az, var_el = rays.sigma_az**2, rays.sigma_el**2
    t_ref = np.zeros(len(rays))
    p = np.zeros((len(rays), 3))
    A = np.zeros((len(rays), 3, 3))
    for it in range(_ITERATIONS):
        if it:
            d = p[:, None, :] - rays.origin
            g = np.maximum(np.hypot(d[..., 0], d[..., 1]), _MIN_RANGE_M)
            rho = np.maximum(np.linalg.norm(d, axis=-1), _MIN_RANGE_M)
            t_eff = np.where(valid, rays.t_s - rho / rays.sound_mps, 0.0)
            t_ref = t_eff.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
            var_m = (sigma_v_mps * (t_eff - t_ref[:, None])) ** 2
            var_az = rays.sigma_az**2 + var_m / g**2
            var_el = rays.sigma_el**2 + var_m / rho**2
        w_az = np.where(valid, 1.0 / (g**2 * var_az), 0.0)
        w_el = np.where(has_el, 1.0 / (rho**2 * var_el), 0.0)
        A = (np.einsum("cr,cri,crj->cij", w_az, e_az, e_az)
             + np.einsum("cr,cri,crj->cij", w_el, e_el, e_el))
        b = np.einsum("cr,cri->ci", w_az * s_az, e_az) + np.einsum("cr,cri->ci", w_el * s_el, e_el)
        A[:, 2, 2] += np.where(use_prior, prior_height_sigma_m**-2, 0.0)
        b[:, 2] += np.where(use_prior, prior_height_m / prior_height_sigma_m**2, 0.0)
        scale = np.maximum(np.trace(A, axis1=1, axis2=2), 1e-300)
        A = A + (1e-12 * scale)[:, None, None] * np.eye(3)  # never exactly singular
        p = np.linalg.solve(A, b[:, :, None])[:, :, 0]
    P = np.linalg.inv(A)
    P = 0.5 * (P + P.transpose(0, 2, 1))
    d = p[:, None, :] - rays.origin
    g = np.maximum(np.hypot(d[..., 0], d[..., 1]), _MIN_RANGE_M)
    rho = np.maximum(np.linalg.norm(d, axis=-1), _MIN_RANGE_M)
    r_az = wrap_angle(rays.az - np.arctan2(d[..., 0], d[..., 1]))
    r_el = np.where(has_el, el - np.arctan2(d[..., 2], g), 0.0)
    d2 = (np.where(valid, r_az**2 / var_az, 0.0).sum(axis=1)
          + np.where(has_el, r_el**2 / var_el, 0.0).sum(axis=1))
    var_h = prior_height_sigma_m**2
    d2 = d2 + np.where(use_prior, (p[:, 2] - prior_height_m) ** 2 / var_h, 0.0)
    dof = (valid.sum(axis=1) + has_el.sum(axis=1) + use_prior - 3).astype(np.int64)
    log_norm = -0.5 * (np.where(valid, np.log(2 * np.pi * var_az), 0.0).sum(axis=1)
                       + np.where(has_el, np.log(2 * np.pi * var_el), 0.0).sum(axis=1)
                       + np.where(use_prior, math.log(2 * np.pi * var_h), 0.0))
    _, logdet_P = np.linalg.slogdet(P)
    log_density = log_norm - 0.5 * d2 + 0.5 * (3 * math.log(2 * np.pi) + logdet_P)
    u = directions(rays.az, rays.el)
    in_front = np.where(valid, np.einsum("cri,cri->cr", d, u) > 0, True).all(axis=1)
    los = d / rho[..., None]
    range_sigma = np.sqrt(np.maximum(np.einsum("cri,cij,crj->cr", los, P, los), 0.0))
    return Fix(p, P, t_ref, d2, dof, log_density, rho, range_sigma, np.asarray(in_front),
               _sin_crossing(rays, has_el))


def _sin_crossing(rays: Rays, has_el: BoolArray) -> FloatArray:
    """Sine of the widest angle between two rays of each candidate (3-D where both
    have elevations, else between their horizontal directions)."""
    u3 = directions(rays.az, rays.el)
    uh = directions(rays.az, np.full_like(rays.az, np.nan))
    best = np.zeros(len(rays))
    R = rays.az.shape[1]
    for i in range(R):
        for j in range(i + 1, R):
            both = has_el[:, i] & has_el[:, j]
            a = np.where(both[:, None], u3[:, i], uh[:, i])
            b = np.where(both[:, None], u3[:, j], uh[:, j])
            s = np.linalg.norm(np.cross(a, b), axis=1)
            best = np.maximum(best, np.where(rays.valid[:, i] & rays.valid[:, j], s, 0.0))
    return best


@dataclass(frozen=True, slots=True)
class Gates:
    """The acceptance tests of a fix (see the module doc)."""

    gate_probability: float
    min_crossing_rad: float
    max_position_sigma_m: float
    ground_floor_m: float | None

    def accept(self, fix: Fix, valid: BoolArray, max_range_m: FloatArray) -> BoolArray:
        """(C,) which fixes pass; ``max_range_m`` (C, R) of each ray's sensor."""
        bound = _chi2_bounds(self.gate_probability)[np.clip(fix.dof, 0, _MAX_DOF)]
        ok = fix.d2 <= bound
        ok &= fix.in_front & (fix.sin_crossing >= math.sin(self.min_crossing_rad))
        reach = fix.range_m <= max_range_m + 3.0 * fix.range_sigma_m
        ok &= np.where(valid, reach, True).all(axis=1)
        trace = np.trace(fix.P, axis1=1, axis2=2)
        ok &= np.isfinite(trace) & (np.sqrt(np.maximum(trace, 0.0)) <= self.max_position_sigma_m)
        if self.ground_floor_m is not None:
            ok &= fix.p[:, 2] >= self.ground_floor_m - 3.0 * np.sqrt(np.maximum(fix.P[:, 2, 2], 0))
        return np.asarray(ok & np.isfinite(fix.d2), dtype=np.bool_)


@functools.cache
def _chi2_bounds(probability: float) -> FloatArray:
    """Chi-square quantiles of ``probability`` for 0 … _MAX_DOF degrees of freedom
    (0: no test, an infinite bound)."""
    bounds = chi2.ppf(probability, np.arange(_MAX_DOF + 1))
    bounds[0] = np.inf
    return np.asarray(bounds, dtype=np.float64)


def select(members: IntArray, score: FloatArray, sensor: IntArray) -> IntArray:
    """Candidates to keep so that no bearing is used twice, maximising the summed score.

    ``members`` (C, R) are bearing indices (−1: no ray), ``sensor`` the sensor
    of each bearing. Candidates that share bearings form clusters (connected
    components); a cluster of pairs between the same two sensors is a
    bipartite assignment solved exactly by ``linear_sum_assignment``; any
    other cluster greedily, best score first. Returns candidate indices.
    """
    C = members.shape[0]
    if C == 0:
        return np.zeros(0, dtype=np.int64)
    cand, slot = np.nonzero(members >= 0)
    bearing = members[cand, slot]
    nb = int(bearing.max()) + 1
    graph = coo_matrix((np.ones(cand.size), (cand, C + bearing)), shape=(C + nb, C + nb))
    _, label = connected_components(graph, directed=False)
    comp = label[:C]
    n_rays = (members >= 0).sum(axis=1)
    chosen: list[IntArray] = []
    order = np.argsort(comp, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(comp[order])) + 1):
        rows = members[group]
        if group.size == 1:
            chosen.append(group)
            continue
        sensors = np.unique(sensor[rows[rows >= 0]])
        if (n_rays[group] == 2).all() and sensors.size == 2:
            chosen.append(group[_assign_pairs(rows[:, :2], score[group], sensor)])
        else:
            chosen.append(group[_greedy(rows, score[group])])
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def _assign_pairs(pairs: IntArray, score: FloatArray, sensor: IntArray) -> IntArray:
    """Exact one-to-one choice among pairs of two sensors' bearings."""
    first = sensor[pairs[:, 0]] < sensor[pairs[:, 1]]
    a = np.where(first, pairs[:, 0], pairs[:, 1])
    b = np.where(first, pairs[:, 1], pairs[:, 0])
    a_ids, ai = np.unique(a, return_inverse=True)
    b_ids, bi = np.unique(b, return_inverse=True)
    cost = np.full((a_ids.size, b_ids.size), _FORBIDDEN)
    cost[ai, bi] = -score
    lookup = np.full(cost.shape, -1, dtype=np.int64)
    lookup[ai, bi] = np.arange(pairs.shape[0])
    r, c = linear_sum_assignment(cost)
    picked = lookup[r, c]
    return np.asarray(picked[picked >= 0], dtype=np.int64)


def _greedy(rows: IntArray, score: FloatArray) -> IntArray:
    """Best score first, skipping candidates that reuse a bearing."""
    used: set[int] = set()
    keep = []
    for i in np.argsort(-score, kind="stable"):
        members = [int(m) for m in rows[i] if m >= 0]
        if used.isdisjoint(members):
            used.update(members)
            keep.append(int(i))
    return np.asarray(keep, dtype=np.int64)
