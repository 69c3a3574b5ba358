"""CAT048 monoradar target reports, edition 1.32 (2024-07-01) as published by EUROCONTROL
and transcribed in zoranbosnjak/asterix-specs (``specs/cat048/cat-1.32.ast``).

Editions 1.27 to 1.31 differ from 1.32 only in extensions of I048/020, which the
reader sizes by their FX bits, so records of those editions decode the same.

UAP (FRN: item, kind, octets) and what is decoded (→ field of :class:`Cat048Report`)::

    1  010 Data source identifier       fixed 2      SAC 8, SIC 8          → sac, sic
    2  140 Time of day                  fixed 3      1/128 s since UTC 0h  → time_of_day_s
    3  020 Target report descriptor     extended     TYP 3 SIM 1 RDP 1 SPI 1 RAB 1 FX;
                                                     TST 1 ERR 1 XPP 1 ME 1 MI 1 FOEFRI 2 FX
    4  040 Measured polar position      fixed 4      RHO u16 1/256 NM, THETA u16 360/2^16 deg
                                                                           → range_m, azimuth_deg
    5  070 Mode 3/A code                fixed 2      V G L spare, 12-bit octal code → mode3a
    6  090 Flight level                 fixed 2      V G, FL s14 1/4 FL    → flight_level
    7  130 Radar plot characteristics   compound     SRL SRR SAM PRL PAM RPD APD, 1 octet each
    8  220 Aircraft address             fixed 3      24-bit Mode S address → aircraft_address
    9  240 Aircraft identification      fixed 6      8 ICAO 6-bit chars    → callsign
    10 250 BDS register data            repetitive 8 MB 56, BDS1 4, BDS2 4
    11 161 Track number                 fixed 2      spare 4, TRN 12
    12 042 Calculated Cartesian pos.    fixed 4      X, Y s16 1/128 NM     → x_m, y_m
    13 200 Calculated polar velocity    fixed 4      GSP u16 2^-14 NM/s, HDG u16 360/2^16 deg
    14 170 Track status                 extended     CNF RAD(2) DOU MAH CDM(2) FX; TRE GHO SUP TCC
    15 210 Track quality                fixed 4      sigma X, Y 1/128 NM; V 2^-14 NM/s; H 360/2^12
    16 030 Warning/error conditions     rep. FX      7-bit codes
    17 080 Mode 3/A confidence          fixed 2      (sized, not decoded)
    18 100 Mode C code and confidence   fixed 4      V G spare2, Gray code 12; confidence 16
    19 110 Height measured by 3-D radar fixed 2      spare 2, s14 25 ft (above mean sea level)
    20 120 Radial Doppler speed         compound     CAL: D 1 spare 5 s10 m/s (2 octets);
                                                     RDS: repetitive 6 (DOP, AMB m/s, FRQ MHz)
    21 230 Comms/ACAS capability        fixed 2      (kept raw)
    22 260 ACAS resolution advisory     fixed 7      (kept raw)
    23 055 Mode 1 code                  fixed 1      (kept raw)
    24 050 Mode 2 code                  fixed 2      V G L spare, 12-bit octal code
    25 065 Mode 1 confidence            fixed 1      (sized, not decoded)
    26 060 Mode 2 confidence            fixed 2      (sized, not decoded)
    27 SP  Special purpose field        explicit     (kept raw)
    28 RE  Reserved expansion field     explicit     (kept raw)
"""

from __future__ import annotations

from collections.abc import Callable
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
from skyfence.formats.asterix.fields import (
    FT_M,
    NM_M,
    icao_text,
    octal_code,
    signed,
    time_of_day_s,
    unsigned,
)

CATEGORY = 48
EDITION = "1.32"

