"""Remote ID messages (ASTM F3411-22a / ASD-STAN EN 4709-002): pure decoders and encoders.

Every broadcast Remote ID message is 25 bytes; multi-byte fields are little
endian. Byte 0 is the header: message type in the high nibble, protocol
version in the low nibble (0: F3411-19, 1: EN 4709-002 P1, 2: F3411-22a).
Bits are numbered 7 (most significant) to 0.

Basic ID (type 0)::

    1      7..4 ID type (0 none, 1 serial number, 2 CAA registration,
                3 UTM UUID, 4 specific session ID); 3..0 UA type (0..15)
    2..21  UAS ID: ASCII, NUL padded (types 1, 2); binary (types 3, 4)
    22..24 reserved

Location/Vector (type 1)::

    1      7..4 status; 3 reserved; 2 height type (0 above takeoff, 1 above
           ground); 1 E/W direction segment (1: add 180 deg); 0 speed multiplier
    2      track direction, deg (0..179, +180 if E/W bit)   unknown: 361 deg
    3      speed: mult 0: n x 0.25 m/s; mult 1: 63.75 + n x 0.75 m/s
                                                             unknown: 255 m/s
    4      vertical speed, int8 x 0.5 m/s, up positive      unknown: 63 m/s
    5..8   latitude, int32 x 1e-7 deg                        unknown: 0 (with lon)
    9..12  longitude, int32 x 1e-7 deg                       unknown: 0 (with lat)
    13..14 pressure altitude  uint16 x 0.5 - 1000 m          unknown: -1000 m
    15..16 geodetic altitude (WGS-84 HAE), same encoding     unknown: -1000 m
    17..18 height above takeoff/ground, same encoding        unknown: -1000 m
    19     7..4 vertical accuracy; 3..0 horizontal accuracy  (codes, below)
    20     7..4 barometric altitude accuracy; 3..0 speed accuracy
    21..22 timestamp: 1/10 s since the full UTC hour (0..36000) unknown: 0xFFFF
    23     7..4 reserved; 3..0 timestamp accuracy, n x 0.1 s (0 unknown)
    24     reserved

Authentication (type 2)::

    1      7..4 authentication type; 3..0 data page (0..15)
    page 0:  2 last page index; 3 length of the authentication data (bytes);
             4..7 timestamp, s since 2019-01-01 00:00 UTC; 8..24 data (17 bytes)
    page 1+: 2..24 data (23 bytes)

Self-ID (type 3): 1 description type (0 text, 1 emergency, 2 extended status);
2..24 description, ASCII, NUL padded.

System (type 4)::

    1      7..5 reserved; 4..2 classification type (0 undeclared, 1 EU);
           1..0 operator location type (0 takeoff, 1 live GNSS, 2 fixed)
    2..5   operator latitude, int32 x 1e-7 deg               unknown: 0 (with lon)
    6..9   operator longitude, int32 x 1e-7 deg
    10..11 area count; 12 area radius, n x 10 m
    13..14 area ceiling; 15..16 area floor (altitude encoding) unknown: -1000 m
    17     7..4 UA category (EU); 3..0 UA class (EU)
    18..19 operator geodetic altitude (altitude encoding)    unknown: -1000 m
    20..23 timestamp, s since 2019-01-01 00:00 UTC           unknown: 0
    24     reserved

Operator ID (type 5): 1 operator ID type; 2..21 operator ID, ASCII; 22..24 reserved.

Message Pack (type 0xF): 1 single message size (always 25); 2 number of
messages (1..9; transmitters also send empty packs, count 0, read as no
messages); then that many 25-byte messages (no nested packs).

Accuracy codes: horizontal 1..12 = 18520, 7408, 3704, 1852, 926, 555.6,
185.2, 92.6, 30, 10, 3, 1 m; vertical/baro 1..6 = 150, 45, 25, 10, 3, 1 m;
speed 1..4 = 10, 3, 1, 0.3 m/s; 0 and reserved codes: unknown.

The standard's "invalid / no value / unknown" sentinels come out as ``None``;
so do values the encoding can carry but the standard calls out of range
(direction >= 360, a timestamp past the hour, latitude beyond +-90 deg).
Decoders raise only :class:`~skyfence.formats.errors.DecodeError`. The
encoders quantise physical values the way the reference implementation
(opendroneid-core-c) does, so the same inputs give the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

from skyfence.formats.errors import DecodeError

MESSAGE_SIZE: Final = 25
PACK_MAX_MESSAGES: Final = 9
PROTOCOL_VERSION: Final = 2
EPOCH_2019_UTC_S: Final = 1_546_300_800
"""2019-01-01 00:00:00 UTC in Unix seconds: the epoch of System and Auth timestamps."""

TYPE_BASIC_ID: Final = 0
TYPE_LOCATION: Final = 1
TYPE_AUTH: Final = 2
TYPE_SELF_ID: Final = 3
TYPE_SYSTEM: Final = 4
TYPE_OPERATOR_ID: Final = 5
TYPE_MESSAGE_PACK: Final = 0xF

ID_TYPE_NAMES: Final = {0: "none", 1: "serial_number", 2: "caa_registration",
                        3: "utm_uuid", 4: "specific_session_id"}
UA_TYPE_NAMES: Final = {
    0: "none", 1: "aeroplane", 2: "helicopter_or_multirotor", 3: "gyroplane",
    4: "hybrid_lift", 5: "ornithopter", 6: "glider", 7: "kite", 8: "free_balloon",
    9: "captive_balloon", 10: "airship", 11: "free_fall_parachute", 12: "rocket",
    13: "tethered_powered_aircraft", 14: "ground_obstacle", 15: "other"}
STATUS_NAMES: Final = {0: "undeclared", 1: "ground", 2: "airborne", 3: "emergency",
                       4: "remote_id_system_failure"}

HORIZONTAL_ACCURACY_M: Final = {1: 18520.0, 2: 7408.0, 3: 3704.0, 4: 1852.0, 5: 926.0,
                                6: 555.6, 7: 185.2, 8: 92.6, 9: 30.0, 10: 10.0,
                                11: 3.0, 12: 1.0}
VERTICAL_ACCURACY_M: Final = {1: 150.0, 2: 45.0, 3: 25.0, 4: 10.0, 5: 3.0, 6: 1.0}
SPEED_ACCURACY_MPS: Final = {1: 10.0, 2: 3.0, 3: 1.0, 4: 0.3}

_SPEED_STEP_LOW_MPS: Final = 0.25
_SPEED_STEP_HIGH_MPS: Final = 0.75
_SPEED_HIGH_BASE_MPS: Final = 255 * 0.25  # 63.75 m/s, where the multiplier starts
_SPEED_UNKNOWN_MPS: Final = 255.0
_VSPEED_STEP_MPS: Final = 0.5
_VSPEED_UNKNOWN_MPS: Final = 63.0
_DIRECTION_UNKNOWN_DEG: Final = 361
_ALT_STEP_M: Final = 0.5
_ALT_OFFSET_M: Final = 1000.0
_LATLON_SCALE: Final = 1e7
_TIMESTAMP_UNKNOWN: Final = 0xFFFF
_TIMESTAMP_MAX_DS: Final = 36_000  # one hour in tenths of a second
_AUTH_PAGE0_DATA: Final = 17
_AUTH_PAGE_DATA: Final = 23
_ID_BYTES: Final = 20
_TEXT_BYTES: Final = 23

_LOCATION = struct.Struct("<BBBBbiiHHHBBHBB")
_AUTH_PAGE0 = struct.Struct("<BBBBI17s")
_SYSTEM = struct.Struct("<BBiiHBHHBHIB")
_HEAD2 = struct.Struct("<BB")


# --------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class BasicId:
    """Basic ID: what the aircraft is called (``uas_id``) and what kind it is."""

    protocol_version: int
    id_type: int
    ua_type: int
    uas_id: str | None
    """ASCII for ID types 0-2, lower-case hex for binary types (3, 4, reserved); None if empty."""


@dataclass(frozen=True, slots=True)
class Location:
    """Location/Vector: where the aircraft is and how it moves; None = unknown."""

    protocol_version: int
    status: int
    height_type: int
    direction_deg: float | None
    speed_mps: float | None
    vertical_speed_mps: float | None
    lat_deg: float | None
    lon_deg: float | None
    pressure_alt_m: float | None
    geodetic_alt_m: float | None
    height_m: float | None
    horizontal_accuracy: int
    vertical_accuracy: int
    baro_accuracy: int
    speed_accuracy: int
    timestamp_s: float | None
    """Seconds since the full UTC hour (0.1 s resolution)."""
    timestamp_accuracy_s: float | None

    @property
    def horizontal_accuracy_m(self) -> float | None:
        return HORIZONTAL_ACCURACY_M.get(self.horizontal_accuracy)

    @property
    def vertical_accuracy_m(self) -> float | None:
        return VERTICAL_ACCURACY_M.get(self.vertical_accuracy)

    @property
    def baro_accuracy_m(self) -> float | None:
        return VERTICAL_ACCURACY_M.get(self.baro_accuracy)

    @property
    def speed_accuracy_mps(self) -> float | None:
        return SPEED_ACCURACY_MPS.get(self.speed_accuracy)


@dataclass(frozen=True, slots=True)
class Authentication:
    """One page of authentication data; page 0 carries the header fields."""

    protocol_version: int
    auth_type: int
    page: int
    last_page_index: int | None
    length_bytes: int | None
    timestamp_utc_s: int | None
    """Unix seconds (page 0 only)."""
    data: bytes


@dataclass(frozen=True, slots=True)
class SelfId:
    """Self-ID: the operator's free text (purpose of flight, emergency detail)."""

    protocol_version: int
    description_type: int
    description: str


