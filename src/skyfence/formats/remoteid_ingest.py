"""Remote ID receiver: frames to per-aircraft fixes, fixes to measurements, pcap files.

Grouping: a receiver knows a broadcast aircraft only by its transmitter
address (Wi-Fi MAC, Bluetooth advertiser address). Every message from one
address updates that aircraft's record (:class:`Aircraft`): a Basic ID names
it, a System message gives the operator position, Operator ID / Self-ID /
Authentication pages are kept. Each Location message then becomes one
:class:`RemoteIdFix` carrying the latest name and operator position of its
transmitter; the same Location heard again within ``duplicate_window_s``
(Bluetooth sends each message on three channels, some transmitters send
both NAN and beacon frames) is counted as a duplicate and gives no fix.

Time: a Location's timestamp is tenths of a second since the full UTC hour.
It is placed in the hour that puts it nearest the receiver's clock
(``rx_utc_s``), i.e. within +-30 min of it (:func:`resolve_hour_timestamp`).
If the message has no timestamp, or the resolved time is further than
``max_clock_offset_s`` from the receiver clock (a transmitter with no GNSS
time sends a fixed or zero value), the receiver time is used instead and the
fix says so (``time_source = "receiver"``).

Measurement (DESIGN.md, kind ``remote_id``): ``t`` = fix UTC time minus the
epoch (default 00:00 UTC of the first record's day), ``uas_id`` (Basic ID,
serial number preferred), ``lat, lon``, ``alt_m`` (geodetic WGS-84 height,
else pressure altitude), ``vel_mps`` [east, north, up] from speed, track
direction and vertical speed (null if any is unknown; a speed of 0 needs no
direction), ``operator_lat, operator_lon`` (System message; null if none).
A fix without position, without a Basic ID heard yet, or without any
altitude gives no measurement; it is counted in the Rejections by reason.
"""

from __future__ import annotations

import heapq
import math
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import dpkt  # type: ignore[import-untyped, unused-ignore]

from skyfence.formats.errors import DecodeError, Rejections
from skyfence.formats.remoteid_frames import (
    LINK_DECODERS,
    RemoteIdFrame,
    decode_ble_pdu,
)
from skyfence.formats.remoteid_messages import (
    Authentication,
    BasicId,
    Location,
    OperatorId,
    SelfId,
    System,
    decode_messages,
)
from skyfence.formats.timebase import nearest_occurrence
from skyfence.scenario import Scenario

HOUR_S: Final = 3600.0
DAY_S: Final = 86400.0
DEFAULT_MAX_CLOCK_OFFSET_S: Final = 10.0
DEFAULT_AIRCRAFT_TIMEOUT_S: Final = 300.0
DEFAULT_DUPLICATE_WINDOW_S: Final = 1.0
ID_TYPE_PREFERENCE: Final = (1, 2, 3, 4, 0)
"""Which Basic ID names the aircraft when it sends several: serial number first."""

LINKS: Final[dict[str, int]] = {"wifi": 105, "radiotap": 127, "ble_ll": 251,
                                "ble_ll_phdr": 256, "nordic_ble": 272, "hci_h4": 187,
                                "hci_h4_phdr": 201, "bluetooth_monitor": 254}
"""Link names accepted by :class:`RemoteIdDecoder` besides pcap DLT numbers,
``"message"`` (a raw message or Message Pack) and ``"ble_pdu"`` (an
advertising PDU from its header, no CRC)."""


def resolve_hour_timestamp(seconds_since_hour: float, rx_utc_s: float) -> float:
    """The UTC time ``seconds_since_hour`` past an hour, within +-30 min of ``rx_utc_s``."""
    return nearest_occurrence(seconds_since_hour, HOUR_S, rx_utc_s)


@dataclass
class Aircraft:
    """What one transmitter has said so far (latest message of each kind)."""

    transmitter: str
    last_heard_utc_s: float
    basic_ids: dict[int, BasicId] = field(default_factory=dict)
    system: System | None = None
    operator_id: OperatorId | None = None
    self_id: SelfId | None = None
    auth_pages: dict[int, Authentication] = field(default_factory=dict)
    last_location: Location | None = None
    last_location_rx_utc_s: float = -math.inf

    @property
    def basic_id(self) -> BasicId | None:
        """The Basic ID that names the aircraft (serial number preferred)."""
        for id_type in ID_TYPE_PREFERENCE:
            found = self.basic_ids.get(id_type)
            if found is not None and found.uas_id:
                return found
        return None


