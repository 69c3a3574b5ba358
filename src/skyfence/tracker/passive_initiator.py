"""Passive initiation, the bookkeeping: a bearing buffer, candidates, births, opportunities.

The geometry and the ghost defences are in :mod:`.triangulation`. Here:

**Buffer.** The spare bearings of every passive scan (those inside no track's
gate, see ``Tracker._associate_update``) wait ``passive_window_s`` for
partners. A bearing leaves the buffer when it starts a track, when it falls
inside the gate of a track born after it (a radar track, or one started by
the other bearings), or when it is too old.

**Candidates**, at every passive scan, over the whole buffer: every pair of
bearings of two different sensors (a cheap test in the horizontal plane
first, then the fix and its gates, vectorised over the pairs), then every
gated pair extended by each bearing of a third sensor. The candidates are
scored and one-to-one selected (:func:`triangulation.select`).

**When to start.** A triple starts a track at once. A pair waits until every
other passive sensor that covers its point has had a chance to report
(``min(period_s, window/2)`` after the pair's newest bearing), so a third
sensor's bearing can make it a triple, or a better pairing take its
bearings; a selected candidate that is not ready keeps its bearings.

**Persistence.** A track started here is tentative, with its passive sensors
as a bitmask (``TrackBank.passive_sensors``), and passes M of N
(``passive_confirm_m`` of ``passive_confirm_n``) over detection
opportunities: the scans of the miss-counting sensors (radar) as for every
track, and, while it is tentative, the scans of passive sensors that cover it
*and could hear it*: EO/IR cameras (``passive_miss_sensor_types``: they see
every kind), and RF and acoustic sensors only once they have reported it
(an RF detector hears only drones with a live link, an acoustic array no
birds). Ghosts, whose crossing point does not move like a target, collect
misses and die; so does anything not updated for ``tentative_max_coast_s``.
Passive silence costs a tentative track no score and a confirmed one
nothing: in a swarm the clear-margin bearing update withholds many bearings,
and a confirmed passive track ends by coasting (``max_coast_s``) instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from skyfence.tracker import manager
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.base import BoolArray, Detections, FloatArray, IntArray
from skyfence.tracker.evidence import EVIDENCE_WIDTH
from skyfence.tracker.gating import gate, gate_threshold
from skyfence.tracker.motion import predict
from skyfence.tracker.params import TrackerParams
from skyfence.tracker.sensors import SensorSpec
from skyfence.tracker.triangulation import Fix, Gates, Rays, select, triangulate

_CHUNK = 1 << 16
"""Candidates triangulated per batch: bounds memory whatever the buffer size."""
_PREGATE_SIGMAS = 5.0
"""Width of the cheap tests before a fix (pairs: heights; triples: the third angle)."""


def sensor_bit(sensor: int | IntArray) -> IntArray:
    """The bit of a sensor index in ``TrackBank.passive_sensors`` (indices ≥ 62 share one)."""
    return np.left_shift(np.int64(1), np.minimum(np.asarray(sensor, dtype=np.int64), 62))


@dataclass
class _Bearings:
    """The buffer: one row per spare bearing (angles in radians, el NaN if absent)."""

    t_s: FloatArray
    sensor: IntArray
    az: FloatArray
    el: FloatArray
    evidence: FloatArray  # (K, EVIDENCE_WIDTH) class evidence the bearing carries, flat

    @classmethod
    def empty(cls) -> _Bearings:
        return cls(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0),
                   np.zeros((0, EVIDENCE_WIDTH)))

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def keep(self, mask: BoolArray) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name)[mask])

    def extend(self, other: _Bearings) -> None:
        for f in fields(self):
            setattr(self, f.name, np.concatenate((getattr(self, f.name), getattr(other, f.name))))


@dataclass(frozen=True, slots=True)
class Births:
    """Tracks to start: states at the scan time, class evidence, passive sensors."""

    x: FloatArray  # (n, 6)
    P: FloatArray  # (n, 6, 6)
    evidence: FloatArray  # (n, EVIDENCE_WIDTH): the summed evidence of its bearings
    heard: IntArray  # (n,) bitmask of the sensors whose bearings started it
    bearings: int  # bearings used

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True, slots=True)
class _Candidates:
    members: IntArray  # (C, 3) buffer rows, −1: no ray
    fix: Fix
    score: FloatArray  # (C,)


class PassiveInitiator:
    """Starts tracks from crossing bearings of two or more passive sensors (module doc)."""

    def __init__(self, sensors: Sequence[SensorSpec], params: TrackerParams) -> None:
        self.sensors = list(sensors)
        self.params = p = params
        nan = math.nan
        bearing = [s.bearing_only for s in self.sensors]
        self._bearing = np.asarray(bearing, dtype=np.bool_)
        self._pos = np.asarray([s.position_enu_m for s in self.sensors], dtype=np.float64)
        self._sigma_az = np.asarray([s.sigma[0] if b else nan
                                     for s, b in zip(self.sensors, bearing, strict=True)])
        self._sigma_el = np.asarray([s.sigma[1] if b else nan
                                     for s, b in zip(self.sensors, bearing, strict=True)])
        self._sound = np.asarray([s.propagation_speed_mps or math.inf for s in self.sensors])
        self._max_range = np.asarray([s.max_range_m for s in self.sensors])
        self._log_pd = np.log(np.clip([s.pd for s in self.sensors], 1e-6, 1.0))
        self._log_lam = np.asarray([  # per sensor: azimuth only, azimuth and elevation
            [math.log(s.clutter_density(c, p)) if b else nan for c in ((0,), (0, 1))]
            for s, b in zip(self.sensors, bearing, strict=True)])
        self._settle_s = np.asarray([min(s.period_s, 0.5 * p.passive_window_s)
                                     for s in self.sensors])
        self._gates = Gates(p.gate_probability, math.radians(p.passive_min_crossing_angle_deg),
                            p.passive_max_position_sigma_m, p.ground_floor_m)
        self._sigma_v = p.max_speed_mps / math.sqrt(3.0)
        self._q = np.array([p.accel_noise_psd_m2ps3] * 2 + [p.vertical_accel_noise_psd_m2ps3])
        self._gate_d2 = {k: gate_threshold(p.gate_probability, k) for k in (1, 2)}
        self._buf = _Bearings.empty()
        self._seen_id = 0  # tracks up to this id have been checked against the buffer

    @property
    def buffered(self) -> int:
        return len(self._buf)

    # ------------------------------------------------------------ per scan
    def record_opportunities(self, bank: TrackBank, sensor: int, hit: BoolArray) -> None:
        """A passive scan: an opportunity for the tentative passive tracks it covers and
        could hear; every passive track it hit has heard it (module doc)."""
        n = hit.shape[0]
        passive = bank.passive_sensors[:n] != 0
        if not passive.any():
            return
        bit = sensor_bit(sensor)
        bank.passive_sensors[:n] |= np.where(passive & hit, bit, 0)
        spec = self.sensors[sensor]
        tentative = passive & ~bank.confirmed[:n]
        if not tentative.any():
            return
        can_hear = (bank.passive_sensors[:n] & bit) != 0
        if spec.type in self.params.passive_miss_sensor_types:
            can_hear[:] = True
        covered = tentative & can_hear & spec.covers(bank.x[:n])
        manager.record_opportunities(bank, covered, hit & tentative, 0.0)

    def observe(self, bank: TrackBank, scan: Detections, rows: IntArray,
                evidence: FloatArray, t_s: float) -> None:
        """Buffer the spare bearings ``rows`` of ``scan``; forget the stale and the explained."""
        self._buf.keep(t_s - self._buf.t_s <= self.params.passive_window_s)
        newer = bank.id > self._seen_id  # born since the last look: explain any bearing?
        if newer.any():
            self._explained(bank.x[newer], bank.P[newer], t_s)
            self._seen_id = int(bank.id[newer].max())
        if rows.size == 0:
            return
        z = scan.z[rows]
        el = z[:, 1] if z.shape[1] > 1 else np.full(rows.size, math.nan)
        self._buf.extend(_Bearings(np.full(rows.size, scan.t_s),
                                   np.full(rows.size, scan.sensor, dtype=np.int64),
                                   z[:, 0].copy(), el.copy(), evidence))

    def initiate(self, t_s: float) -> Births:
        """Tracks to start at ``t_s`` from the buffer (taken out of it)."""
        none = Births(np.zeros((0, 6)), np.zeros((0, 6, 6)), np.zeros((0, EVIDENCE_WIDTH)),
                      np.zeros(0, dtype=np.int64), 0)
        if np.unique(self._buf.sensor).size < 2:
            return none
        cand = self._candidates()
        if cand.members.shape[0] == 0:
            return none
        chosen = select(cand.members, cand.score, self._buf.sensor)
        start = chosen[self._ready(cand, chosen, t_s)]
        if start.size == 0:
            return none
        members = cand.members[start]
        x, P = self._states(cand.fix, start, t_s)
        rows = members[members >= 0]
        safe = np.where(members >= 0, members, 0)
        evidence = np.where((members >= 0)[..., None], self._buf.evidence[safe], 0.0).sum(axis=1)
        bits = np.where(members >= 0, sensor_bit(self._buf.sensor[safe]), 0)
        heard = np.bitwise_or.reduce(bits, axis=1)
        used = np.zeros(len(self._buf), dtype=np.bool_)
        used[rows] = True
        self._buf.keep(~used)  # the rest meet the new tracks at the next observe()
        return Births(x, P, evidence, heard.astype(np.int64), int(rows.size))

    # ------------------------------------------------------------ parts
    def _candidates(self) -> _Candidates:
        """Gated pairs and triples over the buffer, with their fixes and scores."""
        pair_c = self._evaluate(self._pairs())
        if pair_c.members.shape[0] == 0:
            return pair_c
        triple_c = self._evaluate(self._triples(pair_c))
        return _concat(pair_c, triple_c)

    def _pairs(self) -> IntArray:
        """(C, 2) buffer rows i < j of two sensors whose azimuths plausibly cross
        (in blocks of rows, so memory stays bounded however full the buffer)."""
        buf = self._buf
        K = len(buf)
        step = max(1, _CHUNK // max(K, 1))
        found = [np.zeros((0, 2), dtype=np.int64)]
        for lo in range(0, K, step):
            rows = np.arange(lo, min(lo + step, K))
            later = np.arange(K)[None, :] > rows[:, None]
            a, j = np.nonzero(later & (buf.sensor[None, :] != buf.sensor[rows, None]))
            i = rows[a]
            keep = self._plausible_crossing(i, j)
            found.append(np.column_stack((i[keep], j[keep])).astype(np.int64))
        return np.concatenate(found)

    def _plausible_crossing(self, i: IntArray, j: IntArray) -> BoolArray:
        """Cheap test in the horizontal plane: the two azimuth lines meet ahead of both
        sensors and within reach (or are too close to parallel to say), and where
        both bearings have elevations, at heights that may agree (generous bounds:
        the fix and its gates decide)."""
        buf = self._buf
        sa, sb = buf.sensor[i], buf.sensor[j]
        ha = np.column_stack((np.sin(buf.az[i]), np.cos(buf.az[i])))
        hb = np.column_stack((np.sin(buf.az[j]), np.cos(buf.az[j])))
        D = self._pos[sb, :2] - self._pos[sa, :2]
        cross = ha[:, 0] * hb[:, 1] - ha[:, 1] * hb[:, 0]
        safe = np.where(np.abs(cross) < 1e-9, 1e-9, cross)
        rho_a = (D[:, 0] * hb[:, 1] - D[:, 1] * hb[:, 0]) / safe
        rho_b = (D[:, 0] * ha[:, 1] - D[:, 1] * ha[:, 0]) / safe
        reach_a = 1.5 * self._max_range[sa] + 100.0
        reach_b = 1.5 * self._max_range[sb] + 100.0
        meet = (rho_a > 0) & (rho_b > 0) & (rho_a <= reach_a) & (rho_b <= reach_b)
        near_parallel = np.abs(cross) < 0.05
        # heights where the azimuth lines meet; range errors ~ ρσ_az / sin(crossing)
        el_a, el_b = buf.el[i], buf.el[j]
        z_a = self._pos[sa, 2] + rho_a * np.tan(el_a)
        z_b = self._pos[sb, 2] + rho_b * np.tan(el_b)
        d_rho = (np.abs(rho_a) * self._sigma_az[sa] + np.abs(rho_b) * self._sigma_az[sb]) / (
            np.maximum(np.abs(cross), 0.05))
        delay = np.abs(rho_a / self._sound[sa] - rho_b / self._sound[sb])
        move = self._sigma_v * (np.abs(buf.t_s[i] - buf.t_s[j]) + delay)
        var = ((rho_a * self._sigma_el[sa] / np.cos(el_a) ** 2) ** 2
               + (rho_b * self._sigma_el[sb] / np.cos(el_b) ** 2) ** 2
               + (d_rho * (np.abs(np.tan(el_a)) + np.abs(np.tan(el_b)))) ** 2 + 2 * move**2)
        level = np.abs(z_a - z_b) <= _PREGATE_SIGMAS * np.sqrt(var) + 10.0
        level |= ~np.isfinite(el_a) | ~np.isfinite(el_b)
        return np.asarray((meet & level) | near_parallel, dtype=np.bool_)

    def _evaluate(self, members: IntArray) -> _Candidates:
        """Fix, gate and score candidate bearing sets (rows of buffer indices)."""
        parts: list[_Candidates] = []
        for lo in range(0, members.shape[0], _CHUNK):
            m = members[lo:lo + _CHUNK]
            rays, ok_rays = self._rays(m)
            fix = triangulate(rays, self._sigma_v, self.params.passive_prior_height_m,
                              self.params.passive_prior_height_sigma_m)
            sensor = self._buf.sensor[np.where(ok_rays, m, 0)]
            ok = self._gates.accept(fix, ok_rays, np.where(ok_rays, self._max_range[sensor], 0))
            has_el = ok_rays & np.isfinite(rays.el)
            per_ray = np.where(ok_rays, self._log_pd[sensor]
                               - self._log_lam[sensor, has_el.astype(np.int64)], 0.0)
            score = fix.log_density + per_ray.sum(axis=1)
            parts.append(_Candidates(_pad(m[ok]), _take(_pad_fix(fix), ok), score[ok]))
        if not parts:
            return _Candidates(np.zeros((0, 3), dtype=np.int64), _take_empty(), np.zeros(0))
        out = parts[0]
        for more in parts[1:]:
            out = _concat(out, more)
        return out

    def _rays(self, members: IntArray) -> tuple[Rays, BoolArray]:
        buf = self._buf
        valid = members >= 0
        k = np.where(valid, members, 0)
        s = buf.sensor[k]
        rays = Rays(self._pos[s], buf.az[k], buf.el[k], self._sigma_az[s], self._sigma_el[s],
                    buf.t_s[k], self._sound[s], valid)
        return rays, valid

    def _triples(self, pairs: _Candidates) -> IntArray:
        """Gated pairs × bearings of a third sensor that point near the pair's fix.

        Per third sensor, its bearings sorted by azimuth; each pair's window
        (``_PREGATE_SIGMAS`` σ of the predicted azimuth: the fix's spread,
        the sensor's σ and the target's motion) found by binary search, then the
        elevation tested where the bearing has one. Cost ~ P log K + matches.
        """
        buf = self._buf
        a, b = pairs.members[:, 0], pairs.members[:, 1]
        found = [np.zeros((0, 3), dtype=np.int64)]
        for s in np.unique(buf.sensor):
            pc = np.flatnonzero((buf.sensor[a] != s) & (buf.sensor[b] != s))
            if pc.size == 0:
                continue
            rows = np.flatnonzero(buf.sensor == s)
            rows = rows[np.argsort(buf.az[rows], kind="stable")]
            ext_az = np.concatenate((buf.az[rows] - 2 * np.pi, buf.az[rows],
                                     buf.az[rows] + 2 * np.pi))
            ext_rows = np.tile(rows, 3)
            pred = _predicted(pairs.fix, pc, self._pos[s], float(self._sound[s]))
            age = np.maximum(np.abs(buf.t_s[rows].min() - pred.delay - pred.t_ref),
                             np.abs(buf.t_s[rows].max() - pred.delay - pred.t_ref))
            sd = np.sqrt(pred.var_az + self._sigma_az[s] ** 2
                         + (self._sigma_v * age) ** 2 / pred.g2)
            half = np.minimum(_PREGATE_SIGMAS * sd, np.pi)
            lo = np.searchsorted(ext_az, pred.az - half, side="left")
            count = np.searchsorted(ext_az, pred.az + half, side="right") - lo
            which = np.repeat(np.arange(pc.size), count)
            start = np.repeat(lo - (np.cumsum(count) - count), count)
            k = ext_rows[np.arange(which.size) + start]
            el = buf.el[k]
            age_k = buf.t_s[k] - pred.delay[which] - pred.t_ref[which]
            sd_el = np.sqrt(pred.var_el[which] + self._sigma_el[s] ** 2
                            + (self._sigma_v * age_k) ** 2 / pred.rho2[which])
            near = ~np.isfinite(el) | (np.abs(el - pred.el[which])
                                       <= _PREGATE_SIGMAS * sd_el)
            found.append(np.column_stack((a[pc[which]], b[pc[which]], k))[near])
        triples = np.sort(np.concatenate(found), axis=1)
        return np.unique(triples, axis=0).reshape(-1, 3).astype(np.int64)

    def _ready(self, cand: _Candidates, chosen: IntArray, t_s: float) -> BoolArray:
        """Which chosen candidates may start now: triples, and pairs every other covering
        passive sensor has had its chance to join (module doc)."""
        members = cand.members[chosen]
        valid = members >= 0
        safe = np.where(valid, members, 0)
        newest = np.where(valid, self._buf.t_s[safe], -np.inf).max(axis=1)
        member_sensor = np.where(valid, self._buf.sensor[safe], -1)
        x = np.zeros((chosen.size, 6))
        x[:, :3] = cand.fix.p[chosen]
        settle = np.zeros(chosen.size)
        for s in np.flatnonzero(self._bearing):
            other = ~(member_sensor == s).any(axis=1)
            wait = other & self.sensors[s].covers(x)
            settle = np.where(wait, np.maximum(settle, self._settle_s[s]), settle)
        ready = (valid.sum(axis=1) >= 3) | (t_s - newest >= settle - 1e-9)
        return np.asarray(ready, dtype=np.bool_)

    def _states(self, fix: Fix, rows: IntArray, t_s: float) -> tuple[FloatArray, FloatArray]:
        """[p, 0] with blockdiag(A⁻¹, σ_v² I) at the fix's time, predicted to ``t_s``."""
        n = rows.size
        x = np.zeros((n, 6))
        x[:, :3] = fix.p[rows]
        P = np.zeros((n, 6, 6))
        P[:, :3, :3] = fix.P[rows]
        P[:, 3:, 3:] = self._sigma_v**2 * np.eye(3)
        dt = np.maximum(t_s - fix.t_ref_s[rows], 0.0)
        for value in np.unique(dt):  # few distinct delays: the sensors' report times
            at = dt == value
            x[at], P[at] = predict(x[at], P[at], float(value), self._q)
        return x, P

    def _explained(self, x: FloatArray, P: FloatArray, t_s: float) -> None:
        """Drop buffered bearings inside the gate of one of the tracks (x, P) at ``t_s``."""
        buf = self._buf
        if len(buf) == 0 or x.shape[0] == 0:
            return
        has_el = np.isfinite(buf.el)
        key = np.column_stack((buf.sensor, has_el, buf.t_s))
        groups, inverse = np.unique(key, axis=0, return_inverse=True)
        drop = np.zeros(len(buf), dtype=np.bool_)
        no_q = np.zeros(3)
        for gi, (sensor, el, t_b) in enumerate(groups):
            rows = np.flatnonzero(inverse.ravel() == gi)
            components = (0, 1) if el else (0,)
            model = self.sensors[int(sensor)].model(components)
            z = np.column_stack((buf.az[rows], buf.el[rows]))[:, : len(components)]
            xb, Pb = predict(x, P, float(t_b) - t_s, no_q)  # back to the bearing's time
            hyp = gate(xb, Pb, z, model, self._gate_d2[len(components)])
            drop[rows[hyp.meas]] = True
        buf.keep(~drop)


