"""CAT015 INCS (independent non-cooperative surveillance) target reports, edition 1.2
(2024-05-01) as published by EUROCONTROL and transcribed in zoranbosnjak/asterix-specs
(``specs/cat015/cat-1.2.ast``; its remarks note one doubtful maximum in I015/605, an item
sized here and not decoded).

No real CAT015 capture was available to check this module against: it is tested on
records built by hand from the specification only (tests/test_formats_asterix_cat015.py).

UAP (FRN: item, kind, octets) and what is decoded (→ field of :class:`Cat015Report`)::

    1  010 Data source identifier    fixed 2     SAC, SIC                    → sac, sic
    2  000 Message type              fixed 1     MT 7 (1 plot, 2 track, 3 sensor-centric
                                                 plot, 4 sensor-centric track, 5 track end),
                                                 RG 1                        → message_type
    3  015 Service identification    fixed 1                                 → service_id
    4  020 Target report descriptor  extended    MOMU 2, TTAX 2, SCD 2, spare, FX
                                                                             → taxonomy
    5  030 Warning/error conditions  rep. FX     7-bit codes
    6  145 Time of applicability     fixed 3     1/128 s since UTC midnight  → time_of_day_s
    7  161 Track/plot number         fixed 2                                 → track_number
    8  170 Track/plot status         extended    BIZ BAZ TUR spare CSTP CSTH CNF FX
                                                                             → tentative
    9  050 Update period             fixed 2     spare 2, u14 1/128 s
    10 270 Target size/orientation   compound    LEN WDT HGT (u16 1/100 m), ORT (360/2^16)
    11 300 Object classification     rep. 2      CLS 9, PRB 7                → classes
    12 400 Measurement identifier    fixed 5
    13 600 Horizontal position       compound    P84 (lat, lon s32 180/2^31 deg) 8; HPR 5;
                                                 HPP 5                       → lat_deg, lon_deg
    14 601 Geometric height          compound    GH s24 1/100 m (WGS-84) 3; RSGH 3; SDGH 3;
                                                 CI6 3; CI9 3; COGHHP, COGHHV, COGHHA 2
                                                                             → height_m
    15 602 Horizontal velocity       compound    HV (x, y s20 1/100 m/s) 5; RSHV 5; SDHV 5;
                                                 COHVHP 4                    → vx_mps, vy_mps
    16 603 Horizontal acceleration   compound    HA 3; SDHA 4; COHAHP 4; COHAHV 4
    17 604 Vertical velocity         compound    VV s24 1/100 m/s 3; RSVV 2; SDVV 3;
                                                 COVVHP, COVVHV, COVVHA 2    → vz_mps
    18 605 Vertical acceleration     compound    VA 2; RSVA 4; COVAHP, COVAHV, COVAHA 2
    19 480 Associations              rep. 5
    20 625 Range                     compound    R s24 1/10 m 3; RSR 3; SDR 3 (u24 1/10 m);
                                                 RR s24 1/10 m/s 3; RSRR 3; SDRR 4; RA 2;
                                                 SDRA 4          → range_m, range_sigma_m,
                                                                   range_rate_mps
    21 626 Doppler                   compound    DV s24 1/100 m/s 3; SDDV 2; DA 2; SDDA 3;
                                                 six correlations 1          → doppler_mps
    22 627 Azimuth                   compound    AZ u16 360/2^16 deg 2; RSAZ 2;
                                                 SDASZ u16 45/2^16 deg 2; AZR 2; SDAZR 3;
                                                 AZEX 4          → azimuth_deg, azimuth_sigma_deg
    23 628 Elevation                 compound    EL s16 180/2^16 deg 2; RSEL 2;
                                                 SDEL u16 45/2^16 deg 2; ER 2; SDER 3; ELEX 4
                                                                 → elevation_deg, ..._sigma_deg
    24 630 Path quality              compound    DPP 1; DPS 1; RPP 2; RPS 1
    25 631 Contour                   rep. 8
    26 SP  Special purpose field     explicit
"""

