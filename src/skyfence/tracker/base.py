"""What the tracking engine's parts share: array aliases, the scan batch, interfaces.

The engine is an array program (DESIGN.md): a :class:`Detections` is one
sensor's reports at one instant as an ``(M, k)`` array, never one object per
measurement. Units inside the engine are SI: metres, seconds, radians.

State vector, every track, every module: ``x = [e, n, u, ve, vn, vu]``
(ENU metres around the site origin, and metres per second).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

STATE_DIM = 6
CLASSES = ("drone", "bird", "aircraft")
"""Class vocabulary (DESIGN.md); index into :attr:`TrackBank.class_evidence`."""
CLASS_INDEX = {name: i for i, name in enumerate(CLASSES)}


@dataclass(frozen=True, slots=True)
class Detections:
    """One sensor's reports at one time: ``M`` measurements as rows of ``z``.

    ``z`` is in the sensor's measurement space in SI units (see
    :mod:`skyfence.tracker.measurement` for each sensor type's components);
    ``NaN`` marks an optional component a row does not carry (a radar plot
    without range rate, an azimuth-only bearing, a cooperative report without
    velocity). The optional columns are ``None`` or length ``M``.
    """

    t_s: float
    sensor: int  # index into the tracker's sensor list
    z: FloatArray  # (M, k)
    label: IntArray | None = None  # (M,) EO/IR class index into CLASSES, -1 none
    confidence: FloatArray | None = None  # (M,) EO/IR label confidence in [0, 1]
    cooperative_id: ObjectArray | None = None  # (M,) ICAO address / UAS id (str)
    rcs_dbsm: FloatArray | None = None  # (M,) radar: RCS estimate (dBsm), NaN none
    operator_enu_m: FloatArray | None = None  # (M, 3) Remote ID: operator (ENU m), NaN none

    def __len__(self) -> int:
        return int(self.z.shape[0])


class MeasurementModel(Protocol):
    """A (possibly nonlinear) measurement function ``z = h(x) + w``, ``w ~ N(0, R)``.

    Every method works on all rows at once. ``components`` are the indices of
    the sensor's full measurement vector this model uses (a model for rows
    that lack an optional component leaves it out).
    """

    components: tuple[int, ...]

    @property
    def dim(self) -> int: ...

    @property
    def R(self) -> FloatArray:  # noqa: N802 (the literature symbol)
        """(k, k) measurement noise covariance."""
        ...

    def function(self, x: FloatArray) -> FloatArray:
        """h(x): (N, 6) states → (N, k) predicted measurements."""
        ...

    def jacobian(self, x: FloatArray) -> FloatArray:
        """H = ∂h/∂x at each state: (N, 6) → (N, k, 6)."""
        ...

    def residual(self, z: FloatArray, z_pred: FloatArray) -> FloatArray:
        """z − ẑ with angles wrapped to (−π, π]."""
        ...

    def embed_measurements(self, z: FloatArray) -> FloatArray:
        """Points (M, d) of a metric space where gating searches candidates."""
        ...

    def embed_tracks(self, x: FloatArray, P: FloatArray, gate_d2: float) -> tuple[
        FloatArray, FloatArray
    ]:
        """Track points (N, d) and radii (N,) such that every measurement within
        the Mahalanobis gate ``gate_d2`` lies within the radius (conservative)."""
        ...