@dataclass(frozen=True, slots=True)
class System:
    """System: operator position, operating area, EU class, and a UTC timestamp."""

    protocol_version: int
    operator_location_type: int
    classification_type: int
    operator_lat_deg: float | None
    operator_lon_deg: float | None
    area_count: int
    area_radius_m: int
    area_ceiling_m: float | None
    area_floor_m: float | None
    ua_category: int
    ua_class: int
    operator_alt_m: float | None
    timestamp_utc_s: int | None
    """Unix seconds; None where the field is 0 (unknown, or protocol < 2)."""


@dataclass(frozen=True, slots=True)
class OperatorId:
    """Operator ID: the operator's registration."""

    protocol_version: int
    operator_id_type: int
    operator_id: str


Message: TypeAlias = BasicId | Location | Authentication | SelfId | System | OperatorId


@dataclass(frozen=True, slots=True)
class MessagePack:
    """Several messages sent together (Wi-Fi and Bluetooth 5 carriers)."""

    protocol_version: int
    messages: tuple[Message, ...]


# --------------------------------------------------------------- helpers
def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("ascii", errors="replace")


def _altitude(encoded: int) -> float | None:
    return None if encoded == 0 else encoded * _ALT_STEP_M - _ALT_OFFSET_M


def _lat_lon(lat_e7: int, lon_e7: int) -> tuple[float | None, float | None]:
    lat, lon = lat_e7 / _LATLON_SCALE, lon_e7 / _LATLON_SCALE
    if (lat_e7 == 0 and lon_e7 == 0) or abs(lat) > 90.0 or abs(lon) > 180.0:
        return None, None
    return lat, lon


