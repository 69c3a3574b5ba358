"""Remote ID carriers: Wi-Fi beacon and NAN frames, Bluetooth LE advertisements.

Every carrier holds the same payload, a message counter then one Remote ID
message or a Message Pack (:mod:`skyfence.formats.remoteid_messages`); the aircraft is
known to the receiver only by the transmitter's address. Layouts (bytes)::

    Wi-Fi beacon (802.11 management, type 0 subtype 8, FC byte 0 = 0x80):
      0..1 frame control; 2..3 duration; 4..9 addr1; 10..15 addr2 = transmitter;
      16..21 addr3; 22..23 sequence; (+4 HT control if FC flags bit 7);
      body: 8 timestamp, 2 interval, 2 capabilities, then elements
      (id, length, value). Remote ID element: id 221 (vendor specific),
      OUI FA:0B:BC (ASD-STAN; Parrot's 90:3A:E6 also accepted), type 0x0D,
      message counter, Message Pack.
    Wi-Fi NAN service discovery (action frame, FC byte 0 = 0xD0), body:
      0x04 public action, 0x09 vendor specific, OUI 50:6F:9A, type 0x13 (NAN),
      then attributes (id 1, length 2 LE, value). Service Descriptor attribute
      (id 0x03): service ID 6 (88 69 19 9D 92 09 = first 6 bytes of
      SHA-256("org.opendroneid.remoteid")), instance ID 1, requestor
      instance 1, service control 1 (bit 6 binding bitmap 2, bit 2 matching
      filter len+value, bit 3 response filter len+value, bit 4 service info
      present), service info length 1, service info = counter, Message Pack.
    Bluetooth LE link layer, advertising channel PDU (after the 4-byte access
      address 0x8E89BED6, plus a 1-byte coding indicator on the Coded PHY):
      0 PDU type (bits 3..0), TxAdd (bit 6); 1 length; payload; 3 CRC.
      Legacy ADV_IND / ADV_NONCONN_IND / SCAN_RSP / ADV_SCAN_IND (0, 2, 4, 6):
      AdvA 6 (LE), AD structures. Extended ADV_EXT_IND / AUX_ADV_IND (7):
      0 extended header length (bits 5..0); 1 flags (bit 0 AdvA 6, 1 TargetA 6,
      2 CTEInfo 1, 3 ADI 2, 4 AuxPtr 3, 5 SyncInfo 18, 6 TxPower 1) then ACAD;
      AD structures after the extended header.
      Remote ID AD structure: length, type 0x16 (service data), UUID 0xFFFA
      (LE), application code 0x0D, counter, one message (legacy, BT4) or a
      Message Pack (extended, BT5 long range).

Capture link layers (pcap DLT): 105 IEEE 802.11; 127 radiotap + 802.11;
251 Bluetooth LE LL (access address first); 256 Bluetooth LE LL with a
10-byte pseudo-header (flags LE at 8..9, PHY in bits 15..14, 2 = Coded);
272 nRF Sniffer for Bluetooth LE (board 1; header v1-v3: 6 bytes; event
packet: length, flags (PHY bits 6..4), channel, RSSI, event counter 2,
timestamp 4; then the link-layer packet); host-side HCI captures (a
controller's advertising reports): 187 H4 (type 0x04 = event), 201 H4 with a
4-byte direction header, 254 Linux Bluetooth monitor (adapter 2, opcode 2 BE,
3 = event). HCI event 0x3E (LE Meta): subevent 0x02 LE Advertising Report
(count; per report: event type 1, address type 1, address 6 LE, data length
1, data, RSSI 1) and 0x0D LE Extended Advertising Report (count; per report:
event type 2 (bit 4 legacy), address type 1, address 6 LE, primary PHY,
secondary PHY, SID, TX power, RSSI 1 each, periodic interval 2, direct
address type 1, direct address 6, data length 1, data).

A decoder returns ``None`` for a frame that is well formed but carries no
Remote ID (other Wi-Fi or Bluetooth traffic) and raises
:class:`~skyfence.formats.errors.DecodeError` for one that claims Remote ID
but is malformed (or a capture header that cannot be read).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from skyfence.formats.errors import DecodeError
from skyfence.formats.remoteid_messages import Message, decode_messages

ODID_OUIS: Final = (b"\xfa\x0b\xbc", b"\x90\x3a\xe6")
ODID_APP_CODE: Final = 0x0D
NAN_HEADER: Final = b"\x04\x09\x50\x6f\x9a\x13"
NAN_ODID_SERVICE_ID: Final = bytes.fromhex("8869199d9209")
BLE_ADV_ACCESS_ADDRESS: Final = 0x8E89BED6
BLE_ODID_UUID: Final = b"\xfa\xff"

DLT_IEEE802_11: Final = 105
DLT_RADIOTAP: Final = 127
DLT_BLUETOOTH_LE_LL: Final = 251
DLT_BLUETOOTH_LE_LL_WITH_PHDR: Final = 256
DLT_NORDIC_BLE: Final = 272
DLT_BLUETOOTH_HCI_H4: Final = 187
DLT_BLUETOOTH_HCI_H4_WITH_PHDR: Final = 201
DLT_BLUETOOTH_LINUX_MONITOR: Final = 254

_BEACON: Final = 0x80
_ACTION: Final = 0xD0
_EXT_HEADER_FIELD_BYTES: Final = ((0, 6), (1, 6), (2, 1), (3, 2), (4, 3), (5, 18), (6, 1))


@dataclass(frozen=True, slots=True)
class RemoteIdFrame:
    """The Remote ID content of one received frame or advertisement."""

    carrier: str
    """wifi_beacon | wifi_nan | bt_legacy | bt_extended | raw"""
    transmitter: str
    """Transmitter MAC / advertiser address, ``aa:bb:cc:dd:ee:ff``."""
    counter: int | None
    messages: tuple[Message, ...]


def mac_text(raw: bytes) -> str:
    """``aa:bb:..`` for six bytes in transmission order."""
    return ":".join(f"{b:02x}" for b in raw)


def decode_payload(payload: bytes) -> tuple[int, tuple[Message, ...]]:
    """Counter byte, then a message or a Message Pack."""
    if len(payload) < 2:
        raise DecodeError("truncated Remote ID payload", f"{len(payload)} bytes")
    return payload[0], decode_messages(payload[1:])


# ------------------------------------------------------------------ Wi-Fi
def _beacon_payload(elements: bytes) -> bytes | None:
    """The Remote ID vendor element's payload (after OUI and type), if any."""
    at = 0
    while at + 2 <= len(elements):
        element_id, length = elements[at], elements[at + 1]
        value = elements[at + 2: at + 2 + length]
        if (element_id == 221 and len(value) >= 4 and value[:3] in ODID_OUIS
                and value[3] == ODID_APP_CODE):
            if len(value) < length:
                raise DecodeError("truncated Remote ID element", f"{len(value)} of {length}")
            return value[4:]
        at += 2 + length
    return None


