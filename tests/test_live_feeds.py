"""``skyfence run`` on a site's live feeds: the real Beast capture served over TCP as a
receiver would (at real time) becomes a tracked aircraft on the API; a real
ASTERIX capture sent as UDP datagrams becomes radar measurements; the picture
goes out as Cursor on Target and as ASTERIX CAT062 over UDP, and the
independent asterix-decoder (test-only, GPL) finds skyfence's tracks in it."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from netutil import free_port
from skyfence.formats.adsb_framing import beast_frame, split_beast

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
DUMP1090 = REALDATA / "traffic_samples" / "sample_dump1090.bin"
ASTERIX = REALDATA / "asterix_croatiacontrol" / "cat_034_048.pcap"
SERVE_S = 14.0  # the capture's ADS-B positions are 4.8 - 12.7 s in
MLAT_HZ = 12e6


def serve_beast(server: socket.socket, stop: threading.Event) -> None:
    """A receiver's port 30005: the capture's frames, each when its MLAT time comes."""
    frames, _, _ = split_beast(DUMP1090.read_bytes())
    t0 = frames[0].mlat_ticks or 0
    conn, _ = server.accept()
    start = time.monotonic()
    with conn:
        for f in frames:
            at_s = ((f.mlat_ticks or t0) - t0) / MLAT_HZ
            if at_s > SERVE_S or stop.is_set():
                break
            time.sleep(max(0.0, start + at_s - time.monotonic()))
            conn.sendall(beast_frame(f.message, f.mlat_ticks or 0, f.signal_level or 0))
        stop.wait(30)


def send_asterix(port: int, stop: threading.Event) -> None:
    """The capture's CAT048/034 datagrams to the feed's UDP port, once a second."""
    from skyfence.formats.asterix.capture import udp_payloads

    payloads = [p for _, p in udp_payloads(ASTERIX)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        while not stop.wait(1.0):
            for payload in payloads:
                s.sendto(payload, ("127.0.0.1", port))


def udp_socket() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.05)
    return s


def read_lines(stream: object, out: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        out.put(line)


def test_live_feeds_in_and_out(tmp_path: Path) -> None:
    pytest.importorskip("pyModeS")
    asterix = pytest.importorskip("asterix", reason="asterix-decoder (test-only) not installed")
    for path in (DUMP1090, ASTERIX):
        if not path.is_file():
            if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
                raise AssertionError(f"real data missing: {path}")
            pytest.skip("real data not present (../shared/realdata)")
    receiver = socket.create_server(("127.0.0.1", 0))
    cot, cat062 = udp_socket(), udp_socket()
    asterix_port = free_port(socket.SOCK_DGRAM)
    site = {"name": "toulouse-feeds", "duration_s": 60,
            "site": {"origin": {"lat": 43.6, "lon": 1.36, "alt_m": 150.0}},
            "sensors": [{"id": "adsb-1", "type": "adsb", "position_enu_m": [0, 0, 10],
                         "max_range_m": 250000},
                        {"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 10],
                         "max_range_m": 400000, "clutter_per_scan": 0}],
            "sources": [{"format": "adsb-beast", "sensor": "adsb-1", "host": "127.0.0.1",
                         "port": receiver.getsockname()[1]},
                        {"format": "asterix", "host": "127.0.0.1", "port": asterix_port,
                         "radars": {"25/201": "radar-1"}}],
            "outputs": [{"format": "cot", "host": "127.0.0.1",
                         "port": cot.getsockname()[1]},
                        {"format": "asterix-cat062", "host": "127.0.0.1",
                         "port": cat062.getsockname()[1], "sac": 7, "sic": 42}]}
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    stop = threading.Event()
    threading.Thread(target=serve_beast, args=(receiver, stop), daemon=True).start()
    threading.Thread(target=send_asterix, args=(asterix_port, stop), daemon=True).start()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "skyfence", "run", "--site", str(tmp_path / "site.yaml"),
         "--port", str(port), "--store", f"sqlite:///{tmp_path / 'events.sqlite'}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=read_lines, args=(proc.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []  # every line, for the summary at the end
    try:
        token = None
        deadline = time.monotonic() + 30
        while token is None and time.monotonic() < deadline:
            seen.append(lines.get(timeout=30))
            m = re.search(r"Bearer (\S+)\)", seen[-1])
            token = m.group(1) if m else None
        assert token is not None
        auth = {"Authorization": f"Bearer {token}"}
        tracked: list[dict[str, object]] = []
        events: list[ET.Element] = []
        records: list[dict[str, Any]] = []  # CAT062, as asterix-decoder reads it
        deadline = time.monotonic() + SERVE_S + 15
        def airliner() -> list[ET.Element]:  # once the evidence makes it an aircraft
            return [e for e in events if e.get("type", "").startswith("a-n-A-C")]

        def ours() -> list[dict[str, Any]]:  # CAT062 of the tracked aircraft
            ids = {t["track_id"] for t in tracked}
            return [r for r in records if r["I040"]["TrkN"]["val"] in ids]

        while time.monotonic() < deadline and not (tracked and airliner() and ours()):
            for sock, take in ((cot, lambda d: events.append(ET.fromstring(d))),
                               (cat062, lambda d: records.extend(asterix.parse(d)))):
                with contextlib.suppress(TimeoutError):
                    take(sock.recv(65536))
            try:  # (the URL is printed before uvicorn listens)
                r = httpx.get(f"http://127.0.0.1:{port}/api/tracks", headers=auth, timeout=5)
            except httpx.ConnectError:
                continue
            if r.status_code == 200:
                tracked = [t for t in r.json() if t["cooperative_id"] == "48520a"]
        assert tracked, "the ADS-B aircraft was not tracked"
        assert events and all(e.tag == "event" for e in events)
        assert airliner(), f"no cooperative-aircraft CoT event: {[e.get('type') for e in events]}"
        point = airliner()[0].find("point")
        assert point is not None and abs(float(point.get("lat", 0)) - 43.65) < 0.05
        assert ours(), "skyfence's track not found in its CAT062 output"
        ref = ours()[-1]
        assert ref["category"] == 62 and ref["I010"]["SAC"]["val"] == 7
        assert ref["I010"]["SIC"]["val"] == 42
        assert abs(ref["I105"]["Lat"]["val"] - 43.65) < 0.05
        assert abs(ref["I105"]["Lon"]["val"] - 1.23) < 0.05
        health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json()
        assert health["status"] == "ok"
        sensors = httpx.get(f"http://127.0.0.1:{port}/api/sensors", headers=auth,
                            timeout=5).json()
        radar = next(s for s in sensors if s["id"] == "radar-1")
        assert radar["health"]["reported"]["source"] == "asterix-cat034"  # alive, turning
    finally:
        stop.set()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        receiver.close()
        cot.close()
        cat062.close()
    reader.join(10)  # the reader thread owns stdout: take what it read
    while not lines.empty():
        seen.append(lines.get())
    out = "".join(seen)
    assert proc.returncode == 0, out
    summary = json.loads(out[out.index("\n{") + 1:])
    feeds = {f["feed"].split()[1]: f for f in summary["feeds"]}
    assert feeds["adsb-beast"]["measurements"] >= 3 and feeds["adsb-beast"]["connections"] == 1
    assert feeds["asterix"]["measurements"] >= 28  # radar 25/201's plots, each second
    assert feeds["asterix"]["rejected"] == 0


@pytest.mark.parametrize("failed", [False, True], ids=["ok", "error"])
def test_a_sapient_node_s_own_status_shows_in_sensor_health(tmp_path: Path,
                                                            failed: bool) -> None:
    """A node's StatusReport reaches the picture: the mapped sensor's health record
    carries what the node said (``reported``), stored with every tick; a node that
    says it has failed raises a sensor alert."""
    from skyfence.formats.sapient import framing, samples
    from skyfence.formats.sapient.proto.sapient_msg.bsi_flex_335_v2_0 import status_report_pb2

    system = (status_report_pb2.StatusReport.SYSTEM_ERROR if failed
              else status_report_pb2.StatusReport.SYSTEM_OK)
    from skyfence.live.service import LiveService, LiveSettings
    from skyfence.scenario import load_scenario

    port = free_port()
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump({
        "name": "sapient-health", "duration_s": 60,
        "site": {"origin": {"lat": 51.0, "lon": -1.0, "alt_m": 40.0}},
        "sensors": [{"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 10],
                     "clutter_per_scan": 0}],
        "sources": [{"format": "sapient", "port": port,
                     "nodes": {samples.NODE_ID: "radar-1"}}]}))
    store_url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    service = LiveService(LiveSettings(load_scenario(site_file), None, store_url,
                                       duration_s=5.0, say=lambda _: None))

    def node() -> None:
        for _ in range(100):  # until the fusion node listens
            with contextlib.suppress(OSError):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            time.sleep(0.05)
        with sock:
            sock.sendall(framing.frame(samples.registration(samples.NODE_ID, time.time())))
            sock.sendall(framing.frame(samples.status(samples.NODE_ID, time.time(),
                                                      system=system)))
            for k in range(6):
                sock.sendall(framing.frame(samples.range_bearing(
                    samples.NODE_ID, time.time(), 1500.0 - 10 * k, 45.0,
                    report_id=samples.REPORT_ID[:-2] + f"{k:02d}")))
                time.sleep(1.0)

    sender = threading.Thread(target=node, daemon=True)
    sender.start()
    summary = service.run()
    sender.join(10)
    from skyfence.store import open_store

    with open_store(store_url) as store:
        last = store.last_tick_t()
        assert last is not None
        health = {h["sensor"]: h for h in store.health_at(last)}
        alerts = [a for a in store.alerts() if a["kind"] == "sensor_unhealthy"]
    reported = health["radar-1"]["reported"]
    assert reported["node_id"] == samples.NODE_ID
    assert reported["system"] == ("error" if failed else "ok")
    assert reported["detections"] >= 4
    assert health["radar-1"]["fault"] is failed
    faults = [a for a in alerts if "reports a fault" in a["reason"]]
    assert [a["sensor"] for a in faults] == (["radar-1"] if failed else [])
    feed = summary["feeds"][0]
    assert feed["measurements"] >= 4 and feed["rejected"] == 0


def test_remote_id_frames_over_udp_become_a_track(tmp_path: Path) -> None:
    """The real DJI Air 3 beacons, each sent as one UDP datagram (radiotap Wi-Fi, link
    127) to a ``remoteid`` feed, become a track named by the drone's serial."""
    from skyfence.formats.remoteid_ingest import read_capture
    from skyfence.live.service import LiveService, LiveSettings
    from skyfence.scenario import load_scenario
    from skyfence.store import open_store

    capture = REALDATA / "droneid_bkerler_pcaps" / "dji_air3.pcapng"
    if not capture.is_file():
        if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
            raise AssertionError(f"real data missing: {capture}")
        pytest.skip("real data not present (../shared/realdata)")
    link, records = read_capture(capture)
    frames = [frame for _, frame in records]
    port = free_port(socket.SOCK_DGRAM)
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump({
        "name": "rid-udp", "duration_s": 60,
        "site": {"origin": {"lat": 33.665, "lon": -82.19, "alt_m": 80.0}},
        "sensors": [{"id": "rid-1", "type": "remote_id", "position_enu_m": [0, 0, 2]}],
        "sources": [{"format": "remoteid", "sensor": "rid-1", "port": port, "link": link}]}))
    store_url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    service = LiveService(LiveSettings(load_scenario(site_file), None, store_url,
                                       duration_s=6.0, say=lambda _: None))

    def receiver() -> None:  # a Wi-Fi monitor forwarding what it hears, at 2 Hz
        time.sleep(0.5)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for k in range(14):
                s.sendto(frames[k % len(frames)], ("127.0.0.1", port))
                time.sleep(0.5)

    threading.Thread(target=receiver, daemon=True).start()
    summary = service.run()
    feed = summary["feeds"][0]
    assert feed["measurements"] >= 8 and feed["rejected"] == 0
    with open_store(store_url) as store:
        last = store.last_tick_t()
        assert last is not None
        tracks = store.tracks_at(last)
    assert [t["cooperative_id"] for t in tracks] == ["1581F6N8A23B2ML3Y3KR"]