@dataclass(frozen=True, slots=True)
class RemoteIdFix:
    """One Location message with its aircraft's name and operator, on the UTC clock."""

    rx_utc_s: float
    time_utc_s: float
    time_source: str
    """``message`` (its own timestamp, resolved) or ``receiver`` (the receive time)."""
    transmitter: str
    carrier: str
    uas_id: str | None
    id_type: int | None
    ua_type: int | None
    location: Location
    operator_lat_deg: float | None
    operator_lon_deg: float | None
    operator_alt_m: float | None
    operator_id: str | None


class RemoteIdDecoder:
    """Incremental receiver: ``feed`` one frame at a time, get the fixes it completes.

    ``link`` says what a fed frame is: a pcap DLT number (105, 127, 187, 201,
    251, 254, 256, 272), a name from :data:`LINKS`, ``"message"`` or ``"ble_pdu"``.
    Malformed Remote ID frames are counted in ``rejections`` (never raised);
    frames carrying no Remote ID are counted in ``ignored_frames``.
    """

    def __init__(self, link: int | str = "message", *,
                 max_clock_offset_s: float = DEFAULT_MAX_CLOCK_OFFSET_S,
                 aircraft_timeout_s: float = DEFAULT_AIRCRAFT_TIMEOUT_S,
                 duplicate_window_s: float = DEFAULT_DUPLICATE_WINDOW_S,
                 rejections: Rejections | None = None) -> None:
        self._frame_decoder = _frame_decoder(link)
        self.max_clock_offset_s = max_clock_offset_s
        self.aircraft_timeout_s = aircraft_timeout_s
        self.duplicate_window_s = duplicate_window_s
        self.duplicates = 0
        self.rejections = rejections if rejections is not None else Rejections()
        self.aircraft: dict[str, Aircraft] = {}
        self.ignored_frames = 0
        self.receiver_time_fixes = 0
        self._next_eviction_s = -math.inf

    def feed(self, data: bytes, rx_utc_s: float,
             transmitter: str | None = None) -> list[RemoteIdFix]:
        """Decode one received frame (``transmitter``: address for raw messages)."""
        try:
            frames = self._frame_decoder(bytes(data), transmitter or "unknown")
        except DecodeError as error:
            self.rejections.add(error, f"rx {rx_utc_s:.6f}")
            return []
        if not frames:
            self.ignored_frames += 1
        return [fix for frame in frames for fix in self.feed_frame(frame, rx_utc_s)]

    def feed_frame(self, frame: RemoteIdFrame, rx_utc_s: float) -> list[RemoteIdFix]:
        """Apply a decoded frame's messages to its aircraft; one fix per Location."""
        self._evict(rx_utc_s)
        aircraft = self.aircraft.get(frame.transmitter)
        if aircraft is None:
            aircraft = self.aircraft[frame.transmitter] = Aircraft(frame.transmitter, rx_utc_s)
        aircraft.last_heard_utc_s = rx_utc_s
        locations: list[Location] = []
        for message in frame.messages:
            if not isinstance(message, Location):
                _remember(aircraft, message)
            elif self._is_repeat(aircraft, message, rx_utc_s):
                self.duplicates += 1
            else:
                locations.append(message)
        return [self._fix(aircraft, frame.carrier, loc, rx_utc_s) for loc in locations]

    def _is_repeat(self, aircraft: Aircraft, location: Location, rx_utc_s: float) -> bool:
        """The same Location again within ``duplicate_window_s`` of the last one kept
        (Bluetooth repeats each message on three channels; Wi-Fi sends NAN and beacon)."""
        if (location == aircraft.last_location
                and 0.0 <= rx_utc_s - aircraft.last_location_rx_utc_s < self.duplicate_window_s):
            return True
        aircraft.last_location, aircraft.last_location_rx_utc_s = location, rx_utc_s
        return False

    def _fix(self, aircraft: Aircraft, carrier: str, location: Location,
             rx_utc_s: float) -> RemoteIdFix:
        time_utc_s, source = rx_utc_s, "receiver"
        if location.timestamp_s is not None:
            resolved = resolve_hour_timestamp(location.timestamp_s, rx_utc_s)
            if abs(resolved - rx_utc_s) <= self.max_clock_offset_s:
                time_utc_s, source = resolved, "message"
        if source == "receiver":
            self.receiver_time_fixes += 1
        basic, system = aircraft.basic_id, aircraft.system
        return RemoteIdFix(
            rx_utc_s=rx_utc_s, time_utc_s=time_utc_s, time_source=source,
            transmitter=aircraft.transmitter, carrier=carrier,
            uas_id=basic.uas_id if basic else None,
            id_type=basic.id_type if basic else None,
            ua_type=basic.ua_type if basic else None,
            location=location,
            operator_lat_deg=system.operator_lat_deg if system else None,
            operator_lon_deg=system.operator_lon_deg if system else None,
            operator_alt_m=system.operator_alt_m if system else None,
            operator_id=aircraft.operator_id.operator_id if aircraft.operator_id else None,
        )

    def _evict(self, now_utc_s: float) -> None:
        """Forget aircraft silent for ``aircraft_timeout_s`` (checked every 10 s)."""
        if now_utc_s < self._next_eviction_s:
            return
        self._next_eviction_s = now_utc_s + 10.0
        stale = [k for k, a in self.aircraft.items()
                 if now_utc_s - a.last_heard_utc_s > self.aircraft_timeout_s]
        for key in stale:
            del self.aircraft[key]

    def summary(self) -> dict[str, object]:
        return {**self.rejections.summary(), "ignored_frames": self.ignored_frames,
                "receiver_time_fixes": self.receiver_time_fixes,
                "duplicate_locations": self.duplicates,
                "aircraft": len(self.aircraft)}


