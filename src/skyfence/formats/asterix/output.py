"""skyfence tracks → CAT062 system track datagrams, for the site's other systems.

Input: tracks.jsonl-shaped objects (``t, track_id, enu_m, vel_mps, pos_cov_m2, class,
cooperative_id, ...``, ../../DESIGN.md), one output tick at a time. Each track becomes
one CAT062 record (:mod:`.cat062`):

    I062/010  SAC/SIC                       settings
    I062/015  service identification        settings (default 1)
    I062/070  time of track information     (epoch_utc_s + t) mod 24 h
    I062/105  WGS-84 latitude, longitude    pymap3d.enu2geodetic from the site origin
    I062/100  Cartesian x, y (0.5 m)        ENU east, north: the system reference point is
                                            the site origin and the plane its local tangent
                                            plane (not a stereographic projection; within
                                            10 km of the origin they differ by < 1 cm)
    I062/185  Cartesian vx, vy (0.25 m/s)   vel_mps east, north
    I062/130  geometric altitude (6.25 ft)  WGS-84 height of the ENU point
    I062/040  track number                  track_id mod 65536
    I062/080  track status                  see below
    I062/290  track age (TRK, 1/4 s)        t − the track's first tick, capped at 63.75 s
    I062/500  accuracies APC, COV, AGA      from pos_cov_m2 (ENU): sqrt of the east and
                                            north variances (0.5 m), sign(cov) sqrt|cov|
                                            of east-north (0.5 m), sqrt of the up variance
                                            (6.25 ft); the maximum when beyond range

I062/080 from skyfence's track states: MON 0 (a fused, multisensor picture); CNF 0
(tracks.jsonl holds confirmed tracks only; a line with ``"tentative": true`` sets
CNF 1); SRC 3 "triangulation" (the height comes from fusing several sensors' angles and
ranges — the nearest of the specification's sources); SIM from the settings (set it
when the tracks come from the simulator); TSB 1 on a track's first message; TSE 1 on
its last (sent once, at the tick a track disappears, with its last state, or at
:meth:`Cat062Writer.finish`); SDS 2 "non-cooperative only" unless the track has a
``cooperative_id`` (ADS-B, Remote ID), then 0 "combined".
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import pymap3d

from skyfence.formats.asterix.block import frame_block
from skyfence.formats.asterix.cat062 import (
    CATEGORY,
    SURVEILLANCE_COMBINED,
    SURVEILLANCE_NON_COOPERATIVE_ONLY,
    Cat062Track,
    TrackStatus,
    encode_record,
)
from skyfence.formats.asterix.fields import SECONDS_PER_DAY
from skyfence.formats.udp_out import UdpOut
from skyfence.scenario.model import Origin

ALTITUDE_SOURCE_TRIANGULATION = 3
UDP_SAFE_OCTETS = 1400


@dataclass(frozen=True, slots=True)
class OutputSettings:
    """Who skyfence says it is on the wire, and how big a datagram may be."""

    sac: int
    sic: int
    service_id: int = 1
    simulated: bool = False
    max_datagram_octets: int = UDP_SAFE_OCTETS


def track_number(track_id: object) -> int:
    """I062/040 of a track id: an integer id modulo 2^16, else a CRC of its text."""
    if isinstance(track_id, int):
        return track_id & 0xFFFF
    text = str(track_id)
    return int(text) & 0xFFFF if text.isdigit() else zlib.crc32(text.encode()) & 0xFFFF


def track_record(line: Mapping[str, Any], origin: Origin, settings: OutputSettings,
                 epoch_utc_s: float | None = None, age_s: float | None = None) -> Cat062Track:
    """The CAT062 fields of one tracks.jsonl object (TSB/TSE left clear)."""
    east, north, up = (float(v) for v in line["enu_m"])
    vx, vy = float(line["vel_mps"][0]), float(line["vel_mps"][1])
    lat, lon, alt = pymap3d.enu2geodetic(east, north, up, origin.lat, origin.lon, origin.alt_m)
    utc_s = (epoch_utc_s or 0.0) + float(line["t"])
    sources = (SURVEILLANCE_NON_COOPERATIVE_ONLY if line.get("cooperative_id") is None
               else SURVEILLANCE_COMBINED)
    sigma_x, sigma_y, cov_xy, sigma_z = _accuracies(line.get("pos_cov_m2"))
    status = TrackStatus(altitude_source=ALTITUDE_SOURCE_TRIANGULATION,
                         tentative=bool(line.get("tentative", False)),
                         simulated=settings.simulated, surveillance_sources=sources)
    return Cat062Track(
        sac=settings.sac, sic=settings.sic, service_id=settings.service_id,
        time_of_day_s=utc_s % SECONDS_PER_DAY, lat_deg=float(lat), lon_deg=float(lon),
        x_m=east, y_m=north, vx_mps=vx, vy_mps=vy, track_number=track_number(line["track_id"]),
        status=status, track_age_s=age_s, geometric_altitude_m=float(alt),
        sigma_x_m=sigma_x, sigma_y_m=sigma_y, xy_covariance_m=cov_xy, sigma_altitude_m=sigma_z,
    )


_NO_ACCURACY: tuple[None, None, None, None] = (None, None, None, None)


def _accuracies(cov: Any) -> tuple[float | None, float | None, float | None, float | None]:
    """(sigma x, sigma y, signed sqrt of cov(x, y), sigma z) of a 3x3 ENU position
    covariance; all None if it is absent or malformed."""
    try:
        var_x, var_y, var_z = float(cov[0][0]), float(cov[1][1]), float(cov[2][2])
        cov_xy = float(cov[0][1])
    except (TypeError, IndexError, KeyError, ValueError):
        return _NO_ACCURACY
    values = (var_x, var_y, var_z, cov_xy)
    if min(var_x, var_y, var_z) < 0 or not all(math.isfinite(v) for v in values):
        return _NO_ACCURACY
    return (math.sqrt(var_x), math.sqrt(var_y),
            math.copysign(math.sqrt(abs(cov_xy)), cov_xy), math.sqrt(var_z))


def pack(records: Iterable[bytes], max_octets: int = UDP_SAFE_OCTETS) -> list[bytes]:
    """CAT062 data blocks of the records, one block per datagram of at most ``max_octets``."""
    datagrams: list[bytes] = []
    batch: list[bytes] = []
    size = 3
    for record in records:
        if batch and size + len(record) > max_octets:
            datagrams.append(frame_block(CATEGORY, b"".join(batch)))
            batch, size = [], 3
        batch.append(record)
        size += len(record)
    if batch:
        datagrams.append(frame_block(CATEGORY, b"".join(batch)))
    return datagrams


class Cat062Writer:
    """Tick by tick: the datagrams for the tracks of each output tick."""

    def __init__(self, origin: Origin, settings: OutputSettings,
                 epoch_utc_s: float | None = None) -> None:
        self.origin = origin
        self.settings = settings
        self.epoch_utc_s = epoch_utc_s
        self._first_t: dict[object, float] = {}
        self._last: dict[object, Cat062Track] = {}
        self.unencodable = 0  # lines skipped: malformed, or out of CAT062's ranges

    def tick(self, lines: Iterable[Mapping[str, Any]]) -> list[bytes]:
        """Datagrams for one tick's tracks, plus a last message for each track gone since."""
        records: list[bytes] = []
        current: dict[object, Cat062Track] = {}
        for line in lines:
            try:
                key = line["track_id"]
                t = float(line["t"])
                start = self._first_t.get(key, t)
                track = track_record(line, self.origin, self.settings, self.epoch_utc_s,
                                     t - start)
                first = key not in self._first_t
                sent = track
                if first and track.status is not None:
                    sent = replace(track, status=replace(track.status, first_message=True))
                records.append(encode_record(sent))
            except (KeyError, TypeError, ValueError, IndexError):
                self.unencodable += 1  # a malformed line, or a value CAT062 cannot carry
                continue
            self._first_t[key] = start
            current[key] = track
        for key, track in self._last.items():
            if key not in current:
                records.append(encode_record(_ended(track)))
                del self._first_t[key]
        self._last = current
        return pack(records, self.settings.max_datagram_octets)

    def finish(self) -> list[bytes]:
        """Last messages (TSE) for every track still open."""
        records = [encode_record(_ended(track)) for track in self._last.values()]
        self._last = {}
        self._first_t = {}
        return pack(records, self.settings.max_datagram_octets)


