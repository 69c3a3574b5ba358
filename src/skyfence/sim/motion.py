"""Target motion: every target a guided point mass, all advanced together.

Each step of ``dt`` (at most ``MAX_STEP_S``) every active target steers its
velocity ``v`` toward a desired velocity ``v_des`` with a first-order lag,
limited by its maximum acceleration, plus a random acceleration::

    a   = clip((v_des - v) / TAU_S, |a| <= max_accel_mps2)
    v  += a dt + accel_noise_mps2 * sqrt(dt * 1 s) * N(0, I)
    p  += v dt

so ``accel_noise_mps2`` is about the standard deviation (m/s) of the
velocity's wander around its intended value. ``v_des`` comes from the plan:

- path targets fly at ``speed_mps`` toward their next waypoint, taking the
  next one once within a capture radius ``max(3 v dt, v^2 / a_max)`` (about a
  turn radius), then do their ``end``: *continue* straight on, *hover* at the
  last waypoint, *loiter* in a circle of ``loiter_radius_m`` around it, *dive*
  at ``dive_speed_mps`` onto ``dive_target_enu_m`` (ending on reaching it or
  the ground) or *vanish* (end at the last waypoint);
- birds follow their flock's centre, which wanders between random points
  within ``roam_radius_m`` of the flock's home at ``speed_mps``; each bird
  holds its own offset from the centre and its own erratic wander.

Targets appear at ``start_s`` at their first waypoint (birds: at the flock
centre plus their offset) and disappear when their plan ends.
"""

from __future__ import annotations

import numpy as np

from skyfence.sim.sensors.base import BoolArray, FloatArray, IntArray, Snapshot
from skyfence.sim.targets import END_CODES, Expanded

MAX_STEP_S = 0.2
TAU_S = 1.5
_CONTINUE, _HOVER, _LOITER, _DIVE, _VANISH = (
    END_CODES[k] for k in ("continue", "hover", "loiter", "dive", "vanish")
)