def _speed(encoded: int, multiplier: int) -> float | None:
    if multiplier:
        value = _SPEED_HIGH_BASE_MPS + encoded * _SPEED_STEP_HIGH_MPS
        return None if value >= _SPEED_UNKNOWN_MPS else value
    return encoded * _SPEED_STEP_LOW_MPS


def _direction(encoded: int, west: int) -> float | None:
    value = encoded + 180 * west
    return None if value >= 360 else float(value)


def _vertical_speed(encoded: int) -> float | None:
    value = encoded * _VSPEED_STEP_MPS
    return None if value == _VSPEED_UNKNOWN_MPS else value


def _hour_timestamp(encoded: int) -> float | None:
    return None if encoded > _TIMESTAMP_MAX_DS else encoded / 10.0


def _uas_id(id_type: int, raw: bytes) -> str | None:
    if id_type in (0, 1, 2):
        text = _text(raw)
        return text or None
    if id_type == 3:
        raw = raw[:16]
    stripped = raw.rstrip(b"\x00")
    return stripped.hex() if stripped else None


# --------------------------------------------------------------- decoders
def message_type(message: bytes) -> int:
    """The message type nibble of a message (or pack) header."""
    if not message:
        raise DecodeError("empty message")
    return message[0] >> 4


def _check_size(message: bytes) -> None:
    if len(message) < MESSAGE_SIZE:
        raise DecodeError("truncated message", f"{len(message)} of 25 bytes")


