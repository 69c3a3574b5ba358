"""CAT062 SDPS system track data, edition 1.21 as published by EUROCONTROL and transcribed
in zoranbosnjak/asterix-specs (``specs/cat062/cat-1.21.ast``): skyfence's own output.

Editions 1.18 to 1.20 size every item the same (1.19+ add two I062/080 extension bits,
sized by FX), so their records decode here too. The reader sizes every item of the UAP;
:func:`decode` turns the items skyfence writes (and a few common others) into a
:class:`Cat062Track`; the rest are sized and skipped.

UAP (FRN: item, kind, octets); ``*`` = written by :func:`encode_record`::

    1  010* Data source identifier        fixed 2    SAC 8, SIC 8
    2  -    spare
    3  015* Service identification        fixed 1
    4  070* Time of track information     fixed 3    1/128 s since UTC midnight
    5  105* Position WGS-84               fixed 8    lat, lon s32 180/2^25 deg
    6  100* Position Cartesian            fixed 6    x, y s24 0.5 m (system plane)
    7  185* Velocity Cartesian            fixed 4    vx, vy s16 0.25 m/s
    8  210  Acceleration Cartesian        fixed 2
    9  060  Track Mode 3/A code           fixed 2    V G CH spare, 12-bit octal code
    10 245  Target identification         fixed 7    STI 2 spare 6, 8 ICAO 6-bit chars
    11 380  Aircraft derived data         compound   28 subfields (ADR decoded)
    12 040* Track number                  fixed 2
    13 080* Track status                  extended   MON SPI MRH SRC(3) CNF FX;
                                                     SIM TSE TSB FPC AFF STP KOS FX;
                                                     AMA MD4(2) ME MI MD5(2) FX;
                                                     CST PSR SSR MDS ADS SUC AAC FX;
                                                     SDS(2) EMS(3) PFT FPLT FX; ...
    14 290* System track update ages      compound   TRK PSR SSR MDS (1), ADS (2),
                                                     ES VDL UAT LOP MLT (1): 1/4 s
    15 200  Mode of movement              fixed 1
    16 295  Track data ages               compound   31 subfields of 1 octet
    17 136  Measured flight level         fixed 2    s16 1/4 FL
    18 130* Geometric altitude            fixed 2    s16 6.25 ft above the WGS-84 ellipsoid
    19 135  Barometric altitude           fixed 2
    20 220  Rate of climb/descent         fixed 2
    21 390  Flight plan related data      compound   18 subfields
    22 270  Target size and orientation   extended
    23 300  Vehicle fleet identification  fixed 1
    24 110  Mode 5 data                   compound   7 subfields
    25 120  Track Mode 2 code             fixed 2
    26 510  Composed track number         extended   parts of 3 octets
    27 500* Estimated accuracies          compound   APC: sigma x, y u16 0.5 m; COV: s16 0.5 m
                                                     (sign(cov) sqrt|cov|); APW 4; AGA: u8
                                                     6.25 ft; ABA 1; ATV 2; AA 2; ARC 1
    28 340  Measured information          compound   6 subfields
    29-33   spare
    34 RE   Reserved expansion field      explicit
    35 SP   Special purpose field         explicit
"""

from __future__ import annotations

import math
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
    fspec,
    source_fields,
)
from skyfence.formats.asterix.fields import (
    FT_M,
    icao_text,
    octal_code,
    signed,
    time_of_day_s,
    to_twos,
    unsigned,
)

CATEGORY = 62
EDITION = "1.21"

_F1, _F2 = Fixed(1), Fixed(2)
_AIRCRAFT_DATA = Compound((
    Fixed(3), Fixed(6), _F2, _F2, _F2, _F2, _F2, Extended(), Repetitive(15), _F2, _F2,
    Fixed(7), _F2, _F2, _F2, _F2, _F2, _F2, _F1, Fixed(8), _F1, Fixed(6), _F2, _F1,
    Repetitive(8), _F2, _F2, _F2,
))
_AGES = Compound((_F1, _F1, _F1, _F1, _F2, _F1, _F1, _F1, _F1, _F1))
_ACCURACIES = Compound((Fixed(4), _F2, Fixed(4), _F1, _F1, _F2, _F2, _F1))
_FLIGHT_PLAN = Compound((
    _F2, Fixed(7), Fixed(4), _F1, Fixed(4), _F1, Fixed(4), Fixed(4), Fixed(3), _F2, _F2,
    Repetitive(4), Fixed(6), _F1, Fixed(7), Fixed(7), _F2, Fixed(7),
))
UAP = Uap(CATEGORY, (
    ("010", _F2), None, ("015", _F1), ("070", Fixed(3)), ("105", Fixed(8)),
    ("100", Fixed(6)), ("185", Fixed(4)), ("210", _F2), ("060", _F2), ("245", Fixed(7)),
    ("380", _AIRCRAFT_DATA), ("040", _F2), ("080", Extended()), ("290", _AGES),
    ("200", _F1), ("295", Compound((_F1,) * 31)), ("136", _F2), ("130", _F2), ("135", _F2),
    ("220", _F2), ("390", _FLIGHT_PLAN), ("270", Extended()), ("300", _F1),
    ("110", Compound((_F1, Fixed(4), Fixed(6), _F2, _F2, _F1, _F1))), ("120", _F2),
    ("510", Extended(3, 3)),
    ("500", _ACCURACIES),
    ("340", Compound((_F2, Fixed(4), _F2, _F2, _F2, _F1))),
    None, None, None, None, None, ("RE", Explicit()), ("SP", Explicit()),
))
FRN = {entry[0]: frn for frn, entry in enumerate(UAP.items, start=1) if entry is not None}