def _ended(track: Cat062Track) -> Cat062Track:
    status = track.status if track.status is not None else TrackStatus()
    return replace(track, status=replace(status, last_message=True, first_message=False))


def tracks_file_datagrams(tracks_path: str | Path, origin: Origin, settings: OutputSettings,
                          epoch_utc_s: float | None = None) -> Iterator[bytes]:
    """CAT062 datagrams of a tracks.jsonl file, tick by tick (lines of one ``t`` together)."""
    writer = Cat062Writer(origin, settings, epoch_utc_s)
    tick: list[dict[str, Any]] = []
    with open(tracks_path, encoding="utf-8") as handle:
        for text in handle:
            if not text.strip():
                continue
            line = json.loads(text)
            if tick and line["t"] != tick[0]["t"]:
                yield from writer.tick(tick)
                tick = []
            tick.append(line)
    if tick:
        yield from writer.tick(tick)
    yield from writer.finish()


def write_tracks_file(tracks_path: str | Path, origin: Origin, settings: OutputSettings,
                      out: BinaryIO, epoch_utc_s: float | None = None) -> int:
    """A raw CAT062 recording (blocks back to back) of a tracks.jsonl file; blocks written."""
    count = 0
    for datagram in tracks_file_datagrams(tracks_path, origin, settings, epoch_utc_s):
        out.write(datagram)
        count += 1
    return count


class TrackSnapshot(Protocol):
    """What :class:`Cat062Sender` reads of a live picture (skyfence.live.hub.Snapshot)."""

    @property
    def t_s(self) -> float: ...

    @property
    def tracks(self) -> Mapping[Any, Mapping[str, Any]]: ...


class Cat062Sender:
    """Sends each live tick's tracks as CAT062 datagrams to ``host:port`` (unicast, or
    multicast with ``ttl`` hops); send errors are counted, not raised."""

    def __init__(self, origin: Origin | tuple[float, float, float], epoch_utc_s: float | None,
                 host: str, port: int, sac: int, sic: int, service_id: int = 1,
                 simulated: bool = False, ttl: int = 1) -> None:
        if not isinstance(origin, Origin):
            origin = Origin(lat=origin[0], lon=origin[1], alt_m=origin[2])
        settings = OutputSettings(sac=sac, sic=sic, service_id=service_id, simulated=simulated)
        self.writer = Cat062Writer(origin, settings, epoch_utc_s)
        self.out = UdpOut(host, port, ttl)

    def send(self, snapshot: TrackSnapshot) -> int:
        """Send this tick's tracks (and the last message of tracks gone); datagrams sent."""
        lines = [{**track, "t": snapshot.t_s} for track in snapshot.tracks.values()]
        return self.out.send_all(self.writer.tick(lines))

    def close(self) -> None:
        """Send the last message of every open track, then close the socket."""
        try:
            self.out.send_all(self.writer.finish())
        finally:
            self.out.close()