def _nan_service_info(body: bytes) -> bytes | None:
    """The service info of the Remote ID service descriptor in a NAN frame, if any."""
    at = len(NAN_HEADER)
    while at + 3 <= len(body):
        attribute_id, length = body[at], int.from_bytes(body[at + 1: at + 3], "little")
        value = body[at + 3: at + 3 + length]
        if attribute_id == 0x03 and value[:6] == NAN_ODID_SERVICE_ID:
            if len(value) < length:
                raise DecodeError("truncated NAN attribute", f"{len(value)} of {length}")
            return _sda_service_info(value)
        at += 3 + length
    return None


def _sda_service_info(value: bytes) -> bytes:
    if len(value) < 9:
        raise DecodeError("truncated NAN service descriptor", f"{len(value)} bytes")
    control, at = value[8], 9
    if control & 0x40:
        at += 2
    for bit in (0x04, 0x08):
        if control & bit:
            if at >= len(value):
                raise DecodeError("truncated NAN service descriptor", "filter")
            at += 1 + value[at]
    if not control & 0x10 or at >= len(value):
        raise DecodeError("NAN Remote ID service without service info")
    length = value[at]
    info = value[at + 1: at + 1 + length]
    if len(info) < length:
        raise DecodeError("truncated NAN service info", f"{len(info)} of {length}")
    return info