@dataclass(frozen=True, slots=True)
class _Predicted:
    """Where some fixes appear from one sensor: angles, their variances from the
    fixes' covariances, squared ground and slant ranges, the propagation delay."""

    az: FloatArray
    el: FloatArray
    var_az: FloatArray
    var_el: FloatArray
    g2: FloatArray
    rho2: FloatArray
    delay: FloatArray
    t_ref: FloatArray


def _predicted(fix: Fix, rows: IntArray, origin: FloatArray, sound_mps: float) -> _Predicted:
    d = fix.p[rows] - origin
    g2 = np.maximum(d[:, 0] ** 2 + d[:, 1] ** 2, 1.0)
    rho2 = g2 + d[:, 2] ** 2
    g, rho = np.sqrt(g2), np.sqrt(rho2)
    j_az = np.column_stack((d[:, 1], -d[:, 0], np.zeros(rows.size))) / g2[:, None]
    j_el = np.column_stack((-d[:, 0] * d[:, 2] / g, -d[:, 1] * d[:, 2] / g, g)) / rho2[:, None]
    P = fix.P[rows]
    return _Predicted(np.arctan2(d[:, 0], d[:, 1]), np.arctan2(d[:, 2], g),
                      np.einsum("ni,nij,nj->n", j_az, P, j_az),
                      np.einsum("ni,nij,nj->n", j_el, P, j_el),
                      g2, rho2, rho / sound_mps, fix.t_ref_s[rows])