from __future__ import annotations

from dataclasses import dataclass

from skyfence.formats.asterix.block import (
    Compound,
    Explicit,
    Extended,
    Fixed,
    Items,
    Repetitive,
    Uap,
    compound_parts,
    source_fields,
)
from skyfence.formats.asterix.fields import signed, time_of_day_s, unsigned

CATEGORY = 15
EDITION = "1.2"

_F1, _F2, _F3, _F4, _F5 = Fixed(1), Fixed(2), Fixed(3), Fixed(4), Fixed(5)
_POSITION = Compound((Fixed(8), _F5, _F5))
_HEIGHT = Compound((_F3, _F3, _F3, _F3, _F3, _F2, _F2, _F2))
_VELOCITY = Compound((_F5, _F5, _F5, _F4))
_VERTICAL = Compound((_F3, _F2, _F3, _F2, _F2, _F2))
_RANGE = Compound((_F3, _F3, _F3, _F3, _F3, _F4, _F2, _F4))
_DOPPLER = Compound((_F3, _F2, _F2, _F3, _F1, _F1, _F1, _F1, _F1, _F1))
_ANGLE = Compound((_F2, _F2, _F2, _F2, _F3, _F4))
UAP = Uap(CATEGORY, (
    ("010", _F2), ("000", _F1), ("015", _F1), ("020", Extended()), ("030", Extended()),
    ("145", _F3), ("161", _F2), ("170", Extended()), ("050", _F2),
    ("270", Compound((_F2, _F2, _F2, _F2))), ("300", Repetitive(2)), ("400", _F5),
    ("600", _POSITION), ("601", _HEIGHT), ("602", _VELOCITY),
    ("603", Compound((_F3, _F4, _F4, _F4))), ("604", _VERTICAL),
    ("605", Compound((_F2, _F4, _F2, _F2, _F2))), ("480", Repetitive(5)), ("625", _RANGE),
    ("626", _DOPPLER), ("627", _ANGLE), ("628", _ANGLE),
    ("630", Compound((_F1, _F1, _F2, _F1))), ("631", Repetitive(8)), ("SP", Explicit()),
))

MESSAGE_TYPES = {1: "measurement plot", 2: "measurement track", 3: "sensor centric plot",
                 4: "sensor centric track", 5: "track end"}

_AZIMUTH_DEG = 360.0 / 65536.0
_ELEVATION_DEG = 180.0 / 65536.0
_SIGMA_DEG = 45.0 / 65536.0
_LATLON_DEG = 180.0 / (1 << 31)


@dataclass(frozen=True, slots=True)
class Cat015Report:
    """One CAT015 INCS target report; an absent item leaves its fields None/empty."""

    sac: int
    sic: int
    message_type: int | None = None  # see MESSAGE_TYPES
    service_id: int | None = None
    taxonomy: int | None = None  # TTAX: 0 actual, 1 reference, 2 synthetic, 3 simulated
    time_of_day_s: float | None = None
    track_number: int | None = None
    tentative: bool | None = None
    classes: tuple[tuple[int, int], ...] = ()  # (class code per local ICD, probability %)
    lat_deg: float | None = None
    lon_deg: float | None = None
    height_m: float | None = None  # geometric, WGS-84
    vx_mps: float | None = None
    vy_mps: float | None = None
    vz_mps: float | None = None
    range_m: float | None = None
    range_sigma_m: float | None = None
    range_rate_mps: float | None = None
    doppler_mps: float | None = None
    azimuth_deg: float | None = None
    azimuth_sigma_deg: float | None = None
    elevation_deg: float | None = None
    elevation_sigma_deg: float | None = None