def decode_80211(frame: bytes) -> RemoteIdFrame | None:
    """An 802.11 frame (no radiotap): a beacon or NAN action frame with Remote ID."""
    if len(frame) < 24:
        return None
    kind = frame[0]
    header = 28 if frame[1] & 0x80 else 24
    transmitter = mac_text(frame[10:16])
    if kind == _BEACON:
        payload = _beacon_payload(frame[header + 12:])
        carrier = "wifi_beacon"
    elif kind == _ACTION and frame[header: header + 6] == NAN_HEADER:
        payload = _nan_service_info(frame[header:])
        carrier = "wifi_nan"
    else:
        return None
    if payload is None:
        return None
    counter, messages = decode_payload(payload)
    return RemoteIdFrame(carrier, transmitter, counter, messages)


def radiotap_length(frame: bytes) -> int:
    """The radiotap header length (bytes 2..3, LE), checked against the frame."""
    if len(frame) < 8 or frame[0] != 0:
        raise DecodeError("bad radiotap header", f"{frame[:4].hex()}")
    length = int.from_bytes(frame[2:4], "little")
    if not 8 <= length <= len(frame):
        raise DecodeError("bad radiotap length", str(length))
    return length


def decode_radiotap(frame: bytes) -> RemoteIdFrame | None:
    """A radiotap + 802.11 frame (a trailing FCS is harmless: it follows the elements)."""
    return decode_80211(frame[radiotap_length(frame):])


# -------------------------------------------------------------- Bluetooth
def _ad_payload(data: bytes) -> bytes | None:
    """The Remote ID service data (after UUID and app code) in AD structures, if any."""
    at = 0
    while at < len(data):
        length = data[at]
        if length == 0:
            break
        value = data[at + 1: at + 1 + length]
        if (len(value) >= 4 and value[0] == 0x16 and value[1:3] == BLE_ODID_UUID
                and value[3] == ODID_APP_CODE):
            if len(value) < length:
                raise DecodeError("truncated AD structure", f"{len(value)} of {length}")
            return value[4:]
        at += 1 + length
    return None


def _extended_adv(payload: bytes) -> tuple[bytes | None, bytes]:
    """(AdvA or None, AdvData) of a common extended advertising payload."""
    if not payload:
        raise DecodeError("truncated extended advertising header")
    header_length = payload[0] & 0x3F
    header = payload[1: 1 + header_length]
    if len(header) < header_length:
        raise DecodeError("truncated extended advertising header", str(header_length))
    address: bytes | None = None
    if header_length:
        flags, at = header[0], 1
        for bit, size in _EXT_HEADER_FIELD_BYTES:
            if flags & (1 << bit):
                if bit == 0:
                    address = header[at: at + 6]
                at += size
        if at > header_length:
            raise DecodeError("extended header fields beyond its length", f"{at} > {header_length}")
    return address, payload[1 + header_length:]


def decode_ble_pdu(pdu: bytes) -> RemoteIdFrame | None:
    """An advertising channel PDU (header first, no access address)."""
    if len(pdu) < 2:
        raise DecodeError("truncated BLE PDU", f"{len(pdu)} bytes")
    pdu_type, length = pdu[0] & 0x0F, pdu[1]
    payload = pdu[2: 2 + length]
    if len(payload) < length:
        raise DecodeError("truncated BLE PDU", f"{len(payload)} of {length}")
    if pdu_type in (0, 2, 4, 6):
        if length < 6:
            raise DecodeError("truncated BLE PDU", "no AdvA")
        address: bytes | None = payload[:6]
        data, carrier = payload[6:], "bt_legacy"
    elif pdu_type == 7:
        address, data = _extended_adv(payload)
        carrier = "bt_extended"
    else:
        return None
    service = _ad_payload(data)
    if service is None:
        return None
    if address is None:
        raise DecodeError("Remote ID advertisement without AdvA")
    counter, messages = decode_payload(service)
    return RemoteIdFrame(carrier, mac_text(address[::-1]), counter, messages)


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        state = byte
        for _ in range(8):
            state = (state >> 1) ^ _CRC_LFSR_MASK if state & 1 else state >> 1
        table.append(state)
    return tuple(table)


