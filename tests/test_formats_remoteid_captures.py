"""Golden tests on real Remote ID captures (../shared/realdata; see each SOURCE.txt).

Expected values were decoded from the captures and checked against SOURCE.txt
and the opendroneid Wireshark dissector's field meanings, then frozen here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from skyfence.formats.errors import Rejections
from skyfence.formats.remoteid_ingest import (
    RemoteIdDecoder,
    RemoteIdFix,
    ingest_file,
    read_capture,
)
from skyfence.formats.remoteid_messages import Location
from skyfence.scenario import bundled_names, load_scenario
from skyfence.track_io import Line, parse_row

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
BKERLER = REALDATA / "droneid_bkerler_pcaps"
ODID = REALDATA / "opendroneid_pcaps"


def _capture(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
            pytest.fail(f"real capture missing: {path}")
        pytest.skip(f"real capture not present: {path} (../shared/realdata)")
    return path


def _decode(path: Path) -> tuple[RemoteIdDecoder, list[RemoteIdFix]]:
    link, records = read_capture(_capture(path))
    decoder = RemoteIdDecoder(link)
    fixes = [fix for rx, frame in records for fix in decoder.feed(frame, rx)]
    return decoder, fixes


def _ingest(path: Path) -> tuple[list[dict[str, Any]], Rejections]:
    rejections = Rejections()
    site = load_scenario(bundled_names()[0])
    return list(ingest_file(_capture(path), site, "rid-1", rejections=rejections)), rejections


def test_dji_air3_real_drone() -> None:
    decoder, fixes = _decode(BKERLER / "dji_air3.pcapng")
    assert len(fixes) == 9 and decoder.ignored_frames == 3 and decoder.rejections.total == 0
    assert {f.transmitter for f in fixes} == {"60:60:1f:71:93:3b"}
    assert {f.uas_id for f in fixes} == {"1581F6N8A23B2ML3Y3KR"}
    assert {(f.id_type, f.ua_type) for f in fixes} == {(1, 2)}  # serial, multirotor
    assert all(f.time_source == "message" and 0 < f.rx_utc_s - f.time_utc_s < 1.0 for f in fixes)
    first, last = fixes[0], fixes[-1]
    assert first.time_utc_s == pytest.approx(1728307373.5)
    assert last.time_utc_s == pytest.approx(1728307384.3)
    assert first.location == Location(2, 2, 0, None, 0.0, 0.0, 33.6652717, -82.1918334, None,
                                      82.0, 1.5, 12, 2, 0, 4, 1373.5, 1.0)
    assert last.location.geodetic_alt_m == 83.0 and last.location.timestamp_s == 1384.3
    assert (first.operator_lat_deg, first.operator_lon_deg) == (33.6632364, -82.1916647)
    assert (last.operator_lat_deg, last.operator_lon_deg) == (33.6632356, -82.1916486)
    system = decoder.aircraft["60:60:1f:71:93:3b"].system
    assert system is not None and system.operator_alt_m == 79.0
    assert system.timestamp_utc_s == 1728307384


def test_dji_air3_measurements_meet_the_contract() -> None:
    measurements, rejections = _ingest(BKERLER / "dji_air3.pcapng")
    assert rejections.total == 0 and len(measurements) == 9
    assert measurements[0] == {
        "t": 48173.5, "sensor": "rid-1", "kind": "remote_id", "uas_id": "1581F6N8A23B2ML3Y3KR",
        "lat": 33.6652717, "lon": -82.1918334, "alt_m": 82.0, "vel_mps": [0.0, 0.0, 0.0],
        "operator_lat": 33.6632364, "operator_lon": -82.1916647}
    times = [m["t"] for m in measurements]
    assert times == sorted(times) and times[-1] == pytest.approx(48184.3)
    for m in measurements:  # the tracker's own reader accepts every line
        parse_row(msgspec.json.decode(msgspec.json.encode(m), type=Line), "remote_id")


def test_linux_test_transmitter_every_message_type() -> None:
    decoder, fixes = _decode(BKERLER / "wireless_RID_test_linux_transmitter.pcapng")
    assert decoder.rejections.total == 0
    assert len(fixes) == 5 and decoder.duplicates == 16  # 21 beacons, one Location each
    aircraft = decoder.aircraft["8c:17:59:f5:95:65"]
    assert sorted(aircraft.basic_ids) == [1, 4]  # serial number and a session ID
    assert aircraft.basic_ids[1].uas_id == "112624150A90E3AE1EC0"
    assert {f.uas_id for f in fixes} == {"112624150A90E3AE1EC0"}
    assert sorted(aircraft.auth_pages) == [0, 1, 2]
    page0 = aircraft.auth_pages[0]
    assert (page0.auth_type, page0.last_page_index, page0.length_bytes) == (1, 2, 63)
    assert aircraft.self_id is not None and aircraft.self_id.description.startswith("Drone ID test")
    assert aircraft.operator_id is not None
    assert aircraft.operator_id.operator_id == "FIN87astrdge12k8"
    loc = fixes[0].location
    assert (loc.lat_deg, loc.lon_deg, loc.geodetic_alt_m, loc.pressure_alt_m) == (
        51.4791, -0.0013, 110.0, 100.0)
    # its timestamp is a fixed 360.5 s, ~20 min from the capture clock: receiver time used
    assert loc.timestamp_s == 360.5
    assert all(f.time_source == "receiver" and f.time_utc_s == f.rx_utc_s for f in fixes)


def test_odid_bt5_long_range_nrf_sniffer() -> None:
    decoder, fixes = _decode(ODID / "odid_bt5_lr_sample.pcapng")
    assert decoder.rejections.by_reason == {"bad BLE CRC": 30}  # the sniffer flagged these too
    assert {f.carrier for f in fixes} == {"bt_extended"}
    assert {f.transmitter for f in fixes} == {"e0:7d:ea:eb:2f:1c"}
    assert {f.uas_id for f in fixes} == {"SSEVTFG93700070"}
    assert len(fixes) == 35 and decoder.duplicates == 187
    assert all(f.location.lat_deg is None for f in fixes)  # the demo has no GNSS fix
    assert fixes[0].location.pressure_alt_m == -55.0
    aircraft = decoder.aircraft["e0:7d:ea:eb:2f:1c"]
    assert aircraft.self_id is not None and aircraft.self_id.description == "Drone ID demo"
    assert aircraft.operator_id is not None
    assert aircraft.operator_id.operator_id == "FIN87astrdge12kxyz8"
    # SOURCE.txt lists Auth, but no CRC-valid advertisement carries one
    assert aircraft.auth_pages == {}
    measurements, rejections = _ingest(ODID / "odid_bt5_lr_sample.pcapng")
    assert measurements == [] and rejections.by_reason["no position"] == 35


def test_odid_wifi_beacon_moving_demo() -> None:
    measurements, rejections = _ingest(ODID / "odid_wifi_bcn_sample.pcap")
    assert rejections.total == 0 and len(measurements) == 16
    first, last = measurements[0], measurements[-1]
    assert first["uas_id"] == "MFG1A0123456789"
    assert (first["lat"], first["lon"], first["alt_m"]) == (45.5457468, -122.9681496, 237.0)
    assert (last["lat"], last["lon"]) == (45.5470818, -122.9668346)
    assert first["vel_mps"] is None  # vertical speed unknown (63 m/s sentinel)
    assert (first["operator_lat"], first["operator_lon"]) == (45.5443876, -122.9726866)
    _decoder, fixes = _decode(ODID / "odid_wifi_bcn_sample.pcap")
    assert fixes[0].location.direction_deg == 92.0 and fixes[0].location.speed_mps == 20.5
    assert fixes[-1].location.direction_deg == 280.0


def test_odid_wifi_nan_and_beacon_without_basic_id() -> None:
    decoder, fixes = _decode(ODID / "odid_wifi_sample.pcap")
    assert decoder.rejections.total == 0 and decoder.ignored_frames == 21  # NAN sync beacons
    assert {f.carrier for f in fixes} == {"wifi_nan", "wifi_beacon"}
    first = fixes[0]
    assert first.carrier == "wifi_nan" and first.uas_id is None
    assert (first.location.lat_deg, first.location.lon_deg) == (45.5450519, -122.9722906)
    assert first.location.direction_deg == 288.0
    assert fixes[-1].location.lat_deg == 45.5448998
    assert fixes[-1].operator_lat_deg == 45.5443876  # a System message came in between
    measurements, rejections = _ingest(ODID / "odid_wifi_sample.pcap")
    assert measurements == [] and rejections.by_reason == {"no basic id yet": len(fixes)}
