"""ADS-B extended squitter (DF17/18) messages -> typed results, with pyModeS.

pyModeS (GPL-3.0) is an optional extra: it is imported lazily, in
:func:`pymodes` only, and its absence is a :class:`~skyfence.errors.UserError`
saying how to install it. It checks the CRC and decodes the fields below;
this module picks the messages a surveillance picture needs and gives them
types and SI units. Per-aircraft CPR resolution is :mod:`skyfence.formats.adsb_state`.

Extended squitter (112 bits)::

    bits 1-5    DF   17 (transponder) or 18 (non-transponder: CF says which)
    bits 6-8    CA (DF17) / CF (DF18)
    bits 9-32   AA   24-bit address (ICAO, unless DF18 CF 1 or 5)
    bits 33-88  ME   56-bit message, bits 33-37 its type code (TC)
    bits 89-112 PI   CRC-24 parity (remainder 0 when intact)

ME by type code (bit numbers within ME, 1-based)::

    TC 1-4    identification: 6-8 category, 9-56 callsign (8 x 6 bits)
    TC 5-8    surface position: 6-12 movement, 13 track status, 14-20 track,
              22 CPR odd, 23-39 CPR lat, 40-56 CPR lon
    TC 9-18   airborne position, barometric altitude: 9-20 altitude code,
    TC 20-22  ... GNSS height (same 25 ft code), 22 CPR odd, 23-39 lat, 40-56 lon
    TC 19     airborne velocity: 6-8 subtype
              subtype 1/2 (ground speed, x4 for 2): 14 west, 15-24 |v_ew|+1 kt,
                                                  25 south, 26-35 |v_ns|+1 kt
              subtype 3/4 (airspeed): 14 heading valid, 15-24 heading x 360/1024,
                                      25 TAS, 26-35 airspeed+1 kt
              36 vrate source (1 baro), 37 down, 38-46 |vrate|/64+1 ft/min

DF18 control field: CF 0 (ADS-B, ICAO address), 1 (ADS-B, non-ICAO address),
2 (fine TIS-B), 5 (fine TIS-B, non-ICAO), 6 (ADS-R) share the ME layout above
and are decoded; 3 (coarse TIS-B), 4 (management) and 7 are not. A non-ICAO
address is written ``~`` + hex, as readsb does, so it cannot be taken for an
aircraft's ICAO address.

GNSS height (TC 20-22) is decoded like dump1090, readsb and rs1090 do: the
12-bit altitude code with 25 ft steps (pyModeS 3 reads it as metres).

Rejections: ``"bad Mode S length"``, ``"bad CRC"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from skyfence.errors import UserError
from skyfence.formats.errors import DecodeError

FT_M = 0.3048
KT_MPS = 1852.0 / 3600.0
FPM_MPS = FT_M / 60.0
INSTALL_HINT = ("ADS-B decoding needs pyModeS (GPL-3.0), an optional extra: "
                "pip install 'skyfence[adsb]'")
_DF18_ES_CF = {0: False, 1: True, 2: False, 5: True, 6: False}
"""DF18 control fields with the ADS-B ME layout -> address is non-ICAO."""
_CATEGORY_SET = {4: "A", 3: "B", 2: "C", 1: "D"}

AltitudeKind = Literal["barometric", "gnss", "surface"]


@dataclass(frozen=True, slots=True)
class AdsbIdentity:
    """TC 1-4: callsign and emitter category (``"A3"``: set A, code 3)."""

    icao: str
    t_utc_s: float
    callsign: str
    category: str


@dataclass(frozen=True, slots=True)
class PositionCpr:
    """TC 5-22 before CPR resolution: one half (even or odd) of a position."""

    icao: str
    t_utc_s: float
    surface: bool
    odd: bool
    lat_cpr: int
    lon_cpr: int
    alt_m: float | None  # None on the surface, or altitude not available
    alt_kind: AltitudeKind
    nuc_p: int
    ground_speed_mps: float | None = None  # surface movement
    track_deg: float | None = None  # surface track


@dataclass(frozen=True, slots=True)
class AdsbVelocity:
    """TC 19 (or surface movement): velocity over ground and/or through the air.

    ``vel_enu_mps`` [east, north, up] is set when the ground velocity and the
    vertical rate are both known (on the surface, up is 0).
    """

    icao: str
    t_utc_s: float
    ground_speed_mps: float | None
    track_deg: float | None
    airspeed_mps: float | None
    airspeed_type: Literal["IAS", "TAS"] | None
    heading_deg: float | None
    vertical_rate_mps: float | None
    vertical_rate_source: Literal["barometric", "gnss"] | None
    vel_enu_mps: tuple[float, float, float] | None


EsMessage = AdsbIdentity | PositionCpr | AdsbVelocity


_PYMODES: list[ModuleType] = []


def pymodes() -> ModuleType:
    """pyModeS (>= 3), imported on first use; a UserError if absent or too old.

    The one place skyfence imports pyModeS; ``pymodes().position`` is its CPR module.
    """
    if _PYMODES:
        return _PYMODES[0]
    try:
        import pyModeS
        import pyModeS.position
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    if not hasattr(pyModeS, "Message"):
        raise UserError(f"{INSTALL_HINT} (pyModeS >= 3 is needed, found "
                        f"{getattr(pyModeS, '__version__', 'an older one')})")
    _PYMODES.append(pyModeS)
    return pyModeS


def decode_es(message: bytes, t_utc_s: float) -> EsMessage | None:
    """One Mode S message -> the typed ADS-B content; ``None`` when it has none.

    Raises DecodeError for a bad length or a DF17/18 failing its CRC. Frames
    that are not ADS-B (other DFs, DF18 CF 3/4/7, type codes 0 and 23-31) give
    ``None``: valid, but nothing for the picture.
    """
    if len(message) not in (7, 14):
        raise DecodeError("bad Mode S length", f"{len(message)} bytes")
    df = message[0] >> 3
    if df not in (17, 18):
        return None
    if len(message) != 14:
        raise DecodeError("bad Mode S length", f"DF{df} in {len(message)} bytes")
    if not 1 <= message[4] >> 3 <= 22:  # type codes with nothing for the picture
        return None
    non_icao = False
    if df == 18:
        cf = message[0] & 0x7
        if cf not in _DF18_ES_CF:
            return None
        non_icao = _DF18_ES_CF[cf]
    decoded = pymodes().Message(message).decode()
    if not decoded["crc_valid"]:
        raise DecodeError("bad CRC", message.hex())
    icao = ("~" if non_icao else "") + message[1:4].hex()
    return _typed(decoded, int.from_bytes(message[4:11], "big"), icao, t_utc_s)


def _typed(d: dict[str, Any], me: int, icao: str, t: float) -> EsMessage | None:
    tc = d["typecode"]
    if 1 <= tc <= 4:
        category = f"{_CATEGORY_SET[tc]}{d['category']}"
        return AdsbIdentity(icao, t, d["callsign"], category)
    if 5 <= tc <= 8:
        return _surface(d, icao, t)
    if 9 <= tc <= 18 or 20 <= tc <= 22:
        return _airborne(d, me, tc, icao, t)
    if tc == 19 and d.get("subtype") in (1, 2, 3, 4):
        return _velocity(d, me, icao, t)
    return None


def _airborne(d: dict[str, Any], me: int, tc: int, icao: str, t: float) -> PositionCpr:
    if tc <= 18:
        alt_ft, kind = d["altitude"], "barometric"
    else:
        alt_ft, kind = ac12_feet((me >> 36) & 0xFFF), "gnss"
    return PositionCpr(icao, t, surface=False, odd=bool(d["cpr_format"]),
                       lat_cpr=d["cpr_lat"], lon_cpr=d["cpr_lon"],
                       alt_m=None if alt_ft is None else alt_ft * FT_M,
                       alt_kind="barometric" if kind == "barometric" else "gnss",
                       nuc_p=d["nuc_p"])


def _surface(d: dict[str, Any], icao: str, t: float) -> PositionCpr:
    speed_kt = d["groundspeed"]
    return PositionCpr(icao, t, surface=True, odd=bool(d["cpr_format"]),
                       lat_cpr=d["cpr_lat"], lon_cpr=d["cpr_lon"], alt_m=None,
                       alt_kind="surface", nuc_p=d.get("nuc_p", 0),
                       ground_speed_mps=None if speed_kt is None else speed_kt * KT_MPS,
                       track_deg=d["track"])


def ac12_feet(code: int) -> int | None:
    """A 12-bit altitude code (Q bit set: 25 ft steps) in feet; None if not so coded."""
    if code == 0 or not code & 0x10:
        return None
    n = ((code & 0xFE0) >> 1) | (code & 0xF)
    return n * 25 - 1000


def ground_velocity_kt(me: int) -> tuple[float, float] | None:
    """TC 19 subtype 1/2 ME -> (east, north) knots; None if not available."""
    subtype = (me >> 48) & 0x7
    ew, ns = (me >> 32) & 0x3FF, (me >> 21) & 0x3FF
    if subtype not in (1, 2) or ew == 0 or ns == 0:
        return None
    scale = 4 if subtype == 2 else 1
    east = (ew - 1) * scale * (-1 if (me >> 42) & 1 else 1)
    north = (ns - 1) * scale * (-1 if (me >> 31) & 1 else 1)
    return float(east), float(north)


def _velocity(d: dict[str, Any], me: int, icao: str, t: float) -> AdsbVelocity:
    vr_fpm = d.get("vertical_rate")
    up = None if vr_fpm is None else vr_fpm * FPM_MPS
    ground = ground_velocity_kt(me)
    speed = track = None
    enu: tuple[float, float, float] | None = None
    if ground is not None:
        east, north = ground[0] * KT_MPS, ground[1] * KT_MPS
        speed = math.hypot(east, north)
        track = math.degrees(math.atan2(east, north)) % 360.0
        enu = None if up is None else (east, north, up)
    airspeed = d.get("airspeed")
    return AdsbVelocity(
        icao, t, ground_speed_mps=speed, track_deg=track,
        airspeed_mps=None if airspeed is None else airspeed * KT_MPS,
        airspeed_type=d.get("airspeed_type"), heading_deg=d.get("heading"),
        vertical_rate_mps=up,
        vertical_rate_source="barometric" if d.get("vr_source") == "BARO" else "gnss",
        vel_enu_mps=enu)


def surface_velocity(cpr: PositionCpr) -> AdsbVelocity | None:
    """The velocity a surface position message carries (up = 0), if it has one."""
    if not cpr.surface or cpr.ground_speed_mps is None or cpr.track_deg is None:
        return None
    track = math.radians(cpr.track_deg)
    speed = cpr.ground_speed_mps
    return AdsbVelocity(cpr.icao, cpr.t_utc_s, speed, cpr.track_deg, None, None, None,
                        0.0, None, (speed * math.sin(track), speed * math.cos(track), 0.0))


def address_of(message: bytes) -> str | None:
    """The 24-bit address a Mode S message names, lower-case hex.

    DF11/17/18 carry it in clear; DF0/4/5/16/20/21 overlay it on the parity
    (address/parity), so their address is only as good as the frame: trust it
    when it matches an address heard in clear. ``None`` for other DFs.
    """
    if len(message) not in (7, 14):
        raise DecodeError("bad Mode S length", f"{len(message)} bytes")
    df = message[0] >> 3
    if df in (11, 17, 18):
        return message[1:4].hex()
    if df in (0, 4, 5, 16, 20, 21):
        return f"{pymodes().Message(message).crc:06x}"
    return None
