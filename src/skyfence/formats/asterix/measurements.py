"""ASTERIX records → skyfence measurements (measurements.jsonl objects, ../../DESIGN.md).

Radar plots become ``kind: "radar"`` measurements of a site-file sensor: with
``sensors_by_source`` (``{(sac, sic): sensor id}``, for a feed that carries several
radars) the one mapped to the record's I048/010; without it, ``sensor_id`` stands for the
first data source seen, and records of any other source are dropped (logged once per
source, kept in :attr:`MeasurementMaker.unmapped`) — one feed often carries several
radars, and their plots must not be placed at one radar's position. The radar's
position is the sensor's ``position_enu_m``, never the feed's.

CAT048 target report → ``{t, sensor, kind: "radar", range_m, azimuth_deg, elevation_deg,
range_rate_mps, rcs_dbsm: null, asterix: {sac, sic, track_number, mode3a,
aircraft_address, callsign, flight_level}}``:

* ``range_m`` = RHO (slant range, 1/256 NM); ``azimuth_deg`` = THETA;
* ``elevation_deg`` from the target's height and the slant range (an approximation): the
  height is I048/110 (3-D radar, above mean sea level) or else the I048/090 flight level
  (pressure altitude, FL × 100 ft — off by the local QNH, ~30 ft per hPa) and the radar's
  height is the site origin's ``alt_m`` plus the sensor's ENU ``z``. On a sphere of 4/3
  earth radius (standard refraction; the sensor's ``k_factor`` when it has one), with
  ``a`` that radius, ``h_r``/``h_t`` the heights and ``R`` the slant range::

      sin(el) = ((a + h_t)^2 - (a + h_r)^2 - R^2) / (2 (a + h_r) R)

  null when neither height is present, the flight level is marked invalid, or the
  geometry is impossible (|sin| > 1);
* ``range_rate_mps`` = the calculated Doppler speed of I048/120 when present and not
  marked doubtful (the specification recommends positive away from the radar, which is
  skyfence's convention; a radar that does otherwise must be flagged in its ICD); raw
  Doppler (ambiguous, unsigned) is not used;
* skipped (no measurement): reports without I048/040, with TYP "no detection" (an
  extrapolated track position), simulated (SIM) or test (TST) targets, and replies of
  the radar's own field monitor (RAB: a fixed test transponder).

CAT015 INCS report with I015/625 range and I015/627 azimuth → a radar measurement with
``elevation_deg`` from I015/628, ``range_rate_mps`` from I015/625 RR (else the I015/626
Doppler speed, taken as positive away). CAT034 and CAT062 make no measurements (see
:func:`service_status` for CAT034).

Time: ``t`` = record UTC − ``epoch_utc_s``; with no epoch, the epoch is 00:00:00 UTC of
the day of the first timed record, so ``t`` is seconds of that day and keeps counting
past midnight.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from skyfence.formats.asterix.capture import is_capture, raw_blocks, udp_payloads
from skyfence.formats.asterix.cat015 import Cat015Report
from skyfence.formats.asterix.cat034 import Cat034Message
from skyfence.formats.asterix.cat048 import Cat048Report
from skyfence.formats.asterix.decoder import AsterixDecoder, Stamped
from skyfence.formats.asterix.fields import FT_M, SECONDS_PER_DAY
from skyfence.formats.errors import Rejections
from skyfence.scenario.model import Scenario

log = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_000.0
REORDER_WINDOW_S = 30.0
"""ingest_file holds measurements this long (in ``t``) to put them in time order."""

Measurement = dict[str, Any]


class RadarGeometry:
    """A site-file sensor's height and effective earth radius, for elevation angles."""

    __slots__ = ("earth_radius_m", "height_m", "sensor_id")

    def __init__(self, site: Scenario, sensor_id: str) -> None:
        sensor = next((s for s in site.sensors if s.id == sensor_id), None)
        if sensor is None:
            known = ", ".join(s.id for s in site.sensors) or "none"
            raise ValueError(f"sensor {sensor_id!r} is not in the site file (sensors: {known})")
        if sensor.type != "radar":
            raise ValueError(f"sensor {sensor_id!r} is a {sensor.type}, not a radar")
        self.sensor_id = sensor_id
        self.height_m = site.site.origin.alt_m + sensor.position_enu_m[2]
        self.earth_radius_m = EARTH_RADIUS_M * float(getattr(sensor, "k_factor", 4.0 / 3.0))

    def elevation_deg(self, range_m: float, target_height_m: float) -> float | None:
        """Elevation of a target at this slant range and height (None if impossible)."""
        if range_m <= 0.0:
            return None
        a = self.earth_radius_m
        radar = a + self.height_m
        sine = ((a + target_height_m) ** 2 - radar**2 - range_m**2) / (2.0 * radar * range_m)
        if not -1.0 <= sine <= 1.0:
            return None
        return math.degrees(math.asin(sine))


