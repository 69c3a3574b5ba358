"""Remote ID receiver: grouping per transmitter, receiver-clock timestamps, measurements,
pcap ingest (skyfence.formats.remoteid_ingest)."""

from __future__ import annotations

from pathlib import Path

import dpkt  # type: ignore[import-untyped, unused-ignore]
import pytest

from skyfence.formats.errors import DecodeError, Rejections
from skyfence.formats.remoteid_frames import encode_ble_advertisement
from skyfence.formats.remoteid_ingest import (
    RemoteIdDecoder,
    ingest_file,
    resolve_hour_timestamp,
    to_measurements,
    velocity_enu_mps,
)
from skyfence.formats.remoteid_messages import (
    BasicId,
    Location,
    System,
    encode_message,
    encode_message_pack,
)
from skyfence.scenario import Scenario, bundled_names, load_scenario

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
DAY0 = 1_699_920_000.0  # 00:00 UTC that day


@pytest.fixture(scope="module")
def site() -> Scenario:
    return load_scenario(bundled_names()[0])


def _loc(ts: float | None, lat: float | None = 52.0, speed: float | None = 10.0,
         direction: float | None = 90.0, climb: float | None = 1.0) -> Location:
    return Location(2, 2, 0, direction, speed, climb, lat, None if lat is None else 4.5,
                    30.0, 40.0, 20.0, 10, 4, 4, 3, ts, 0.1)


@pytest.mark.parametrize(("seconds", "rx", "expected"), [
    (100.0, 3600.0 * 10 + 101.0, 3600.0 * 10 + 100.0),
    (0.2, 3600.0 * 10 - 0.5, 3600.0 * 10 + 0.2),       # next hour, just after the boundary
    (3599.8, 3600.0 * 10 + 0.5, 3600.0 * 10 - 0.2),    # previous hour
    (1000.0, 3600.0 * 10 + 2900.0, 3600.0 * 11 + 1000.0),  # 31.7 min back -> 28.3 min ahead
])
def test_hour_timestamp_resolves_to_nearest_hour(seconds: float, rx: float,
                                                 expected: float) -> None:
    assert resolve_hour_timestamp(seconds, rx) == pytest.approx(expected)
    assert abs(resolve_hour_timestamp(seconds, rx) - rx) <= 1800.0


def test_basic_id_names_later_locations_per_transmitter(site: Scenario) -> None:
    decoder = RemoteIdDecoder("message")
    rx = T0
    ts = rx % 3600.0 - 0.3
    assert decoder.feed(encode_message(_loc(ts)), rx, "aa:00:00:00:00:01")[0].uas_id is None
    decoder.feed(encode_message(BasicId(2, 1, 2, "SERIAL-A")), rx + 0.1, "aa:00:00:00:00:01")
    decoder.feed(encode_message(BasicId(2, 1, 2, "SERIAL-B")), rx + 0.1, "aa:00:00:00:00:02")
    decoder.feed(encode_message(System(2, 1, 0, 52.001, 4.501, 1, 0, None, None, 0, 0, 5.0,
                                       None)), rx + 0.2, "aa:00:00:00:00:01")
    a = decoder.feed(encode_message(_loc(ts + 1.0)), rx + 1.0, "aa:00:00:00:00:01")[0]
    b = decoder.feed(encode_message(_loc(ts + 1.0, lat=53.0)), rx + 1.0, "aa:00:00:00:00:02")[0]
    assert (a.uas_id, b.uas_id) == ("SERIAL-A", "SERIAL-B")
    assert a.time_source == "message" and a.time_utc_s == pytest.approx(T0 + 0.7)
    assert (a.operator_lat_deg, b.operator_lat_deg) == (52.001, None)
    rejections = Rejections()
    out = to_measurements([a, b], site, "rid", rejections=rejections)
    assert out[0]["t"] == pytest.approx(T0 + 0.7 - DAY0)
    assert out[0]["vel_mps"] == [10.0, 0.0, 1.0]
    assert (out[0]["operator_lat"], out[1]["operator_lat"]) == (52.001, None)
    assert rejections.total == 0


def test_receiver_time_when_timestamp_absent_or_far(site: Scenario) -> None:
    decoder = RemoteIdDecoder("message", max_clock_offset_s=10.0)
    decoder.feed(encode_message(BasicId(2, 1, 2, "S")), T0, "x")
    absent = decoder.feed(encode_message(_loc(None)), T0, "x")[0]
    far = decoder.feed(encode_message(_loc((T0 + 60.0) % 3600.0)), T0 + 2.0, "x")[0]
    assert (absent.time_source, absent.time_utc_s) == ("receiver", T0)
    assert (far.time_source, far.time_utc_s) == ("receiver", T0 + 2.0)
    assert decoder.receiver_time_fixes == 2
    # after midnight the epoch (the first record's day) keeps counting
    out = to_measurements([absent, far], site, "rid", epoch_utc_s=T0 - 86_400.0)
    assert out[0]["t"] == pytest.approx(86_400.0)