def test_outputs_of_a_simulated_run_are_stamped_now(tmp_path: Path) -> None:
    """With the simulator as source, outputs still go out, stamped with the time they
    are sent (the epoch is the run's start), not with the simulator's t from midnight."""
    from datetime import datetime

    from skyfence.live.service import LiveService, LiveSettings
    from skyfence.scenario import load_scenario

    cot = udp_socket()
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump({
        "name": "sim-out", "duration_s": 8,
        "site": {"origin": {"lat": 51.0, "lon": -1.0, "alt_m": 40.0}},
        "sensors": [{"id": "adsb-1", "type": "adsb", "position_enu_m": [0, 0, 10]}],
        "targets": [{"type": "aircraft", "icao": "abc123",
                     "waypoints_enu_m": [[-3000, 1000, 900], [3000, 1000, 900]]}],
        "outputs": [{"format": "cot", "host": "127.0.0.1", "port": cot.getsockname()[1]}]}))
    service = LiveService(LiveSettings(load_scenario(site_file), None,
                                       f"sqlite:///{tmp_path / 'events.sqlite'}",
                                       say=lambda _: None))
    service.run()
    stamps = []
    with contextlib.suppress(TimeoutError):
        while True:
            event = ET.fromstring(cot.recv(65536))
            stamps.append(datetime.fromisoformat(event.get("time", "").replace("Z", "+00:00")))
    cot.close()
    assert stamps, "no CoT event was sent"
    assert all(abs(s.timestamp() - time.time()) < 30 for s in stamps), stamps