class MeasurementMaker:
    """Turns stamped records into measurements; fixes the epoch at the first timed record."""

    def __init__(self, site: Scenario, sensor_id: str, epoch_utc_s: float | None = None,
                 sensors_by_source: Mapping[tuple[int, int], str] | None = None) -> None:
        self.epoch_utc_s = epoch_utc_s
        self.sensors_by_source = dict(sensors_by_source or {})
        ids = {sensor_id, *self.sensors_by_source.values()}
        self.geometry = {name: RadarGeometry(site, name) for name in ids}
        self.default_sensor = sensor_id if not self.sensors_by_source else None
        self.unmapped: set[tuple[int, int]] = set()

    def _sensor(self, source: tuple[int, int]) -> str | None:
        sensor = self.sensors_by_source.get(source)
        if sensor is None and self.default_sensor is not None:
            sensor = self.sensors_by_source[source] = self.default_sensor
            self.default_sensor = None
            log.info("ASTERIX source SAC %d / SIC %d is sensor %s", *source, sensor)
        if sensor is None and source not in self.unmapped:
            self.unmapped.add(source)
            log.warning("ASTERIX source SAC %d / SIC %d is not mapped to a sensor: "
                        "its records are dropped", *source)
        return sensor

    def measurement(self, stamped: Stamped) -> Measurement | None:
        """The measurement of one record, or None (not a plot, no time, unmapped source)."""
        record = stamped.record
        utc_s = stamped.utc_s if stamped.utc_s is not None else stamped.rx_utc_s
        if utc_s is None or not isinstance(record, Cat048Report | Cat015Report):
            return None
        sensor = self._sensor((record.sac, record.sic))
        if sensor is None:
            return None
        if self.epoch_utc_s is None:
            self.epoch_utc_s = math.floor(utc_s / SECONDS_PER_DAY) * SECONDS_PER_DAY
        t = utc_s - self.epoch_utc_s
        if isinstance(record, Cat048Report):
            return cat048_measurement(record, t, self.geometry[sensor])
        return cat015_measurement(record, t, sensor)


def cat048_measurement(report: Cat048Report, t: float,
                       radar: RadarGeometry) -> Measurement | None:
    """The radar measurement of one CAT048 report (None if it is not a real plot)."""
    if (report.range_m is None or report.azimuth_deg is None or report.target_type == 0
            or report.simulated or report.test_target or report.field_monitor):
        return None
    height_m: float | None = report.height_3d_m
    if height_m is None and report.flight_level is not None and report.flight_level_valid:
        height_m = report.flight_level * 100.0 * FT_M
    elevation = None if height_m is None else radar.elevation_deg(report.range_m, height_m)
    doppler = None if report.doppler_doubtful else report.doppler_speed_mps
    return {
        "t": round(t, 6), "sensor": radar.sensor_id, "kind": "radar",
        "range_m": round(report.range_m, 3), "azimuth_deg": round(report.azimuth_deg, 6),
        "elevation_deg": None if elevation is None else round(elevation, 6),
        "range_rate_mps": doppler, "rcs_dbsm": None,
        "asterix": {"sac": report.sac, "sic": report.sic, "track_number": report.track_number,
                    "mode3a": report.mode3a, "aircraft_address": report.aircraft_address,
                    "callsign": (report.callsign or "").strip() or None,
                    "flight_level": report.flight_level},
    }