def _remember(aircraft: Aircraft, message: object) -> None:
    if isinstance(message, BasicId):
        aircraft.basic_ids[message.id_type] = message
    elif isinstance(message, System):
        aircraft.system = message
    elif isinstance(message, OperatorId):
        aircraft.operator_id = message
    elif isinstance(message, SelfId):
        aircraft.self_id = message
    elif isinstance(message, Authentication):
        aircraft.auth_pages[message.page] = message


def _raw_frame(data: bytes, transmitter: str) -> tuple[RemoteIdFrame, ...]:
    return (RemoteIdFrame("raw", transmitter, None, decode_messages(data)),)


def _pdu_frame(data: bytes, _transmitter: str) -> tuple[RemoteIdFrame, ...]:
    frame = decode_ble_pdu(data)
    return () if frame is None else (frame,)


def _frame_decoder(link: int | str) -> Callable[[bytes, str], tuple[RemoteIdFrame, ...]]:
    if link == "message":
        return _raw_frame
    if link == "ble_pdu":
        return _pdu_frame
    dlt = LINKS.get(link, -1) if isinstance(link, str) else link
    decoder = LINK_DECODERS.get(dlt)
    if decoder is None:
        raise ValueError(f"unsupported Remote ID link {link!r}; "
                         f"use one of {sorted(LINKS)}, {sorted(LINK_DECODERS)}, message, ble_pdu")
    return lambda data, _tx: decoder(data)


# ------------------------------------------------------------ measurements
def day_epoch_utc_s(utc_s: float) -> float:
    """00:00:00 UTC of the day of ``utc_s``."""
    return math.floor(utc_s / DAY_S) * DAY_S


def velocity_enu_mps(location: Location) -> list[float] | None:
    """[east, north, up] m/s, or None when speed, track or vertical speed is unknown."""
    speed, track, climb = location.speed_mps, location.direction_deg, location.vertical_speed_mps
    if speed is None or climb is None or (track is None and speed != 0.0):
        return None
    if speed == 0.0:
        return [0.0, 0.0, climb]
    assert track is not None
    rad = math.radians(track)
    return [round(speed * math.sin(rad), 3), round(speed * math.cos(rad), 3), climb]


def fix_to_measurement(fix: RemoteIdFix, sensor_id: str, epoch_utc_s: float) -> dict[str, Any]:
    """The measurement of one fix; DecodeError (no position / no uas id / no altitude) if none."""
    loc = fix.location
    if loc.lat_deg is None or loc.lon_deg is None:
        raise DecodeError("no position", f"{fix.transmitter} at {fix.rx_utc_s:.3f}")
    if not fix.uas_id:
        raise DecodeError("no basic id yet", fix.transmitter)
    alt_m = loc.geodetic_alt_m if loc.geodetic_alt_m is not None else loc.pressure_alt_m
    if alt_m is None:
        raise DecodeError("no altitude", fix.transmitter)
    return {
        "t": round(fix.time_utc_s - epoch_utc_s, 6),
        "sensor": sensor_id,
        "kind": "remote_id",
        "uas_id": fix.uas_id,
        "lat": loc.lat_deg,
        "lon": loc.lon_deg,
        "alt_m": alt_m,
        "vel_mps": velocity_enu_mps(loc),
        "operator_lat": fix.operator_lat_deg if fix.operator_lon_deg is not None else None,
        "operator_lon": fix.operator_lon_deg if fix.operator_lat_deg is not None else None,
    }


