"""ASTERIX decoding: framing, CAT048/CAT034 on the Croatia Control samples (golden values
written from the capture and cross-checked against asterix-decoder where installed),
midnight wrap, unknown items, measurements and file ingest."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skyfence.formats.asterix import (
    AsterixDecoder,
    Cat034Message,
    Cat048Report,
    cat048,
    decode_datagram,
    ingest_file,
    to_measurements,
)
from skyfence.formats.asterix.block import frame_block, fspec, read_records, split_blocks
from skyfence.formats.asterix.capture import raw_blocks, udp_payloads
from skyfence.formats.asterix.clock import DayClock, nearest_utc_s
from skyfence.formats.asterix.fields import NM_M, icao_text
from skyfence.formats.asterix.measurements import RadarGeometry
from skyfence.formats.errors import DecodeError, Rejections
from skyfence.scenario.model import Scenario

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "asterix_croatiacontrol"
PCAP = REALDATA / "cat_034_048.pcap"


def need(path: Path) -> Path:
    """The sample file, or a skip saying it is missing (a failure under REQUIRE_REALDATA)."""
    if not path.exists():
        message = f"real ASTERIX sample {path} not present (see shared/realdata)"
        if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def site(radar_height_m: float = 0.0) -> Scenario:
    return Scenario.model_validate({
        "name": "asterix-test", "duration_s": 10,
        "site": {"origin": {"lat": 45.0, "lon": 16.0, "alt_m": 100.0}},
        "sensors": [
            {"id": "radar-a", "type": "radar", "position_enu_m": [0, 0, radar_height_m]},
            {"id": "radar-b", "type": "radar", "position_enu_m": [10, 0, 0]},
            {"id": "rf-1", "type": "rf", "position_enu_m": [0, 0, 0]},
        ],
    })


def pcap_records() -> list[tuple[float, Any]]:
    decoder = AsterixDecoder()
    out: list[tuple[float, Any]] = []
    for rx, payload in udp_payloads(need(PCAP)):
        out.extend((rx, s) for s in decoder.feed(payload, rx))
    assert decoder.rejections.total == 0, decoder.rejections.summary()
    return out


# ------------------------------------------------------------------ framing
def test_fspec_round_trip_and_fx() -> None:
    assert fspec([1, 2, 4]) == bytes([0b11010000])
    assert fspec([1, 8]) == bytes([0b10000001, 0b10000000])
    assert fspec([28]) == bytes([1, 1, 1, 0b00000010])


def test_blocks_split_and_bad_length_rejected() -> None:
    data = frame_block(48, b"\x80\x19\xc9") + frame_block(34, b"\x80\x19\x0e")
    assert [(c, r) for c, r in split_blocks(data)] == [(48, b"\x80\x19\xc9"), (34, b"\x80\x19\x0e")]
    with pytest.raises(DecodeError, match="truncated block"):
        list(split_blocks(data[:-1]))
    with pytest.raises(DecodeError, match="bad block length"):
        list(split_blocks(b"\x30\x00\x02"))


def test_icao_characters() -> None:
    # "DLH65A  " from the first CAT048 record of the capture
    assert icao_text(bytes.fromhex("10c236d41820")) == "DLH65A  "


def test_unknown_item_skips_rest_of_block_and_is_counted() -> None:
    good = bytes.fromhex("800d01")  # FSPEC: I048/010 only; SAC 13, SIC 1
    unknown = fspec([29]) + b"\x00"  # FRN 29 is past the CAT048 UAP
    block = frame_block(48, good + unknown + good)
    later = frame_block(48, good)
    decoder = AsterixDecoder()
    out = decoder.feed(block + later, rx_utc_s=None)
    assert [s.record.sac for s in out] == [13, 13]  # the record before, and the next block
    assert decoder.rejections.by_reason == {"unknown item I048/FRN29": 1}
    with pytest.raises(DecodeError, match="unknown item I048/FRN29"):
        decode_datagram(block)


def test_truncated_item_and_unsupported_category_counted() -> None:
    decoder = AsterixDecoder()
    truncated = frame_block(48, fspec([1, 4]) + b"\x19\xc9\x00")  # I048/040 needs 4 octets
    decoder.feed(truncated + frame_block(136, b"\x00"), None)
    assert decoder.rejections.by_reason == {"truncated item I048/040": 1,
                                            "unsupported category": 1}


def test_record_without_source_is_rejected_alone() -> None:
    no_source = fspec([2]) + b"\x00\x00\x80"  # I048/140 only
    good = fspec([1]) + b"\x19\xc9"
    decoder = AsterixDecoder()
    out = decoder.feed(frame_block(48, no_source + good), None)
    assert len(out) == 1 and decoder.rejections.by_reason == {"missing item I048/010": 1}


# ---------------------------------------------------------------- golden data
def test_cat048_raw_golden() -> None:
    (report,) = decode_datagram(need(REALDATA / "cat048.raw").read_bytes())
    assert isinstance(report, Cat048Report)
    assert (report.sac, report.sic) == (25, 201)
    assert report.time_of_day_s == 27354.6015625
    assert report.range_m == pytest.approx(197.68359375 * NM_M)
    assert report.azimuth_deg == pytest.approx(340.13671875)
    assert (report.mode3a, report.flight_level, report.aircraft_address) == ("1000", 330.0,
                                                                              "3C660C")
    assert (report.track_number, report.callsign) == (3563, "DLH65A  ")
    assert report.target_type == 5  # single Mode S roll-call
    assert report.ground_speed_mps == pytest.approx(434.3994140625 * NM_M / 3600)
    assert report.heading_deg == pytest.approx(124.002685546875)
    assert report.track_status is not None and report.track_status.confirmed
    assert [(r.bds1, r.bds2) for r in report.bds_registers] == [(4, 0)]


def test_cat034_raw_golden() -> None:
    (message,) = decode_datagram(need(REALDATA / "cat034.raw").read_bytes())
    assert isinstance(message, Cat034Message)
    assert (message.sac, message.sic, message.message_name) == (25, 14, "sector crossing")
    assert message.time_of_day_s == 29906.3359375
    assert message.sector_azimuth_deg == 90.0
    assert message.status is not None and message.status.rdp_chain == 2
    assert message.status.ssr is not None and message.status.ssr.channels == 2
    assert message.status.healthy


def test_pcap_counts_sources_and_targets() -> None:
    records = pcap_records()
    reports = [s.record for _, s in records if isinstance(s.record, Cat048Report)]
    messages = [s.record for _, s in records if isinstance(s.record, Cat034Message)]
    assert (len(reports), len(messages)) == (128, 34)
    sources = {(25, 11): 8, (25, 12): 38, (25, 13): 16, (25, 14): 4, (25, 201): 28,
               (25, 204): 28, (25, 205): 6}
    assert {key: sum((r.sac, r.sic) == key for r in reports) for key in sources} == sources
    assert {(m.sac, m.sic) for m in messages} == set(sources)
    ended = [r for r in reports if r.range_m is None]  # two end-of-track messages
    assert len(ended) == 2 and all(r.track_status and r.track_status.end_of_track
                                   for r in ended)
    first, fiftieth, last = reports[0], reports[49], reports[127]
    assert (first.range_m, first.azimuth_deg) == (197.68359375 * NM_M, 340.13671875)
    assert (fiftieth.time_of_day_s, fiftieth.mode3a, fiftieth.flight_level) == (
        27355.9296875, "6005", 170.0)
    assert fiftieth.range_m == pytest.approx(92.98828125 * NM_M)
    assert fiftieth.azimuth_deg == pytest.approx(149.0240478515625)
    assert (fiftieth.aircraft_address, fiftieth.track_number) == ("343501", 164)
    assert (last.mode3a, last.flight_level, last.aircraft_address, last.callsign) == (
        "3462", 373.5, "405F0F", "EZY49VG ")
    assert last.range_m == pytest.approx(238.5390625 * NM_M)
    assert last.azimuth_deg == pytest.approx(356.81396484375)
    north = [m for m in messages if m.message_type == 1]
    assert north and all(m.antenna_period_s for m in north if m.antenna_period_s is not None)
    positions = [m.position for m in messages if m.position is not None]
    assert positions and positions[0].height_m == 780.0
    # 2030557 counts of 180/2^23 deg; asterix-decoder prints 43.57102202219 (a rounded LSB)
    assert positions[0].lat_deg == 2030557 * 180 / 2**23


def test_pcap_matches_asterix_decoder() -> None:
    asterix = pytest.importorskip("asterix", reason="asterix-decoder (test-only) not installed")
    ours = [s.record for _, s in pcap_records()]
    theirs = [r for _, payload in udp_payloads(PCAP) for r in asterix.parse(payload)]
    assert [type(r).__name__ for r in ours] == [
        "Cat048Report" if r["category"] == 48 else "Cat034Message" for r in theirs]
    for mine, ref in zip(ours, theirs, strict=True):
        if isinstance(mine, Cat048Report):
            _same_cat048(mine, ref)
        else:
            _same_cat034(mine, ref)


def _same_cat034(mine: Any, ref: dict[str, Any]) -> None:
    assert isinstance(mine, Cat034Message)
    assert mine.time_of_day_s == ref.get("I030", {}).get("ToD", {}).get("val")
    assert mine.message_type == ref["I000"]["MsgTyp"]["val"]
    if "I020" in ref:
        assert mine.sector_azimuth_deg == ref["I020"]["Azi"]["val"]
    if "I041" in ref:
        assert mine.antenna_period_s == ref["I041"]["RotS"]["val"]
    if "I120" in ref:
        assert mine.position is not None
        assert mine.position.height_m == ref["I120"]["Height"]["val"]
        assert mine.position.lon_deg == pytest.approx(ref["I120"]["Lon"]["val"], abs=3e-5)
    com = ref.get("I050", {}).get("COM")
    if com is not None:
        assert mine.status is not None
        assert mine.status.inhibited == bool(com["NOGO"]["val"])
        assert mine.status.monitoring_disconnected == bool(com["MSC"]["val"])
        assert mine.status.rdp_chain == com["RDPC"]["val"] + 1
    mds = ref.get("I050", {}).get("MDS")
    if mds is not None:
        assert mine.status is not None and mine.status.mode_s is not None
        assert mine.status.mode_s.channels == mds["MDSCHAB"]["val"]
        assert mine.status.mode_s.monitoring_disconnected == bool(mds["MDSMSC"]["val"])


def _same_cat048(mine: Cat048Report, ref: dict[str, Any]) -> None:
    def val(item: str, field: str) -> Any:
        return ref[item][field]["val"] if item in ref else None
    assert mine.time_of_day_s == val("I140", "ToD")
    if "I040" in ref:
        assert mine.range_m == pytest.approx(val("I040", "RHO") * NM_M)
        assert mine.azimuth_deg == pytest.approx(val("I040", "THETA"))
    else:
        assert mine.range_m is None
    assert mine.mode3a == val("I070", "Mode3A")
    assert mine.flight_level == val("I090", "FL")
    assert mine.aircraft_address == val("I220", "ACAddr")
    assert mine.track_number == val("I161", "Tn")
    assert mine.callsign == val("I240", "TId")
    if "I042" in ref:
        assert mine.x_m == pytest.approx(val("I042", "X") * NM_M)
        assert mine.y_m == pytest.approx(val("I042", "Y") * NM_M)
    if "I110" in ref:
        assert mine.height_3d_m == pytest.approx(val("I110", "3D_Height") * 0.3048)
    if "I200" in ref:
        assert mine.heading_deg == pytest.approx(val("I200", "CHdg"))
    if "I130" in ref:
        plot, theirs = mine.plot, ref["I130"]
        assert plot is not None
        if "SRLP" in theirs:
            assert plot.ssr_runlength_deg == theirs["SRLP"]["SRL"]["val"]
        if "SRRP" in theirs:
            assert plot.ssr_replies == theirs["SRRP"]["SRR"]["val"]
        if "SAMP" in theirs:
            assert plot.ssr_amplitude_dbm == theirs["SAMP"]["SAM"]["val"]


# ------------------------------------------------------------------ midnight
def _report_at(tod_s: float) -> bytes:
    count = round(tod_s * 128)
    return frame_block(48, fspec([1, 2]) + b"\x19\xc9" + count.to_bytes(3, "big"))


def test_midnight_wrap_without_receiver_clock() -> None:
    decoder = AsterixDecoder(first_day_utc_s=86400.0 * 10)
    times = [86399.0, 86399.9921875, 0.5, 86399.5, 3.0]  # a late plot from before midnight
    stamped = [decoder.feed(_report_at(t), None)[0] for t in times]
    utc = [s.utc_s for s in stamped]
    day = 86400.0 * 10
    assert utc == [day + 86399.0, day + 86399.9921875, day + 86400.5, day + 86399.5,
                   day + 86403.0]


def test_midnight_wrap_with_receiver_clock() -> None:
    midnight = 1_700_006_400.0  # a UTC midnight (multiple of 86400)
    assert midnight % 86400 == 0
    assert nearest_utc_s(86399.9, midnight + 0.1) == pytest.approx(midnight - 0.1)
    assert nearest_utc_s(0.2, midnight - 0.3) == pytest.approx(midnight + 0.2)
    clock = DayClock()
    assert clock.resolve(43200.0, midnight + 43300.0) == midnight + 43200.0


def test_time_of_day_past_24h_rejected() -> None:
    bad = frame_block(48, fspec([1, 2]) + b"\x19\xc9" + (86400 * 128).to_bytes(3, "big"))
    decoder = AsterixDecoder()
    assert decoder.feed(bad, None) == []
    assert decoder.rejections.by_reason == {"time of day past 24 h": 1}


# --------------------------------------------------------------- measurements
def test_measurements_from_capture() -> None:
    records = [s for _, s in pcap_records()]
    out = to_measurements(records, site(), "radar-a")
    # without a map: the first source seen (25/201) only; its 28 reports are all plots
    assert len(out) == 28 and {m["asterix"]["sic"] for m in out} == {201}
    every = {(25, sic): "radar-a" for sic in (11, 12, 13, 14, 201, 204, 205)}
    out = to_measurements(records, site(), "radar-a", sensors_by_source=every)
    assert len(out) == 126  # every CAT048 report but two track ends; CAT034 makes none
    first = out[0]
    assert first["sensor"] == "radar-a" and first["kind"] == "radar"
    assert first["t"] == pytest.approx(27354.6015625)  # seconds of the capture's day
    assert first["range_m"] == pytest.approx(197.68359375 * NM_M, abs=1e-3)
    assert first["azimuth_deg"] == pytest.approx(340.13671875)
    assert first["rcs_dbsm"] is None and first["range_rate_mps"] is None
    assert first["asterix"]["aircraft_address"] == "3C660C"
    # FL330 at 198 NM: the target sits a little above the radar horizon
    assert 0.0 < first["elevation_deg"] < 2.0


def test_measurements_epoch_and_source_mapping() -> None:
    records = [s for _, s in pcap_records()]
    epoch = 1462433756.0  # the capture's first second
    out = to_measurements(records, site(), "radar-a", epoch_utc_s=epoch,
                          sensors_by_source={(25, 201): "radar-b", (25, 12): "radar-a"})
    assert {m["sensor"] for m in out} == {"radar-a", "radar-b"}
    assert sum(m["sensor"] == "radar-b" for m in out) == 28
    assert all(m["asterix"]["sac"] == 25 for m in out)
    assert out[0]["t"] == pytest.approx(27354.6015625 + 1462406400 - epoch)
    assert to_measurements(records, site(), "radar-a",
                           sensors_by_source={(1, 2): "radar-b"}) == []
    with pytest.raises(ValueError, match="not in the site file"):
        to_measurements(records, site(), "nope")
    with pytest.raises(ValueError, match="not a radar"):
        to_measurements(records, site(), "rf-1")


def test_elevation_geometry() -> None:
    radar = RadarGeometry(site(radar_height_m=0.0), "radar-a")
    # 1000 m up at 10 km: the flat-earth answer is asin(900/10000) = 5.16 deg (radar at 100 m)
    assert radar.elevation_deg(10_000.0, 1000.0) == pytest.approx(5.13, abs=0.02)
    assert radar.elevation_deg(1000.0, 50_000.0) is None  # impossible geometry
    report = Cat048Report(sac=1, sic=2, time_of_day_s=1.0, target_type=1, range_m=5000.0,
                          azimuth_deg=10.0, doppler_speed_mps=-12.0, doppler_doubtful=False)
    (m,) = to_measurements([_stamp(report)], site(), "radar-a")
    assert m["elevation_deg"] is None and m["range_rate_mps"] == -12.0
    skipped = [Cat048Report(sac=1, sic=2, time_of_day_s=1.0, target_type=0, range_m=1.0,
                            azimuth_deg=1.0),
               Cat048Report(sac=1, sic=2, time_of_day_s=1.0, target_type=1, range_m=1.0,
                            azimuth_deg=1.0, test_target=True),
               Cat048Report(sac=1, sic=2, time_of_day_s=1.0, target_type=2, range_m=1.0,
                            azimuth_deg=1.0, field_monitor=True),
               Cat048Report(sac=1, sic=2, time_of_day_s=1.0)]
    assert to_measurements([_stamp(r) for r in skipped], site(), "radar-a") == []


def _stamp(report: Cat048Report) -> Any:
    from skyfence.formats.asterix.decoder import Stamped
    return Stamped(report, report.time_of_day_s, None)


def test_doppler_item_decoded() -> None:
    # I048/120 with CAL: D=0, -5 m/s (10-bit two's complement), and one RDS entry
    cal = (-5) & 0x3FF
    item = bytes([0b11000000]) + cal.to_bytes(2, "big") + b"\x01" + bytes.fromhex("000a00640bb8")
    data = fspec([1, 20]) + b"\x19\xc9" + item
    (items,) = list(read_records(cat048.UAP, data))
    report = cat048.decode(items)
    assert report.doppler_speed_mps == -5.0 and report.doppler_doubtful is False
    assert [(d.doppler_mps, d.ambiguity_mps, d.frequency_mhz) for d in report.raw_doppler] == [
        (10, 100, 3000)]


def test_ingest_pcap_and_raw_files() -> None:
    rejections = Rejections()
    every = {(25, sic): "radar-a" for sic in (11, 12, 13, 14, 201, 204, 205)}
    out = list(ingest_file(need(PCAP), site(), "radar-a", rejections=rejections,
                           sensors_by_source=every))
    assert len(out) == 126 and rejections.total == 0
    assert [m["t"] for m in out] == sorted(m["t"] for m in out)
    raw = list(ingest_file(need(REALDATA / "cat048.raw"), site(), "radar-a"))
    assert len(raw) == 1 and raw[0]["t"] == pytest.approx(27354.6015625)
    assert list(raw_blocks(REALDATA / "cat034.raw")) == [(REALDATA / "cat034.raw").read_bytes()]


def test_ingest_truncated_raw_file_counts(tmp_path: Path) -> None:
    data = need(REALDATA / "cat048.raw").read_bytes()
    path = tmp_path / "cut.raw"
    path.write_bytes(data + data[:10])
    rejections = Rejections()
    assert len(list(ingest_file(path, site(), "radar-a", rejections=rejections))) == 1
    assert rejections.by_reason == {"truncated block": 1}


def test_udp_loopback_live_measurements() -> None:
    import socket

    from skyfence.formats.asterix.udp import datagrams, live_measurements, open_receiver, send

    payloads = [p for _, p in udp_payloads(need(PCAP))]
    receiver = open_receiver(0, interface="127.0.0.1", timeout_s=0.2)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        port = receiver.getsockname()[1]
        assert send(sender, ("127.0.0.1", port), payloads) == len(payloads)
        got: list[bytes] = []
        deadline = time.monotonic() + 10.0

        def stop() -> bool:
            return len(got) >= len(payloads) or time.monotonic() > deadline

        def stream() -> Iterator[tuple[float, bytes]]:
            for rx, payload in datagrams(receiver, stop, clock=lambda: 1462433756.5):
                got.append(payload)
                yield rx, payload

        every = {(25, sic): "radar-a" for sic in (11, 12, 13, 14, 201, 204, 205)}
        counts = [len(batch) for batch in live_measurements(stream(), site(), "radar-a",
                                                             sensors_by_source=every)]
    finally:
        receiver.close()
        sender.close()
    assert got == payloads and sum(counts) == 126


def _ip_udp(payload: bytes, dport: int = 8600, fragment: bool = False) -> Any:
    import dpkt  # type: ignore[import-untyped, unused-ignore]

    udp = dpkt.udp.UDP(sport=5000, dport=dport, data=payload)
    udp.ulen = 8 + len(payload)
    ip = dpkt.ip.IP(src=b"\x0a\x00\x00\x01", dst=b"\xef\x01\x01\x01", p=dpkt.ip.IP_PROTO_UDP,
                    data=udp)
    ip.len = 20 + udp.ulen
    if fragment:
        ip.mf = 1
    return ip


def test_capture_link_types_ports_and_fragments(tmp_path: Path) -> None:
    import dpkt  # type: ignore[import-untyped, unused-ignore]

    payloads = [p for _, p in udp_payloads(need(PCAP))][:5]
    raw_ip = tmp_path / "rawip.pcap"
    with open(raw_ip, "wb") as handle:
        writer = dpkt.pcap.Writer(handle, linktype=101)
        for i, p in enumerate(payloads):
            writer.writepkt(bytes(_ip_udp(p, dport=8600 if i % 2 else 9000)), ts=100.0 + i)
        writer.writepkt(bytes(_ip_udp(payloads[0], fragment=True)), ts=200.0)
    rejections = Rejections()
    got = list(udp_payloads(raw_ip, rejections, ports={8600}))
    assert [p for _, p in got] == payloads[1::2] and [t for t, _ in got] == [101.0, 103.0]
    assert rejections.by_reason == {"IP fragment": 1}

    ng = tmp_path / "eth.pcapng"
    with open(ng, "wb") as handle:
        writer = dpkt.pcapng.Writer(handle)
        for i, p in enumerate(payloads):
            frame = dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x01\x00\x5e\x01\x01\x01",
                                           type=dpkt.ethernet.ETH_TYPE_IP, data=_ip_udp(p))
            writer.writepkt(bytes(frame), ts=50.0 + i)
    assert [p for _, p in udp_payloads(ng)] == payloads


def test_skyfence_never_imports_the_gpl_decoder() -> None:
    src = Path(__file__).resolve().parents[1] / "src" / "skyfence"
    offenders = [str(p) for p in src.rglob("*.py")
                 if any(line.strip().startswith(("import asterix", "from asterix"))
                        for line in p.read_text(encoding="utf-8").splitlines())]
    assert offenders == []
