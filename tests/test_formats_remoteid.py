"""Remote ID messages and carriers: the reference implementation's test values, round trips,
sentinels, and malformed input (skyfence.formats.remoteid_messages, remoteid_frames)."""

from __future__ import annotations

import pytest

from skyfence.formats.errors import DecodeError
from skyfence.formats.remoteid_frames import (
    LINK_DECODERS,
    decode_80211,
    decode_ble_ll,
    decode_ble_ll_phdr,
    decode_radiotap,
    encode_beacon_frame,
    encode_ble_advertisement,
    encode_hci_advertising_report,
    encode_nan_frame,
)
from skyfence.formats.remoteid_messages import (
    EPOCH_2019_UTC_S,
    Authentication,
    BasicId,
    Location,
    Message,
    OperatorId,
    SelfId,
    System,
    decode_location,
    decode_message,
    decode_message_pack,
    decode_messages,
    encode_message,
    encode_message_pack,
)

# opendroneid-core-c test/test_inout.c: its input values, and the 25 bytes each
# gives under core-c's quantisation (derived by hand: direction 215.7 -> 216 =
# 36 + E/W bit; speed 5.4 -> 22 x 0.25; vertical 5.25 -> trunc(10.5) = 10 x 0.5;
# altitudes (x + 1000) / 0.5 truncated; timestamp 360.52 -> 3605 tenths; area
# radius 75 -> 7 x 10; accuracies 2.5 m -> 3 m (11), 0.5 m -> 1 m (6), 1.5 m ->
# 3 m (5), 0.5 m/s -> 1 m/s (3), 0.2 s -> 2).
CORE_C_INOUT: list[tuple[Message, str, Message]] = [
    (BasicId(2, 2, 2, "12345678901234567890"),
     "02 22 3132333435363738393031323334353637383930 000000",
     BasicId(2, 2, 2, "12345678901234567890")),
    (Location(2, 2, 1, 215.7, 5.4, 5.25, 45.539309, -122.966389, 100.0, 110.0, 80.0,
              11, 6, 5, 3, 360.52, 0.2),
     "12 26 24 16 0a 42bf241b 6ed1b4b6 9808 ac08 7008 6b 53 150e 02 00",
     Location(2, 2, 1, 216.0, 5.5, 5.0, 45.539309, -122.966389, 100.0, 110.0, 80.0,
              11, 6, 5, 3, 360.5, 0.2)),
    (Authentication(2, 1, 0, 1, 40, EPOCH_2019_UTC_S + 28_000_000, b"12345678901234567"),
     "22 10 01 28 003fab01 3132333435363738393031323334353637",
     Authentication(2, 1, 0, 1, 40, EPOCH_2019_UTC_S + 28_000_000, b"12345678901234567")),
    (Authentication(2, 1, 1, None, None, None, b"12345678901234567890123"),
     "22 11 3132333435363738393031323334353637383930313233",
     Authentication(2, 1, 1, None, None, None, b"12345678901234567890123")),
    (SelfId(2, 0, "DronesRUS: Real Estate"),
     "32 00 44726f6e65735255533a205265616c2045737461746500",
     SelfId(2, 0, "DronesRUS: Real Estate")),
    (System(2, 0, 1, 45.539319, -122.966379, 35, 75, 176.9, 41.7, 2, 4, 20.5,
            EPOCH_2019_UTC_S + 28_000_000),
     "42 04 a6bf241b d2d1b4b6 2300 07 3109 2308 24 f907 003fab01 00",
     System(2, 0, 1, 45.539319, -122.966379, 35, 70, 176.5, 41.5, 2, 4, 20.5,
            EPOCH_2019_UTC_S + 28_000_000)),
    (OperatorId(2, 0, "98765432100123456789"),
     "52 00 3938373635343332313030313233343536373839 000000",
     OperatorId(2, 0, "98765432100123456789")),
]


@pytest.mark.parametrize(("given", "hex_bytes", "decoded"), CORE_C_INOUT,
                         ids=[type(row[0]).__name__ + str(i) for i, row in enumerate(CORE_C_INOUT)])
def test_core_c_inout_values_encode_and_decode(given: Message, hex_bytes: str,
                                               decoded: Message) -> None:
    raw = bytes.fromhex(hex_bytes.replace(" ", ""))
    assert len(raw) == 25
    assert encode_message(given) == raw
    assert decode_message(raw) == decoded
    assert encode_message(decoded) == raw  # quantised values are fixed points


def test_core_c_message_pack_of_all_seven_round_trips() -> None:
    messages = [row[2] for row in CORE_C_INOUT]
    pack = encode_message_pack(messages)
    assert pack[:3] == bytes([0xF2, 25, 7]) and len(pack) == 3 + 7 * 25
    decoded = decode_message_pack(pack)
    assert decoded.protocol_version == 2
    assert list(decoded.messages) == messages
    assert decode_messages(pack) == tuple(messages)


