r"""Predicted zone entry and closest approach, every track against every zone.

Zones are 2-D areas on the ENU plane (any height); the prediction is
horizontal and constant-velocity from the track state ``x = [e, n, u, ve, vn,
vu]`` at its time: position :math:`p(\tau) = p + v\tau`, :math:`\tau` seconds
from now. Per track and zone (arrays (N, Z)):

- **inside** now: :func:`skyfence.zones.points_in_circle` / ``points_in_polygon``.
- **distance_m**, **closing_speed_mps**: distance from the track to the zone
  boundary (0 inside) and the rate it shrinks,
  :math:`v \cdot (q - p)/|q - p|` with :math:`q` the nearest boundary point
  (0 inside).
- **time_to_enter_s**: the first :math:`\tau \ge 0` at which the line enters
  the zone (0 inside, ``inf`` never). Circle of centre :math:`c`, radius
  :math:`r`, :math:`d = p - c`: the smaller root of
  :math:`|v|^2\tau^2 + 2(d\cdot v)\tau + |d|^2 - r^2 = 0`, computed as
  :math:`\tau = (|d|^2 - r^2)/(-d\cdot v + \sqrt{(d\cdot v)^2 - |v|^2(|d|^2 - r^2)})`
  (no cancellation); it exists when :math:`d\cdot v < 0` and the discriminant
  is :math:`\ge 0` (0: tangent). Polygon: the first crossing of the ray with
  any edge :math:`a + s e`, :math:`s \in [0, 1]`:
  :math:`\tau = (w \times e)/(v \times e)`, :math:`s = (w \times v)/(v \times e)`,
  :math:`w = a - p`; from outside the first crossing is always an entry, also
  for concave polygons.
- **time_to_enter_sigma_s**: first-order 1-σ of the entry time. The entry
  point :math:`q = p + v\tau` lies on the boundary :math:`g(q) = 0`; by the
  implicit-function theorem :math:`\partial\tau/\partial p = -n^T/(n\cdot v)`
  and :math:`\partial\tau/\partial v = -\tau n^T/(n\cdot v)`, with :math:`n =
  \nabla g` the boundary normal at :math:`q` (circle: :math:`q - c`; polygon:
  the entered edge's normal). So

  .. math::

      \sigma_\tau^2 = \frac{n^T (P_{pp} + \tau(P_{pv} + P_{vp}) + \tau^2 P_{vv})\, n}
                           {(n\cdot v)^2}
                    = \frac{\sigma_n^2(\tau)}{v_n^2},

  the predicted position variance along the normal at the entry time over
  the squared normal speed. Head-on with no velocity error it is
  :math:`\sigma_\text{along}/\text{speed}`; tangent (:math:`n\cdot v = 0`) it
  is ``inf``; 0 inside; ``inf`` when never entering. It is the local
  (linearised) spread and knows nothing of near misses.
- **p_enter**: probability that the track enters within ``horizon_s``,
  :math:`P(\tau \le H)`, from ``entry_samples`` draws of the horizontal state
  :math:`[e, n, v_e, v_n] \sim N(x, P)` (one fixed scrambled-Sobol set of
  normal deviates for every track, so the figure is deterministic and
  smooth in time), each draw's ray intersected exactly. It sees the near
  misses and tangents that a normal approximation
  :math:`\Phi((H - \tau)/\sigma_\tau)` cannot (that gives 0 for a line that
  misses by 1 m with 50 m of uncertainty); ``entry_samples=0`` selects the
  normal approximation anyway. Tracks whose draws provably cannot reach the
  zone's bounding circle within the horizon are not sampled. 1 inside.
  Future manoeuvres are not modelled: the spread is the present estimate's.
- **closest_distance_m**, **closest_time_s**: the smallest distance from the
  boundary over :math:`\tau \in [0, H]` and when: 0 at the entry time for a
  track entering within the horizon, 0 at 0 inside. Circle: centre distance
  at :math:`\tau^* = \operatorname{clip}(-d\cdot v/|v|^2, 0, H)` less
  :math:`r`. Polygon: the distance between two segments that do not cross is
  reached at an endpoint of one of them, so the minimum over the path's two
  ends against every edge and every vertex against the path.

Vectorised over tracks; a Python loop over zones (few) and polygon edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri
from scipy.stats import qmc

from skyfence.scenario.model import Zone
from skyfence.zones import points_in_circle, points_in_polygon

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

HORIZONTAL = np.array([0, 1, 3, 4])
"""Indices of ``[e, n, ve, vn]`` in the 6-D track state."""


@dataclass(frozen=True, slots=True)
class ZoneParams:
    horizon_s: float = 60.0
    """Look-ahead for ``p_enter`` and the closest approach."""
    entry_samples: int = 128
    """Draws of the horizontal state per track for ``p_enter`` (0: normal
    approximation from ``time_to_enter_sigma_s``). 128 scrambled-Sobol points
    stay within 0.035 of a Monte Carlo figure (docs/assessment.md)."""
    seed: int = 0
    """Seed of the scrambled Sobol set."""


@dataclass(frozen=True, slots=True)
class ZoneAssessment:
    """Every track (rows) against every zone (columns), arrays (N, Z)."""

    names: tuple[str, ...]
    levels: tuple[str, ...]  # "warning" | "critical", per zone
    horizon_s: float
    inside: BoolArray
    distance_m: FloatArray  # from the boundary, 0 inside
    closing_speed_mps: FloatArray  # rate the distance shrinks, 0 inside
    time_to_enter_s: FloatArray  # 0 inside, inf never
    time_to_enter_sigma_s: FloatArray  # 0 inside, inf never or tangent
    p_enter: FloatArray  # P(enter within horizon_s), 1 inside
    closest_distance_m: FloatArray  # within horizon_s, 0 entering
    closest_time_s: FloatArray  # seconds from now of the closest approach


# ------------------------------------------------------------------ geometry
def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    out: FloatArray = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    out: FloatArray = np.einsum("...i,...i->...", a, b)
    return out


def _edges(polygon_m: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    a = np.asarray(polygon_m, dtype=np.float64)[:, :2]
    return a, np.roll(a, -1, axis=0)


def _point_segment(q: FloatArray, a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Distance from points ``q`` (M, 2) to segments ``a``–``b`` (broadcast) and
    the segment parameter ``s`` in [0, 1] of the nearest point."""
    e = b - a
    len2 = _dot(e, e)
    s = np.clip(_dot(q - a, e) / np.where(len2 > 0, len2, 1.0), 0.0, 1.0)
    s = np.where(len2 > 0, s, 0.0)
    dist: FloatArray = np.linalg.norm(q - (a + s[..., None] * e), axis=-1)
    return dist, s


