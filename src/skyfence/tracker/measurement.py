"""Measurement models: radar polar, bearing, cooperative position (all rows at once).

Each sensor type has one *full* measurement vector; a model may use a subset
of its components (rows lacking an optional one). Angles are radians inside
the engine; azimuth is clockwise from north, elevation above the horizontal.
With ``d = p − s`` the target position relative to the sensor,
``g = √(d_e² + d_n²)`` the ground range and ``ρ = |d|`` the slant range:

Radar, ``z = [ρ, az, el, ṙ]``::

    az = atan2(d_e, d_n)     el = atan2(d_u, g)     ṙ = d·v / ρ
    ∂ρ/∂p  = dᵀ/ρ
    ∂az/∂p = [d_n, −d_e, 0] / g²
    ∂el/∂p = [−d_e d_u / g, −d_n d_u / g, g] / ρ²
    ∂ṙ/∂p  = (v − ṙ d/ρ)ᵀ / ρ          ∂ṙ/∂v = dᵀ/ρ

Bearing (RF, acoustic, EO/IR), ``z = [az, el]``: the angle rows above
(acoustic: of the position the sound left, see :class:`Bearing`).

Cooperative (ADS-B, Remote ID), ``z = [e, n, u, ve, vn, vu]`` (geodetic to
ENU is done by the I/O layer): linear, ``H`` = rows of the identity.

Gating embeds measurements and tracks in a metric space (relative ENU
position, range–azimuth plane, or unit direction vectors) with a per-track
radius that bounds the Mahalanobis gate, for a k-d tree to search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Self

import numpy as np

from skyfence.tracker.base import BoolArray, FloatArray

_MIN_RANGE_M = 1.0  # keeps Jacobians finite for a track on top of a sensor


def wrap_angle(a: FloatArray) -> FloatArray:
    """Angles to (−π, π]."""
    return np.pi - np.mod(np.pi - a, 2.0 * np.pi)


def _trace_pos(P: FloatArray) -> FloatArray:
    return np.asarray(P[:, 0, 0] + P[:, 1, 1] + P[:, 2, 2], dtype=np.float64)


class _Model:
    """Component selection, R, residual; subclasses give the full h and H."""

    full_dim: ClassVar[int]
    angular_full: ClassVar[tuple[bool, ...]]

    def __init__(
        self,
        sensor_enu_m: Sequence[float] | FloatArray,
        sigma: Sequence[float] | FloatArray,
        components: Sequence[int] | None = None,
    ) -> None:
        self.sensor_enu_m = np.asarray(sensor_enu_m, dtype=np.float64)
        self.sigma = np.asarray(sigma, dtype=np.float64)
        if self.sigma.shape != (self.full_dim,):
            raise ValueError(f"sigma needs {self.full_dim} components")
        self.components = tuple(range(self.full_dim) if components is None else components)
        self._idx = np.asarray(self.components, dtype=np.intp)
        self.R: FloatArray = np.diag(self.sigma[self._idx] ** 2)
        self._angular: BoolArray = np.asarray(self.angular_full, dtype=np.bool_)[self._idx]
        self._all = self.components == tuple(range(self.full_dim))  # no column to drop
        self._angle_cols = np.flatnonzero(self._angular)

    @property
    def dim(self) -> int:
        return len(self.components)

    @property
    def angular(self) -> BoolArray:
        """(dim,) which components are angles (residuals wrapped to (−π, π])."""
        return self._angular

    def subset(self, components: Sequence[int]) -> Self:
        """The same sensor's model over fewer components."""
        return type(self)(self.sensor_enu_m, self.sigma, components)

    def residual(self, z: FloatArray, z_pred: FloatArray) -> FloatArray:
        y = z - z_pred
        for c in self._angle_cols:
            y[:, c] = wrap_angle(y[:, c])
        return y

    def function(self, x: FloatArray) -> FloatArray:
        full = self._full_function(x)
        return full if self._all else full[:, self._idx]

    def jacobian(self, x: FloatArray) -> FloatArray:
        full = self._full_jacobian(x)
        return full if self._all else full[:, self._idx, :]

    def _full_function(self, x: FloatArray) -> FloatArray:
        raise NotImplementedError

    def _full_jacobian(self, x: FloatArray) -> FloatArray:
        raise NotImplementedError

    def _geometry(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """d (N, 3), ground range g (N,), slant range ρ (N,), clamped away from 0."""
        d = x[:, :3] - self.sensor_enu_m
        g = np.maximum(np.hypot(d[:, 0], d[:, 1]), _MIN_RANGE_M)
        rho = np.maximum(np.sqrt(g**2 + d[:, 2] ** 2), _MIN_RANGE_M)
        return d, g, rho

    def _angle_jacobian(self, d: FloatArray, g: FloatArray, rho: FloatArray) -> FloatArray:
        """(N, 2, 3): ∂(az, el)/∂p."""
        J = np.zeros((d.shape[0], 2, 3))
        J[:, 0, 0] = d[:, 1] / g**2
        J[:, 0, 1] = -d[:, 0] / g**2
        J[:, 1, 0] = -d[:, 0] * d[:, 2] / (g * rho**2)
        J[:, 1, 1] = -d[:, 1] * d[:, 2] / (g * rho**2)
        J[:, 1, 2] = g / rho**2
        return J


class RadarPolar(_Model):
    """Radar plot ``[range_m, azimuth_rad, elevation_rad, range_rate_mps]``."""

    full_dim = 4
    angular_full = (False, True, True, False)

    def _full_function(self, x: FloatArray) -> FloatArray:
        d, g, rho = self._geometry(x)
        z = np.empty((x.shape[0], 4))
        z[:, 0] = rho
        z[:, 1] = np.arctan2(d[:, 0], d[:, 1])
        z[:, 2] = np.arctan2(d[:, 2], g)
        z[:, 3] = np.einsum("ij,ij->i", d, x[:, 3:]) / rho
        return z

    def _full_jacobian(self, x: FloatArray) -> FloatArray:
        d, g, rho = self._geometry(x)
        u = d / rho[:, None]
        rr = np.einsum("ij,ij->i", u, x[:, 3:])
        H = np.zeros((x.shape[0], 4, 6))
        H[:, 0, :3] = u
        H[:, 1:3, :3] = self._angle_jacobian(d, g, rho)
        H[:, 3, :3] = (x[:, 3:] - rr[:, None] * u) / rho[:, None]
        H[:, 3, 3:] = u
        return H

    def embed_measurements(self, z: FloatArray) -> FloatArray:
        rho, az = z[:, 0], z[:, 1]
        if 2 in self.components:
            el = z[:, self.components.index(2)]
            ground = rho * np.cos(el)
            return np.column_stack((ground * np.sin(az), ground * np.cos(az), rho * np.sin(el)))
        return np.column_stack((rho * np.sin(az), rho * np.cos(az)))

    def embed_tracks(
        self, x: FloatArray, P: FloatArray, gate_d2: float
    ) -> tuple[FloatArray, FloatArray]:
        d, g, rho = self._geometry(x)
        s_r, s_az, s_el = self.sigma[:3]
        meas_var = np.maximum(s_r**2, (rho * max(s_az, s_el)) ** 2)
        if 2 in self.components:
            radius = np.sqrt(gate_d2 * (_trace_pos(P) + meas_var))
            return d, 1.05 * radius + 1.0
        # range–azimuth plane: the azimuth spread is larger by ρ/g near zenith
        stretch = rho / np.maximum(g, 0.1 * rho)
        points = rho[:, None] * np.column_stack((d[:, 0] / g, d[:, 1] / g))
        radius = np.sqrt(gate_d2 * (_trace_pos(P) * stretch**2 + meas_var))
        return points, 1.05 * radius + 1.0


class Bearing(_Model):
    """Direction finder ``[azimuth_rad, elevation_rad]`` (RF, acoustic, EO/IR).

    With ``propagation_speed_mps`` = c (acoustic arrays), the bearing points
    where the target was when the sound left it, ``τ = |d|/c`` ago (one
    fixed-point step, error ~ M²τ for radial Mach number M)::

        d_e = d − v τ            ∂d_e/∂p = I − v dᵀ/(c |d|)      ∂d_e/∂v = −τ I
    """

    full_dim = 2
    angular_full = (True, True)

    def __init__(
        self,
        sensor_enu_m: Sequence[float] | FloatArray,
        sigma: Sequence[float] | FloatArray,
        components: Sequence[int] | None = None,
        propagation_speed_mps: float | None = None,
    ) -> None:
        super().__init__(sensor_enu_m, sigma, components)
        self.propagation_speed_mps = propagation_speed_mps

    def subset(self, components: Sequence[int]) -> Self:
        return type(self)(self.sensor_enu_m, self.sigma, components, self.propagation_speed_mps)

    def _apparent(self, x: FloatArray) -> FloatArray:
        """States whose position is where the signal now arriving left the target."""
        if self.propagation_speed_mps is None:
            return x
        d = x[:, :3] - self.sensor_enu_m
        tau = np.linalg.norm(d, axis=1) / self.propagation_speed_mps
        xe = x.copy()
        xe[:, :3] -= x[:, 3:] * tau[:, None]
        return xe

    def _full_function(self, x: FloatArray) -> FloatArray:
        d, g, _ = self._geometry(self._apparent(x))
        return np.column_stack((np.arctan2(d[:, 0], d[:, 1]), np.arctan2(d[:, 2], g)))

    def _full_jacobian(self, x: FloatArray) -> FloatArray:
        d, g, rho = self._geometry(self._apparent(x))
        J = self._angle_jacobian(d, g, rho)  # ∂angles/∂d_e
        H = np.zeros((x.shape[0], 2, 6))
        c = self.propagation_speed_mps
        if c is None:
            H[:, :, :3] = J
            return H
        d_now = x[:, :3] - self.sensor_enu_m
        r_now = np.maximum(np.linalg.norm(d_now, axis=1), 1e-9)
        dde_dp = np.eye(3) - np.einsum("ni,nj->nij", x[:, 3:], d_now / r_now[:, None]) / c
        H[:, :, :3] = J @ dde_dp
        H[:, :, 3:] = -(r_now / c)[:, None, None] * J
        return H

    def embed_measurements(self, z: FloatArray) -> FloatArray:
        az = z[:, 0]
        if 1 in self.components:
            el = z[:, 1]
            return np.column_stack((np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)))
        return np.column_stack((np.sin(az), np.cos(az)))

    def embed_tracks(
        self, x: FloatArray, P: FloatArray, gate_d2: float
    ) -> tuple[FloatArray, FloatArray]:
        d, g, rho = self._geometry(self._apparent(x))
        trace = _trace_pos(P)
        if self.propagation_speed_mps is not None:  # velocity uncertainty moves d_e
            tau2 = (rho / self.propagation_speed_mps) ** 2
            trace = 2.0 * (trace + tau2 * (P[:, 3, 3] + P[:, 4, 4] + P[:, 5, 5]))
        if 1 in self.components:
            points = d / rho[:, None]
            theta2 = gate_d2 * (trace * (1.0 / g**2 + 1.0 / rho**2) + np.sum(self.sigma**2))
        else:
            points = d[:, :2] / g[:, None]
            theta2 = gate_d2 * (trace / g**2 + self.sigma[0] ** 2)
        theta = np.minimum(1.05 * np.sqrt(theta2), np.pi)
        return points, 2.0 * np.sin(theta / 2.0) + 1e-9


class Position(_Model):
    """Cooperative report ``[e, n, u, ve, vn, vu]`` in the site's ENU frame."""

    full_dim = 6
    angular_full = (False,) * 6

    def _full_function(self, x: FloatArray) -> FloatArray:
        return x.copy()

    def _full_jacobian(self, x: FloatArray) -> FloatArray:
        return np.broadcast_to(np.eye(6), (x.shape[0], 6, 6)).copy()

    def embed_measurements(self, z: FloatArray) -> FloatArray:
        return z[:, :3]

    def embed_tracks(
        self, x: FloatArray, P: FloatArray, gate_d2: float
    ) -> tuple[FloatArray, FloatArray]:
        meas_var = float(np.max(self.sigma[:3] ** 2))
        return x[:, :3], 1.05 * np.sqrt(gate_d2 * (_trace_pos(P) + meas_var)) + 1.0
