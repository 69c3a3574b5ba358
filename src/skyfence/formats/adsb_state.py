"""Per-aircraft ADS-B state: CPR positions resolved, checked and given a velocity.

A position message carries only half a position: 17 bits of latitude and
longitude within a CPR zone (even or odd zone grid). Resolving it (DO-260B
§A.1.7), for each aircraft in turn:

1. ``local``  — the aircraft has a fix younger than ``local_window_s``: decode
   the frame alone against that fix (valid within 180 NM airborne, 45 NM on
   the surface).
2. ``global`` — an even and an odd frame within ``pair_window_s`` (10 s
   airborne, 25 s surface): decode the pair; both must fall in the same
   longitude-zone count (NL), else ``"CPR pair straddles a latitude zone"``.
   A surface pair needs a reference (the site origin) to pick its quadrant.
3. ``site``   — one frame, no fix, and the receiver cannot hear farther than
   180 NM (airborne) / 45 NM (surface) from the site origin: decode against
   the site origin.
4. otherwise wait for the other half.

Every position is then checked: farther from the site origin than the
receiver can hear -> ``"position beyond receiver range"``; farther from the
last fix than ``jump_margin_m + max_speed_mps * dt`` ->
``"implausible position jump"`` (after ``max_rejected_jumps`` in a row the
fix is dropped and the aircraft starts again from a pair).

Velocity: the latest TC 19 ground velocity (or surface movement) of the same
aircraft no older than ``velocity_window_s`` goes with each position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from skyfence.formats.adsb_messages import (
    AdsbIdentity,
    AdsbVelocity,
    AltitudeKind,
    PositionCpr,
    decode_es,
    pymodes,
    surface_velocity,
)
from skyfence.formats.errors import DecodeError

NM_M = 1852.0
AIRBORNE_LOCAL_RANGE_M = 180 * NM_M
SURFACE_LOCAL_RANGE_M = 45 * NM_M
EARTH_RADIUS_M = 6_371_008.8

Fix = Literal["global", "local", "site"]


@dataclass(frozen=True, slots=True)
class AdsbPosition:
    """A resolved position: WGS-84 degrees, altitude in metres (see ``alt_kind``).

    ``alt_m``: barometric (pressure altitude, 1013.25 hPa) or GNSS height,
    converted from feet; ``None`` on the surface or when not broadcast.
    ``nuc_p``: navigation uncertainty category from the type code (0-9).
    ``vel_enu_mps``: the aircraft's latest ground velocity, if recent.
    """

    icao: str
    t_utc_s: float
    lat_deg: float
    lon_deg: float
    alt_m: float | None
    alt_kind: AltitudeKind
    nuc_p: int
    fix: Fix
    vel_enu_mps: tuple[float, float, float] | None


AdsbResult = AdsbPosition | AdsbVelocity | AdsbIdentity


@dataclass(frozen=True, slots=True)
class CprSettings:
    """How positions are resolved and checked (times in s, distances in m)."""

    reference: tuple[float, float] | None = None  # site origin (lat, lon) in degrees
    receiver_range_m: float | None = None  # farthest an aircraft can be from reference
    pair_window_s: float = 10.0
    surface_pair_window_s: float = 25.0
    local_window_s: float = 30.0
    surface_local_window_s: float = 600.0
    max_speed_mps: float = 700.0
    jump_margin_m: float = 1000.0
    max_rejected_jumps: int = 3
    velocity_window_s: float = 5.0
    forget_after_s: float = 300.0


@dataclass(slots=True)
class _Aircraft:
    even: PositionCpr | None = None
    odd: PositionCpr | None = None
    fix: tuple[float, float, float] | None = None  # (t_utc_s, lat, lon)
    velocity: AdsbVelocity | None = None
    rejected_jumps: int = 0
    last_heard_s: float = 0.0


@dataclass
class AdsbDecoder:
    """Mode S messages with their UTC times -> positions, velocities, identities."""

    settings: CprSettings = field(default_factory=CprSettings)
    aircraft: dict[str, _Aircraft] = field(default_factory=dict)
    _next_sweep_s: float = -math.inf

    def decode(self, message: bytes, t_utc_s: float) -> list[AdsbResult]:
        """The results of one message (often none); raises DecodeError."""
        es = decode_es(message, t_utc_s)
        if es is None:
            return []
        self._forget_old(t_utc_s)
        state = self.aircraft.setdefault(es.icao, _Aircraft())
        state.last_heard_s = t_utc_s
        if isinstance(es, AdsbIdentity):
            return [es]
        if isinstance(es, AdsbVelocity):
            state.velocity = es
            return [es]
        results: list[AdsbResult] = []
        moving = surface_velocity(es)
        if moving is not None:
            state.velocity = moving
            results.append(moving)
        position = self._position(state, es)
        if position is not None:
            results.append(position)
        return results

    def _position(self, state: _Aircraft, cpr: PositionCpr) -> AdsbPosition | None:
        if cpr.odd:
            state.odd = cpr
        else:
            state.even = cpr
        resolved = self._resolve(state, cpr)
        if resolved is None:
            return None
        lat, lon, how = resolved
        self._check(state, cpr, lat, lon)
        state.fix, state.rejected_jumps = (cpr.t_utc_s, lat, lon), 0
        return AdsbPosition(cpr.icao, cpr.t_utc_s, lat, lon, cpr.alt_m, cpr.alt_kind,
                            cpr.nuc_p, how, self._velocity(state, cpr.t_utc_s))

    def _resolve(self, state: _Aircraft, cpr: PositionCpr) -> tuple[float, float, Fix] | None:
        s = self.settings
        position = pymodes().position
        local_window = s.surface_local_window_s if cpr.surface else s.local_window_s
        with_ref = (position.surface_position_with_ref if cpr.surface
                    else position.airborne_position_with_ref)
        if state.fix is not None and abs(cpr.t_utc_s - state.fix[0]) <= local_window:
            lat, lon = with_ref(int(cpr.odd), cpr.lat_cpr, cpr.lon_cpr, *state.fix[1:])
            return lat, _wrap(lon), "local"
        pair = _pair(state, cpr, s.surface_pair_window_s if cpr.surface else s.pair_window_s)
        if pair is not None and (not cpr.surface or s.reference is not None):
            return _global(pair[0], pair[1], cpr, s.reference)
        local_range = SURFACE_LOCAL_RANGE_M if cpr.surface else AIRBORNE_LOCAL_RANGE_M
        if (s.reference is not None and s.receiver_range_m is not None
                and s.receiver_range_m <= local_range):
            lat, lon = with_ref(int(cpr.odd), cpr.lat_cpr, cpr.lon_cpr, *s.reference)
            return lat, _wrap(lon), "site"
        return None

    def _check(self, state: _Aircraft, cpr: PositionCpr, lat: float, lon: float) -> None:
        s = self.settings
        if (s.reference is not None and s.receiver_range_m is not None
                and distance_m(*s.reference, lat, lon) > s.receiver_range_m):
            raise DecodeError("position beyond receiver range", f"{cpr.icao} {lat:.4f},{lon:.4f}")
        if state.fix is None:
            return
        t0, lat0, lon0 = state.fix
        allowed_m = s.jump_margin_m + s.max_speed_mps * abs(cpr.t_utc_s - t0)
        jump_m = distance_m(lat0, lon0, lat, lon)
        if jump_m > allowed_m:
            state.rejected_jumps += 1
            if state.rejected_jumps >= s.max_rejected_jumps:
                state.fix, state.even, state.odd, state.rejected_jumps = None, None, None, 0
            raise DecodeError("implausible position jump", f"{cpr.icao} {jump_m:.0f} m")

    def _velocity(self, state: _Aircraft, t_utc_s: float) -> tuple[float, float, float] | None:
        v = state.velocity
        if v is None or abs(t_utc_s - v.t_utc_s) > self.settings.velocity_window_s:
            return None
        return v.vel_enu_mps

    def _forget_old(self, t_utc_s: float) -> None:
        """Drop aircraft unheard for ``forget_after_s`` (bounded memory), once a minute."""
        if t_utc_s < self._next_sweep_s:
            return
        self._next_sweep_s = t_utc_s + 60.0
        horizon = t_utc_s - self.settings.forget_after_s
        for icao in [k for k, a in self.aircraft.items() if a.last_heard_s < horizon]:
            del self.aircraft[icao]


def _pair(state: _Aircraft, cpr: PositionCpr,
          window_s: float) -> tuple[PositionCpr, PositionCpr] | None:
    """The (even, odd) frames of a pair ending with ``cpr``, if the other half is recent."""
    other = state.even if cpr.odd else state.odd
    if other is None or other.surface != cpr.surface or abs(cpr.t_utc_s - other.t_utc_s) > window_s:
        return None
    return (other, cpr) if cpr.odd else (cpr, other)


def _global(even: PositionCpr, odd: PositionCpr, newest: PositionCpr,
            reference: tuple[float, float] | None) -> tuple[float, float, Fix]:
    position = pymodes().position
    if newest.surface:
        assert reference is not None
        result = position.surface_position_pair(
            even.lat_cpr, even.lon_cpr, odd.lat_cpr, odd.lon_cpr,
            lat_ref=reference[0], lon_ref=reference[1], even_is_newer=not newest.odd)
    else:
        result = position.airborne_position_pair(
            even.lat_cpr, even.lon_cpr, odd.lat_cpr, odd.lon_cpr, even_is_newer=not newest.odd)
    if result is None:
        raise DecodeError("CPR pair straddles a latitude zone", newest.icao)
    return float(result[0]), _wrap(float(result[1])), "global"


def _wrap(lon_deg: float) -> float:
    """Longitude in [-180, 180)."""
    return (lon_deg + 180.0) % 360.0 - 180.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
