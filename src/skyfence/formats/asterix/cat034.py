"""CAT034 monoradar service messages, edition 1.29 (2021-03-15) as published by EUROCONTROL
and transcribed in zoranbosnjak/asterix-specs (``specs/cat034/cat-1.29.ast``).

Editions 1.27 and 1.28 have the same items and sizes (1.29 adds message types 5-7 and
counter types 17-20, values only).

UAP (FRN: item, kind, octets) and what is decoded (→ field of :class:`Cat034Message`)::

    1  010 Data source identifier     fixed 2     SAC 8, SIC 8            → sac, sic
    2  000 Message type               fixed 1     1 north marker, 2 sector crossing,
                                                  3 geographical filtering, 4 jamming strobe,
                                                  5 solar storm, 6 SSR / 7 Mode S jamming strobe
    3  030 Time of day                fixed 3     1/128 s since UTC 0h    → time_of_day_s
    4  020 Sector number              fixed 1     360/2^8 deg             → sector_azimuth_deg
    5  041 Antenna rotation period    fixed 2     1/128 s                 → antenna_period_s
    6  050 System configuration       compound    1 COM (1 octet): NOGO RDPC RDPR OVLRDP
                                                  OVLXMT MSC TSV spare; 2, 3 spare;
                                                  4 PSR, 5 SSR (1 octet): ANT CHAB(2) OVL MSC;
                                                  6 MDS (2 octets): ANT CHAB(2) OVLSUR MSC
                                                  SCF DLF OVLSCF OVLDLF spare 7
    7  060 System processing mode     compound    1 COM: spare REDRDP(3) REDXMT(3) spare;
                                                  2, 3 spare; 4 PSR: POL REDRAD(3) STC(2);
                                                  5 SSR: REDRAD(3); 6 MDS: REDRAD(3) CLU
    8  070 Message count values       repetitive 2  TYP 5, COUNT 11
    9  100 Generic polar window       fixed 8     RHO start, end 1/256 NM; THETA start, end
                                                  360/2^16 deg
    10 110 Data filter                fixed 1     filter type
    11 120 3-D position of source     fixed 8     height s16 m, lat s24, lon s24 180/2^23 deg
    12 090 Collimation error          fixed 2     range s8 1/128 NM, azimuth s8 360/2^14 deg
    13 RE  Reserved expansion field   explicit
    14 SP  Special purpose field      explicit
"""

from __future__ import annotations

from dataclasses import dataclass

from skyfence.formats.asterix.block import (
    Compound,
    Explicit,
    Fixed,
    Items,
    Repetitive,
    Uap,
    compound_parts,
    source_fields,
)
from skyfence.formats.asterix.fields import NM_M, signed, time_of_day_s, unsigned

CATEGORY = 34
EDITION = "1.29"

_STATUS = Compound((Fixed(1), None, None, Fixed(1), Fixed(1), Fixed(2)))
_PROCESSING = Compound((Fixed(1), None, None, Fixed(1), Fixed(1), Fixed(1)))
UAP = Uap(CATEGORY, (
    ("010", Fixed(2)), ("000", Fixed(1)), ("030", Fixed(3)), ("020", Fixed(1)),
    ("041", Fixed(2)), ("050", _STATUS), ("060", _PROCESSING), ("070", Repetitive(2)),
    ("100", Fixed(8)), ("110", Fixed(1)), ("120", Fixed(8)), ("090", Fixed(2)),
    ("RE", Explicit()), ("SP", Explicit()),
))

MESSAGE_TYPES = {
    1: "north marker", 2: "sector crossing", 3: "geographical filtering",
    4: "jamming strobe", 5: "solar storm", 6: "SSR jamming strobe", 7: "Mode S jamming strobe",
}
"""I034/000 message type names, by value."""

_ANGLE16_DEG = 360.0 / 65536.0
_LATLON_DEG = 180.0 / (1 << 23)


@dataclass(frozen=True, slots=True)
class SensorStatus:
    """I034/050 PSR, SSR or Mode S part: antenna, channels, overload, monitoring."""

    antenna: int  # 0 antenna 1, 1 antenna 2
    channels: int  # CHAB: 0 none, 1 A only, 2 B only, 3 A and B
    overload: bool
    monitoring_disconnected: bool


@dataclass(frozen=True, slots=True)
class SystemStatus:
    """I034/050: configuration and status of the radar station."""

    inhibited: bool | None = None  # NOGO: operational use inhibited, discard the data
    rdp_chain: int | None = None  # 1 or 2
    rdp_reset: bool | None = None  # expect new track numbers
    rdp_overload: bool | None = None
    transmission_overload: bool | None = None
    monitoring_disconnected: bool | None = None
    time_source_invalid: bool | None = None
    psr: SensorStatus | None = None
    ssr: SensorStatus | None = None
    mode_s: SensorStatus | None = None

    @property
    def healthy(self) -> bool:
        """Released for use, no overload, time source valid, no sensor overloaded."""
        flags = (self.inhibited, self.rdp_overload, self.transmission_overload,
                 self.time_source_invalid)
        sensors = (self.psr, self.ssr, self.mode_s)
        return not any(flags) and not any(s.overload for s in sensors if s is not None)


@dataclass(frozen=True, slots=True)
class ProcessingMode:
    """I034/060: data-reduction steps in use (0 = none) and PSR settings."""

    rdp_reduction: int | None = None
    transmission_reduction: int | None = None
    psr_reduction: int | None = None
    psr_circular_polarisation: bool | None = None
    psr_stc_map: int | None = None
    ssr_reduction: int | None = None
    mode_s_reduction: int | None = None
    mode_s_cluster_autonomous: bool | None = None


