"""Remote ID (ASTM F3411-22a / ASD-STAN EN 4709-002): the format's entry points.

The format lives in three modules, re-exported here:

- :mod:`skyfence.formats.remoteid_messages`: the 25-byte messages (Basic ID,
  Location/Vector, Authentication, Self-ID, System, Operator ID) and the
  Message Pack: pure decoders, encoders, and the spec's bit tables.
- :mod:`skyfence.formats.remoteid_frames`: the carriers (Wi-Fi beacon and NAN,
  Bluetooth LE legacy and extended advertising) and capture link types.
- :mod:`skyfence.formats.remoteid_ingest`: the live receiver
  (:class:`RemoteIdDecoder`, ``feed(data, rx_utc_s)``), grouping per
  transmitter, receiver-clock timestamps, :func:`to_measurements` and
  :func:`ingest_file` for pcap/pcapng captures.

docs/formats/remoteid.md explains it for a site engineer.
"""

from skyfence.formats.remoteid_frames import (
    LINK_DECODERS,
    RemoteIdFrame,
    decode_80211,
    decode_ble_ll,
    decode_ble_ll_phdr,
    decode_ble_pdu,
    decode_hci_event,
    decode_nordic_ble,
    decode_radiotap,
    encode_beacon_frame,
    encode_ble_advertisement,
    encode_hci_advertising_report,
    encode_nan_frame,
)
from skyfence.formats.remoteid_ingest import (
    Aircraft,
    RemoteIdDecoder,
    RemoteIdFix,
    fix_to_measurement,
    ingest_file,
    read_capture,
    resolve_hour_timestamp,
    to_measurements,
)
from skyfence.formats.remoteid_messages import (
    Authentication,
    BasicId,
    Location,
    Message,
    MessagePack,
    OperatorId,
    SelfId,
    System,
    decode_message,
    decode_message_pack,
    decode_messages,
    encode_message,
    encode_message_pack,
)

__all__ = [
    "LINK_DECODERS", "Aircraft", "Authentication", "BasicId", "Location", "Message",
    "MessagePack", "OperatorId", "RemoteIdDecoder", "RemoteIdFix", "RemoteIdFrame", "SelfId",
    "System", "decode_80211", "decode_ble_ll", "decode_ble_ll_phdr", "decode_ble_pdu",
    "decode_hci_event", "decode_message", "decode_message_pack", "decode_messages",
    "decode_nordic_ble",
    "decode_radiotap", "encode_beacon_frame", "encode_ble_advertisement",
    "encode_hci_advertising_report", "encode_message",
    "encode_message_pack", "encode_nan_frame", "fix_to_measurement", "ingest_file",
    "read_capture", "resolve_hour_timestamp", "to_measurements",
]
