"""Initiator: new tracks from reports no existing track explains.

Radar (single-point initiation, confirmed later by M-of-N: in effect a
two-plot initiator whose second plot fixes the velocity). With
``u = [cos el sin az, cos el cos az, sin el]`` the line of sight::

    p = s + ρ u                        Pp = J diag(σρ², σaz², σel²) Jᵀ
    J = [u, ρ ∂u/∂az, ρ ∂u/∂el]
    v = ṙ u                            Pv = σṙ² u uᵀ + σv² (I − u uᵀ)

with σv = v_max/√3 (speed uniform in ±v_max across the line of sight).
Without range rate, v = 0 and Pv = σv² I. A plot without elevation starts
nothing. Cooperative reports (ADS-B, Remote ID) carry position and velocity
and identity: their tracks start confirmed.
"""

from __future__ import annotations

import numpy as np

from skyfence.sim.sensors.common import polar_to_enu
from skyfence.tracker.base import BoolArray, FloatArray
from skyfence.tracker.params import TrackerParams
from skyfence.tracker.sensors import SensorSpec


def radar_states(
    z: FloatArray, spec: SensorSpec, params: TrackerParams
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """(x, P, usable) for full-width radar rows ``z`` (M, 4), NaN where absent."""
    rho, az, el, rr = z[:, 0], z[:, 1], z[:, 2], z[:, 3]
    usable = np.asarray(np.isfinite(el), dtype=np.bool_)
    el = np.where(usable, el, 0.0)
    m = z.shape[0]
    rel = polar_to_enu(rho, np.degrees(az), np.degrees(el))
    u = rel / np.maximum(rho, 1e-9)[:, None]
    d_az = np.column_stack((np.cos(el) * np.cos(az), -np.cos(el) * np.sin(az), np.zeros(m)))
    d_el = np.column_stack((-np.sin(el) * np.sin(az), -np.sin(el) * np.cos(az), np.cos(el)))
    J = np.stack((u, rho[:, None] * d_az, rho[:, None] * d_el), axis=2)  # (M, 3, 3)
    s_r, s_az, s_el, s_rr = spec.sigma
    R = np.diag([s_r**2, s_az**2, s_el**2])
    x = np.zeros((m, 6))
    P = np.zeros((m, 6, 6))
    x[:, :3] = np.asarray(spec.position_enu_m) + rel
    P[:, :3, :3] = J @ R @ J.transpose(0, 2, 1)
    var_v = params.max_speed_mps**2 / 3.0
    has_rr = np.isfinite(rr)
    uu = np.einsum("mi,mj->mij", u, u)
    P[:, 3:, 3:] = np.where(
        has_rr[:, None, None], s_rr**2 * uu + var_v * (np.eye(3) - uu), var_v * np.eye(3)
    )
    x[:, 3:] = np.where(has_rr[:, None], np.nan_to_num(rr)[:, None] * u, 0.0)
    return x, P, usable


def cooperative_states(
    z: FloatArray, spec: SensorSpec, params: TrackerParams
) -> tuple[FloatArray, FloatArray]:
    """(x, P) for full-width cooperative rows ``z`` (M, 6), velocity NaN where absent."""
    m = z.shape[0]
    x = np.nan_to_num(z[:, :6])
    P = np.broadcast_to(np.diag(np.asarray(spec.sigma) ** 2), (m, 6, 6)).copy()
    v_max = params.cooperative_max_speed_mps if spec.type == "adsb" else params.max_speed_mps
    no_vel = ~np.isfinite(z[:, 3:6]).all(axis=1)
    P[no_vel, 3:, 3:] = np.eye(3) * v_max**2 / 3.0
    return x, P


def initial_states(
    z: FloatArray, spec: SensorSpec, params: TrackerParams
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """(x, P, usable) of tracks started by ``spec``'s rows ``z``; bearings start none."""
    m = z.shape[0]
    if spec.type == "radar":
        return radar_states(z, spec, params)
    if spec.cooperative:
        x, P = cooperative_states(z, spec, params)
        return x, P, np.ones(m, dtype=np.bool_)
    return np.zeros((m, 6)), np.zeros((m, 6, 6)), np.zeros(m, dtype=np.bool_)


