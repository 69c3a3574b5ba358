"""Plan-view geometry for reports: horizontal distance to a zone, zone outlines,
the area the site's sensors cover, and WGS-84 positions from site ENU.

Distances are horizontal (a zone is a 2-D area on the ENU plane, any height,
as in :mod:`skyfence.zones`): 0 inside; outside a circle
:math:`\\lVert p - c \\rVert - r`; outside a polygon the distance to the
nearest edge segment.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pymap3d

from skyfence.scenario import Scenario
from skyfence.scenario.model import Zone
from skyfence.zones import points_in_circle, points_in_polygon

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# sensors that see non-cooperative targets; ADS-B / Remote ID ranges say nothing
# about where an uncooperative drone could have been seen
PASSIVE_COOPERATIVE = ("adsb", "remote_id")


def zone_distance_m(xy: FloatArray, zone: Zone) -> FloatArray:
    """(N,) horizontal distance from each point of ``xy`` (N, >=2) to the zone; 0 inside."""
    pts = np.asarray(xy, dtype=np.float64)[:, :2]
    if zone.circle is not None:
        c = np.asarray(zone.circle.center_enu_m[:2], dtype=np.float64)
        d: FloatArray = np.hypot(*(pts - c).T) - zone.circle.radius_m
        return np.maximum(d, 0.0)
    poly = np.asarray(zone.polygon, dtype=np.float64)
    a, b = poly, np.roll(poly, -1, axis=0)  # (K, 2) edges a -> b
    ab = b - a
    length2 = np.maximum(np.einsum("kd,kd->k", ab, ab), 1e-12)
    ap = pts[:, None, :] - a[None, :, :]  # (N, K, 2)
    s = np.clip(np.einsum("nkd,kd->nk", ap, ab) / length2, 0.0, 1.0)
    nearest = a[None] + s[..., None] * ab[None]
    dist: FloatArray = np.min(np.linalg.norm(pts[:, None, :] - nearest, axis=2), axis=1)
    dist[points_in_polygon(pts, poly)] = 0.0
    return dist


def zone_outline(zone: Zone, n_points: int = 181) -> FloatArray:
    """(K, 2) closed outline of the zone in ENU metres (for drawing)."""
    if zone.circle is not None:
        a = np.linspace(0.0, 2.0 * np.pi, n_points)
        c = zone.circle.center_enu_m
        r = zone.circle.radius_m
        return np.column_stack([c[0] + r * np.sin(a), c[1] + r * np.cos(a)])
    poly = np.asarray(zone.polygon, dtype=np.float64)
    return np.vstack([poly, poly[:1]])


def zone_contains(xy: FloatArray, zone: Zone) -> BoolArray:
    if zone.circle is not None:
        return points_in_circle(xy, zone.circle.center_enu_m, zone.circle.radius_m)
    return points_in_polygon(xy, np.asarray(zone.polygon, dtype=np.float64))


class Coverage:
    """The union of the non-cooperative sensors' horizontal range circles."""

    def __init__(self, centers_m: FloatArray, ranges_m: FloatArray) -> None:
        self.centers_m = np.asarray(centers_m, dtype=np.float64).reshape(-1, 2)
        self.ranges_m = np.asarray(ranges_m, dtype=np.float64).reshape(-1)

    @classmethod
    def of_site(cls, site: Scenario) -> Coverage:
        sensors = [s for s in site.sensors if s.type not in PASSIVE_COOPERATIVE]
        return cls(np.array([s.position_enu_m[:2] for s in sensors], dtype=np.float64),
                   np.array([s.max_range_m for s in sensors], dtype=np.float64))

    def contains(self, xy: FloatArray) -> BoolArray:
        """(N,) inside at least one sensor's range (False everywhere with no sensor)."""
        pts = np.asarray(xy, dtype=np.float64).reshape(-1, xy.shape[-1])[:, :2]
        if len(self.ranges_m) == 0:
            return np.zeros(len(pts), dtype=bool)
        d = np.linalg.norm(pts[:, None, :] - self.centers_m[None], axis=2)
        inside: BoolArray = np.any(d <= self.ranges_m[None], axis=1)
        return inside


def enu_to_geodetic(enu_m: FloatArray, site: Scenario) -> FloatArray:
    """(N, 3) ``lat_deg, lon_deg, alt_m`` (WGS-84) of site-ENU points (N, 3)."""
    o = site.site.origin
    pts = np.asarray(enu_m, dtype=np.float64).reshape(-1, 3)
    lat, lon, alt = pymap3d.enu2geodetic(pts[:, 0], pts[:, 1], pts[:, 2], o.lat, o.lon,
                                         o.alt_m)
    return np.column_stack([np.asarray(lat, dtype=np.float64),
                            np.asarray(lon, dtype=np.float64),
                            np.asarray(alt, dtype=np.float64)])
