"""skyfence as a child of a parent SAPIENT node (formats/sapient/client.py), against a
test-written parent that checks the Registration, the DetectionReports' stable
ULIDs across ticks, the Alerts, and the answer to a Task."""

from __future__ import annotations

import asyncio
from typing import Any

import pymap3d
import pytest

from netutil import free_port
from skyfence.errors import UserError
from skyfence.formats.sapient import convert, framing, samples, ulid, validate
from skyfence.formats.sapient.client import ParentLink, SapientClient
from skyfence.formats.sapient.convert import SapientMessage
from skyfence.formats.sapient.proto.sapient_msg.bsi_flex_335_v2_0 import alert_pb2, task_ack_pb2
from skyfence.live.hub import Snapshot

ORIGIN = (51.0, -1.0, 50.0)
EPOCH = 1_763_769_600.0
SKYFENCE = "3e0c1f5a-6b7d-4e8f-9a0b-1c2d3e4f5a6b"
PARENT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def track(track_id: int, t: float, x: float, cls: str = "drone") -> dict[str, Any]:
    return {"t": t, "track_id": track_id, "enu_m": [x, 200.0, 80.0], "vel_mps": [-5.0, 1.0, 0.0],
            "pos_cov_m2": [[25.0, 0, 0], [0, 16.0, 0], [0, 0, 9.0]], "class": cls,
            "class_prob": {"drone": 0.8, "bird": 0.1, "aircraft": 0.05, "unknown": 0.05},
            "cooperative_id": None, "threat": 0.7}


def alert(t_end: float | None) -> dict[str, Any]:
    return {"alert_id": "A-1", "kind": "zone_entry", "severity": "critical", "t_start": 1.0,
            "t_end": t_end, "track_ids": [1], "swarm_id": None, "zone": "core",
            "reason": "drone 1 heading for core", "acked_by": None, "t_ack": None}


def snapshots() -> list[Snapshot]:
    return [Snapshot(1.0, {1: track(1, 1.0, 500.0), 2: track(2, 1.0, 900.0, "bird")},
                     alerts={"A-1": alert(None)}),
            Snapshot(2.0, {1: track(1, 2.0, 495.0), 2: track(2, 2.0, 895.0, "bird")},
                     alerts={"A-1": alert(None)}),
            Snapshot(3.0, {1: track(1, 3.0, 490.0)}, alerts={"A-1": alert(3.0)}),
            Snapshot(4.0, {1: track(1, 4.0, 485.0)})]


class Parent:
    """A parent node: acks the registration, sends one task, keeps what arrives."""

    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.got: list[SapientMessage] = []
        self.done = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        frames = framing.FrameReader()
        while chunk := await reader.read(65_536):
            for payload in frames.feed(chunk):
                msg = framing.parse(payload)
                assert validate.problems(msg) == [], (msg, validate.problems(msg))
                self.got.append(msg)
                kind = msg.WhichOneof("content")
                if kind == "registration":
                    reasons = [] if self.accept else ["no room"]
                    writer.write(framing.frame(
                        convert.registration_ack(PARENT, EPOCH, msg.node_id, reasons)))
                    if self.accept:
                        writer.write(framing.frame(samples.task(PARENT, EPOCH, samples.TASK_ID,
                                                                msg.node_id)))
                    await writer.drain()
                if kind == "task_ack":
                    self.done.set()
        writer.close()


def link() -> ParentLink:
    return ParentLink(ORIGIN, SKYFENCE, EPOCH, ulid.UlidGenerator(seed=1, clock=lambda: EPOCH),
                      clock=lambda: EPOCH)