def to_measurements(results: Iterable[RemoteIdFix], site: Scenario, sensor_id: str,
                    epoch_utc_s: float | None = None,
                    rejections: Rejections | None = None) -> list[dict[str, Any]]:
    """Measurements of fixes, in the order given.

    ``site`` is accepted for the shared adapter signature: Remote ID carries
    geodetic positions, so no conversion to the site frame is needed here.
    ``epoch_utc_s`` None: 00:00 UTC of the first fix's day.
    """
    del site
    out: list[dict[str, Any]] = []
    for fix in results:
        if epoch_utc_s is None:
            epoch_utc_s = day_epoch_utc_s(fix.time_utc_s)
        try:
            out.append(fix_to_measurement(fix, sensor_id, epoch_utc_s))
        except DecodeError as error:
            if rejections is not None:
                rejections.add(error)
    return out


# ------------------------------------------------------------------ files
def read_capture(path: str | Path, rejections: Rejections | None = None
                 ) -> tuple[int, Iterator[tuple[float, bytes]]]:
    """(link type, (timestamp UTC s, frame) records) of a pcap or pcapng file. A file
    cut short or corrupt part-way ends the records there, counted in ``rejections``
    ("truncated or corrupt capture"): what was read before stands."""
    handle = open(path, "rb")  # noqa: SIM115 - closed by the generator
    magic = handle.read(4)
    handle.seek(0)
    try:
        reader: Any = (dpkt.pcapng.Reader(handle) if magic == b"\x0a\x0d\x0d\x0a"
                       else dpkt.pcap.Reader(handle))
    except (ValueError, dpkt.UnpackError) as error:
        handle.close()
        raise DecodeError("not a pcap or pcapng file", str(error)) from error

    def records() -> Iterator[tuple[float, bytes]]:
        with handle:
            try:
                for ts, buf in reader:
                    yield float(ts), bytes(buf)
            except (dpkt.Error, ValueError, struct.error) as error:
                if rejections is not None:
                    rejections.add(DecodeError("truncated or corrupt capture",
                                               f"{type(error).__name__} {error}"), str(path))

    return int(reader.datalink()), records()


def ingest_file(path: str | Path, site: Scenario, sensor_id: str,
                epoch_utc_s: float | None = None,
                rejections: Rejections | None = None,
                max_clock_offset_s: float = DEFAULT_MAX_CLOCK_OFFSET_S) -> Iterator[dict[str, Any]]:
    """Measurements of a pcap/pcapng capture, in time order.

    Fix times lie within ``max_clock_offset_s`` of the receive time, so a
    reorder buffer that long puts them in order for a capture in receive order.
    """
    del site
    rejections = rejections if rejections is not None else Rejections()
    link, records = read_capture(path, rejections)
    try:
        decoder = RemoteIdDecoder(link, max_clock_offset_s=max_clock_offset_s,
                                  rejections=rejections)
    except ValueError as error:
        raise DecodeError("unsupported capture link type", str(error)) from None
    pending: list[tuple[float, int, dict[str, Any]]] = []
    serial = 0
    for rx_utc_s, frame in records:
        for fix in decoder.feed(frame, rx_utc_s):
            if epoch_utc_s is None:
                epoch_utc_s = day_epoch_utc_s(rx_utc_s)
            try:
                item = fix_to_measurement(fix, sensor_id, epoch_utc_s)
            except DecodeError as error:
                rejections.add(error, f"{path}")
                continue
            heapq.heappush(pending, (item["t"], serial, item))
            serial += 1
        if epoch_utc_s is not None:
            horizon = rx_utc_s - epoch_utc_s - max_clock_offset_s
            while pending and pending[0][0] <= horizon:
                yield heapq.heappop(pending)[2]
    while pending:
        yield heapq.heappop(pending)[2]
