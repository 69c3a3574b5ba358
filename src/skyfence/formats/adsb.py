"""ADS-B from a 1090 MHz receiver: Beast or AVR frames -> ``adsb`` measurements.

The pieces, one module each:

- :mod:`~skyfence.formats.adsb_framing` — Beast binary (TCP 30005) and AVR
  text (TCP 30002) framing, both ways; no pyModeS needed.
- :mod:`~skyfence.formats.adsb_messages` — DF17/18 extended squitter ->
  typed results, with pyModeS (GPL-3.0, optional extra ``skyfence[adsb]``).
- :mod:`~skyfence.formats.adsb_state` — per-aircraft CPR resolution, checks,
  velocity.

This module wires them: :class:`AdsbStream` (live: ``feed(chunk, rx_utc_s)``),
:func:`to_measurements`, :func:`ingest_file`. A measurement (DESIGN.md)::

    {"t", "sensor", "kind": "adsb", "icao": "48520a", "lat", "lon",
     "alt_m", "vel_mps": [east, north, up] | null}

Time. Beast and AVR ``@`` timestamps count a 12 MHz clock from the
receiver's start, not UTC (:class:`MlatClock`): live, they are anchored to
the arrival time ``rx_utc_s`` (and re-anchored when the two part by more than
``max_drift_s``); from a file, the first frame is at ``start_utc_s`` (default
0: the captures carry no date, and a file's modification time says when it
was copied, not recorded). ``t = t_utc_s - epoch_utc_s``; the default epoch is
00:00 UTC of the day of the first measurement.

Altitude. ``alt_m`` is the broadcast altitude converted from feet: the
barometric (pressure) altitude for TC 9-18, the GNSS height for TC 20-22;
surface positions get the site origin's altitude. Positions without an
altitude are not measurements.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from skyfence.errors import UserError
from skyfence.formats.adsb_framing import (
    MLAT_TICKS_HZ,
    AvrStream,
    BeastStream,
    RawFrame,
    avr_line,
    beast_frame,
    replay_beast_file,
)
from skyfence.formats.adsb_messages import AdsbIdentity, AdsbVelocity
from skyfence.formats.adsb_state import AdsbDecoder, AdsbPosition, AdsbResult, CprSettings
from skyfence.formats.errors import DecodeError, Rejections
from skyfence.scenario.model import Scenario

__all__ = [
    "AdsbIdentity", "AdsbPosition", "AdsbResult", "AdsbStream", "AdsbVelocity",
    "CprSettings", "MlatClock", "avr_line", "beast_frame", "decode_frames", "ingest_file",
    "replay_beast_file", "settings_for_site", "to_measurements",
]

Framing = Literal["beast", "avr"]
DAY_S = 86_400.0
REORDER_WINDOW_S = 2.0


class MlatClock:
    """Receiver 12 MHz ticks -> UTC seconds.

    Live (``start_utc_s`` None): ``t = ticks / 12e6 + offset`` where ``offset``
    is the smallest ``rx_utc_s - ticks / 12e6`` seen (the least-delayed
    arrival), re-anchored when a frame's offset differs by more than
    ``max_drift_s`` (receiver restart, drift). Frames without ticks (AVR
    ``*``, or ticks 0) take ``rx_utc_s``.

    File (``start_utc_s`` given): the first frame is at ``start_utc_s``, later
    ones follow their ticks; a jump back (receiver restart) or of more than
    an hour forward re-anchors at the previous time. Frames without ticks take
    the previous frame's time.
    """

    def __init__(self, start_utc_s: float | None = None, max_drift_s: float = 2.0) -> None:
        self.live = start_utc_s is None
        self.max_drift_s = max_drift_s
        self._offset_s: float | None = None
        self._last_s = 0.0 if start_utc_s is None else start_utc_s

    def utc(self, ticks: int | None, rx_utc_s: float) -> float:
        if not ticks:
            return rx_utc_s if self.live else self._last_s
        ticks_s = ticks / MLAT_TICKS_HZ
        if self.live:
            candidate = rx_utc_s - ticks_s
            if self._offset_s is None or abs(candidate - self._offset_s) > self.max_drift_s:
                self._offset_s = candidate
            self._offset_s = min(self._offset_s, candidate)
        elif self._offset_s is None:
            self._offset_s = self._last_s - ticks_s
        else:
            t = ticks_s + self._offset_s
            if t < self._last_s - 1.0 or t > self._last_s + 3600.0:
                self._offset_s = self._last_s - ticks_s
        self._last_s = ticks_s + self._offset_s
        return self._last_s


class AdsbStream:
    """Live or file decoding of one receiver's Beast or AVR byte stream.

    ``feed(data, rx_utc_s)`` returns the results completed by ``data``; frames
    and bytes it cannot use are counted in ``rejections`` by reason, and every
    Mode S frame in ``frames_by_df`` (DF number; ``"A/C"`` for Mode A/C).
    """

    def __init__(self, framing: Framing, settings: CprSettings | None = None,
                 start_utc_s: float | None = None,
                 rejections: Rejections | None = None) -> None:
        self.rejections = rejections if rejections is not None else Rejections()
        self.framer: BeastStream | AvrStream = (
            BeastStream(self.rejections) if framing == "beast" else AvrStream(self.rejections))
        self.clock = MlatClock(start_utc_s)
        self.decoder = AdsbDecoder(settings or CprSettings())
        self.frames_by_df: Counter[int | str] = Counter()

    def feed(self, data: bytes, rx_utc_s: float) -> list[AdsbResult]:
        return self._decode(self.framer.feed(data), rx_utc_s)

    def flush(self, rx_utc_s: float) -> list[AdsbResult]:
        """Results of a last AVR line that had no line end (end of a file)."""
        if isinstance(self.framer, AvrStream):
            return self._decode(self.framer.flush(), rx_utc_s)
        return []

    def _decode(self, frames: list[RawFrame], rx_utc_s: float) -> list[AdsbResult]:
        results: list[AdsbResult] = []
        for frame in frames:
            df = frame.downlink_format
            self.frames_by_df[df if df is not None else "A/C"] += 1
            t_utc_s = self.clock.utc(frame.mlat_ticks, rx_utc_s)
            if df not in (17, 18):
                continue
            try:
                results.extend(self.decoder.decode(frame.message, t_utc_s))
            except DecodeError as error:
                self.rejections.add(error, "adsb")
        return results


def decode_frames(frames: Iterable[tuple[float, bytes]], settings: CprSettings | None = None,
                  rejections: Rejections | None = None) -> Iterator[AdsbResult]:
    """Results of Mode S messages already time-stamped in UTC (a log of hex frames)."""
    decoder = AdsbDecoder(settings or CprSettings())
    for t_utc_s, message in frames:
        try:
            yield from decoder.decode(message, t_utc_s)
        except DecodeError as error:
            if rejections is not None:
                rejections.add(error, f"t={t_utc_s}")


def settings_for_site(site: Scenario, sensor_id: str) -> CprSettings:
    """CPR settings for a receiver of ``site``: the origin as reference and, when the
    site lists the sensor, its reach (distance from the origin + ``max_range_m``)."""
    origin = site.site.origin
    sensor = next((s for s in site.sensors if s.id == sensor_id), None)
    reach_m: float | None = None
    if sensor is not None:
        east, north = sensor.position_enu_m[0], sensor.position_enu_m[1]
        reach_m = math.hypot(east, north) + sensor.max_range_m
    return CprSettings(reference=(origin.lat, origin.lon), receiver_range_m=reach_m)


def default_epoch_utc_s(t_utc_s: float) -> float:
    """00:00:00 UTC of the day of ``t_utc_s``."""
    return math.floor(t_utc_s / DAY_S) * DAY_S


def to_measurements(results: Iterable[AdsbResult], site: Scenario, sensor_id: str,
                    epoch_utc_s: float | None = None) -> list[dict[str, Any]]:
    """The ``adsb`` measurements of the positions among ``results``."""
    out: list[dict[str, Any]] = []
    for result in results:
        if not isinstance(result, AdsbPosition):
            continue
        if epoch_utc_s is None:
            epoch_utc_s = default_epoch_utc_s(result.t_utc_s)
        line = measurement(result, site, sensor_id, epoch_utc_s)
        if line is not None:
            out.append(line)
    return out


def measurement(position: AdsbPosition, site: Scenario, sensor_id: str,
                epoch_utc_s: float) -> dict[str, Any] | None:
    """One measurement line; ``None`` for an airborne position without altitude."""
    alt_m = position.alt_m
    if alt_m is None:
        if position.alt_kind != "surface":
            return None
        alt_m = site.site.origin.alt_m
    vel = position.vel_enu_mps
    return {
        "t": round(position.t_utc_s - epoch_utc_s, 3),
        "sensor": sensor_id,
        "kind": "adsb",
        "icao": position.icao,
        "lat": round(position.lat_deg, 8),
        "lon": round(position.lon_deg, 8),
        "alt_m": round(alt_m, 2),
        "vel_mps": None if vel is None else [round(v, 3) for v in vel],
    }


def sniff_framing(path: str | Path) -> Framing:
    """``beast`` if the file starts with 0x1a, ``avr`` if with ``*``/``@`` (or is empty)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64).lstrip()
    except OSError as error:
        raise UserError(f"{path}: cannot read: {error.strerror or error}") from None
    if head[:1] == b"\x1a":
        return "beast"
    if head[:1] in (b"*", b"@", b""):
        return "avr"
    raise UserError(f"{path}: not a Beast or AVR capture (starts {head[:16]!r}); "
                    "Beast frames start with 0x1a, AVR lines with * or @")