class Motion:
    """State of every target (structure of arrays), advanced in time."""

    def __init__(self, expanded: Expanded, rng: np.random.Generator) -> None:
        plans = expanded.plans
        n = len(plans)
        self.rng = rng
        self.t_s = 0.0
        self.pos = np.zeros((n, 3))
        self.vel = np.zeros((n, 3))
        self.active = np.zeros(n, dtype=bool)
        self.ended = np.zeros(n, dtype=bool)
        self.start_s = np.array([p.start_s for p in plans], dtype=np.float64)
        self.speed = np.array([p.speed_mps for p in plans], dtype=np.float64)
        self.max_accel = np.array([p.max_accel_mps2 for p in plans], dtype=np.float64)
        self.noise = np.array([p.accel_noise_mps2 for p in plans], dtype=np.float64)
        self.end = np.array([p.end for p in plans], dtype=np.int64)
        self.loiter_r = np.array([p.loiter_radius_m for p in plans], dtype=np.float64)
        self.dive_target = np.array([p.dive_target_enu_m for p in plans]).reshape(n, 3)
        self.dive_speed = np.array([p.dive_speed_mps for p in plans], dtype=np.float64)
        w_max = max((len(p.waypoints_enu_m) for p in plans), default=1)
        self.waypoints = np.zeros((n, w_max, 3))
        self.n_wp = np.zeros(n, dtype=np.int64)
        for i, p in enumerate(plans):
            self.waypoints[i, : len(p.waypoints_enu_m)] = p.waypoints_enu_m
            self.n_wp[i] = len(p.waypoints_enu_m)
        self.wp_idx = np.ones(n, dtype=np.int64)
        self.flock = np.array([p.flock for p in plans], dtype=np.int64)
        self.is_bird = self.flock >= 0
        self.flock_offset = np.array([p.flock_offset_m for p in plans]).reshape(n, 3)
        self._init_flocks(expanded)

    def _init_flocks(self, expanded: Expanded) -> None:
        flocks = expanded.flocks
        self.f_home = np.array([f.center_enu_m for f in flocks], dtype=np.float64).reshape(-1, 3)
        self.f_radius = np.array([f.roam_radius_m for f in flocks], dtype=np.float64)
        self.f_speed = np.array([f.speed_mps for f in flocks], dtype=np.float64)
        self.f_pos = self.f_home.copy()
        self.f_goal = self._new_flock_goals(np.arange(len(flocks)))
        self.f_vel = np.zeros_like(self.f_pos)

    # ------------------------------------------------------------------ time
    def advance_to(self, t_s: float) -> None:
        """Move every target from the current time to ``t_s`` (>= now)."""
        span = t_s - self.t_s
        if span <= 0:
            self._launch(t_s)
            return
        steps = int(np.ceil(span / MAX_STEP_S - 1e-9))
        dt = span / steps
        for k in range(steps):
            self._step(self.t_s + (k + 1) * dt, dt)
        self.t_s = t_s

    def snapshot(self) -> Snapshot:
        return Snapshot(
            t_s=self.t_s,
            pos_enu_m=self.pos.copy(),
            vel_enu_mps=self.vel.copy(),
            active=self.active.copy(),
        )

    # ------------------------------------------------------------------ step
    def _step(self, t_s: float, dt: float) -> None:
        """Move the targets in the air by ``dt`` to ``t_s``, then launch those due."""
        self._step_flocks(dt)
        live = self.active.copy()
        if live.any():
            self._move(live, dt)
        self._launch(t_s)

    def _move(self, live: BoolArray, dt: float) -> None:
        v_des = np.zeros_like(self.vel)
        path = live & ~self.is_bird
        v_des[path] = self._path_velocity(np.flatnonzero(path), dt)
        birds = live & self.is_bird
        v_des[birds] = self._bird_velocity(np.flatnonzero(birds))
        accel = (v_des - self.vel) / TAU_S
        norm = _norm(accel)
        scale = np.minimum(1.0, self.max_accel / np.maximum(norm, 1e-12))
        accel *= scale[:, None]
        kick = self.rng.standard_normal(self.vel.shape) * (self.noise * np.sqrt(dt))[:, None]
        kick[:, 2] *= np.where(self.is_bird, 0.3, 0.2)
        hover = path & (self.wp_idx >= self.n_wp) & (self.end == _HOVER)
        kick[hover] *= 0.3
        self.vel[live] += accel[live] * dt + kick[live]
        self.pos[live] += self.vel[live] * dt
        self._finish(live)

    def _launch(self, t_s: float) -> None:
        new = ~self.active & ~self.ended & (self.start_s <= t_s + 1e-9)
        if not new.any():
            return
        idx = np.flatnonzero(new)
        self.active[idx] = True
        first = self.waypoints[idx, 0]
        bird = self.is_bird[idx]
        first[bird] = self.f_pos[self.flock[idx[bird]]] + self.flock_offset[idx[bird]]
        self.pos[idx] = first
        nxt = np.where(self.n_wp[idx] > 1, 1, 0)
        heading = self.waypoints[idx, nxt] - first
        heading[:, 2] = 0.0
        self.vel[idx] = _unit(heading) * self.speed[idx, None]
        self.vel[idx[bird]] = self.f_vel[self.flock[idx[bird]]]

    def _path_velocity(self, idx: IntArray, dt: float) -> FloatArray:
        pos, vel, speed = self.pos[idx], self.vel[idx], self.speed[idx]
        wp_idx = self.wp_idx[idx]
        en_route = wp_idx < self.n_wp[idx]
        goal = self.waypoints[idx, np.minimum(wp_idx, self.n_wp[idx] - 1)]
        dist = _norm(goal - pos)
        # about a turn radius, except at the last waypoint where no turn follows
        last_leg = wp_idx >= self.n_wp[idx] - 1
        capture = np.where(last_leg, 3.0 * speed * dt,
                           np.maximum(3.0 * speed * dt, speed**2 / self.max_accel[idx]))
        reached = en_route & (dist < capture)
        self.wp_idx[idx[reached]] += 1
        v_des = _unit(goal - pos) * speed[:, None]
        v_des[~en_route] = self._end_velocity(idx[~en_route], pos[~en_route], vel[~en_route])
        return v_des

    def _end_velocity(self, idx: IntArray, pos: FloatArray, vel: FloatArray) -> FloatArray:
        end = self.end[idx]
        speed = self.speed[idx]
        last = self.waypoints[idx, self.n_wp[idx] - 1]
        out = _unit(vel) * speed[:, None]  # continue
        to_last = last - pos
        hover = end == _HOVER
        out[hover] = to_last[hover] * 0.5
        out[hover] *= np.minimum(1.0, speed[hover] / np.maximum(
            _norm(out[hover]), 1e-9))[:, None]
        loiter = end == _LOITER
        out[loiter] = self._orbit(pos[loiter], last[loiter], self.loiter_r[idx[loiter]],
                                  speed[loiter])
        dive = end == _DIVE
        out[dive] = _unit(self.dive_target[idx[dive]] - pos[dive]) * self.dive_speed[idx[dive],
                                                                                      None]
        self.ended[idx[end == _VANISH]] = True
        return out

    @staticmethod
    def _orbit(pos: FloatArray, centre: FloatArray, radius: FloatArray,
               speed: FloatArray) -> FloatArray:
        """Counter-clockwise circle: tangent plus a pull back onto the radius."""
        r = pos - centre
        r[:, 2] = 0.0
        dist = _norm(r)
        radial = _unit(r)
        tangent = np.column_stack((-radial[:, 1], radial[:, 0], np.zeros(len(r))))
        correction = np.clip((radius - dist) / radius, -1.0, 1.0)
        out = _unit(tangent + 1.5 * correction[:, None] * radial) * speed[:, None]
        out[:, 2] = 0.5 * (centre[:, 2] - pos[:, 2])
        return out

    def _bird_velocity(self, idx: IntArray) -> FloatArray:
        f = self.flock[idx]
        slot = self.f_pos[f] + self.flock_offset[idx]
        v_des: FloatArray = self.f_vel[f] + 0.2 * (slot - self.pos[idx])
        return v_des

    def _step_flocks(self, dt: float) -> None:
        if len(self.f_pos) == 0:
            return
        to_goal = self.f_goal - self.f_pos
        dist = _norm(to_goal)
        reached = np.flatnonzero(dist < np.maximum(self.f_speed * dt * 3, 20.0))
        if len(reached):
            self.f_goal[reached] = self._new_flock_goals(reached)
            to_goal = self.f_goal - self.f_pos
        self.f_vel = _unit(to_goal) * self.f_speed[:, None]
        self.f_pos += self.f_vel * dt

    def _new_flock_goals(self, which: IntArray) -> FloatArray:
        n = len(which)
        r = self.f_radius[which] * np.sqrt(self.rng.uniform(0, 1, n))
        a = self.rng.uniform(0, 2 * np.pi, n)
        dz = self.rng.uniform(-0.3, 0.3, n) * self.f_home[which, 2]
        goals: FloatArray = self.f_home[which] + np.column_stack((r * np.cos(a), r * np.sin(a), dz))
        return goals

    def _finish(self, live: BoolArray) -> None:
        """End dives on arrival, keep everyone else off the ground."""
        dive = live & (self.end == _DIVE) & (self.wp_idx >= self.n_wp)
        arrived = dive & (
            (_norm(self.dive_target - self.pos)
             < np.maximum(self.dive_speed * MAX_STEP_S * 1.5, 2.0))
            | (self.pos[:, 2] <= 1.0)
        )
        self.ended |= arrived
        self.active &= ~self.ended
        low = self.active & (self.pos[:, 2] < 1.0)
        self.pos[low, 2] = 1.0
        self.vel[low, 2] = np.maximum(self.vel[low, 2], 0.0)


def _norm(v: FloatArray, keepdims: bool = False) -> FloatArray:
    """Row norms (faster than np.linalg.norm for many small calls)."""
    out: FloatArray = np.sqrt(np.einsum("ij,ij->i", v, v))
    return out[:, None] if keepdims else out


def _unit(v: FloatArray) -> FloatArray:
    n = _norm(v, keepdims=True)
    return np.where(n > 1e-9, v / np.maximum(n, 1e-12), 0.0)
