"""SAPIENT (BSI Flex 335 v2.0): framing, ULIDs, validation, conversion, the fusion
node's replies (formats/sapient/)."""

from __future__ import annotations

import math
import random
from typing import Any

import pymap3d
import pytest

from skyfence.formats.errors import DecodeError
from skyfence.formats.sapient import convert, framing, samples, ulid, validate
from skyfence.formats.sapient.convert import LOC, RB, NodeSensor, SapientMessage
from skyfence.formats.sapient.proto.sapient_msg.bsi_flex_335_v2_0 import (
    status_report_pb2,
    task_ack_pb2,
)
from skyfence.formats.sapient.server import FusionNode, Session

ORIGIN = (51.0, -1.0, 50.0)
EPOCH = 1.7e9 - 100.0
RADAR = NodeSensor("radar-1", "radar", (0.0, 0.0, 10.0))
SENSORS = {s.sensor_id: s for s in (
    RADAR, NodeSensor("eoir-1", "eoir", (100.0, 0.0, 5.0)),
    NodeSensor("rid-1", "remote_id", (0.0, 0.0, 0.0)))}
OTHER_NODE = "7d8e9f10-1112-4314-8516-171819202122"


# ------------------------------------------------------------------ framing
def roundtrip(msg: SapientMessage, chunk: int = 7) -> SapientMessage:
    wire = framing.frame(msg)
    reader = framing.FrameReader()
    payloads = [p for i in range(0, len(wire), chunk) for p in reader.feed(wire[i:i + chunk])]
    assert len(payloads) == 1 and reader.pending == 0
    return framing.parse(payloads[0])


@pytest.mark.parametrize("msg", [
    *samples.corpus(),
    convert.registration_ack(samples.NODE_ID, 1.7e9, OTHER_NODE, ["bad"]),
    convert.error(samples.NODE_ID, 1.7e9, OTHER_NODE, b"\x01\x02", ["x: missing"]),
    convert.task_rejected(samples.NODE_ID, 1.7e9, OTHER_NODE, samples.TASK_ID),
    convert.fusion_registration(samples.NODE_ID, 1.7e9),
], ids=lambda m: m.WhichOneof("content"))
def test_every_message_round_trips_through_the_framing(msg: SapientMessage) -> None:
    back = roundtrip(msg)
    assert back == msg and back.WhichOneof("content") == msg.WhichOneof("content")
    assert validate.problems(back) == []


def test_frames_split_and_joined_across_chunks() -> None:
    msgs = samples.corpus()
    wire = b"".join(framing.frame(m) for m in msgs)
    rng = random.Random(3)
    reader = framing.FrameReader()
    got: list[bytes] = []
    i = 0
    while i < len(wire):
        n = rng.randint(1, 300)
        got += reader.feed(wire[i:i + n])
        i += n
    assert [framing.parse(p) for p in got] == msgs


def test_a_message_too_large_is_refused() -> None:
    reader = framing.FrameReader(max_message_bytes=100)
    assert reader.feed(framing.HEADER.pack(100) + b"\0" * 50) == []
    with pytest.raises(DecodeError) as exc:
        reader.feed(b"\0" * 50 + framing.HEADER.pack(101))
    assert exc.value.reason == "message too large" and reader.broken
    with pytest.raises(DecodeError):
        reader.feed(b"more")


def test_garbage_is_not_a_sapient_message() -> None:
    with pytest.raises(DecodeError) as exc:
        framing.parse(b"\xff\xff\xff\xff")
    assert exc.value.reason == "not a SapientMessage"