_PLOT = Compound((Fixed(1),) * 7)
_DOPPLER = Compound((Fixed(2), Repetitive(6)))
UAP = Uap(CATEGORY, (
    ("010", Fixed(2)), ("140", Fixed(3)), ("020", Extended()), ("040", Fixed(4)),
    ("070", Fixed(2)), ("090", Fixed(2)), ("130", _PLOT),
    ("220", Fixed(3)), ("240", Fixed(6)), ("250", Repetitive(8)), ("161", Fixed(2)),
    ("042", Fixed(4)), ("200", Fixed(4)), ("170", Extended()), ("210", Fixed(4)),
    ("030", Extended()), ("080", Fixed(2)), ("100", Fixed(4)), ("110", Fixed(2)),
    ("120", _DOPPLER), ("230", Fixed(2)), ("260", Fixed(7)),
    ("055", Fixed(1)), ("050", Fixed(2)), ("065", Fixed(1)), ("060", Fixed(2)),
    ("SP", Explicit()), ("RE", Explicit()),
))

TARGET_TYPES = (
    "no detection", "single PSR", "single SSR", "SSR + PSR", "single Mode S all-call",
    "single Mode S roll-call", "Mode S all-call + PSR", "Mode S roll-call + PSR",
)
"""I048/020 TYP, by value."""

_RHO_M = NM_M / 256.0
_ANGLE16_DEG = 360.0 / 65536.0
_XY_M = NM_M / 128.0
_SPEED_MPS = NM_M / 16384.0


@dataclass(frozen=True, slots=True)
class PlotCharacteristics:
    """I048/130: quality of the plot; absent subfields are None."""

    ssr_runlength_deg: float | None = None
    ssr_replies: int | None = None
    ssr_amplitude_dbm: int | None = None
    psr_runlength_deg: float | None = None
    psr_amplitude_dbm: int | None = None
    psr_minus_ssr_range_m: float | None = None
    psr_minus_ssr_azimuth_deg: float | None = None


@dataclass(frozen=True, slots=True)
class BdsRegister:
    """One I048/250 entry: a Comm-B message (56 bits) and its register address."""

    message: bytes
    bds1: int
    bds2: int


@dataclass(frozen=True, slots=True)
class TrackStatus:
    """I048/170 (first part, and the first extension when present)."""

    confirmed: bool
    sensor_kind: int  # RAD: 0 combined, 1 PSR, 2 SSR/Mode S, 3 invalid
    low_confidence: bool
    manoeuvre: bool
    climb_mode: int  # CDM: 0 maintaining, 1 climbing, 2 descending, 3 unknown
    end_of_track: bool = False
    ghost: bool = False


@dataclass(frozen=True, slots=True)
class TrackQuality:
    """I048/210: standard deviations of the radar's own track."""

    sigma_x_m: float
    sigma_y_m: float
    sigma_speed_mps: float
    sigma_heading_deg: float


@dataclass(frozen=True, slots=True)
class RawDoppler:
    """One I048/120 RDS entry: raw Doppler speed, its ambiguity range, transmitter frequency."""

    doppler_mps: int
    ambiguity_mps: int
    frequency_mhz: int


@dataclass(frozen=True, slots=True)
class Cat048Report:
    """One CAT048 target report; an item not in the record leaves its fields None/empty."""

    sac: int
    sic: int
    time_of_day_s: float | None = None
    target_type: int | None = None  # I048/020 TYP, see TARGET_TYPES
    simulated: bool = False
    test_target: bool = False
    spi: bool = False
    field_monitor: bool = False  # RAB: report from a fixed transponder
    range_m: float | None = None
    azimuth_deg: float | None = None
    mode3a: str | None = None
    mode3a_valid: bool | None = None
    mode3a_garbled: bool | None = None
    flight_level: float | None = None  # in flight levels (100 ft), pressure altitude
    flight_level_valid: bool | None = None
    plot: PlotCharacteristics | None = None
    aircraft_address: str | None = None  # 6 hex digits, "3C660C"
    callsign: str | None = None
    bds_registers: tuple[BdsRegister, ...] = ()
    track_number: int | None = None
    x_m: float | None = None
    y_m: float | None = None
    ground_speed_mps: float | None = None
    heading_deg: float | None = None
    track_status: TrackStatus | None = None
    track_quality: TrackQuality | None = None
    warnings: tuple[int, ...] = ()
    mode_c_gray: int | None = None
    height_3d_m: float | None = None  # above mean sea level
    doppler_speed_mps: float | None = None  # calculated; positive away (recommended)
    doppler_doubtful: bool | None = None
    raw_doppler: tuple[RawDoppler, ...] = ()
    comms_acas: int | None = None
    acas_ra: bytes | None = None
    mode1: int | None = None
    mode2: str | None = None
    special_purpose: bytes | None = None
    reserved_expansion: bytes | None = None