def decode_basic_id(message: bytes) -> BasicId:
    _check_size(message)
    id_type, ua_type = message[1] >> 4, message[1] & 0x0F
    return BasicId(message[0] & 0x0F, id_type, ua_type, _uas_id(id_type, message[2:22]))


def decode_location(message: bytes) -> Location:
    _check_size(message)
    (head, flags, direction, speed, vspeed, lat_e7, lon_e7, baro, geo, height,
     acc_vh, acc_bs, timestamp, ts_acc, _reserved) = _LOCATION.unpack_from(message)
    lat, lon = _lat_lon(lat_e7, lon_e7)
    ts_acc_code = ts_acc & 0x0F
    return Location(
        protocol_version=head & 0x0F,
        status=flags >> 4,
        height_type=(flags >> 2) & 1,
        direction_deg=_direction(direction, (flags >> 1) & 1),
        speed_mps=_speed(speed, flags & 1),
        vertical_speed_mps=_vertical_speed(vspeed),
        lat_deg=lat,
        lon_deg=lon,
        pressure_alt_m=_altitude(baro),
        geodetic_alt_m=_altitude(geo),
        height_m=_altitude(height),
        horizontal_accuracy=acc_vh & 0x0F,
        vertical_accuracy=acc_vh >> 4,
        baro_accuracy=acc_bs >> 4,
        speed_accuracy=acc_bs & 0x0F,
        timestamp_s=_hour_timestamp(timestamp),
        timestamp_accuracy_s=ts_acc_code / 10.0 if ts_acc_code else None,
    )


def decode_authentication(message: bytes) -> Authentication:
    _check_size(message)
    version, auth_type, page = message[0] & 0x0F, message[1] >> 4, message[1] & 0x0F
    if page:
        return Authentication(version, auth_type, page, None, None, None, bytes(message[2:25]))
    _head, _kind, last_page, length, timestamp, data = _AUTH_PAGE0.unpack_from(message)
    if last_page > 15:
        raise DecodeError("auth last page beyond 15", str(last_page))
    if length > _AUTH_PAGE0_DATA + last_page * _AUTH_PAGE_DATA:
        raise DecodeError("auth length beyond its pages", f"length {length}, last page {last_page}")
    return Authentication(version, auth_type, 0, last_page, length,
                          EPOCH_2019_UTC_S + timestamp, data)


def decode_self_id(message: bytes) -> SelfId:
    _check_size(message)
    return SelfId(message[0] & 0x0F, message[1], _text(message[2:25]))


def decode_system(message: bytes) -> System:
    _check_size(message)
    (head, flags, lat_e7, lon_e7, area_count, radius, ceiling, floor, category_class,
     operator_alt, timestamp, _reserved) = _SYSTEM.unpack_from(message)
    lat, lon = _lat_lon(lat_e7, lon_e7)
    return System(
        protocol_version=head & 0x0F,
        operator_location_type=flags & 0x03,
        classification_type=(flags >> 2) & 0x07,
        operator_lat_deg=lat,
        operator_lon_deg=lon,
        area_count=area_count,
        area_radius_m=radius * 10,
        area_ceiling_m=_altitude(ceiling),
        area_floor_m=_altitude(floor),
        ua_category=category_class >> 4,
        ua_class=category_class & 0x0F,
        operator_alt_m=_altitude(operator_alt),
        timestamp_utc_s=EPOCH_2019_UTC_S + timestamp if timestamp else None,
    )


def decode_operator_id(message: bytes) -> OperatorId:
    _check_size(message)
    return OperatorId(message[0] & 0x0F, message[1], _text(message[2:22]))


_DECODERS: Final[dict[int, Callable[[bytes], Message]]] = {
    TYPE_BASIC_ID: decode_basic_id,
    TYPE_LOCATION: decode_location,
    TYPE_AUTH: decode_authentication,
    TYPE_SELF_ID: decode_self_id,
    TYPE_SYSTEM: decode_system,
    TYPE_OPERATOR_ID: decode_operator_id,
}


def decode_message(message: bytes) -> Message:
    """One 25-byte message (not a pack), dispatched on its type nibble."""
    kind = message_type(message)
    decoder = _DECODERS.get(kind)
    if decoder is None:
        if kind == TYPE_MESSAGE_PACK:
            raise DecodeError("message pack where a single message was expected")
        raise DecodeError("unknown message type", str(kind))
    return decoder(message)


