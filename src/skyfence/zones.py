r"""Zone geometry shared by the scorer (:mod:`skyfence.evaluate.zones`) and the
situation assessment (:mod:`skyfence.assess.zones`).

Horizontal only (a zone is a 2-D area on the ENU plane, any height):

- circle: :math:`(x - x_c)^2 + (y - y_c)^2 \le r^2` (boundary inside);
- polygon: even-odd rule. A horizontal ray from the point towards +x
  crosses edge :math:`(x_1, y_1)-(x_2, y_2)` when :math:`(y_1 > y) \ne (y_2 > y)`
  and :math:`x < x_1 + (y - y_1)(x_2 - x_1)/(y_2 - y_1)`; the point is inside
  when the number of crossings is odd. Vectorised over points, one pass per
  edge. Points exactly on an edge may fall either way.

Pure NumPy; imports nothing else from skyfence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def points_in_circle(xy: FloatArray, center_m: Sequence[float], radius_m: float) -> BoolArray:
    """(N,) inside or on the circle; ``xy`` is (N, 2) or (N, >=2) (extra columns ignored)."""
    dx = xy[:, 0] - center_m[0]
    dy = xy[:, 1] - center_m[1]
    inside: BoolArray = dx * dx + dy * dy <= radius_m * radius_m
    return inside


def points_in_polygon(xy: FloatArray, polygon_m: npt.ArrayLike) -> BoolArray:
    """(N,) inside the polygon by the even-odd rule (vertices (K, 2), closed implicitly)."""
    poly = np.asarray(polygon_m, dtype=np.float64)
    x, y = xy[:, 0], xy[:, 1]
    inside = np.zeros(len(xy), dtype=bool)
    for (x1, y1), (x2, y2) in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        if y1 == y2:
            continue  # a horizontal edge never straddles
        straddles = (y1 > y) != (y2 > y)
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= straddles & (x < x_cross)
    return inside