def cat015_measurement(report: Cat015Report, t: float, sensor: str) -> Measurement | None:
    """The radar measurement of one CAT015 report with range and azimuth (else None)."""
    if report.range_m is None or report.azimuth_deg is None or report.taxonomy in (2, 3):
        return None
    rate = report.range_rate_mps if report.range_rate_mps is not None else report.doppler_mps
    return {
        "t": round(t, 6), "sensor": sensor, "kind": "radar",
        "range_m": report.range_m, "azimuth_deg": round(report.azimuth_deg, 6),
        "elevation_deg": None if report.elevation_deg is None else round(report.elevation_deg, 6),
        "range_rate_mps": rate, "rcs_dbsm": None,
        "asterix": {"sac": report.sac, "sic": report.sic, "track_number": report.track_number},
    }


def to_measurements(results: Iterable[Stamped], site: Scenario, sensor_id: str,
                    epoch_utc_s: float | None = None,
                    sensors_by_source: Mapping[tuple[int, int], str] | None = None,
                    ) -> list[Measurement]:
    """Measurements of the plots among ``results`` (in the order given)."""
    maker = MeasurementMaker(site, sensor_id, epoch_utc_s, sensors_by_source)
    out = []
    for stamped in results:
        measurement = maker.measurement(stamped)
        if measurement is not None:
            out.append(measurement)
    return out


def service_status(stamped: Stamped, sensor_id: str,
                   epoch_utc_s: float) -> dict[str, Any] | None:
    """A proposed sensor-health heartbeat from a CAT034 message (not a measurement).

    ``{t, sensor, kind: "sensor_status", message, healthy, antenna_period_s,
    sector_azimuth_deg}``: north markers and sector crossings prove the radar is alive
    and turning; ``healthy`` is false when I034/050 reports NOGO, an overload or an
    invalid time source (null when the message has no I034/050).
    """
    record = stamped.record
    utc_s = stamped.utc_s if stamped.utc_s is not None else stamped.rx_utc_s
    if not isinstance(record, Cat034Message) or utc_s is None:
        return None
    return {
        "t": round(utc_s - epoch_utc_s, 6), "sensor": sensor_id, "kind": "sensor_status",
        "message": record.message_name,
        "healthy": None if record.status is None else record.status.healthy,
        "antenna_period_s": record.antenna_period_s,
        "sector_azimuth_deg": record.sector_azimuth_deg,
    }


def ingest_file(path: str | Path, site: Scenario, sensor_id: str,
                epoch_utc_s: float | None = None, rejections: Rejections | None = None,
                sensors_by_source: Mapping[tuple[int, int], str] | None = None,
                ports: Iterable[int] | None = None) -> Iterator[Measurement]:
    """Measurements from a pcap/pcapng capture (UDP payloads) or a raw block file, in
    time order (records up to :data:`REORDER_WINDOW_S` out of order are sorted).

    Captures resolve time of day against each packet's timestamp; a raw file has no
    date, so its first record is placed on the day of ``epoch_utc_s`` (day 0 without
    one). Problems are counted in ``rejections``.
    """
    rejections = rejections if rejections is not None else Rejections()
    maker = MeasurementMaker(site, sensor_id, epoch_utc_s, sensors_by_source)
    first_day = 0.0 if epoch_utc_s is None else (
        math.floor(epoch_utc_s / SECONDS_PER_DAY) * SECONDS_PER_DAY)
    decoder = AsterixDecoder(rejections, first_day_utc_s=first_day)
    datagrams: Iterable[tuple[float | None, bytes]]
    if is_capture(path):
        port_set = None if ports is None else frozenset(ports)
        datagrams = udp_payloads(path, rejections, port_set)
    else:
        datagrams = ((None, block) for block in raw_blocks(path, rejections))
    pending: list[tuple[float, int, Measurement]] = []
    sequence = itertools.count()
    latest = -math.inf
    for rx_utc_s, payload in datagrams:
        for stamped in decoder.feed(payload, rx_utc_s):
            measurement = maker.measurement(stamped)
            if measurement is None:
                continue
            heapq.heappush(pending, (measurement["t"], next(sequence), measurement))
            latest = max(latest, measurement["t"])
        while pending and pending[0][0] < latest - REORDER_WINDOW_S:
            yield heapq.heappop(pending)[2]
    while pending:
        yield heapq.heappop(pending)[2]