def decode_message_pack(data: bytes) -> MessagePack:
    """A Message Pack: header, then 0..9 25-byte messages (extra bytes ignored)."""
    if len(data) < 3:
        raise DecodeError("truncated message pack header", f"{len(data)} bytes")
    if data[0] >> 4 != TYPE_MESSAGE_PACK:
        raise DecodeError("not a message pack", f"type {data[0] >> 4}")
    size, count = data[1], data[2]
    if size != MESSAGE_SIZE:
        raise DecodeError("bad message pack element size", str(size))
    if count > PACK_MAX_MESSAGES:
        raise DecodeError("bad message pack count", str(count))
    if len(data) < 3 + count * MESSAGE_SIZE:
        raise DecodeError("truncated message pack", f"{len(data)} bytes for {count} messages")
    messages = tuple(decode_message(data[3 + i * MESSAGE_SIZE: 3 + (i + 1) * MESSAGE_SIZE])
                     for i in range(count))
    return MessagePack(data[0] & 0x0F, messages)


def decode_messages(data: bytes) -> tuple[Message, ...]:
    """A single message or a Message Pack, as the messages it holds."""
    if message_type(data) == TYPE_MESSAGE_PACK:
        return decode_message_pack(data).messages
    return (decode_message(data),)


# --------------------------------------------------------------- encoders
def _clip(value: int, low: int, high: int) -> int:
    return low if value < low else high if value > high else value


def _enc_altitude(value_m: float | None) -> int:
    if value_m is None:
        return 0
    return _clip(int((value_m + _ALT_OFFSET_M) / _ALT_STEP_M), 0, 0xFFFF)


def _enc_lat_lon(lat: float | None, lon: float | None) -> tuple[int, int]:
    if lat is None or lon is None:
        return 0, 0
    limit = 180 * 10_000_000
    return (_clip(round(lat * _LATLON_SCALE), -limit, limit),
            _clip(round(lon * _LATLON_SCALE), -limit, limit))


def _enc_direction(value_deg: float | None) -> tuple[int, int]:
    """(byte, E/W bit); unknown is 361 deg = 181 with the bit set."""
    whole = _DIRECTION_UNKNOWN_DEG if value_deg is None else round(value_deg) % 360
    return (whole - 180, 1) if whole >= 180 else (whole, 0)


def _enc_speed(value_mps: float | None) -> tuple[int, int]:
    """(byte, multiplier bit); unknown is 255 with the multiplier set."""
    if value_mps is None:
        return 255, 1
    if value_mps <= _SPEED_HIGH_BASE_MPS:
        return int(value_mps / _SPEED_STEP_LOW_MPS + 0.5), 0
    return _clip(int((value_mps - _SPEED_HIGH_BASE_MPS) / _SPEED_STEP_HIGH_MPS + 0.5), 0, 254), 1


def _enc_vertical_speed(value_mps: float | None) -> int:
    if value_mps is None:
        return int(_VSPEED_UNKNOWN_MPS / _VSPEED_STEP_MPS)
    return _clip(int(value_mps / _VSPEED_STEP_MPS), -128, 127)


def _enc_hour_timestamp(value_s: float | None) -> int:
    if value_s is None:
        return _TIMESTAMP_UNKNOWN
    return _clip(round(value_s * 10), 0, _TIMESTAMP_MAX_DS)


def _enc_text(text: str, size: int) -> bytes:
    return text.encode("ascii", errors="replace")[:size].ljust(size, b"\x00")


def _head(kind: int, version: int) -> int:
    return (kind << 4) | (version & 0x0F)


def encode_basic_id(m: BasicId) -> bytes:
    if m.uas_id is None:
        raw = b""
    elif m.id_type in (0, 1, 2):
        raw = m.uas_id.encode("ascii", errors="replace")
    else:
        raw = bytes.fromhex(m.uas_id)
    return (bytes([_head(TYPE_BASIC_ID, m.protocol_version),
                   ((m.id_type & 0x0F) << 4) | (m.ua_type & 0x0F)])
            + raw[:_ID_BYTES].ljust(_ID_BYTES, b"\x00") + b"\x00" * 3)


