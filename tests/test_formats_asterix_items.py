"""CAT048 and CAT034 items the real samples do not carry, on records built by hand from
the specifications (editions 1.32 and 1.29)."""

from __future__ import annotations

import pytest

from skyfence.formats.asterix import Cat034Message, Cat048Report, decode_datagram
from skyfence.formats.asterix.block import frame_block, fspec
from skyfence.formats.asterix.fields import NM_M


def test_cat048_less_common_items() -> None:
    items = {
        1: b"\x01\x02",                       # 010
        3: bytes([0b00110011, 0b10000000]),   # 020 TYP 1 (PSR), SIM, FX; TST
        12: bytes.fromhex("ff80") + bytes.fromhex("0100"),  # 042 x -1 NM, y +2 NM
        14: bytes([0b10100001, 0b10000000]),  # 170 tentative, RAD 1 (PSR), FX; TRE
        15: bytes([128, 64, 16, 8]),          # 210 sigma x 1 NM, y 0.5 NM, v, heading
        16: bytes([(3 << 1) | 1, (19 << 1)]),  # 030 split plot, birds
        18: bytes([0x40, 0x12, 0x34, 0x56]),  # 100 garbled, Mode C gray 0x012
        19: (0x3FFF & -40).to_bytes(2, "big"),  # 110 -40 x 25 ft
        23: b"\x9f",                          # 055 Mode 1 (raw)
        24: bytes([0x0F, 0xFF]),              # 050 Mode 2 7777
        27: b"\x03\xab\xcd",                  # SP, 2 octets of data
        28: b"\x02\xee",                      # RE, 1 octet
    }
    data = fspec(list(items)) + b"".join(items[k] for k in sorted(items))
    (report,) = decode_datagram(frame_block(48, data))
    assert isinstance(report, Cat048Report)
    assert (report.target_type, report.simulated, report.test_target) == (1, True, True)
    assert report.field_monitor is True and report.spi is False
    assert (report.x_m, report.y_m) == (-NM_M, 2 * NM_M)
    status = report.track_status
    assert status is not None and not status.confirmed and status.sensor_kind == 1
    assert status.end_of_track
    quality = report.track_quality
    assert quality is not None
    assert (quality.sigma_x_m, quality.sigma_y_m) == (NM_M, NM_M / 2)
    assert quality.sigma_speed_mps == pytest.approx(16 * NM_M / 16384)
    assert quality.sigma_heading_deg == pytest.approx(8 * 360 / 4096)
    assert report.warnings == (3, 19)
    assert report.mode_c_gray == 0x012
    assert report.height_3d_m == pytest.approx(-40 * 25 * 0.3048)
    assert (report.mode1, report.mode2) == (0x9F, "7777")
    assert (report.special_purpose, report.reserved_expansion) == (b"\xab\xcd", b"\xee")


def test_cat034_less_common_items() -> None:
    items = {
        1: b"\x19\x0e",                                   # 010
        2: b"\x03",                                       # 000 geographical filtering
        3: (100 * 128).to_bytes(3, "big"),                # 030
        6: bytes([0b10011100, 0b11111110, 0x30, 0x08, 0xF0, 0x00]),  # 050 COM, PSR, SSR, MDS
        7: bytes([0b10011100, 0b01110100, 0xB0, 0xE0, 0x50]),  # 060 COM, PSR, SSR, MDS
        8: bytes([2]) + ((1 << 11) | 17).to_bytes(2, "big") + ((20 << 11) | 2047).to_bytes(
            2, "big"),                                    # 070 two counters
        9: (256).to_bytes(2, "big") + (512).to_bytes(2, "big")
           + (16384).to_bytes(2, "big") + (32768).to_bytes(2, "big"),  # 100 window
        10: b"\x05",                                      # 110 data filter
        12: bytes([0xFF, 0x01]),                          # 090 collimation
    }
    data = fspec(list(items)) + b"".join(items[k] for k in sorted(items))
    (message,) = decode_datagram(frame_block(34, data))
    assert isinstance(message, Cat034Message)
    assert message.message_name == "geographical filtering"
    status = message.status
    assert status is not None
    assert status.inhibited and status.rdp_overload and status.transmission_overload
    assert status.time_source_invalid and not status.healthy
    assert status.psr is not None and status.psr.channels == 1 and status.psr.overload
    assert status.ssr is not None and status.ssr.monitoring_disconnected
    assert status.mode_s is not None and status.mode_s.antenna == 1
    assert status.mode_s.channels == 3 and status.mode_s.overload
    processing = message.processing
    assert processing is not None
    assert (processing.rdp_reduction, processing.transmission_reduction) == (7, 2)
    assert processing.psr_reduction == 3 and processing.psr_stc_map == 0
    assert processing.psr_circular_polarisation is True
    assert processing.ssr_reduction == 7 and processing.mode_s_reduction == 2
    assert processing.mode_s_cluster_autonomous is False
    assert message.message_counts == ((1, 17), (20, 2047))
    window = message.polar_window
    assert window is not None
    assert (window.range_start_m, window.range_end_m) == (NM_M, 2 * NM_M)
    assert (window.azimuth_start_deg, window.azimuth_end_deg) == (90.0, 180.0)
    assert message.data_filter == 5
    assert message.collimation_range_m == -NM_M / 128
    assert message.collimation_azimuth_deg == 360 / 16384