def circle_entry_time_s(
    p: FloatArray, v: FloatArray, center_m: Sequence[float], radius_m: float
) -> tuple[FloatArray, FloatArray]:
    """Time (M,) for the lines ``p + v τ`` (p, v (M, 2)) to enter the circle
    (0 inside, inf never) and the boundary normal (M, 2) at the entry point."""
    d = p - np.asarray(center_m, dtype=np.float64)[:2]
    a = _dot(v, v)
    b = _dot(d, v)  # half the linear coefficient
    c = _dot(d, d) - radius_m * radius_m
    disc = b * b - a * c
    t = np.full(len(p), np.inf)
    t[c <= 0] = 0.0
    hit = (c > 0) & (b < 0) & (disc >= 0)
    t[hit] = c[hit] / (-b[hit] + np.sqrt(disc[hit]))
    finite = np.isfinite(t)
    normal = d + np.where(finite, t, 0.0)[:, None] * v
    return t, normal


def polygon_entry_time_s(
    p: FloatArray, v: FloatArray, polygon_m: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Time (M,) for the lines ``p + v τ`` to enter the polygon (0 inside, inf
    never) and the normal (M, 2) of the edge entered."""
    t = np.full(len(p), np.inf)
    normal = np.zeros((len(p), 2))
    for a, b in zip(*_edges(polygon_m), strict=True):
        e = b - a
        den = _cross(v, e)
        ok = den != 0
        safe = np.where(ok, den, 1.0)
        w = a - p
        tau = _cross(w, e) / safe
        s = _cross(w, v) / safe
        better = ok & (tau >= 0) & (s >= 0) & (s <= 1) & (tau < t)
        t[better] = tau[better]
        normal[better] = (e[1], -e[0])
    t[points_in_polygon(p, polygon_m)] = 0.0
    return t, normal


def entry_time_sigma_s(
    t_s: FloatArray, normal: FloatArray, v: FloatArray, P4: FloatArray
) -> FloatArray:
    """First-order 1-σ (M,) of the entry time ``t_s`` (see the module docstring);
    ``P4`` (M, 4, 4) is the covariance of ``[e, n, ve, vn]``."""
    finite = np.isfinite(t_s)
    tau = np.where(finite, t_s, 0.0)
    Ppp, Ppv, Pvv = P4[:, :2, :2], P4[:, :2, 2:], P4[:, 2:, 2:]
    P_at = Ppp + tau[:, None, None] * (Ppv + np.swapaxes(Ppv, 1, 2)) + tau[:, None, None] ** 2 * Pvv
    var_n = np.einsum("mi,mij,mj->m", normal, P_at, normal)
    speed_n = _dot(normal, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(np.maximum(var_n, 0.0)) / np.abs(speed_n)
    sigma = np.where(speed_n == 0, np.inf, sigma)
    sigma = np.where(finite, sigma, np.inf)
    out: FloatArray = np.where(t_s == 0, 0.0, sigma)
    return out


def _circle_distance(
    p: FloatArray, v: FloatArray, center_m: Sequence[float], radius_m: float
) -> tuple[FloatArray, FloatArray]:
    d = p - np.asarray(center_m, dtype=np.float64)[:2]
    r = np.linalg.norm(d, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        closing = -_dot(d, v) / r
    outside = r > radius_m
    return np.maximum(r - radius_m, 0.0), np.where(outside & (r > 0), closing, 0.0)


def _polygon_distance(
    p: FloatArray, v: FloatArray, polygon_m: npt.ArrayLike, inside: BoolArray
) -> tuple[FloatArray, FloatArray]:
    dist = np.full(len(p), np.inf)
    nearest = np.zeros_like(p)
    for a, b in zip(*_edges(polygon_m), strict=True):
        d, s = _point_segment(p, a, b)
        better = d < dist
        dist[better] = d[better]
        nearest[better] = a + s[better, None] * (b - a)
    u = nearest - p
    with np.errstate(divide="ignore", invalid="ignore"):
        closing = _dot(v, u) / dist
    keep = ~inside & (dist > 0)
    return np.where(inside, 0.0, dist), np.where(keep, closing, 0.0)


def _circle_closest(
    p: FloatArray, v: FloatArray, center_m: Sequence[float], radius_m: float, horizon_s: float
) -> tuple[FloatArray, FloatArray]:
    d = p - np.asarray(center_m, dtype=np.float64)[:2]
    vv = _dot(v, v)
    tau = np.clip(-_dot(d, v) / np.where(vv > 0, vv, 1.0), 0.0, horizon_s)
    tau = np.where(vv > 0, tau, 0.0)
    r = np.linalg.norm(d + tau[:, None] * v, axis=1)
    return np.maximum(r - radius_m, 0.0), tau


def _polygon_closest(
    p: FloatArray, v: FloatArray, polygon_m: npt.ArrayLike, horizon_s: float
) -> tuple[FloatArray, FloatArray]:
    end = p + horizon_s * v
    best = np.full(len(p), np.inf)
    when = np.zeros(len(p))
    a_all, b_all = _edges(polygon_m)
    for a, b in zip(a_all, b_all, strict=True):
        for q, tq in ((p, 0.0), (end, horizon_s)):  # the path's ends against the edge
            d, _ = _point_segment(q, a, b)
            better = d < best
            best[better] = d[better]
            when[better] = tq
        d, s = _point_segment(a[None, :], p, end)  # the vertex against the path
        better = d < best
        best[better] = d[better]
        when[better] = s[better] * horizon_s
    return best, when


# ------------------------------------------------------------- probability
@lru_cache(maxsize=8)
def _normal_deviates(n: int, seed: int) -> FloatArray:
    """(n, 4) standard normal deviates from a scrambled Sobol sequence."""
    m = max(int(np.ceil(np.log2(max(n, 1)))), 0)
    u = qmc.Sobol(d=4, scramble=True, seed=seed).random_base2(m)[:n]
    z: FloatArray = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    z.setflags(write=False)
    return z


def _sqrt_psd(P4: FloatArray) -> FloatArray:
    """L (M, 4, 4) with L Lᵀ = P4, negative eigenvalues clipped to 0."""
    w, V = np.linalg.eigh(0.5 * (P4 + np.swapaxes(P4, 1, 2)))
    L: FloatArray = V * np.sqrt(np.maximum(w, 0.0))[:, None, :]
    return L


def _bounding_circle(zone: Zone) -> tuple[FloatArray, float]:
    if zone.circle is not None:
        return np.asarray(zone.circle.center_enu_m[:2], dtype=np.float64), zone.circle.radius_m
    poly = _polygon(zone)
    c = poly.mean(axis=0)
    return c, float(np.linalg.norm(poly - c, axis=1).max())


def _polygon(zone: Zone) -> FloatArray:
    assert zone.polygon is not None  # the model guarantees one shape
    return np.asarray(zone.polygon, dtype=np.float64)


def _entry_time(p: FloatArray, v: FloatArray, zone: Zone) -> tuple[FloatArray, FloatArray]:
    if zone.circle is not None:
        return circle_entry_time_s(p, v, zone.circle.center_enu_m, zone.circle.radius_m)
    return polygon_entry_time_s(p, v, _polygon(zone))


def sampled_p_enter(
    m4: FloatArray, P4: FloatArray, zone: Zone, horizon_s: float, samples: int, seed: int = 0
) -> FloatArray:
    """P(enter within ``horizon_s``) (M,) from ``samples`` deterministic draws of
    the horizontal state ``m4`` (M, 4) with covariance ``P4`` (M, 4, 4)."""
    out = np.zeros(len(m4))
    if len(m4) == 0:
        return out
    z = _normal_deviates(samples, seed)
    L = _sqrt_psd(P4)
    # |δp| ≤ ‖L_p‖_F |z| = sqrt(tr P_pp) |z| (same for v): a track farther from the
    # zone's bounding circle than any draw can fly within the horizon has p = 0
    z_max = float(np.linalg.norm(z, axis=1).max())
    sp = np.sqrt(np.einsum("mii->m", L[:, :2] @ np.swapaxes(L[:, :2], 1, 2)))
    sv = np.sqrt(np.einsum("mii->m", L[:, 2:] @ np.swapaxes(L[:, 2:], 1, 2)))
    c, radius = _bounding_circle(zone)
    reach = z_max * sp + (np.linalg.norm(m4[:, 2:], axis=1) + z_max * sv) * horizon_s
    near = np.flatnonzero(np.linalg.norm(m4[:, :2] - c, axis=1) - reach <= radius)
    if len(near) == 0:
        return out
    draws = m4[near, None, :] + np.einsum("mij,kj->mki", L[near], z)  # (m, K, 4)
    flat = draws.reshape(-1, 4)
    t, _ = _entry_time(flat[:, :2], flat[:, 2:], zone)
    out[near] = (t.reshape(len(near), -1) <= horizon_s).mean(axis=1)
    return out


def normal_p_enter(t_s: FloatArray, sigma_s: FloatArray, horizon_s: float) -> FloatArray:
    """:math:`\\Phi((H - \\tau)/\\sigma_\\tau)`; a step at ``H`` where σ = 0, 0 never."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = ndtr((horizon_s - t_s) / sigma_s)
    p = np.where(sigma_s == 0, (t_s <= horizon_s).astype(np.float64), p)
    out: FloatArray = np.where(np.isfinite(t_s), p, 0.0)
    return out


# ------------------------------------------------------------------- entry
def assess_zones(
    x: FloatArray, P: FloatArray, zones: Sequence[Zone], params: ZoneParams | None = None
) -> ZoneAssessment:
    """Every track (``x`` (N, 6), ``P`` (N, 6, 6)) against every zone."""
    params = ZoneParams() if params is None else params
    H = params.horizon_s
    n, nz = len(x), len(zones)
    p, v = x[:, :2], x[:, 3:5]
    P4 = P[:, HORIZONTAL[:, None], HORIZONTAL[None, :]]
    cols: dict[str, FloatArray] = {
        k: np.zeros((n, nz)) for k in ("distance", "closing", "t", "sigma", "p", "cd", "ct")
    }
    inside = np.zeros((n, nz), dtype=np.bool_)
    for j, zone in enumerate(zones):
        if zone.circle is not None:
            center, radius = zone.circle.center_enu_m, zone.circle.radius_m
            inside[:, j] = points_in_circle(p, center, radius)
            dist, closing = _circle_distance(p, v, center, radius)
            cd, ct = _circle_closest(p, v, center, radius, H)
        else:
            poly = _polygon(zone)
            inside[:, j] = points_in_polygon(p, poly)
            dist, closing = _polygon_distance(p, v, poly, inside[:, j])
            cd, ct = _polygon_closest(p, v, poly, H)
        t, normal = _entry_time(p, v, zone)
        t[inside[:, j]] = 0.0
        sigma = entry_time_sigma_s(t, normal, v, P4)
        if params.entry_samples > 0:
            prob = sampled_p_enter(np.concatenate((p, v), axis=1), P4, zone, H,
                                   params.entry_samples, params.seed)
        else:
            prob = normal_p_enter(t, sigma, H)
        entering = t <= H
        cols["distance"][:, j] = dist
        cols["closing"][:, j] = closing
        cols["t"][:, j] = t
        cols["sigma"][:, j] = sigma
        cols["p"][:, j] = np.where(inside[:, j], 1.0, prob)
        cols["cd"][:, j] = np.where(entering, 0.0, cd)
        cols["ct"][:, j] = np.where(entering, t, ct)
    return ZoneAssessment(
        names=tuple(z.name for z in zones), levels=tuple(z.level for z in zones), horizon_s=H,
        inside=inside, distance_m=cols["distance"], closing_speed_mps=cols["closing"],
        time_to_enter_s=cols["t"], time_to_enter_sigma_s=cols["sigma"], p_enter=cols["p"],
        closest_distance_m=cols["cd"], closest_time_s=cols["ct"],
    )