_CRC_LFSR_MASK: Final = 0xDA6000  # x^24 + x^10 + x^9 + x^6 + x^4 + x^3 + x + 1, reflected
_CRC_INIT_ADVERTISING: Final = 0xAAAAAA  # 0x555555, bit-reversed
_CRC_TABLE: Final = _crc_table()


def ble_crc(pdu: bytes, init: int = _CRC_INIT_ADVERTISING) -> bytes:
    """The link-layer CRC-24 of a PDU as transmitted (3 bytes, first byte first)."""
    state = init
    for byte in pdu:
        state = (state >> 8) ^ _CRC_TABLE[(state ^ byte) & 0xFF]
    return state.to_bytes(3, "little")


def decode_ble_ll(packet: bytes, coded_phy: bool = False) -> RemoteIdFrame | None:
    """A link-layer packet from its access address on, CRC last (DLT 251).

    Non-advertising packets give None; the CRC is checked (bad: DecodeError).
    """
    if len(packet) < 4:
        raise DecodeError("truncated BLE packet", f"{len(packet)} bytes")
    if int.from_bytes(packet[:4], "little") != BLE_ADV_ACCESS_ADDRESS:
        return None
    pdu = packet[5:] if coded_phy else packet[4:]
    if len(pdu) < 2 or len(pdu) < 2 + pdu[1] + 3:
        raise DecodeError("truncated BLE packet", f"{len(pdu)} PDU bytes")
    end = 2 + pdu[1]
    if ble_crc(pdu[:end]) != pdu[end: end + 3]:
        raise DecodeError("bad BLE CRC")
    return decode_ble_pdu(pdu[:end])


def decode_ble_ll_phdr(frame: bytes) -> RemoteIdFrame | None:
    """DLT 256: a 10-byte pseudo-header, then the link-layer packet."""
    if len(frame) < 14:
        raise DecodeError("truncated BLE pseudo-header", f"{len(frame)} bytes")
    phy = (int.from_bytes(frame[8:10], "little") >> 14) & 0x3
    return decode_ble_ll(frame[10:], coded_phy=phy == 2)


def decode_nordic_ble(frame: bytes) -> RemoteIdFrame | None:
    """DLT 272: nRF Sniffer for Bluetooth LE (header versions 1-3)."""
    if len(frame) < 8:
        raise DecodeError("truncated nRF sniffer header", f"{len(frame)} bytes")
    version = frame[3]
    if not 1 <= version <= 3:
        raise DecodeError("unsupported nRF sniffer version", str(version))
    event = frame[7:]
    event_length = event[0]
    if event_length < 10 or len(event) < event_length:
        raise DecodeError("bad nRF sniffer event length", str(event_length))
    coded = (event[1] >> 4) & 0x7 == 2
    return decode_ble_ll(event[event_length:], coded_phy=coded)


# ------------------------------------------------------------- HCI events
def _legacy_reports(params: bytes) -> list[tuple[bytes, bytes, str]]:
    """(address, AD data, carrier) of an LE Advertising Report (subevent 0x02)."""
    reports, at = [], 1
    for _ in range(params[0]):
        if at + 9 > len(params):
            raise DecodeError("truncated HCI advertising report", f"{len(params)} bytes")
        address, length = params[at + 2: at + 8], params[at + 8]
        data = params[at + 9: at + 9 + length]
        if len(data) < length:
            raise DecodeError("truncated HCI advertising report", f"{len(data)} of {length}")
        reports.append((address, data, "bt_legacy"))
        at += 9 + length + 1  # + RSSI
    return reports