# ------------------------------------------------------------------- decoding
Reader = Callable[[bytes], dict[str, object]]
"""An item's octets → the report fields it fills."""


def decode(items: Items) -> Cat048Report:
    """The typed report of one record's items (as read with :data:`UAP`)."""
    fields = source_fields(items, 48)
    for name, item in items.items():
        reader = _READERS.get(name)
        if reader is not None:
            fields.update(reader(item))
    return Cat048Report(**fields)  # type: ignore[arg-type]


def _time(item: bytes) -> dict[str, object]:
    return {"time_of_day_s": time_of_day_s(item)}


def _descriptor(item: bytes) -> dict[str, object]:
    first = item[0]
    out: dict[str, object] = {"target_type": first >> 5, "simulated": bool(first & 0x10),
                              "spi": bool(first & 0x04), "field_monitor": bool(first & 0x02)}
    if len(item) > 1:
        out["test_target"] = bool(item[1] & 0x80)
    return out


def _polar(item: bytes) -> dict[str, object]:
    rho = (item[0] << 8) | item[1]
    theta = (item[2] << 8) | item[3]
    return {"range_m": rho * _RHO_M, "azimuth_deg": theta * _ANGLE16_DEG}


def _mode3a(item: bytes) -> dict[str, object]:
    value = (item[0] << 8) | item[1]
    return {"mode3a": octal_code(value), "mode3a_valid": not value & 0x8000,
            "mode3a_garbled": bool(value & 0x4000)}


def _flight_level(item: bytes) -> dict[str, object]:
    value = (item[0] << 8) | item[1]
    return {"flight_level": signed(value, 14) / 4.0, "flight_level_valid": not value & 0x8000}


def _plot(item: bytes) -> dict[str, object]:
    parts = compound_parts(_PLOT, item)
    def get(number: int) -> int | None:
        return parts[number][0] if number in parts else None
    srl, srr, sam, prl, pam, rpd, apd = (get(n) for n in range(1, 8))
    return {"plot": PlotCharacteristics(
        ssr_runlength_deg=None if srl is None else srl * 360.0 / 8192.0,
        ssr_replies=srr,
        ssr_amplitude_dbm=None if sam is None else signed(sam, 8),
        psr_runlength_deg=None if prl is None else prl * 360.0 / 8192.0,
        psr_amplitude_dbm=None if pam is None else signed(pam, 8),
        psr_minus_ssr_range_m=None if rpd is None else signed(rpd, 8) * _RHO_M,
        psr_minus_ssr_azimuth_deg=None if apd is None else signed(apd, 8) * 360.0 / 16384.0,
    )}



def _address(item: bytes) -> dict[str, object]:
    return {"aircraft_address": item.hex().upper()}


def _callsign(item: bytes) -> dict[str, object]:
    return {"callsign": icao_text(item)}


def _bds(item: bytes) -> dict[str, object]:
    registers = tuple(
        BdsRegister(item[at: at + 7], item[at + 7] >> 4, item[at + 7] & 0x0F)
        for at in range(1, len(item), 8)
    )
    return {"bds_registers": registers}