def test_core_c_beacon_frame_bytes() -> None:
    """core-c test/unit_odid_wifi_beacon.cpp: the published beacon bytes (TSF all ones)."""
    messages: list[Message] = [
        BasicId(2, 1, 4, "USS-Enterprise"),
        Location(2, 2, 0, 0.25, 62.0, 62.0, None, None, None, None, None, 0, 0, 0, 0, None, None),
        System(2, 0, 0, None, None, 1, 0, None, None, 0, 0, None, EPOCH_2019_UTC_S + 0x12345678),
    ]
    frame = encode_beacon_frame(encode_message_pack(messages), "12:34:56:21:43:65", 0x55,
                                ssid="testSSID_0123456789A", interval_tu=100, tsf_us=2**64 - 1)
    expected = bytes.fromhex(
        "8000 0000 ffffffffffff 123456214365 123456214365 0000 ffffffffffffffff 6400 2004"
        " 0014" + b"testSSID_0123456789A".hex() + " 01018c dd53 fa0bbc 0d 55 f2 19 03"
        " 02 14" + b"USS-Enterprise".hex() + "000000000000 000000 12 20")
    assert len(frame) == 146
    assert frame[:len(expected)] == expected
    parsed = decode_80211(frame)
    assert parsed is not None and parsed.carrier == "wifi_beacon"
    assert parsed.transmitter == "12:34:56:21:43:65" and parsed.counter == 0x55
    assert parsed.messages[0] == messages[0]
    location = parsed.messages[1]
    assert isinstance(location, Location)
    assert location.direction_deg == 0.0 and location.speed_mps == 62.0
    assert location.vertical_speed_mps == 62.0


def test_sentinels_decode_to_none() -> None:
    unknown = Location(2, 0, 0, None, None, None, None, None, None, None, None,
                       0, 0, 0, 0, None, None)
    raw = encode_message(unknown)
    assert raw[1] == 0x03 and raw[2] == 181 and raw[3] == 255  # E/W + mult, 361 deg, 255 m/s
    assert raw[4] == 126 and raw[5:13] == bytes(8) and raw[13:19] == bytes(6)  # 63 m/s, 0, -1000
    assert raw[21:23] == b"\xff\xff"
    assert decode_location(raw) == unknown
    # values the encoding can carry but the standard calls out of range
    bad = bytearray(raw)
    bad[1], bad[2] = 0x02, 200  # 380 deg
    bad[5:9] = (95 * 10_000_000).to_bytes(4, "little", signed=True)
    bad[9:13] = (10 * 10_000_000).to_bytes(4, "little", signed=True)
    bad[21:23] = (36_001).to_bytes(2, "little")
    odd = decode_location(bytes(bad))
    assert odd.direction_deg is None and odd.lat_deg is None and odd.lon_deg is None
    assert odd.timestamp_s is None


@pytest.mark.parametrize(("speed_mps", "expected_mps"), [
    (0.0, 0.0), (5.4, 5.5), (63.75, 63.75), (64.0, 63.75), (100.0, 99.75), (254.25, 254.25),
    (300.0, 254.25)])
def test_speed_two_scales(speed_mps: float, expected_mps: float) -> None:
    loc = Location(2, 2, 0, 90.0, speed_mps, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0, 0, 0, 0, 0.0, None)
    assert decode_location(encode_message(loc)).speed_mps == expected_mps


def test_every_type_round_trips_with_binary_ids() -> None:
    messages: list[Message] = [
        BasicId(1, 3, 15, "00112233445566778899aabbccddeeff"),
        BasicId(0, 4, 1, "e1" + "42" * 19),
        Location(1, 4, 1, 359.0, 0.25, -62.0, -89.9999999, 179.9999999, -999.5, 31767.5, 0.0,
                 12, 6, 6, 4, 3599.9, 1.5),
        Authentication(1, 5, 15, None, None, None, bytes(range(23))),
        SelfId(0, 1, "EMERGENCY: lost link"),
        System(1, 2, 1, -33.5, 151.25, 65535, 2550, 120.0, -20.0, 3, 7, 1500.0, None),
        OperatorId(1, 201, "GBR-OP-123ABCD"),
    ]
    for message in messages:
        assert decode_message(encode_message(message)) == message, message
    assert decode_message_pack(encode_message_pack(messages)).messages == tuple(messages)


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty message"),
    (bytes([0x12]) + bytes(10), "truncated message"),
    (bytes([0x72]) + bytes(24), "unknown message type"),
    (bytes([0xF2, 25, 1]) + bytes([0xF2, 25, 0]) + bytes(22), "message pack where a single"
     " message was expected"),
    (bytes([0xF2, 24, 1]) + bytes(25), "bad message pack element size"),
    (bytes([0xF2, 25, 10]) + bytes(250), "bad message pack count"),
    (bytes([0xF2, 25, 2]) + bytes(30), "truncated message pack"),
    (bytes([0xF2, 25]), "truncated message pack header"),
    (bytes([0x22, 0x10, 16, 0]) + bytes(21), "auth last page beyond 15"),
    (bytes([0x22, 0x10, 0, 18]) + bytes(21), "auth length beyond its pages"),
])
def test_malformed_messages_raise_decode_error_with_fixed_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_messages(data)
    assert caught.value.reason == reason