def _extended_reports(params: bytes) -> list[tuple[bytes, bytes, str]]:
    """(address, AD data, carrier) of an LE Extended Advertising Report (subevent 0x0D)."""
    reports, at = [], 1
    for _ in range(params[0]):
        if at + 24 > len(params):
            raise DecodeError("truncated HCI advertising report", f"{len(params)} bytes")
        legacy = params[at] & 0x10
        address, length = params[at + 3: at + 9], params[at + 23]
        data = params[at + 24: at + 24 + length]
        if len(data) < length:
            raise DecodeError("truncated HCI advertising report", f"{len(data)} of {length}")
        reports.append((address, data, "bt_legacy" if legacy else "bt_extended"))
        at += 24 + length
    return reports


def decode_hci_event(event: bytes) -> tuple[RemoteIdFrame, ...]:
    """An HCI event (code, length, parameters): LE advertising reports with Remote ID."""
    if len(event) < 3 or event[0] != 0x3E:
        return ()
    params = event[2: 2 + event[1]]
    if len(params) < event[1] or not params:
        raise DecodeError("truncated HCI event", f"{len(params)} of {event[1]}")
    subevent = params[0]
    if subevent == 0x02:
        reports = _legacy_reports(params[1:]) if len(params) > 1 else []
    elif subevent == 0x0D:
        reports = _extended_reports(params[1:]) if len(params) > 1 else []
    else:
        return ()
    frames = []
    for address, data, carrier in reports:
        service = _ad_payload(data)
        if service is not None:
            counter, messages = decode_payload(service)
            frames.append(RemoteIdFrame(carrier, mac_text(address[::-1]), counter, messages))
    return tuple(frames)


def decode_hci_h4(packet: bytes) -> tuple[RemoteIdFrame, ...]:
    """DLT 187: an H4 packet (type byte 0x04 = event, then the event)."""
    if not packet:
        raise DecodeError("truncated HCI packet", "0 bytes")
    return decode_hci_event(packet[1:]) if packet[0] == 0x04 else ()


def decode_hci_h4_phdr(packet: bytes) -> tuple[RemoteIdFrame, ...]:
    """DLT 201: a 4-byte direction header, then an H4 packet."""
    if len(packet) < 5:
        raise DecodeError("truncated HCI packet", f"{len(packet)} bytes")
    return decode_hci_h4(packet[4:])


def decode_linux_monitor(packet: bytes) -> tuple[RemoteIdFrame, ...]:
    """DLT 254 (Linux Bluetooth monitor): adapter 2, opcode 2 (BE; 3 = event), the event."""
    if len(packet) < 4:
        raise DecodeError("truncated Bluetooth monitor header", f"{len(packet)} bytes")
    return decode_hci_event(packet[4:]) if packet[2:4] == b"\x00\x03" else ()


def _one(decoder: Callable[[bytes], RemoteIdFrame | None]) -> Callable[[bytes], tuple[
        RemoteIdFrame, ...]]:
    def frames(data: bytes) -> tuple[RemoteIdFrame, ...]:
        frame = decoder(data)
        return () if frame is None else (frame,)
    return frames


LINK_DECODERS: Final[dict[int, Callable[[bytes], tuple[RemoteIdFrame, ...]]]] = {
    DLT_IEEE802_11: _one(decode_80211),
    DLT_RADIOTAP: _one(decode_radiotap),
    DLT_BLUETOOTH_LE_LL: _one(decode_ble_ll),
    DLT_BLUETOOTH_LE_LL_WITH_PHDR: _one(decode_ble_ll_phdr),
    DLT_NORDIC_BLE: _one(decode_nordic_ble),
    DLT_BLUETOOTH_HCI_H4: decode_hci_h4,
    DLT_BLUETOOTH_HCI_H4_WITH_PHDR: decode_hci_h4_phdr,
    DLT_BLUETOOTH_LINUX_MONITOR: decode_linux_monitor,
}
"""Decoder for each supported pcap link type: the Remote ID frames a packet holds
(none for other traffic; an HCI event may report several advertisers)."""