_LATLON_DEG = 180.0 / (1 << 25)
_ALTITUDE_M = 6.25 * FT_M
AGE_LSB_S = 0.25
MAX_AGE_S = 255 * AGE_LSB_S

SURVEILLANCE_COMBINED = 0
SURVEILLANCE_COOPERATIVE_ONLY = 1
SURVEILLANCE_NON_COOPERATIVE_ONLY = 2


@dataclass(frozen=True, slots=True)
class TrackStatus:
    """I062/080, the first five octets (later octets, if received, are sized and skipped)."""

    monosensor: bool = False  # MON
    spi: bool = False
    geometric_height_preferred: bool = False  # MRH
    altitude_source: int = 0  # SRC: 0 none, 1 GNSS, 2 3-D radar, 3 triangulation, ...
    tentative: bool = False  # CNF: 0 confirmed, 1 tentative
    simulated: bool = False  # SIM
    last_message: bool = False  # TSE: last message for this track
    first_message: bool = False  # TSB: first message for this track
    coasting: bool = False  # CST
    surveillance_sources: int = SURVEILLANCE_COMBINED  # SDS: 0 combined, 1 co-op, 2 non-co-op


@dataclass(frozen=True, slots=True)
class Cat062Track:
    """One CAT062 system track record; an absent item leaves its field None."""

    sac: int
    sic: int
    service_id: int | None = None
    time_of_day_s: float | None = None
    lat_deg: float | None = None
    lon_deg: float | None = None
    x_m: float | None = None  # east of the system reference point (skyfence: site origin)
    y_m: float | None = None  # north
    vx_mps: float | None = None
    vy_mps: float | None = None
    track_number: int | None = None
    status: TrackStatus | None = None
    track_age_s: float | None = None  # I062/290 TRK: time since the track began
    geometric_altitude_m: float | None = None  # above the WGS-84 ellipsoid
    mode3a: str | None = None
    callsign: str | None = None
    flight_level: float | None = None
    aircraft_address: str | None = None
    sigma_x_m: float | None = None  # I062/500 APC: standard deviation of x
    sigma_y_m: float | None = None
    xy_covariance_m: float | None = None  # I062/500 COV: sign(cov(x, y)) * sqrt(|cov(x, y)|)
    sigma_altitude_m: float | None = None  # I062/500 AGA


# -------------------------------------------------------------------- decoding
def decode(items: Items) -> Cat062Track:
    """The typed track of one record's items (as read with :data:`UAP`)."""
    fields = source_fields(items, 62)
    for name, item in items.items():
        if name == "015":
            fields["service_id"] = item[0]
        elif name == "070":
            fields["time_of_day_s"] = time_of_day_s(item)
        elif name == "105":
            fields["lat_deg"] = signed(unsigned(item[0:4]), 32) * _LATLON_DEG
            fields["lon_deg"] = signed(unsigned(item[4:8]), 32) * _LATLON_DEG
        elif name == "100":
            fields["x_m"] = signed(unsigned(item[0:3]), 24) * 0.5
            fields["y_m"] = signed(unsigned(item[3:6]), 24) * 0.5
        elif name == "185":
            fields["vx_mps"] = signed(unsigned(item[0:2]), 16) * 0.25
            fields["vy_mps"] = signed(unsigned(item[2:4]), 16) * 0.25
        elif name == "040":
            fields["track_number"] = unsigned(item)
        elif name == "080":
            fields["status"] = _status(item)
        elif name == "290":
            trk = compound_parts(_AGES, item).get(1)
            if trk is not None:
                fields["track_age_s"] = trk[0] * AGE_LSB_S
        elif name == "130":
            fields["geometric_altitude_m"] = signed(unsigned(item), 16) * _ALTITUDE_M
        elif name == "060":
            fields["mode3a"] = octal_code(unsigned(item))
        elif name == "245":
            fields["callsign"] = icao_text(item[1:7])
        elif name == "136":
            fields["flight_level"] = signed(unsigned(item), 16) / 4.0
        elif name == "500":
            fields.update(_accuracies(item))
        elif name == "380":
            adr = compound_parts(_AIRCRAFT_DATA, item).get(1)
            if adr is not None:
                fields["aircraft_address"] = adr.hex().upper()
    return Cat062Track(**fields)  # type: ignore[arg-type]