def ingest_file(path: str | Path, site: Scenario, sensor_id: str,
                epoch_utc_s: float | None = None, rejections: Rejections | None = None,
                *, start_utc_s: float = 0.0, framing: Framing | None = None,
                chunk_bytes: int = 65536) -> Iterator[dict[str, Any]]:
    """The ``adsb`` measurements of a Beast or AVR capture, in time order.

    ``start_utc_s``: UTC of the first frame (the captures have no date).
    ``framing``: ``beast`` or ``avr``; by default read from the first byte.
    Rejected input is counted in ``rejections``.
    """
    stream = AdsbStream(framing or sniff_framing(path), settings_for_site(site, sensor_id),
                        start_utc_s=start_utc_s, rejections=rejections)
    reorder = _Reorder(epoch_utc_s, site, sensor_id)
    for chunk in replay_beast_file(path, chunk_bytes):
        yield from reorder.push(stream.feed(chunk, start_utc_s))
    yield from reorder.push(stream.flush(start_utc_s))
    yield from reorder.drain()


class _Reorder:
    """Measurements out in time order: held until ``REORDER_WINDOW_S`` newer ones came."""

    def __init__(self, epoch_utc_s: float | None, site: Scenario, sensor_id: str) -> None:
        self.epoch_utc_s, self.site, self.sensor_id = epoch_utc_s, site, sensor_id
        self.heap: list[tuple[float, int, dict[str, Any]]] = []
        self.count = 0
        self.newest_t = -math.inf

    def push(self, results: list[AdsbResult]) -> Iterator[dict[str, Any]]:
        for position in results:
            if not isinstance(position, AdsbPosition):
                continue
            if self.epoch_utc_s is None:
                self.epoch_utc_s = default_epoch_utc_s(position.t_utc_s)
            line = measurement(position, self.site, self.sensor_id, self.epoch_utc_s)
            if line is not None:
                self.count += 1
                heapq.heappush(self.heap, (line["t"], self.count, line))
                self.newest_t = max(self.newest_t, line["t"])
        while self.heap and self.newest_t - self.heap[0][0] > REORDER_WINDOW_S:
            yield heapq.heappop(self.heap)[2]

    def drain(self) -> Iterator[dict[str, Any]]:
        while self.heap:
            yield heapq.heappop(self.heap)[2]