async def talk(parent: Parent) -> SapientClient:
    server = await asyncio.start_server(parent.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = SapientClient(link(), "127.0.0.1", port, ack_timeout_s=5)
    try:
        await client.connect()
        for snap in snapshots():
            await client.send(snap)
        await asyncio.wait_for(parent.done.wait(), 5)
        await asyncio.sleep(0.05)
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
    return client


def test_tracks_and_alerts_go_to_the_parent_with_stable_ulids() -> None:
    parent = Parent()
    asyncio.run(talk(parent))
    kinds = [m.WhichOneof("content") for m in parent.got]
    assert kinds[0] == "registration" and "task_ack" in kinds
    reg = parent.got[0].registration
    assert reg.node_definition[0].node_type == 20  # NODE_TYPE_FUSION_NODE
    assert kinds.count("status_report") == 4  # a heartbeat per tick
    reports = [m for m in parent.got if m.WhichOneof("content") == "detection_report"]
    assert len(reports) == 2 + 2 + 1 + 1
    by_track: dict[str, set[str]] = {}
    for m in reports:
        info = {i.type: i.value for i in m.detection_report.track_info}
        by_track.setdefault(info["skyfence_track_id"], set()).add(m.detection_report.object_id)
    assert set(by_track) == {"1", "2"} and all(len(ids) == 1 for ids in by_track.values())
    assert by_track["1"] != by_track["2"]
    report_ids = [m.detection_report.report_id for m in reports]
    assert len(set(report_ids)) == len(report_ids) and all(map(ulid.is_ulid, report_ids))

    first = reports[0]
    assert first.timestamp.seconds == int(EPOCH) + 1
    loc = first.detection_report.location
    lat, lon, alt = pymap3d.enu2geodetic(500.0, 200.0, 80.0, *ORIGIN)
    assert (loc.y, loc.x, loc.z) == pytest.approx((lat, lon, alt), abs=1e-7)
    assert first.detection_report.enu_velocity.east_rate == -5.0
    cls = first.detection_report.classification[0]
    assert (cls.type, cls.sub_class[0].type) == ("Air Vehicle", "UAV")
    assert cls.confidence == pytest.approx(0.8)
    bird = next(m for m in reports if m.detection_report.classification[0].type == "Animal")
    assert bird.detection_report.classification[0].sub_class[0].type == "Bird"

    alerts = [m.alert for m in parent.got if m.WhichOneof("content") == "alert"]
    assert [a.status for a in alerts] == [alert_pb2.Alert.ALERT_STATUS_ACTIVE,
                                          alert_pb2.Alert.ALERT_STATUS_CLEAR]
    assert alerts[0].alert_id == alerts[1].alert_id and ulid.is_ulid(alerts[0].alert_id)
    assert alerts[0].alert_type == alert_pb2.Alert.ALERT_TYPE_CRITICAL
    assert [d.object_id for d in alerts[0].associated_detection] == list(by_track["1"])
    assert alerts[0].description == "drone 1 heading for core"

    (ack,) = [m.task_ack for m in parent.got if m.WhichOneof("content") == "task_ack"]
    assert ack.task_id == samples.TASK_ID
    assert ack.task_status == task_ack_pb2.TaskAck.TASK_STATUS_REJECTED


def test_ids_of_tracks_gone_are_forgotten() -> None:
    lk = link()
    for snap in snapshots():
        lk.messages(snap)
    assert set(lk.objects) == {1} and lk.alert_ids == {}


def test_a_refused_registration_is_a_user_error() -> None:
    with pytest.raises(UserError, match="no room"):
        asyncio.run(talk(Parent(accept=False)))


def test_a_lost_parent_is_reconnected_and_tracks_keep_their_ulids() -> None:
    """live.feeds.ParentSender: the parent drops the first connection after one tick;
    the next tick connects again and track 1 is the same object (ULID) there."""
    from skyfence.live.feeds import ParentSender

    async def scenario() -> tuple[list[list[str]], ParentSender]:
        seen: list[list[str]] = []  # object ids of each connection's DetectionReports

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            ids: list[str] = []
            seen.append(ids)
            frames = framing.FrameReader()
            while chunk := await reader.read(65_536):
                for payload in frames.feed(chunk):
                    msg = framing.parse(payload)
                    kind = msg.WhichOneof("content")
                    if kind == "registration":
                        writer.write(framing.frame(
                            convert.registration_ack(PARENT, EPOCH, msg.node_id, [])))
                        await writer.drain()
                    elif kind == "detection_report":
                        ids.append(msg.detection_report.object_id)
                if ids and len(seen) == 1:  # the first connection: drop it after a tick
                    writer.close()
                    return
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sender = ParentSender(link(), "127.0.0.1", port, retry_s=0.0)
        for snap in snapshots()[:3]:
            await sender.send(snap)
            await asyncio.sleep(0.1)  # the parent reads; the drop is noticed
        await sender.close()
        server.close()
        await server.wait_closed()
        return seen, sender

    seen, sender = asyncio.run(scenario())
    assert sender.connections == 2 and len(seen) == 2
    assert seen[0] and seen[1] and seen[0][0] == seen[1][-1]  # track 1, one ULID
    assert sender.dropped_ticks <= 1


def test_a_parent_that_is_not_there_costs_ticks_not_the_service() -> None:
    from skyfence.live.feeds import ParentSender

    async def scenario() -> ParentSender:
        port = free_port()  # a port with nobody listening
        sender = ParentSender(link(), "127.0.0.1", port, retry_s=60.0)
        for snap in snapshots():
            assert await sender.send(snap) == 0
        return sender

    sender = asyncio.run(scenario())
    assert sender.connections == 0 and sender.dropped_ticks == 4