def _accuracies(item: bytes) -> dict[str, float]:
    parts = compound_parts(_ACCURACIES, item)
    out: dict[str, float] = {}
    if 1 in parts:
        out["sigma_x_m"] = unsigned(parts[1][0:2]) * 0.5
        out["sigma_y_m"] = unsigned(parts[1][2:4]) * 0.5
    if 2 in parts:
        out["xy_covariance_m"] = signed(unsigned(parts[2]), 16) * 0.5
    if 4 in parts:
        out["sigma_altitude_m"] = parts[4][0] * _ALTITUDE_M
    return out


def _status(item: bytes) -> TrackStatus:
    octets = item + bytes(5)  # absent extensions read as zeros
    first, second, fourth, fifth = octets[0], octets[1], octets[3], octets[4]
    return TrackStatus(
        monosensor=bool(first & 0x80), spi=bool(first & 0x40),
        geometric_height_preferred=bool(first & 0x20), altitude_source=(first >> 2) & 7,
        tentative=bool(first & 0x02), simulated=bool(second & 0x80),
        last_message=bool(second & 0x40), first_message=bool(second & 0x20),
        coasting=bool(fourth & 0x80), surveillance_sources=fifth >> 6,
    )


# -------------------------------------------------------------------- encoding
def encode_record(track: Cat062Track) -> bytes:
    """One CAT062 record (FSPEC + items) of the fields that are set.

    Raises ``ValueError`` for a value the item cannot carry (a position more than
    4194 km from the reference point, a speed above 8191 m/s).
    """
    parts: list[tuple[int, bytes]] = [(FRN["010"], bytes((track.sac, track.sic)))]
    if track.service_id is not None:
        parts.append((FRN["015"], bytes((track.service_id,))))
    if track.time_of_day_s is not None:
        count = round(track.time_of_day_s * 128) % (86400 * 128)
        parts.append((FRN["070"], count.to_bytes(3, "big")))
    if track.lat_deg is not None and track.lon_deg is not None:
        parts.append((FRN["105"], _s(track.lat_deg / _LATLON_DEG, 32)
                      + _s(track.lon_deg / _LATLON_DEG, 32)))
    if track.x_m is not None and track.y_m is not None:
        parts.append((FRN["100"], _s(track.x_m / 0.5, 24) + _s(track.y_m / 0.5, 24)))
    if track.vx_mps is not None and track.vy_mps is not None:
        parts.append((FRN["185"], _s(track.vx_mps / 0.25, 16) + _s(track.vy_mps / 0.25, 16)))
    if track.track_number is not None:
        parts.append((FRN["040"], (track.track_number & 0xFFFF).to_bytes(2, "big")))
    if track.status is not None:
        parts.append((FRN["080"], encode_status(track.status)))
    if track.track_age_s is not None:
        age = min(255, max(0, round(track.track_age_s / AGE_LSB_S)))
        parts.append((FRN["290"], bytes((0x80, age))))
    if track.geometric_altitude_m is not None:
        parts.append((FRN["130"], _s(track.geometric_altitude_m / _ALTITUDE_M, 16)))
    accuracies = encode_accuracies(track)
    if accuracies:
        parts.append((FRN["500"], accuracies))
    parts.sort()
    return fspec([frn for frn, _ in parts]) + b"".join(data for _, data in parts)


def encode_status(status: TrackStatus) -> bytes:
    """I062/080 as five octets (first part and four extensions)."""
    first = ((status.monosensor << 7) | (status.spi << 6)
             | (status.geometric_height_preferred << 5) | ((status.altitude_source & 7) << 2)
             | (status.tentative << 1) | 1)
    second = (status.simulated << 7) | (status.last_message << 6) | (status.first_message << 5) | 1
    third = 1
    fourth = (status.coasting << 7) | 1
    fifth = (status.surveillance_sources & 3) << 6
    return bytes((first, second, third, fourth, fifth))


def encode_accuracies(track: Cat062Track) -> bytes:
    """I062/500 subfields APC, COV, AGA of the accuracies that are set (b"" if none);
    values beyond an element's range are sent as its maximum, as the specification says."""
    present = 0
    data = b""
    if track.sigma_x_m is not None and track.sigma_y_m is not None:
        present |= 0x80
        data += _saturated(track.sigma_x_m / 0.5, 16) + _saturated(track.sigma_y_m / 0.5, 16)
    if track.xy_covariance_m is not None:
        present |= 0x40
        limit = (1 << 15) - 1
        count = max(-limit, min(limit, round(track.xy_covariance_m / 0.5)))
        data += to_twos(count, 16).to_bytes(2, "big")
    if track.sigma_altitude_m is not None:
        present |= 0x10
        data += _saturated(track.sigma_altitude_m / _ALTITUDE_M, 8)
    return bytes((present,)) + data if present else b""


def _saturated(value: float, bits: int) -> bytes:
    if math.isnan(value):
        raise ValueError("cannot encode NaN")
    count = max(0, min((1 << bits) - 1, round(value))) if math.isfinite(value) else (1 << bits) - 1
    return count.to_bytes(bits // 8, "big")


def _s(value: float, bits: int) -> bytes:
    if not math.isfinite(value):
        raise ValueError(f"cannot encode {value}")
    return to_twos(round(value), bits).to_bytes(bits // 8, "big")