def _track_number(item: bytes) -> dict[str, object]:
    return {"track_number": ((item[0] << 8) | item[1]) & 0x0FFF}


def _cartesian(item: bytes) -> dict[str, object]:
    x = signed((item[0] << 8) | item[1], 16)
    y = signed((item[2] << 8) | item[3], 16)
    return {"x_m": x * _XY_M, "y_m": y * _XY_M}


def _velocity(item: bytes) -> dict[str, object]:
    speed = (item[0] << 8) | item[1]
    heading = (item[2] << 8) | item[3]
    return {"ground_speed_mps": speed * _SPEED_MPS, "heading_deg": heading * _ANGLE16_DEG}


def _track_status(item: bytes) -> dict[str, object]:
    first = item[0]
    second = item[1] if len(item) > 1 else 0
    return {"track_status": TrackStatus(
        confirmed=not first & 0x80, sensor_kind=(first >> 5) & 3,
        low_confidence=bool(first & 0x10), manoeuvre=bool(first & 0x08),
        climb_mode=(first >> 1) & 3, end_of_track=bool(second & 0x80),
        ghost=bool(second & 0x40),
    )}


def _track_quality(item: bytes) -> dict[str, object]:
    return {"track_quality": TrackQuality(
        sigma_x_m=item[0] * _XY_M, sigma_y_m=item[1] * _XY_M,
        sigma_speed_mps=item[2] * _SPEED_MPS, sigma_heading_deg=item[3] * 360.0 / 4096.0,
    )}


def _warnings(item: bytes) -> dict[str, object]:
    return {"warnings": tuple(octet >> 1 for octet in item)}


def _mode_c(item: bytes) -> dict[str, object]:
    return {"mode_c_gray": ((item[0] << 8) | item[1]) & 0x0FFF}


def _height(item: bytes) -> dict[str, object]:
    return {"height_3d_m": signed((item[0] << 8) | item[1], 14) * 25.0 * FT_M}


def _doppler(item: bytes) -> dict[str, object]:
    parts = compound_parts(_DOPPLER, item)
    out: dict[str, object] = {}
    cal = parts.get(1)
    if cal is not None:
        value = (cal[0] << 8) | cal[1]
        out["doppler_speed_mps"] = float(signed(value, 10))
        out["doppler_doubtful"] = bool(value & 0x8000)
    rds = parts.get(2)
    if rds is not None:
        out["raw_doppler"] = tuple(
            RawDoppler(unsigned(rds[at: at + 2]), unsigned(rds[at + 2: at + 4]),
                       unsigned(rds[at + 4: at + 6]))
            for at in range(1, len(rds), 6)
        )
    return out


def _raw(name: str) -> Reader:
    def read(item: bytes) -> dict[str, object]:
        return {name: item}
    return read


def _comms(item: bytes) -> dict[str, object]:
    return {"comms_acas": (item[0] << 8) | item[1]}


def _mode1(item: bytes) -> dict[str, object]:
    return {"mode1": item[0]}


def _mode2(item: bytes) -> dict[str, object]:
    return {"mode2": octal_code((item[0] << 8) | item[1])}


def _explicit(name: str) -> Reader:
    def read(item: bytes) -> dict[str, object]:
        return {name: item[1:]}
    return read


_READERS: dict[str, Reader] = {
    "140": _time, "020": _descriptor, "040": _polar, "070": _mode3a, "090": _flight_level,
    "130": _plot, "220": _address, "240": _callsign, "250": _bds, "161": _track_number,
    "042": _cartesian, "200": _velocity, "170": _track_status, "210": _track_quality,
    "030": _warnings, "100": _mode_c, "110": _height, "120": _doppler, "230": _comms,
    "260": _raw("acas_ra"), "055": _mode1, "050": _mode2,
    "SP": _explicit("special_purpose"), "RE": _explicit("reserved_expansion"),
}