def decode(items: Items) -> Cat015Report:
    """The typed report of one record's items (as read with :data:`UAP`)."""
    fields = source_fields(items, 15)
    for name, item in items.items():
        reader = _READERS.get(name)
        if reader is not None:
            reader(item, fields)
    return Cat015Report(**fields)  # type: ignore[arg-type]


def _s(data: bytes) -> int:
    return signed(unsigned(data), 8 * len(data))


def _message(item: bytes, out: dict[str, object]) -> None:
    out["message_type"] = item[0] >> 1


def _service(item: bytes, out: dict[str, object]) -> None:
    out["service_id"] = item[0]


def _descriptor(item: bytes, out: dict[str, object]) -> None:
    out["taxonomy"] = (item[0] >> 4) & 3


def _time(item: bytes, out: dict[str, object]) -> None:
    out["time_of_day_s"] = time_of_day_s(item)


def _number(item: bytes, out: dict[str, object]) -> None:
    out["track_number"] = unsigned(item)


def _status(item: bytes, out: dict[str, object]) -> None:
    out["tentative"] = bool(item[0] & 0x02)


def _classes(item: bytes, out: dict[str, object]) -> None:
    values = (unsigned(item[at: at + 2]) for at in range(1, len(item), 2))
    out["classes"] = tuple((value >> 7, value & 0x7F) for value in values)


def _position(item: bytes, out: dict[str, object]) -> None:
    p84 = compound_parts(_POSITION, item).get(1)
    if p84 is not None:
        out["lat_deg"] = _s(p84[0:4]) * _LATLON_DEG
        out["lon_deg"] = _s(p84[4:8]) * _LATLON_DEG


def _height(item: bytes, out: dict[str, object]) -> None:
    gh = compound_parts(_HEIGHT, item).get(1)
    if gh is not None:
        out["height_m"] = _s(gh) / 100.0


def _velocity(item: bytes, out: dict[str, object]) -> None:
    hv = compound_parts(_VELOCITY, item).get(1)
    if hv is not None:
        value = unsigned(hv)
        out["vx_mps"] = signed(value >> 20, 20) / 100.0
        out["vy_mps"] = signed(value, 20) / 100.0


def _vertical(item: bytes, out: dict[str, object]) -> None:
    vv = compound_parts(_VERTICAL, item).get(1)
    if vv is not None:
        out["vz_mps"] = _s(vv) / 100.0


def _range(item: bytes, out: dict[str, object]) -> None:
    parts = compound_parts(_RANGE, item)
    if 1 in parts:
        out["range_m"] = _s(parts[1]) / 10.0
    if 3 in parts:
        out["range_sigma_m"] = unsigned(parts[3]) / 10.0
    if 4 in parts:
        out["range_rate_mps"] = _s(parts[4]) / 10.0


def _doppler(item: bytes, out: dict[str, object]) -> None:
    dv = compound_parts(_DOPPLER, item).get(1)
    if dv is not None:
        out["doppler_mps"] = _s(dv) / 100.0


def _azimuth(item: bytes, out: dict[str, object]) -> None:
    parts = compound_parts(_ANGLE, item)
    if 1 in parts:
        out["azimuth_deg"] = unsigned(parts[1]) * _AZIMUTH_DEG
    if 3 in parts:
        out["azimuth_sigma_deg"] = unsigned(parts[3]) * _SIGMA_DEG


def _elevation(item: bytes, out: dict[str, object]) -> None:
    parts = compound_parts(_ANGLE, item)
    if 1 in parts:
        out["elevation_deg"] = _s(parts[1]) * _ELEVATION_DEG
    if 3 in parts:
        out["elevation_sigma_deg"] = unsigned(parts[3]) * _SIGMA_DEG


_READERS = {
    "000": _message, "015": _service, "020": _descriptor, "145": _time, "161": _number,
    "170": _status, "300": _classes, "600": _position, "601": _height, "602": _velocity,
    "604": _vertical, "625": _range, "626": _doppler, "627": _azimuth, "628": _elevation,
}