# ------------------------------------------------------------------ ULIDs
def test_ulids_are_monotonic_seeded_and_carry_their_time() -> None:
    t = [1_700_000_000.0]
    gen = ulid.UlidGenerator(seed=5, clock=lambda: t[0])
    ids = [gen.new() for _ in range(50)]
    t[0] += 0.002
    ids += [gen.new() for _ in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 55
    assert all(ulid.is_ulid(i) for i in ids)
    assert ulid.timestamp_ms(ids[0]) == 1_700_000_000_000
    assert ulid.timestamp_ms(ids[-1]) == 1_700_000_000_002
    assert ulid.UlidGenerator(seed=5, clock=lambda: 1.7e9).new() == ids[0]  # seeded
    assert ulid.decode(ids[0].lower()) == ulid.decode(ids[0])
    assert not ulid.is_ulid("8" + "0" * 25) and not ulid.is_ulid("0" * 25 + "U")


# ------------------------------------------------------------------ validation
def test_the_samples_break_no_rule() -> None:
    for msg in samples.corpus():
        assert validate.problems(msg) == [], msg.WhichOneof("content")


def test_missing_mandatory_fields_and_bad_ids_are_named() -> None:
    msg = samples.range_bearing(node_id="not-a-uuid", object_id="short")
    msg.detection_report.range_bearing.ClearField("datum")
    msg.ClearField("timestamp")
    found = {str(p) for p in validate.problems(msg)}
    assert found == {"timestamp: missing mandatory field", "node_id: bad UUID",
                     "detection_report.object_id: bad ULID",
                     "detection_report.range_bearing.datum: missing mandatory field"}
    empty = SapientMessage()
    assert {str(p) for p in validate.problems(empty)} >= {
        "content: missing mandatory field", "node_id: missing mandatory field"}
    reg = samples.registration()
    reg.registration.config_data[0].manufacturer = ""  # proto3 field without presence
    assert [str(p) for p in validate.problems(reg)] == [
        "registration.config_data[0].manufacturer: missing mandatory field"]


# ------------------------------------------------------------------ conversion
def converter() -> convert.DetectionConverter:
    return convert.DetectionConverter(ORIGIN, EPOCH)


def test_a_range_bearing_report_is_a_radar_measurement() -> None:
    msg = samples.range_bearing(t_utc_s=1.7e9 + 0.25, range_m=1.5, azimuth_deg=-30.0,
                                velocity_enu=(0.0, 10.0, 0.0))
    msg.detection_report.range_bearing.coordinate_system = \
        RB.RANGE_BEARING_COORDINATE_SYSTEM_DEGREES_KM
    rec = converter().record(msg, RADAR)
    assert rec["t"] == 100.25 and rec["sensor"] == "radar-1" and rec["kind"] == "radar"
    assert rec["range_m"] == 1500.0 and rec["azimuth_deg"] == 330.0
    assert rec["elevation_deg"] == 2.0
    expected_rate = 10.0 * math.cos(math.radians(2.0)) * math.cos(math.radians(330.0))
    assert rec["range_rate_mps"] == pytest.approx(expected_rate, abs=1e-3)


def test_a_location_report_is_seen_from_the_sensor() -> None:
    e, n, u = 800.0, -600.0, 110.0
    lat, lon, alt = pymap3d.enu2geodetic(e, n, u, *ORIGIN)
    rec = converter().record(samples.location(lat=lat, lon=lon, alt_m=alt), RADAR)
    rel = (e, n, u - 10.0)
    assert rec["range_m"] == pytest.approx(math.dist(rel, (0, 0, 0)), abs=0.01)
    assert rec["azimuth_deg"] == pytest.approx(math.degrees(math.atan2(e, n)) % 360, abs=1e-5)
    assert rec["elevation_deg"] == pytest.approx(
        math.degrees(math.asin(rel[2] / math.dist(rel, (0, 0, 0)))), abs=1e-5)
    eo = converter().record(samples.location(lat=lat, lon=lon, alt_m=alt), SENSORS["eoir-1"])
    assert set(eo) == {"t", "sensor", "kind", "azimuth_deg", "elevation_deg", "label",
                       "confidence"}
    assert eo["label"] == "drone" and eo["confidence"] == 0.8
    rid = converter().record(samples.location(lat=lat, lon=lon, alt_m=alt,
                                              velocity_enu=(1.0, 2.0, 0.0)), SENSORS["rid-1"])
    assert rid["kind"] == "remote_id" and rid["uas_id"] == samples.OBJECT_ID
    assert rid["vel_mps"] == [1.0, 2.0, 0.0] and rid["lat"] == pytest.approx(lat, abs=1e-7)


@pytest.mark.parametrize(("change", "sensor", "reason"), [
    (lambda m: setattr(m.detection_report.range_bearing, "datum",
                       RB.RANGE_BEARING_DATUM_MAGNETIC), RADAR, "unsupported datum"),
    (lambda m: m.detection_report.range_bearing.ClearField("range"), RADAR,
     "range missing for a radar sensor"),
    (lambda m: setattr(m.detection_report.range_bearing, "range", math.inf), RADAR,
     "number out of range"),
    (lambda m: None, SENSORS["rid-1"], "range-bearing report from a positional sensor"),
    (lambda m: setattr(m.detection_report.range_bearing, "coordinate_system", 5), RADAR,
     "unsupported coordinate system"),
])
def test_reports_skyfence_cannot_take_are_refused(change: Any, sensor: NodeSensor,
                                                  reason: str) -> None:
    msg = samples.range_bearing()
    change(msg)
    with pytest.raises(DecodeError) as exc:
        converter().record(msg, sensor)
    assert exc.value.reason == reason


def test_utm_locations_are_refused() -> None:
    msg = samples.location()
    msg.detection_report.location.coordinate_system = LOC.LOCATION_COORDINATE_SYSTEM_UTM_M
    with pytest.raises(DecodeError, match="unsupported coordinate system"):
        converter().record(msg, RADAR)


@pytest.mark.parametrize(("top", "sub", "label"), [
    ("Air Vehicle", "UAV", "drone"), ("Air Vehicle", "Multi Rotor", "drone"),
    ("Air Vehicle", "Fixed Wing", "aircraft"), ("Animal", "Bird", "bird"),
    ("Air Vehicle", None, None), ("Human", None, None), ("UAV", None, "drone"),
])
def test_the_taxonomy_maps_to_the_class_vocabulary(top: str, sub: str | None,
                                                   label: str | None) -> None:
    msg = samples.range_bearing(classification=top, sub_class=sub)
    assert convert.label_of(msg.detection_report.classification)[0] == label


# ------------------------------------------------------------------ the fusion node
def session(records: list[dict[str, Any]]) -> tuple[FusionNode, Session]:
    node = FusionNode(ORIGIN, SENSORS, records.extend, {samples.NODE_ID: "radar-1"},
                      epoch_utc_s=EPOCH, clock=lambda: 1.7e9)
    return node, node.session("test")


def one(replies: list[SapientMessage]) -> SapientMessage:
    assert len(replies) == 1
    return replies[0]


def test_registration_then_reports_become_measurements() -> None:
    records: list[dict[str, Any]] = []
    node, s = session(records)
    ack = one(s.handle(samples.registration().SerializeToString()))
    assert ack.registration_ack.acceptance and ack.destination_id == samples.NODE_ID
    assert validate.problems(ack) == []
    assert s.handle(samples.status().SerializeToString()) == []
    assert s.handle(samples.range_bearing().SerializeToString()) == []
    assert records == [{"t": 100.0, "sensor": "radar-1", "kind": "radar", "range_m": 1500.0,
                        "azimuth_deg": 45.0, "elevation_deg": 2.0, "range_rate_mps": None,
                        "rcs_dbsm": None}]
    health = node.health()[samples.NODE_ID]
    assert health["system"] == "ok" and health["detections"] == 1 and health["connected"]
    bye = samples.status(system=status_report_pb2.StatusReport.SYSTEM_GOODBYE)
    s.handle(bye.SerializeToString())
    assert not node.health()[samples.NODE_ID]["connected"]
    assert node.rejections.total == 0


def test_a_bad_registration_is_not_accepted_with_reasons() -> None:
    _, s = session([])
    bad = samples.registration(node_id="node-7")
    bad.registration.ClearField("icd_version")
    ack = one(s.handle(bad.SerializeToString()))
    assert not ack.registration_ack.acceptance
    assert set(ack.registration_ack.ack_response_reason) == {
        "node_id: bad UUID", "registration.icd_version: missing mandatory field"}
    err = one(s.handle(samples.range_bearing().SerializeToString()))
    assert err.WhichOneof("content") == "error"
    assert list(err.error.error_message) == ["not registered: send a Registration first"]


def test_invalid_messages_get_an_error_reply_and_are_counted() -> None:
    records: list[dict[str, Any]] = []
    node, s = session(records)
    s.handle(samples.registration().SerializeToString())
    bad = samples.range_bearing(object_id="nope")
    bad.detection_report.range_bearing.ClearField("coordinate_system")
    err = one(s.handle(bad.SerializeToString()))
    assert err.error.packet == bad.SerializeToString()
    assert set(err.error.error_message) == {
        "detection_report.object_id: bad ULID",
        "detection_report.range_bearing.coordinate_system: missing mandatory field"}
    err = one(s.handle(b"\x0a\xff"))
    assert "not a SapientMessage" in err.error.error_message[0]
    other = one(s.handle(samples.range_bearing(node_id=OTHER_NODE).SerializeToString()))
    assert other.WhichOneof("content") == "error"
    assert records == []
    assert node.rejections.by_reason == {"bad ULID": 1, "not a SapientMessage": 1,
                                         "node_id not registered on this connection": 1}


def test_a_report_from_a_node_with_a_wrong_clock_is_refused() -> None:
    records: list[dict[str, Any]] = []
    node, s = session(records)
    s.handle(samples.registration().SerializeToString())
    err = one(s.handle(samples.range_bearing(t_utc_s=1.7e9 + 3600).SerializeToString()))
    assert "timestamp too far from now" in err.error.error_message[0]
    assert records == [] and node.rejections.by_reason == {"timestamp too far from now": 1}


def test_every_task_is_rejected() -> None:
    _, s = session([])
    s.handle(samples.registration().SerializeToString())
    ack = one(s.handle(samples.task(destination_id=samples.NODE_ID).SerializeToString()))
    assert ack.task_ack.task_id == samples.TASK_ID
    assert ack.task_ack.task_status == task_ack_pb2.TaskAck.TASK_STATUS_REJECTED
    assert "accepts no tasking" in ack.task_ack.reason[0]
    assert validate.problems(ack) == []


def test_an_unknown_node_reports_as_its_own_sensor() -> None:
    records: list[dict[str, Any]] = []
    node, s = session(records)
    s.handle(samples.registration(node_id=OTHER_NODE).SerializeToString())
    s.handle(samples.range_bearing(node_id=OTHER_NODE).SerializeToString())
    assert node.unknown_nodes == {OTHER_NODE}
    assert records[0]["sensor"] == f"sapient-{OTHER_NODE}" and records[0]["kind"] == "radar"


def test_a_node_map_naming_no_site_sensor_is_refused() -> None:
    with pytest.raises(ValueError, match="not a site sensor"):
        FusionNode(ORIGIN, SENSORS, print, {samples.NODE_ID: "radar-9"})
    with pytest.raises(ValueError, match="not a UUID"):
        FusionNode(ORIGIN, SENSORS, print, {"radar": "radar-1"})