def _pad(members: IntArray) -> IntArray:
    out = np.full((members.shape[0], 3), -1, dtype=np.int64)
    out[:, : members.shape[1]] = members
    return out


def _take(fix: Fix, mask: BoolArray) -> Fix:
    return Fix(*(getattr(fix, f.name)[mask] for f in fields(fix)))


def _take_empty() -> Fix:
    return Fix(np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros(0), np.zeros(0),
               np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)),
               np.zeros(0, dtype=np.bool_), np.zeros(0))


def _concat(a: _Candidates, b: _Candidates) -> _Candidates:
    fix = Fix(*(np.concatenate((getattr(a.fix, f.name), getattr(b.fix, f.name)))
                for f in fields(a.fix)))
    return _Candidates(np.concatenate((a.members, b.members)), fix,
                       np.concatenate((a.score, b.score)))


def _pad_fix(fix: Fix) -> Fix:
    """The per-ray fields padded to three rays, so pairs and triples concatenate."""
    def pad(v: FloatArray) -> FloatArray:
        out = np.full((v.shape[0], 3), np.nan)
        out[:, : v.shape[1]] = v
        return out
    return Fix(fix.p, fix.P, fix.t_ref_s, fix.d2, fix.dof, fix.log_density, pad(fix.range_m),
               pad(fix.range_sigma_m), fix.in_front, fix.sin_crossing)