# ---------------------------------------------------------------- encoders
def _mac_bytes(text: str) -> bytes:
    raw = bytes.fromhex(text.replace(":", ""))
    if len(raw) != 6:
        raise ValueError(f"not a 6-byte address: {text!r}")
    return raw


def encode_beacon_frame(payload: bytes, transmitter: str, counter: int, ssid: str = "",
                        interval_tu: int = 100, tsf_us: int = 0) -> bytes:
    """An 802.11 beacon (no radiotap) carrying ``payload`` (a message or Message Pack)
    in the Remote ID vendor element, laid out as opendroneid-core-c builds it."""
    mac = _mac_bytes(transmitter)
    ssid_raw = ssid.encode()[:32]
    element = b"\xfa\x0b\xbc" + bytes([ODID_APP_CODE, counter & 0xFF]) + payload
    if len(element) > 255:
        raise ValueError("Remote ID element longer than 255 bytes")
    return (b"\x80\x00\x00\x00" + b"\xff" * 6 + mac + mac + b"\x00\x00"
            + tsf_us.to_bytes(8, "little") + interval_tu.to_bytes(2, "little") + b"\x20\x04"
            + bytes([0, len(ssid_raw)]) + ssid_raw + b"\x01\x01\x8c"
            + bytes([221, len(element)]) + element)


def encode_nan_frame(payload: bytes, transmitter: str, counter: int) -> bytes:
    """An 802.11 NAN service discovery action frame carrying ``payload``."""
    mac = _mac_bytes(transmitter)
    info = bytes([counter & 0xFF]) + payload
    sda = NAN_ODID_SERVICE_ID + b"\x01\x00\x10" + bytes([len(info)]) + info
    return (b"\xd0\x00\x00\x00" + bytes.fromhex("516f9a010000") + mac
            + bytes.fromhex("506f9a010000") + b"\x00\x00" + NAN_HEADER
            + b"\x03" + len(sda).to_bytes(2, "little") + sda)


def encode_ble_advertisement(payload: bytes, advertiser: str, counter: int,
                             extended: bool = False) -> bytes:
    """A link-layer advertising packet (access address, PDU, CRC) carrying ``payload``:
    ADV_NONCONN_IND for one message (BT4), AUX_ADV_IND for a Message Pack (BT5)."""
    address = _mac_bytes(advertiser)[::-1]
    service = b"\x16" + BLE_ODID_UUID + bytes([ODID_APP_CODE, counter & 0xFF]) + payload
    ad = bytes([len(service)]) + service
    if extended:
        body = bytes([9, 0x09]) + address + b"\x00\x00" + ad  # AdvA + ADI
        header = bytes([0x47, len(body)])
    else:
        body = address + ad
        header = bytes([0x42, len(body)])
    if len(body) > 255:
        raise ValueError("advertising payload longer than 255 bytes")
    pdu = header + body
    return BLE_ADV_ACCESS_ADDRESS.to_bytes(4, "little") + pdu + ble_crc(pdu)


def encode_hci_advertising_report(payload: bytes, advertiser: str, counter: int,
                                  extended: bool = False, rssi_dbm: int = -60) -> bytes:
    """An H4 HCI event packet (DLT 187): one LE (Extended) Advertising Report of ``payload``."""
    address = _mac_bytes(advertiser)[::-1]
    service = b"\x16" + BLE_ODID_UUID + bytes([ODID_APP_CODE, counter & 0xFF]) + payload
    data = bytes([len(service)]) + service
    rssi = rssi_dbm & 0xFF
    if extended:
        report = (b"\x00\x00\x01" + address + bytes([1, 3, 0, 0x7F, rssi]) + b"\x00\x00"
                  + b"\x00" + bytes(6) + bytes([len(data)]) + data)
        params = bytes([0x0D, 1]) + report
    else:
        params = bytes([0x02, 1, 0x03, 0x01]) + address + bytes([len(data)]) + data + bytes([rssi])
    if len(params) > 255:
        raise ValueError("HCI event parameters longer than 255 bytes")
    return bytes([0x04, 0x3E, len(params)]) + params