def encode_location(m: Location) -> bytes:
    direction, west = _enc_direction(m.direction_deg)
    speed, multiplier = _enc_speed(m.speed_mps)
    lat_e7, lon_e7 = _enc_lat_lon(m.lat_deg, m.lon_deg)
    flags = ((m.status & 0x0F) << 4) | ((m.height_type & 1) << 2) | (west << 1) | multiplier
    ts_acc = 0 if m.timestamp_accuracy_s is None else _clip(round(m.timestamp_accuracy_s * 10),
                                                             0, 15)
    return _LOCATION.pack(
        _head(TYPE_LOCATION, m.protocol_version), flags, direction, speed,
        _enc_vertical_speed(m.vertical_speed_mps), lat_e7, lon_e7,
        _enc_altitude(m.pressure_alt_m), _enc_altitude(m.geodetic_alt_m),
        _enc_altitude(m.height_m),
        ((m.vertical_accuracy & 0x0F) << 4) | (m.horizontal_accuracy & 0x0F),
        ((m.baro_accuracy & 0x0F) << 4) | (m.speed_accuracy & 0x0F),
        _enc_hour_timestamp(m.timestamp_s), ts_acc, 0)


def encode_authentication(m: Authentication) -> bytes:
    head = bytes([_head(TYPE_AUTH, m.protocol_version),
                  ((m.auth_type & 0x0F) << 4) | (m.page & 0x0F)])
    if m.page:
        return head + m.data[:_AUTH_PAGE_DATA].ljust(_AUTH_PAGE_DATA, b"\x00")
    timestamp = 0 if m.timestamp_utc_s is None else m.timestamp_utc_s - EPOCH_2019_UTC_S
    return head + struct.pack("<BBI", m.last_page_index or 0, m.length_bytes or 0,
                              _clip(timestamp, 0, 0xFFFFFFFF)) + \
        m.data[:_AUTH_PAGE0_DATA].ljust(_AUTH_PAGE0_DATA, b"\x00")


def encode_self_id(m: SelfId) -> bytes:
    return (bytes([_head(TYPE_SELF_ID, m.protocol_version), m.description_type & 0xFF])
            + _enc_text(m.description, _TEXT_BYTES))


def encode_system(m: System) -> bytes:
    lat_e7, lon_e7 = _enc_lat_lon(m.operator_lat_deg, m.operator_lon_deg)
    flags = ((m.classification_type & 0x07) << 2) | (m.operator_location_type & 0x03)
    timestamp = 0 if m.timestamp_utc_s is None else m.timestamp_utc_s - EPOCH_2019_UTC_S
    return _SYSTEM.pack(
        _head(TYPE_SYSTEM, m.protocol_version), flags, lat_e7, lon_e7,
        _clip(m.area_count, 0, 0xFFFF), _clip(m.area_radius_m // 10, 0, 255),
        _enc_altitude(m.area_ceiling_m), _enc_altitude(m.area_floor_m),
        ((m.ua_category & 0x0F) << 4) | (m.ua_class & 0x0F),
        _enc_altitude(m.operator_alt_m), _clip(timestamp, 0, 0xFFFFFFFF), 0)


def encode_operator_id(m: OperatorId) -> bytes:
    return (bytes([_head(TYPE_OPERATOR_ID, m.protocol_version), m.operator_id_type & 0xFF])
            + _enc_text(m.operator_id, _ID_BYTES) + b"\x00" * 3)


def encode_message(m: Message) -> bytes:
    """The 25 bytes of one message."""
    if isinstance(m, BasicId):
        return encode_basic_id(m)
    if isinstance(m, Location):
        return encode_location(m)
    if isinstance(m, Authentication):
        return encode_authentication(m)
    if isinstance(m, SelfId):
        return encode_self_id(m)
    if isinstance(m, System):
        return encode_system(m)
    return encode_operator_id(m)


def encode_message_pack(messages: tuple[Message, ...] | list[Message],
                        protocol_version: int = PROTOCOL_VERSION) -> bytes:
    """A Message Pack of 1..9 messages."""
    if not 1 <= len(messages) <= PACK_MAX_MESSAGES:
        raise ValueError(f"a message pack holds 1..9 messages, not {len(messages)}")
    return (bytes([_head(TYPE_MESSAGE_PACK, protocol_version), MESSAGE_SIZE, len(messages)])
            + b"".join(encode_message(m) for m in messages))
