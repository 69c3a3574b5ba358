"""SAPIENT messages ↔ skyfence records.

Inbound, a child node's ``DetectionReport`` becomes one measurements.jsonl
record (DESIGN.md) of the site sensor the node is mapped to. The record's kind
is the site sensor's ``type`` — the tracker's measurement model — and the
report's geometry is brought to it:

========================  ==========================================================
site sensor type          DetectionReport ``range_bearing``  /  ``location``
========================  ==========================================================
radar                     range, azimuth (, elevation)  /  lat, lon, alt → range,
                          azimuth, elevation from the sensor's site position
                          (no altitude: horizontal range, elevation null);
                          ``enu_velocity`` → ``range_rate_mps`` (its projection on
                          the line of sight)
rf, acoustic, eoir        azimuth (, elevation)  /  → azimuth, elevation from the
                          sensor's position; eoir also ``label``, ``confidence``
adsb, remote_id           (rejected)  /  lat, lon, alt, velocity; the ident is the
                          report's ``id`` or else its ``object_id``
========================  ==========================================================

Units: RangeBearing in degrees or radians, metres or kilometres; Location in
lat/lon degrees or radians with metres (UTM is rejected); velocity in m/s or
km/h. Datums: bearings must be to true north (magnetic, grid and platform
north are rejected: the node's declination is not known); a location on the
WGS-84 geoid is taken as ellipsoidal height (the geoid separation, up to
~±100 m, is not modelled — a node should report ``WGS84_E``).

Classification: the SAPIENT taxonomy (e.g. ``Air Vehicle`` › ``UAV``,
``Animal`` › ``Bird``) is mapped to skyfence's vocabulary by
:func:`label_of` — the most specific known term in the class tree wins;
``Air Vehicle`` alone (drone or aircraft?) stays unlabelled.

Outbound (skyfence as a child of a parent fusion node), each confirmed track
becomes a DetectionReport (:func:`track_report`: WGS-84 lat/lon/alt from
ENU, ENU velocity, the class as taxonomy) and each alert a SAPIENT ``Alert``
(:func:`alert_message`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pymap3d
from google.protobuf.timestamp_pb2 import Timestamp

from skyfence.formats.errors import DecodeError
from skyfence.formats.sapient.proto.sapient_msg.bsi_flex_335_v2_0 import (
    alert_pb2,
    detection_report_pb2,
    location_pb2,
    range_bearing_pb2,
    registration_pb2,
    sapient_message_pb2,
    task_ack_pb2,
    velocity_pb2,
)

SapientMessage = sapient_message_pb2.SapientMessage
DetectionReport = detection_report_pb2.DetectionReport
RB = range_bearing_pb2
LOC = location_pb2

BEARING_KINDS = ("rf", "acoustic", "eoir")
POSITION_KINDS = ("adsb", "remote_id")
ICD_VERSION = "BSI Flex 335 v2.0"

# fixed rejection reasons (DecodeError.reason)
UNSUPPORTED_COORDINATES = "unsupported coordinate system"
UNSUPPORTED_DATUM = "unsupported datum"
NO_RANGE = "range missing for a radar sensor"
NO_AZIMUTH = "azimuth missing"
NO_ALTITUDE = "altitude missing"
NO_POSITION = "sensor position unknown"
NOT_A_LOCATION = "range-bearing report from a positional sensor"
BAD_NUMBER = "number out of range"


@dataclass(frozen=True, slots=True)
class NodeSensor:
    """The site sensor a SAPIENT node reports as: its id, measurement ``kind``
    (the site sensor's type) and its position in site ENU metres (None: unknown)."""

    sensor_id: str
    kind: str
    position_enu_m: tuple[float, float, float] | None


# ------------------------------------------------------------------ taxonomy
_TERMS: dict[str, str] = {
    **dict.fromkeys(("uav", "uas", "suas", "drone", "rpas", "rpa", "multirotor", "multi rotor",
                     "multi-rotor", "quadcopter", "quadrotor", "unmanned"), "drone"),
    **dict.fromkeys(("bird", "birds"), "bird"),
    **dict.fromkeys(("manned aircraft", "manned", "aircraft", "fixed wing", "fixed-wing",
                     "helicopter", "airliner", "light aircraft", "glider"), "aircraft"),
}
OUT_TAXONOMY: dict[str, tuple[str, str | None]] = {
    "drone": ("Air Vehicle", "UAV"),
    "aircraft": ("Air Vehicle", "Manned Aircraft"),
    "bird": ("Animal", "Bird"),
    "unknown": ("Unknown", None),
}
"""skyfence class → (top-level class, level-1 sub-class) it is reported as."""


def _term(text: str) -> str | None:
    return _TERMS.get(" ".join(text.lower().replace("_", " ").split()))


def _deepest(node: Any, confidence: float | None, depth: int,
             best: list[tuple[int, float | None, str]]) -> None:
    conf = node.confidence if node.HasField("confidence") else confidence
    label = _term(node.type)
    if label is not None:
        best.append((depth, conf, label))
    if depth < 16:
        for sub in node.sub_class:
            _deepest(sub, conf, depth + 1, best)


def label_of(classes: Iterable[Any]) -> tuple[str | None, float | None]:
    """skyfence label and its confidence from DetectionReport classifications: among
    the classes (most confident first) the most specific known term (module doc)."""
    ranked = sorted(classes, key=lambda c: -c.confidence if c.HasField("confidence") else 0.0)
    for cls in ranked:
        found: list[tuple[int, float | None, str]] = []
        _deepest(cls, None, 0, found)
        if found:
            _, conf, label = max(found, key=lambda f: f[0])
            if conf is not None and not (0.0 <= conf <= 1.0):
                conf = None
            return label, conf
    return None, None


# ------------------------------------------------------------------ inbound
def timestamp_s(ts: Timestamp) -> float:
    """UTC seconds since the Unix epoch."""
    return ts.seconds + ts.nanos * 1e-9


def _finite(*values: float) -> None:
    if not all(math.isfinite(v) for v in values):
        raise DecodeError(BAD_NUMBER, "not finite")


def _bearing(rb: range_bearing_pb2.RangeBearing) -> tuple[float | None, float | None, float | None]:
    """(range m, azimuth deg, elevation deg) of a RangeBearing, None where absent."""
    system = rb.coordinate_system
    if system not in (RB.RANGE_BEARING_COORDINATE_SYSTEM_DEGREES_M,
                      RB.RANGE_BEARING_COORDINATE_SYSTEM_RADIANS_M,
                      RB.RANGE_BEARING_COORDINATE_SYSTEM_DEGREES_KM,
                      RB.RANGE_BEARING_COORDINATE_SYSTEM_RADIANS_KM):
        raise DecodeError(UNSUPPORTED_COORDINATES, f"range-bearing {system}")
    if rb.datum != RB.RANGE_BEARING_DATUM_TRUE:
        raise DecodeError(UNSUPPORTED_DATUM, f"range-bearing datum {rb.datum}")
    radians = system in (RB.RANGE_BEARING_COORDINATE_SYSTEM_RADIANS_M,
                         RB.RANGE_BEARING_COORDINATE_SYSTEM_RADIANS_KM)
    km = system in (RB.RANGE_BEARING_COORDINATE_SYSTEM_DEGREES_KM,
                    RB.RANGE_BEARING_COORDINATE_SYSTEM_RADIANS_KM)
    angle = math.degrees if radians else float
    az = angle(rb.azimuth) if rb.HasField("azimuth") else None
    el = angle(rb.elevation) if rb.HasField("elevation") else None
    rng = rb.range * (1000.0 if km else 1.0) if rb.HasField("range") else None
    _finite(*(v for v in (rng, az, el) if v is not None))
    if az is not None:
        az %= 360.0
    if el is not None and not -90.0 <= el <= 90.0:
        raise DecodeError(BAD_NUMBER, f"elevation {el}")
    if rng is not None and not rng > 0:
        raise DecodeError(BAD_NUMBER, f"range {rng}")
    return rng, az, el


def _geodetic(loc: location_pb2.Location) -> tuple[float, float, float | None]:
    """(lat deg, lon deg, alt m or None) of a Location."""
    system = loc.coordinate_system
    if system not in (LOC.LOCATION_COORDINATE_SYSTEM_LAT_LNG_DEG_M,
                      LOC.LOCATION_COORDINATE_SYSTEM_LAT_LNG_RAD_M):
        raise DecodeError(UNSUPPORTED_COORDINATES, f"location {system}")
    if loc.datum not in (LOC.LOCATION_DATUM_WGS84_E, LOC.LOCATION_DATUM_WGS84_G):
        raise DecodeError(UNSUPPORTED_DATUM, f"location datum {loc.datum}")
    lat, lon = loc.y, loc.x
    if system == LOC.LOCATION_COORDINATE_SYSTEM_LAT_LNG_RAD_M:
        lat, lon = math.degrees(lat), math.degrees(lon)
    alt = loc.z if loc.HasField("z") else None
    _finite(lat, lon, *(() if alt is None else (alt,)))
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise DecodeError(BAD_NUMBER, f"lat/lon {lat}, {lon}")
    if alt is not None and not -1e4 <= alt <= 1e5:
        raise DecodeError(BAD_NUMBER, f"altitude {alt}")
    return lat, lon, alt


def _velocity(report: DetectionReport) -> tuple[float, float, float] | None:
    """ENU velocity in m/s (km/h is not distinguishable on the wire in v2.0 reports:
    the units are registered per mode; m/s is assumed, as the standard's SI units)."""
    if not report.HasField("enu_velocity"):
        return None
    v = report.enu_velocity
    out = (v.east_rate, v.north_rate, v.up_rate if v.HasField("up_rate") else 0.0)
    _finite(*out)
    if max(abs(c) for c in out) > 1000.0:
        raise DecodeError(BAD_NUMBER, "speed above 1000 m/s")
    return out


def _polar(rel: Sequence[float]) -> tuple[float, float, float]:
    """(range m, azimuth deg, elevation deg) of an ENU offset."""
    e, n, u = rel
    rng = math.sqrt(e * e + n * n + u * u)
    az = math.degrees(math.atan2(e, n)) % 360.0
    el = math.degrees(math.asin(u / rng)) if rng > 0 else 0.0
    return rng, az, el


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


class DetectionConverter:
    """DetectionReports → measurement records (module doc) for one site:
    ``origin`` (lat deg, lon deg, alt m), times as seconds after ``epoch_utc_s``."""

    def __init__(self, origin: tuple[float, float, float], epoch_utc_s: float) -> None:
        self.origin = origin
        self.epoch_utc_s = epoch_utc_s

    def record(self, msg: SapientMessage, sensor: NodeSensor) -> dict[str, Any]:
        """The measurement record of a (validated) DetectionReport message."""
        report = msg.detection_report
        t = round(timestamp_s(msg.timestamp) - self.epoch_utc_s, 6)
        head: dict[str, Any] = {"t": t, "sensor": sensor.sensor_id, "kind": sensor.kind}
        vel = _velocity(report)
        where = report.WhichOneof("location_oneof")
        if sensor.kind in POSITION_KINDS:
            if where != "location":
                raise DecodeError(NOT_A_LOCATION, sensor.sensor_id)
            lat, lon, alt = _geodetic(report.location)
            if alt is None:
                raise DecodeError(NO_ALTITUDE, "location without z")
            ident = report.id or report.object_id
            key = "icao" if sensor.kind == "adsb" else "uas_id"
            out = {**head, key: ident, "lat": round(lat, 7), "lon": round(lon, 7),
                   "alt_m": round(alt, 2),
                   "vel_mps": None if vel is None else [round(c, 3) for c in vel]}
            if sensor.kind == "remote_id":
                out.update(operator_lat=None, operator_lon=None)
            return out
        rng, az, el, rel = self._geometry(report, sensor, where)
        if sensor.kind == "radar":
            if rng is None:
                raise DecodeError(NO_RANGE, sensor.sensor_id)
            rate = None
            if vel is not None:
                if rel is None:
                    el_r = math.radians(el or 0.0)
                    az_r = math.radians(az)
                    rel = (math.cos(el_r) * math.sin(az_r), math.cos(el_r) * math.cos(az_r),
                           math.sin(el_r))
                norm = math.sqrt(sum(c * c for c in rel)) or 1.0
                rate = sum(v * c for v, c in zip(vel, rel, strict=True)) / norm
            return {**head, "range_m": round(rng, 3), "azimuth_deg": round(az, 6),
                    "elevation_deg": _r(el, 6), "range_rate_mps": _r(rate, 3),
                    "rcs_dbsm": None}
        out = {**head, "azimuth_deg": round(az, 6), "elevation_deg": _r(el, 6)}
        if sensor.kind == "eoir":
            label, conf = label_of(report.classification)
            out.update(label=label, confidence=_r(conf, 4))
        elif sensor.kind == "rf":
            out["emitter"] = None
        return out

    def _geometry(self, report: DetectionReport, sensor: NodeSensor, where: str | None
                  ) -> tuple[float | None, float, float | None, tuple[float, float, float] | None]:
        """(range, azimuth, elevation, ENU offset or None) as the sensor sees the report."""
        if where == "range_bearing":
            rng, az, el = _bearing(report.range_bearing)
            if az is None:
                raise DecodeError(NO_AZIMUTH, sensor.sensor_id)
            return rng, az, el, None
        if sensor.position_enu_m is None:
            raise DecodeError(NO_POSITION, sensor.sensor_id)
        lat, lon, alt = _geodetic(report.location)
        e, n, u = pymap3d.geodetic2enu(lat, lon, alt if alt is not None else self.origin[2],
                                       *self.origin)
        sx, sy, sz = sensor.position_enu_m
        rel = (float(e) - sx, float(n) - sy, float(u) - sz)
        if alt is None:  # a 2-D report: horizontal range, no elevation
            rng, az, _ = _polar((rel[0], rel[1], 0.0))
            return (rng if rng > 0 else None), az, None, (rel[0], rel[1], 0.0)
        rng, az, el = _polar(rel)
        return (rng if rng > 0 else None), az, el, rel


# ------------------------------------------------------------------ replies
def envelope(node_id: str, t_utc_s: float, destination_id: str | None = None,
             ) -> SapientMessage:
    """A SapientMessage from ``node_id`` stamped ``t_utc_s`` (content to be set)."""
    msg = SapientMessage(node_id=node_id)
    msg.timestamp.FromNanoseconds(round(t_utc_s * 1e9))
    if destination_id:
        msg.destination_id = destination_id
    return msg


def registration_ack(node_id: str, t_utc_s: float, destination_id: str | None,
                     reasons: Sequence[str] = ()) -> SapientMessage:
    msg = envelope(node_id, t_utc_s, destination_id)
    msg.registration_ack.acceptance = not reasons
    msg.registration_ack.ack_response_reason.extend(reasons)
    return msg


def error(node_id: str, t_utc_s: float, destination_id: str | None, packet: bytes,
          reasons: Sequence[str]) -> SapientMessage:
    msg = envelope(node_id, t_utc_s, destination_id)
    msg.error.packet = packet
    msg.error.error_message.extend(reasons)
    return msg


TASK_REFUSAL = ("skyfence is a sensing and fusion node: it accepts no tasking "
                "and controls no effector")


def task_rejected(node_id: str, t_utc_s: float, destination_id: str | None,
                  task_id: str) -> SapientMessage:
    msg = envelope(node_id, t_utc_s, destination_id)
    msg.task_ack.task_id = task_id
    msg.task_ack.task_status = task_ack_pb2.TaskAck.TASK_STATUS_REJECTED
    msg.task_ack.reason.append(TASK_REFUSAL)
    return msg


def fusion_registration(node_id: str, t_utc_s: float, name: str = "skyfence",
                        status_interval_s: float = 1.0) -> SapientMessage:
    """The Registration skyfence sends a parent node: a fusion node reporting
    located, classified tracks (DetectionReports) and alerts; no tasks accepted
    (a task definition with no commands, as the standard needs one)."""
    R = registration_pb2.Registration
    msg = envelope(node_id, t_utc_s)
    reg = msg.registration
    reg.node_definition.add(node_type=registration_pb2.Registration.NODE_TYPE_FUSION_NODE)
    reg.icd_version = ICD_VERSION
    reg.name = name
    reg.short_name = name[:16]
    reg.capabilities.add(category="Fusion", type="Tracks", value="located, classified")
    reg.status_definition.status_interval.units = R.TIME_UNITS_SECONDS
    reg.status_definition.status_interval.value = status_interval_s
    mode = reg.mode_definition.add(mode_name="default", mode_type=R.MODE_TYPE_DEFAULT,
                                   scan_type=R.SCAN_TYPE_FIXED,
                                   tracking_type=R.TRACKING_TYPE_TRACK)
    mode.settle_time.units = R.TIME_UNITS_SECONDS
    mode.settle_time.value = 0.0
    det = mode.detection_definition.add()
    det.location_type.location_units = LOC.LOCATION_COORDINATE_SYSTEM_LAT_LNG_DEG_M
    det.location_type.location_datum = LOC.LOCATION_DATUM_WGS84_E
    det.velocity_type.enu_velocity_units.east_north_rate_units = velocity_pb2.SPEED_UNITS_MS
    det.velocity_type.enu_velocity_units.up_rate_units = velocity_pb2.SPEED_UNITS_MS
    det.velocity_type.location_datum = LOC.LOCATION_DATUM_WGS84_E
    classes = det.detection_class_definition.add(
        confidence_definition=R.CONFIDENCE_DEFINITION_SINGLE_CLASS)
    for top, sub in OUT_TAXONOMY.values():
        cls = classes.class_definition.add(type=top, units="probability (0-1)")
        if sub is not None:
            cls.sub_class.add(type=sub, level=1, units="probability (0-1)")
    region = mode.task.region_definition
    region.region_type.append(R.REGION_TYPE_AREA_OF_INTEREST)
    area = region.region_area.add()
    area.location_units = LOC.LOCATION_COORDINATE_SYSTEM_LAT_LNG_DEG_M
    area.location_datum = LOC.LOCATION_DATUM_WGS84_E
    reg.config_data.add(manufacturer="skyfence (open source)", model="skyfence fusion node")
    return msg


# ------------------------------------------------------------------ outbound
def _location(enu_m: Sequence[float], origin: tuple[float, float, float],
              cov: Sequence[Sequence[float]] | None) -> location_pb2.Location:
    lat, lon, alt = pymap3d.enu2geodetic(enu_m[0], enu_m[1], enu_m[2], *origin)
    loc = LOC.Location(x=float(lon), y=float(lat), z=float(alt),
                       coordinate_system=LOC.LOCATION_COORDINATE_SYSTEM_LAT_LNG_DEG_M,
                       datum=LOC.LOCATION_DATUM_WGS84_E)
    if cov is not None:
        m_per_deg = 111_320.0
        loc.y_error = math.sqrt(max(cov[1][1], 0.0)) / m_per_deg
        loc.x_error = math.sqrt(max(cov[0][0], 0.0)) / (
            m_per_deg * max(math.cos(math.radians(float(lat))), 1e-6))
        loc.z_error = math.sqrt(max(cov[2][2], 0.0))
    return loc


def track_report(track: Mapping[str, Any], origin: tuple[float, float, float],
                 node_id: str, t_utc_s: float, report_id: str, object_id: str
                 ) -> SapientMessage:
    """A skyfence track (a tracks.jsonl record) as a DetectionReport message."""
    msg = envelope(node_id, t_utc_s)
    rep = msg.detection_report
    rep.report_id = report_id
    rep.object_id = object_id
    rep.location.CopyFrom(_location(track["enu_m"], origin, track.get("pos_cov_m2")))
    vel = track.get("vel_mps")
    if vel is not None and all(v is not None for v in vel):
        rep.enu_velocity.east_rate, rep.enu_velocity.north_rate = vel[0], vel[1]
        rep.enu_velocity.up_rate = vel[2]
    cls = str(track.get("class") or "unknown")
    top, sub = OUT_TAXONOMY.get(cls, OUT_TAXONOMY["unknown"])
    prob = (track.get("class_prob") or {}).get(cls)
    c = rep.classification.add(type=top)
    if prob is not None:
        c.confidence = float(prob)
    if sub is not None:
        s = c.sub_class.add(type=sub, level=1)
        if prob is not None:
            s.confidence = float(prob)
    if track.get("cooperative_id"):
        rep.id = str(track["cooperative_id"])
    rep.track_info.add(type="skyfence_track_id", value=str(track["track_id"]))
    if track.get("threat") is not None:
        rep.track_info.add(type="threat", value=f"{float(track['threat']):.3f}")
    return msg


_ALERT_TYPE = {"critical": alert_pb2.Alert.ALERT_TYPE_CRITICAL,
               "warning": alert_pb2.Alert.ALERT_TYPE_WARNING}
_PRIORITY = {"critical": alert_pb2.Alert.DISCRETE_PRIORITY_HIGH,
             "warning": alert_pb2.Alert.DISCRETE_PRIORITY_MEDIUM}


def alert_message(alert: Mapping[str, Any], node_id: str, t_utc_s: float, alert_ulid: str,
                  track_objects: Mapping[int, str], origin: tuple[float, float, float],
                  track_enu: Mapping[int, Sequence[float]]) -> SapientMessage:
    """A skyfence alert record as a SAPIENT Alert: ACTIVE while ``t_end`` is null,
    then CLEAR; its tracks as associated detections (their object ULIDs)."""
    A = alert_pb2.Alert
    msg = envelope(node_id, t_utc_s)
    a = msg.alert
    a.alert_id = alert_ulid
    severity = str(alert.get("severity") or "")
    a.alert_type = _ALERT_TYPE.get(severity, A.ALERT_TYPE_INFORMATION)
    a.status = A.ALERT_STATUS_ACTIVE if alert.get("t_end") is None else A.ALERT_STATUS_CLEAR
    a.priority = _PRIORITY.get(severity, A.DISCRETE_PRIORITY_LOW)
    a.description = str(alert.get("reason") or alert.get("kind") or "skyfence alert")
    ids = [int(i) for i in alert.get("track_ids") or []]
    for tid in ids:
        if tid in track_objects:
            a.associated_detection.add(node_id=node_id, object_id=track_objects[tid])
    first = next((track_enu[i] for i in ids if i in track_enu), None)
    if first is not None:
        a.location.CopyFrom(_location(first, origin, None))
    a.additional_information = json.dumps(
        {k: alert.get(k) for k in ("alert_id", "kind", "severity", "zone", "swarm_id",
                                   "t_start", "t_end", "track_ids")}, separators=(",", ":"))
    return msg