def test_duplicates_and_malformed_frames_are_counted_not_raised() -> None:
    decoder = RemoteIdDecoder("message")
    raw = encode_message(_loc(10.0))
    assert len(decoder.feed(raw, T0, "x")) == 1
    assert decoder.feed(raw, T0 + 0.3, "x") == []  # the same message again
    assert len(decoder.feed(raw, T0 + 1.5, "x")) == 1
    assert decoder.duplicates == 1
    assert decoder.feed(b"\x12\x00", T0, "x") == []
    assert decoder.feed(bytes([0x92]) + bytes(24), T0, "x") == []
    assert decoder.rejections.by_reason == {"truncated message": 1, "unknown message type": 1}
    ble = RemoteIdDecoder("ble_ll")
    assert ble.feed(bytes.fromhex("11223344") + bytes(8), T0) == []
    assert ble.ignored_frames == 1
    with pytest.raises(ValueError, match="unsupported"):
        RemoteIdDecoder("zigbee")


@pytest.mark.parametrize(("loc", "expected"), [
    (_loc(0.0, speed=10.0, direction=90.0, climb=-2.0), [10.0, 0.0, -2.0]),
    (_loc(0.0, speed=2.0, direction=180.0, climb=0.0), [0.0, -2.0, 0.0]),
    (_loc(0.0, speed=0.0, direction=None, climb=0.5), [0.0, 0.0, 0.5]),
    (_loc(0.0, speed=5.0, direction=None, climb=0.5), None),
    (_loc(0.0, speed=None, direction=10.0, climb=0.5), None),
    (_loc(0.0, speed=5.0, direction=10.0, climb=None), None),
])
def test_velocity_east_north_up(loc: Location, expected: list[float] | None) -> None:
    assert velocity_enu_mps(loc) == expected


def test_no_position_and_no_altitude_give_no_measurement(site: Scenario) -> None:
    decoder = RemoteIdDecoder("message")
    decoder.feed(encode_message(BasicId(2, 1, 2, "S")), T0, "x")
    no_pos = decoder.feed(encode_message(_loc(None, lat=None)), T0, "x")
    no_alt_loc = Location(2, 2, 0, 0.0, 0.0, 0.0, 1.0, 1.0, None, None, None, 0, 0, 0, 0,
                          None, None)
    no_alt = decoder.feed(encode_message(no_alt_loc), T0 + 5, "x")
    rejections = Rejections()
    assert to_measurements(no_pos + no_alt, site, "rid", rejections=rejections) == []
    assert rejections.by_reason == {"no position": 1, "no altitude": 1}


def test_ingest_bluetooth_ll_capture_in_time_order(tmp_path: Path, site: Scenario) -> None:
    path = tmp_path / "ble.pcap"
    basic = BasicId(2, 1, 2, "BT-SERIAL")
    with path.open("wb") as handle:
        writer = dpkt.pcap.Writer(handle, linktype=251)
        for i in range(20):
            rx = T0 + i * 0.5
            lag = 3.0 if i % 2 else 0.2  # alternate lags: times arrive out of order
            message = basic if i == 0 else _loc((rx - lag) % 3600.0, lat=52.0 + i * 1e-4)
            writer.writepkt(encode_ble_advertisement(encode_message(message), "c0:00:00:00:00:01",
                                                     i), ts=rx)
        writer.writepkt(b"\xd6\xbe\x89\x8e\x42\x05", ts=T0 + 11.0)  # truncated advertisement
        pack = encode_message_pack([basic, _loc(None, lat=60.0)])
        writer.writepkt(encode_ble_advertisement(pack, "c0:00:00:00:00:02", 1, extended=True),
                        ts=T0 + 12.0)
    rejections = Rejections()
    out = list(ingest_file(path, site, "rid-bt", rejections=rejections))
    assert len(out) == 20 and rejections.by_reason == {"truncated BLE packet": 1}
    times = [m["t"] for m in out]
    assert times == sorted(times)
    assert out[-1]["lat"] == 60.0 and out[-1]["t"] == pytest.approx(T0 + 12.0 - DAY0)
    assert {m["uas_id"] for m in out} == {"BT-SERIAL"}


def test_ingest_rejects_a_file_that_is_no_capture(tmp_path: Path, site: Scenario) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a capture\n")
    with pytest.raises(DecodeError) as caught:
        list(ingest_file(path, site, "rid"))
    assert caught.value.reason == "not a pcap or pcapng file"


def test_format_module_exposes_the_shared_contract() -> None:
    from skyfence.formats import remoteid

    for name in ("RemoteIdDecoder", "to_measurements", "ingest_file", "decode_messages",
                 "encode_message_pack"):
        assert callable(getattr(remoteid, name))