def test_empty_message_pack_is_no_messages() -> None:
    assert decode_messages(bytes([0xF0, 25, 0]) + bytes(30)) == ()


def test_carriers_round_trip() -> None:
    loc = Location(2, 2, 0, 45.0, 10.0, 1.0, 52.0, 4.5, 30.0, 40.0, 20.0, 10, 4, 4, 3, 12.3, 0.1)
    basic = BasicId(2, 1, 2, "SERIAL-1")
    pack = encode_message_pack([basic, loc])
    nan = decode_80211(encode_nan_frame(pack, "02:11:22:33:44:55", 7))
    assert nan is not None and nan.carrier == "wifi_nan" and nan.messages == (basic, loc)
    assert nan.transmitter == "02:11:22:33:44:55" and nan.counter == 7
    radiotap = bytes([0, 0, 8, 0, 0, 0, 0, 0]) + encode_beacon_frame(pack, "02:11:22:33:44:55", 8)
    beacon = decode_radiotap(radiotap)
    assert beacon is not None and beacon.messages == (basic, loc)
    legacy = decode_ble_ll(encode_ble_advertisement(encode_message(loc), "c0:01:02:03:04:05", 9))
    assert legacy is not None and legacy.carrier == "bt_legacy"
    assert legacy.transmitter == "c0:01:02:03:04:05" and legacy.messages == (loc,)
    extended = encode_ble_advertisement(pack, "c0:01:02:03:04:05", 10, extended=True)
    long_range = decode_ble_ll_phdr(bytes(8) + (2 << 14).to_bytes(2, "little")
                                    + extended[:4] + b"\x00" + extended[4:])
    assert long_range is not None and long_range.carrier == "bt_extended"
    assert long_range.messages == (basic, loc)


def test_ble_crc_checked_and_other_traffic_ignored() -> None:
    message = bytes([0x02, 0x12]) + bytes(23)
    packet = bytearray(encode_ble_advertisement(message, "c0:01:02:03:04:05", 1))
    packet[10] ^= 0x01
    with pytest.raises(DecodeError) as caught:
        decode_ble_ll(bytes(packet))
    assert caught.value.reason == "bad BLE CRC"
    data_channel = bytes.fromhex("11223344") + bytes(10)
    assert decode_ble_ll(data_channel) is None
    plain_beacon = b"\x80\x00" + bytes(34) + b"\x00\x04test"
    assert decode_80211(plain_beacon) is None


def test_hci_advertising_reports_from_host_captures() -> None:
    loc = Location(2, 2, 0, 45.0, 10.0, 1.0, 52.0, 4.5, 30.0, 40.0, 20.0, 10, 4, 4, 3, 12.3, 0.1)
    basic = BasicId(2, 1, 2, "HCI-SERIAL")
    legacy = encode_hci_advertising_report(encode_message(loc), "c0:aa:bb:cc:dd:01", 3)
    (frame,) = LINK_DECODERS[187](legacy)
    assert (frame.carrier, frame.transmitter, frame.counter) == ("bt_legacy",
                                                                 "c0:aa:bb:cc:dd:01", 3)
    assert frame.messages == (loc,)
    extended = encode_hci_advertising_report(encode_message_pack([basic, loc]),
                                             "c0:aa:bb:cc:dd:02", 4, extended=True)
    (frame,) = LINK_DECODERS[201](b"\x00\x00\x00\x01" + extended)
    assert frame.carrier == "bt_extended" and frame.messages == (basic, loc)
    (frame,) = LINK_DECODERS[254](b"\x00\x00\x00\x03" + extended[1:])
    assert frame.transmitter == "c0:aa:bb:cc:dd:02"
    # two advertisers in one report event: both come out
    one = legacy[4:]  # subevent parameters after the count: a single report
    two = bytes([0x04, 0x3E, 2 + 2 * (len(one) - 1), 0x02, 2]) + one[1:] + one[1:]
    assert len(LINK_DECODERS[187](two)) == 2
    assert LINK_DECODERS[187](b"\x04\x0e\x04\x01\x03\x0c\x00") == ()  # command complete
    with pytest.raises(DecodeError) as caught:
        LINK_DECODERS[187](legacy[:-5])
    assert caught.value.reason in ("truncated HCI event", "truncated HCI advertising report")
