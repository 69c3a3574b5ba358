"""Small field readers shared by the ASTERIX categories: units, two's complement, codes.

All pure functions of already-sized item octets; big-endian as everywhere in ASTERIX.
"""

from __future__ import annotations

from skyfence.formats.errors import DecodeError

NM_M = 1852.0
"""One nautical mile in metres."""
FT_M = 0.3048
"""One foot in metres."""
SECONDS_PER_DAY = 86400.0
TOD_LSB_S = 1.0 / 128.0
"""Time of day: 1/128 s per count (I048/140, I034/030, I062/070)."""

# ICAO 6-bit character set (Annex 10 vol IV): index → character; "#" marks unused codes
# and code 0 (unset) reads as a blank, as other decoders do.
_ICAO_CHARS = " ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"


def unsigned(data: bytes) -> int:
    """Octets as one big-endian unsigned integer."""
    return int.from_bytes(data, "big")


def signed(value: int, bits: int) -> int:
    """The two's-complement value of the low ``bits`` bits of ``value``."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def to_twos(value: int, bits: int) -> int:
    """``value`` as ``bits``-bit two's complement (raises if it does not fit)."""
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not low <= value <= high:
        raise ValueError(f"{value} does not fit in {bits} signed bits")
    return value & ((1 << bits) - 1)


def octal_code(code12: int) -> str:
    """A 12-bit Mode 1/2/3A code (A4 A2 A1 B4 .. D1) as its 4 octal digits, ``"7000"``."""
    return f"{code12 & 0xFFF:04o}"


def icao_text(data: bytes) -> str:
    """Eight 6-bit ICAO characters from 6 octets (I048/240, I062/245), trailing blanks kept."""
    value = unsigned(data)
    chars = [_ICAO_CHARS[(value >> shift) & 0x3F] for shift in range(42, -1, -6)]
    return "".join(chars)


def time_of_day_s(data: bytes) -> float:
    """A 3-octet time of day (1/128 s since UTC midnight); 24 h or more is refused."""
    value = unsigned(data) * TOD_LSB_S
    if value >= SECONDS_PER_DAY:
        raise DecodeError("time of day past 24 h", f"{value} s")
    return value
