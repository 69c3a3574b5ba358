"""End to end: a test-written SAPIENT sensor node (a plain TCP socket) registers
with skyfence's fusion node, reports a target flying a straight line for 20 s,
and its detections — in range and bearing, or as WGS-84 locations — become a
confirmed track in the live API."""

from __future__ import annotations

import asyncio
import math
import random
import socket
from typing import Any

import numpy as np
import pymap3d
import pytest
from fastapi.testclient import TestClient

from skyfence.api import create_app
from skyfence.api.tokens import tokens_from
from skyfence.formats.sapient import framing, samples
from skyfence.formats.sapient.convert import SapientMessage
from skyfence.formats.sapient.server import FusionNode, SapientServer
from skyfence.live.engine import LiveEngine
from skyfence.live.hub import Hub
from skyfence.live.push_source import PushSource
from skyfence.live.sources import Pacer
from skyfence.scenario.model import Scenario

EPOCH = 1_763_769_600.0  # 2025-11-22T00:00:00Z
ORIGIN = (51.0, -1.0, 40.0)
NODE = samples.NODE_ID
SITE = Scenario.model_validate({
    "name": "sapient-e2e", "duration_s": 60,
    "site": {"origin": {"lat": 51.0, "lon": -1.0, "alt_m": 40.0}, "zones": []},
    "sensors": [{"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 10],
                 "period_s": 1.0, "pd": 0.9, "clutter_per_scan": 0.5,
                 "sigma": {"range_m": 5.0, "azimuth_deg": 0.3, "elevation_deg": 0.5}}],
})
START = np.array([2000.0, 1500.0, 120.0])
VELOCITY = np.array([-15.0, -5.0, 0.0])
SENSOR = np.array([0.0, 0.0, 10.0])
SECONDS = 21


def truth(t: float) -> np.ndarray:
    return START + VELOCITY * t


def read_reply(sock: socket.socket, reader: framing.FrameReader) -> SapientMessage:
    while True:
        chunk = sock.recv(4096)
        assert chunk, "the fusion node closed the connection"
        payloads = reader.feed(chunk)
        if payloads:
            assert len(payloads) == 1
            return framing.parse(payloads[0])


def report(k: int, rng: random.Random, located: bool) -> SapientMessage:
    """The node's k-th report of the target: range and bearing, or a WGS-84 location."""
    report_id = samples.REPORT_ID[:-2] + f"{k:02d}"
    if located:
        e, n, u = truth(k) + np.array([rng.gauss(0, 5.0) for _ in range(3)])
        lat, lon, alt = pymap3d.enu2geodetic(e, n, u, *ORIGIN)
        return samples.location(NODE, EPOCH + k, float(lat), float(lon), float(alt),
                                report_id=report_id)
    rel = truth(k) - SENSOR
    rng_m = float(np.linalg.norm(rel)) + rng.gauss(0, 5.0)
    az = math.degrees(math.atan2(rel[0], rel[1])) % 360 + rng.gauss(0, 0.3)
    el = math.degrees(math.asin(rel[2] / np.linalg.norm(rel))) + rng.gauss(0, 0.5)
    return samples.range_bearing(NODE, EPOCH + k, rng_m, az, el, report_id=report_id)


def sensor_node(port: int, located: bool) -> dict[str, Any]:
    """The test's SAPIENT radar node: register, status, 21 reports, a task; the replies."""
    rng = random.Random(7)
    out: dict[str, Any] = {}
    reader = framing.FrameReader()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(framing.frame(samples.registration(NODE, EPOCH)))
        out["ack"] = read_reply(sock, reader)
        sock.sendall(framing.frame(samples.status(NODE, EPOCH)))
        for k in range(SECONDS):
            sock.sendall(framing.frame(report(k, rng, located)))
        # replies come in order: once the task is answered, every report was taken
        sock.sendall(framing.frame(samples.task(NODE, EPOCH + SECONDS)))
        out["task_ack"] = read_reply(sock, reader)
    return out


async def run_site(located: bool) -> dict[str, Any]:
    push = PushSource("sapient")
    fusion = FusionNode.for_site(SITE, push.push, {NODE: "radar-1"}, epoch_utc_s=EPOCH,
                                 clock=lambda: EPOCH + 10.0)  # the node's clock agrees
    server = SapientServer(fusion, port=0)
    port = await server.start()
    engine = LiveEngine(SITE)
    hub = Hub()
    engine_run = asyncio.create_task(engine.run(push, hub, pacer=Pacer(1e12)))
    try:
        replies = await asyncio.wait_for(asyncio.to_thread(sensor_node, port, located), 30)
    finally:
        push.close()
        summary = await asyncio.wait_for(engine_run, 30)
        await server.close()
    return {"replies": replies, "summary": summary, "hub": hub, "fusion": fusion}


@pytest.mark.parametrize("located", [False, True], ids=["range-bearing", "location"])
def test_a_sapient_node_s_detections_become_a_track_in_the_api(located: bool) -> None:
    done = asyncio.run(run_site(located))
    replies, summary, fusion = done["replies"], done["summary"], done["fusion"]
    assert replies["ack"].registration_ack.acceptance
    assert replies["task_ack"].task_ack.task_status == 2  # TASK_STATUS_REJECTED
    assert fusion.rejections.total == 0 and fusion.unknown_nodes == set()
    assert fusion.health()[NODE]["detections"] == SECONDS
    assert summary["measurements"] == SECONDS and summary["bad_lines"] == 0

    client = TestClient(create_app(SITE, done["hub"], tokens_from([("view", "viewer")])))
    reply = client.get("/api/tracks", headers={"Authorization": "Bearer view"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    tracks = body if isinstance(body, list) else body["tracks"]
    assert len(tracks) == 1, tracks
    track = tracks[0]
    t = track["t"]
    assert t >= SECONDS - 2
    error_m = np.linalg.norm(np.array(track["enu_m"]) - truth(t))
    assert error_m < 30.0, (track, truth(t))
    assert np.linalg.norm(np.array(track["vel_mps"]) - VELOCITY) < 3.0