@dataclass(frozen=True, slots=True)
class PolarWindow:
    """I034/100: the window a geographical filter or jamming strobe applies to."""

    range_start_m: float
    range_end_m: float
    azimuth_start_deg: float
    azimuth_end_deg: float


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """I034/120: the radar's own WGS-84 position (height in metres)."""

    height_m: float
    lat_deg: float
    lon_deg: float


@dataclass(frozen=True, slots=True)
class Cat034Message:
    """One CAT034 service message; an item not in the record leaves its field None/empty."""

    sac: int
    sic: int
    message_type: int | None = None  # see MESSAGE_TYPES
    time_of_day_s: float | None = None
    sector_azimuth_deg: float | None = None
    antenna_period_s: float | None = None
    status: SystemStatus | None = None
    processing: ProcessingMode | None = None
    message_counts: tuple[tuple[int, int], ...] = ()  # (counter type, count) for the last scan
    polar_window: PolarWindow | None = None
    data_filter: int | None = None
    position: SourcePosition | None = None
    collimation_range_m: float | None = None
    collimation_azimuth_deg: float | None = None
    reserved_expansion: bytes | None = None
    special_purpose: bytes | None = None

    @property
    def message_name(self) -> str:
        """``"north marker"``, ``"sector crossing"``, … or ``"type 9"``."""
        if self.message_type is None:
            return "unknown"
        return MESSAGE_TYPES.get(self.message_type, f"type {self.message_type}")


def decode(items: Items) -> Cat034Message:
    """The typed message of one record's items (as read with :data:`UAP`)."""
    fields = source_fields(items, 34)
    for name, item in items.items():
        if name == "000":
            fields["message_type"] = item[0]
        elif name == "030":
            fields["time_of_day_s"] = time_of_day_s(item)
        elif name == "020":
            fields["sector_azimuth_deg"] = item[0] * 360.0 / 256.0
        elif name == "041":
            fields["antenna_period_s"] = unsigned(item) / 128.0
        elif name == "050":
            fields["status"] = _status(item)
        elif name == "060":
            fields["processing"] = _processing(item)
        elif name == "070":
            fields["message_counts"] = _counts(item)
        elif name == "100":
            fields["polar_window"] = _window(item)
        elif name == "110":
            fields["data_filter"] = item[0]
        elif name == "120":
            fields["position"] = _position(item)
        elif name == "090":
            fields["collimation_range_m"] = signed(item[0], 8) * NM_M / 128.0
            fields["collimation_azimuth_deg"] = signed(item[1], 8) * 360.0 / 16384.0
        elif name in ("RE", "SP"):
            key = "reserved_expansion" if name == "RE" else "special_purpose"
            fields[key] = item[1:]
    return Cat034Message(**fields)  # type: ignore[arg-type]


def _sensor(octet: int) -> SensorStatus:
    return SensorStatus(antenna=octet >> 7, channels=(octet >> 5) & 3,
                        overload=bool(octet & 0x10), monitoring_disconnected=bool(octet & 0x08))


def _status(item: bytes) -> SystemStatus:
    parts = compound_parts(_STATUS, item)
    fields: dict[str, object] = {}
    com = parts.get(1)
    if com is not None:
        c = com[0]
        fields.update(inhibited=bool(c & 0x80), rdp_chain=2 if c & 0x40 else 1,
                      rdp_reset=bool(c & 0x20), rdp_overload=bool(c & 0x10),
                      transmission_overload=bool(c & 0x08),
                      monitoring_disconnected=bool(c & 0x04),
                      time_source_invalid=bool(c & 0x02))
    for number, key in ((4, "psr"), (5, "ssr"), (6, "mode_s")):
        if number in parts:
            fields[key] = _sensor(parts[number][0])
    return SystemStatus(**fields)  # type: ignore[arg-type]


def _processing(item: bytes) -> ProcessingMode:
    parts = compound_parts(_PROCESSING, item)
    fields: dict[str, object] = {}
    if 1 in parts:
        c = parts[1][0]
        fields.update(rdp_reduction=(c >> 4) & 7, transmission_reduction=(c >> 1) & 7)
    if 4 in parts:
        p = parts[4][0]
        fields.update(psr_circular_polarisation=bool(p & 0x80), psr_reduction=(p >> 4) & 7,
                      psr_stc_map=(p >> 2) & 3)
    if 5 in parts:
        fields["ssr_reduction"] = parts[5][0] >> 5
    if 6 in parts:
        m = parts[6][0]
        fields.update(mode_s_reduction=m >> 5, mode_s_cluster_autonomous=not m & 0x10)
    return ProcessingMode(**fields)  # type: ignore[arg-type]


def _counts(item: bytes) -> tuple[tuple[int, int], ...]:
    out = []
    for at in range(1, len(item), 2):
        value = (item[at] << 8) | item[at + 1]
        out.append((value >> 11, value & 0x07FF))
    return tuple(out)


def _window(item: bytes) -> PolarWindow:
    return PolarWindow(
        range_start_m=unsigned(item[0:2]) * NM_M / 256.0,
        range_end_m=unsigned(item[2:4]) * NM_M / 256.0,
        azimuth_start_deg=unsigned(item[4:6]) * _ANGLE16_DEG,
        azimuth_end_deg=unsigned(item[6:8]) * _ANGLE16_DEG,
    )


def _position(item: bytes) -> SourcePosition:
    return SourcePosition(
        height_m=float(signed(unsigned(item[0:2]), 16)),
        lat_deg=signed(unsigned(item[2:5]), 24) * _LATLON_DEG,
        lon_deg=signed(unsigned(item[5:8]), 24) * _LATLON_DEG,
    )
