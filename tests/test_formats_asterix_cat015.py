"""CAT015 (INCS target reports, ed. 1.2): records built by hand from the specification
(no real CAT015 capture is available), decoded and turned into radar measurements."""

from __future__ import annotations

import pytest

from skyfence.formats.asterix import AsterixDecoder, Cat015Report, decode_datagram
from skyfence.formats.asterix.block import frame_block, fspec
from skyfence.formats.asterix.fields import to_twos
from skyfence.formats.asterix.measurements import to_measurements
from skyfence.scenario.model import Scenario


def s(value: int, bits: int) -> bytes:
    return to_twos(value, bits).to_bytes(bits // 8, "big")


def u(value: int, octets: int) -> bytes:
    return value.to_bytes(octets, "big")


def incs_record() -> bytes:
    items = {
        1: b"\x10\x20",                                     # 010 SAC 16 SIC 32
        2: bytes([(2 << 1) | 0]),                           # 000 measurement track, periodic
        4: bytes([0b00000000]),                             # 020 mono-static, actual target
        6: u(3600 * 128 + 64, 3),                           # 145 01:00:00.5
        7: u(513, 2),                                       # 161 track 513
        8: bytes([0b00000010]),                             # 170 tentative
        11: b"\x02" + u((3 << 7) | 80, 2) + u((7 << 7) | 15, 2),  # 300 two classes
        13: bytes([0b10000000]) + s((1 << 31) // 4, 32) + s(-(1 << 29), 32),  # 600 P84
        14: bytes([0b10000000]) + s(12_345, 24),            # 601 GH 123.45 m
        15: bytes([0b10000000]) + u((to_twos(-1250, 20) << 20) | to_twos(300, 20), 5),  # 602
        17: bytes([0b10000000]) + s(-75, 24),               # 604 VV -0.75 m/s
        20: bytes([0b10110000]) + s(25_000, 24) + u(35, 3) + s(-123, 24),  # 625 R, SDR, RR
        21: bytes([0b10000000]) + s(-1234, 24),             # 626 DV -12.34 m/s
        22: bytes([0b10100000]) + u(16384, 2) + u(1456, 2),  # 627 AZ 90 deg, SDASZ
        23: bytes([0b10000000]) + s(1024, 16),              # 628 EL 2.8125 deg
    }
    return fspec(list(items)) + b"".join(items[k] for k in sorted(items))


def test_decodes_hand_made_record() -> None:
    (report,) = decode_datagram(frame_block(15, incs_record()))
    assert isinstance(report, Cat015Report)
    assert (report.sac, report.sic, report.message_type) == (16, 32, 2)
    assert report.time_of_day_s == 3600.5 and report.track_number == 513
    assert report.tentative is True and report.taxonomy == 0
    assert report.classes == ((3, 80), (7, 15))
    assert report.lat_deg == pytest.approx(45.0) and report.lon_deg == pytest.approx(-45.0)
    assert report.height_m == pytest.approx(123.45)
    assert (report.vx_mps, report.vy_mps, report.vz_mps) == (-12.5, 3.0, -0.75)
    assert report.range_m == 2500.0 and report.range_sigma_m == 3.5
    assert report.range_rate_mps == pytest.approx(-12.3)
    assert report.doppler_mps == pytest.approx(-12.34)
    assert report.azimuth_deg == 90.0
    assert report.azimuth_sigma_deg == pytest.approx(1456 * 45 / 65536)
    assert report.elevation_deg == pytest.approx(2.8125)


def test_becomes_radar_measurement() -> None:
    site = Scenario.model_validate({
        "name": "incs", "duration_s": 1, "site": {"origin": {"lat": 45, "lon": 16}},
        "sensors": [{"id": "drone-radar", "type": "radar", "position_enu_m": [0, 0, 5]}],
    })
    decoder = AsterixDecoder()
    stamped = decoder.feed(frame_block(15, incs_record()), rx_utc_s=1_700_006_400.0 + 3601.0)
    (m,) = to_measurements(stamped, site, "drone-radar")
    assert m["t"] == 3600.5 and m["kind"] == "radar" and m["sensor"] == "drone-radar"
    assert (m["range_m"], m["azimuth_deg"], m["elevation_deg"]) == (2500.0, 90.0, 2.8125)
    assert m["range_rate_mps"] == pytest.approx(-12.3)


def test_unknown_subfield_counted() -> None:
    # I015/600 with its 4th presence bit set: edition 1.2 defines three subfields
    bad = fspec([1, 13]) + b"\x10\x20" + bytes([0b00010000]) + bytes(8)
    decoder = AsterixDecoder()
    assert decoder.feed(frame_block(15, bad), None) == []
    assert decoder.rejections.by_reason == {"unknown compound subfield in I015/600": 1}
