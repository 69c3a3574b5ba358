"""Valid SAPIENT messages a sensor node sends (BSI Flex 335 v2.0): a radar node's
Registration, a StatusReport, DetectionReports (range-bearing and location)
and a Task — the seeds of the tests, the fuzzer (bench/fuzz_sapient.py) and
the examples in docs/formats/sapient.md.
"""

from __future__ import annotations

from skyfence.formats.sapient import convert
from skyfence.formats.sapient.convert import LOC, RB, SapientMessage
from skyfence.formats.sapient.proto.sapient_msg.bsi_flex_335_v2_0 import (
    registration_pb2,
    status_report_pb2,
    task_pb2,
)

NODE_ID = "0f6d7c34-8a3e-4b2c-9d1e-3c5b7a9e2f41"
OBJECT_ID = "01JCZ8Q9W6V3YB5T2M4N7K8P0R"
REPORT_ID = "01JCZ8Q9W6V3YB5T2M4N7K8P0S"
TASK_ID = "01JCZ8Q9W6V3YB5T2M4N7K8P0T"


def registration(node_id: str = NODE_ID, t_utc_s: float = 1.7e9,
                 node_type: int = registration_pb2.Registration.NODE_TYPE_RADAR,
                 name: str = "test radar") -> SapientMessage:
    """A minimal complete Registration of a sensor node."""
    R = registration_pb2.Registration
    msg = convert.envelope(node_id, t_utc_s)
    reg = msg.registration
    reg.node_definition.add(node_type=node_type)
    reg.icd_version = convert.ICD_VERSION
    reg.name = name
    reg.capabilities.add(category="Radar", type="Maximum Range", value="5000", units="m")
    reg.status_definition.status_interval.units = R.TIME_UNITS_SECONDS
    reg.status_definition.status_interval.value = 5.0
    mode = reg.mode_definition.add(mode_name="default", mode_type=R.MODE_TYPE_DEFAULT)
    mode.settle_time.units = R.TIME_UNITS_SECONDS
    mode.settle_time.value = 1.0
    region = mode.task.region_definition
    region.region_type.append(R.REGION_TYPE_AREA_OF_INTEREST)
    area = region.region_area.add()
    area.range_bearing_units = RB.RANGE_BEARING_COORDINATE_SYSTEM_DEGREES_M
    area.range_bearing_datum = RB.RANGE_BEARING_DATUM_TRUE
    reg.config_data.add(manufacturer="Test Sensors Ltd", model="TR-1")
    return msg


def status(node_id: str = NODE_ID, t_utc_s: float = 1.7e9, report_id: str = REPORT_ID,
           system: status_report_pb2.StatusReport.System = status_report_pb2.StatusReport.SYSTEM_OK,
           ) -> SapientMessage:
    msg = convert.envelope(node_id, t_utc_s)
    s = msg.status_report
    s.report_id = report_id
    s.system = system
    s.info = status_report_pb2.StatusReport.INFO_NEW
    s.mode = "default"
    return msg


def range_bearing(node_id: str = NODE_ID, t_utc_s: float = 1.7e9, range_m: float = 1500.0,
                  azimuth_deg: float = 45.0, elevation_deg: float | None = 2.0,
                  object_id: str = OBJECT_ID, report_id: str = REPORT_ID,
                  classification: str | None = "Air Vehicle",
                  sub_class: str | None = "UAV", confidence: float = 0.8,
                  velocity_enu: tuple[float, float, float] | None = None) -> SapientMessage:
    """A DetectionReport in range and bearing (degrees, metres, true north)."""
    msg = convert.envelope(node_id, t_utc_s)
    rep = msg.detection_report
    rep.report_id, rep.object_id = report_id, object_id
    rb = rep.range_bearing
    rb.range, rb.azimuth = range_m, azimuth_deg
    if elevation_deg is not None:
        rb.elevation = elevation_deg
    rb.coordinate_system = RB.RANGE_BEARING_COORDINATE_SYSTEM_DEGREES_M
    rb.datum = RB.RANGE_BEARING_DATUM_TRUE
    _classify(msg, classification, sub_class, confidence, velocity_enu)
    return msg


def location(node_id: str = NODE_ID, t_utc_s: float = 1.7e9, lat: float = 51.01,
             lon: float = -0.99, alt_m: float | None = 120.0, object_id: str = OBJECT_ID,
             report_id: str = REPORT_ID, classification: str | None = "Air Vehicle",
             sub_class: str | None = "UAV", confidence: float = 0.8,
             velocity_enu: tuple[float, float, float] | None = None) -> SapientMessage:
    """A DetectionReport as WGS-84 lat/lon (degrees) and height (metres)."""
    msg = convert.envelope(node_id, t_utc_s)
    rep = msg.detection_report
    rep.report_id, rep.object_id = report_id, object_id
    loc = rep.location
    loc.x, loc.y = lon, lat
    if alt_m is not None:
        loc.z = alt_m
    loc.coordinate_system = LOC.LOCATION_COORDINATE_SYSTEM_LAT_LNG_DEG_M
    loc.datum = LOC.LOCATION_DATUM_WGS84_E
    _classify(msg, classification, sub_class, confidence, velocity_enu)
    return msg


def _classify(msg: SapientMessage, classification: str | None, sub_class: str | None,
              confidence: float, velocity_enu: tuple[float, float, float] | None) -> None:
    rep = msg.detection_report
    if classification is not None:
        c = rep.classification.add(type=classification, confidence=confidence)
        if sub_class is not None:
            c.sub_class.add(type=sub_class, level=1, confidence=confidence)
    if velocity_enu is not None:
        v = rep.enu_velocity
        v.east_rate, v.north_rate, v.up_rate = velocity_enu


def task(node_id: str = NODE_ID, t_utc_s: float = 1.7e9, task_id: str = TASK_ID,
         destination_id: str | None = None) -> SapientMessage:
    """A Task (a mode change) — skyfence rejects every task."""
    msg = convert.envelope(node_id, t_utc_s, destination_id)
    msg.task.task_id = task_id
    msg.task.control = task_pb2.Task.CONTROL_START
    msg.task.command.mode_change = "tracking"
    return msg


def corpus(node_id: str = NODE_ID) -> list[SapientMessage]:
    """One of each message above (the fuzzer's seeds)."""
    return [registration(node_id), status(node_id), range_bearing(node_id),
            location(node_id, velocity_enu=(3.0, -4.0, 0.5)), task(node_id),
            range_bearing(node_id, elevation_deg=None, classification="Animal",
                          sub_class="Bird")]
