"""Cursor on Target events over UDP (formats/cot.py): received on a loopback socket
and parsed with xml.etree."""

from __future__ import annotations

import asyncio
import socket
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

import pymap3d
import pytest

from skyfence.formats.cot import CotSender, CotSettings, cot_type, iso_utc
from skyfence.live.hub import Hub, Snapshot, follow

ORIGIN = (51.0, -1.0, 50.0)
EPOCH = 1_763_769_600.0  # 2025-11-22T00:00:00Z


def track(track_id: int, cls: str, threat: float = 0.1, coop: str | None = None,
          **more: Any) -> dict[str, Any]:
    return {"t": 10.0, "track_id": track_id, "enu_m": [300.0, 400.0, 60.0],
            "vel_mps": [0.0, -10.0, 0.0], "pos_cov_m2": [[16.0, 0, 0], [0, 9.0, 0], [0, 0, 4.0]],
            "class": cls, "class_prob": {cls: 0.9}, "cooperative_id": coop, "threat": threat,
            "suspect": False, "swarm_id": None, **more}


@pytest.mark.parametrize(("record", "critical", "expected"), [
    (track(1, "drone"), False, "a-u-A-M-F-Q"),
    (track(1, "drone", 0.5), False, "a-s-A-M-F-Q"),
    (track(1, "drone", 0.8), False, "a-h-A-M-F-Q"),
    (track(1, "drone"), True, "a-h-A-M-F-Q"),
    (track(1, "drone", suspect=True), False, "a-s-A-M-F-Q"),
    (track(1, "unknown", 0.75), False, "a-h-A"),
    (track(1, "aircraft", coop="4CA123"), False, "a-n-A-C-F"),
    (track(1, "aircraft"), False, "a-u-A-C"),
    (track(1, "bird"), False, None),
])
def test_types_follow_class_and_affiliation(record: dict[str, Any], critical: bool,
                                            expected: str | None) -> None:
    assert cot_type(record, critical) == expected


def test_settings_change_friends_and_birds() -> None:
    s = CotSettings(cooperative_affiliation="f", send_birds=True)
    assert cot_type(track(1, "aircraft", coop="X"), settings=s) == "a-f-A-C-F"
    assert cot_type(track(1, "bird"), settings=s) == "a-u-A"


def test_each_tick_s_tracks_arrive_as_cot_events() -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5)
    sender = CotSender(ORIGIN, EPOCH, "127.0.0.1", rx.getsockname()[1], site="base")
    alert = {"alert_id": "A-1", "severity": "critical", "t_end": None, "track_ids": [2]}
    try:
        for t in (10.0, 11.0):
            snap = Snapshot(t, {1: track(1, "drone", 0.2), 2: track(2, "drone", 0.3),
                                3: track(3, "bird"), 4: track(4, "aircraft", coop="4CA123")},
                            alerts={"A-1": alert})
            assert sender.send(snap) == 3  # the bird is not sent
        events = [ET.fromstring(rx.recv(65_536)) for _ in range(6)]
    finally:
        sender.close()
        rx.close()
    by_uid: dict[str, list[ET.Element]] = {}
    for ev in events:
        by_uid.setdefault(ev.attrib["uid"], []).append(ev)
    assert set(by_uid) == {"skyfence.base.T1", "skyfence.base.T2", "skyfence.base.T4"}
    assert all(len(v) == 2 for v in by_uid.values())  # one per tick, same uid
    first = by_uid["skyfence.base.T1"][0]
    assert first.tag == "event" and first.attrib["version"] == "2.0"
    assert first.attrib["type"] == "a-u-A-M-F-Q" and first.attrib["how"] == "m-g"
    assert first.attrib["time"] == first.attrib["start"] == "2025-11-22T00:00:10.000Z"
    stale = datetime.fromisoformat(first.attrib["stale"].replace("Z", "+00:00"))
    assert stale.timestamp() == EPOCH + 13.0
    assert by_uid["skyfence.base.T2"][0].attrib["type"] == "a-h-A-M-F-Q"  # critical alert
    assert by_uid["skyfence.base.T4"][0].attrib["type"] == "a-n-A-C-F"
    point = first.find("point")
    assert point is not None
    lat, lon, hae = pymap3d.enu2geodetic(300.0, 400.0, 60.0, *ORIGIN)
    assert float(point.attrib["lat"]) == pytest.approx(lat, abs=1e-6)
    assert float(point.attrib["lon"]) == pytest.approx(lon, abs=1e-6)
    assert float(point.attrib["hae"]) == pytest.approx(hae, abs=0.1)
    assert float(point.attrib["ce"]) == 4.0 and float(point.attrib["le"]) == 2.0
    course = first.find("detail/track")
    assert course is not None
    assert float(course.attrib["course"]) == 180.0 and float(course.attrib["speed"]) == 10.0
    remarks = first.findtext("detail/remarks")
    assert remarks is not None and remarks.startswith("drone p=0.90")
    assert "critical-zone" in (by_uid["skyfence.base.T2"][0].findtext("detail/remarks") or "")


def test_following_the_hub_sends_every_published_tick_until_stop() -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5)
    sender = CotSender(ORIGIN, EPOCH, "127.0.0.1", rx.getsockname()[1], site="base")

    async def run() -> None:
        hub, stop = Hub(), asyncio.Event()
        task = asyncio.create_task(follow(hub, stop, sender.send, "cot"))
        await asyncio.sleep(0)  # subscribed
        for t in (10.0, 11.0):
            hub.publish(Snapshot(t, {1: track(1, "drone")}))
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)
        hub.publish(Snapshot(12.0, {1: track(1, "drone")}))  # after stop: not sent
        assert hub.subscribers == 0

    try:
        asyncio.run(run())
        times = [ET.fromstring(rx.recv(65_536)).attrib["time"] for _ in range(2)]
    finally:
        sender.close()
        rx.close()
    assert times == ["2025-11-22T00:00:10.000Z", "2025-11-22T00:00:11.000Z"]
    assert sender.out.sent == 2


def test_cot_times_are_iso_utc_with_milliseconds() -> None:
    assert iso_utc(EPOCH + 0.1234) == "2025-11-22T00:00:00.123Z"
