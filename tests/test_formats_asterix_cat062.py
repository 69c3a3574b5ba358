"""CAT062 output: skyfence tracks → CAT062 → our decoder and asterix-decoder (test-only),
and our CAT062 decoder on the Croatia Control sample."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pymap3d
import pytest

from skyfence.formats.asterix import Cat062Track, decode_datagram
from skyfence.formats.asterix.capture import udp_payloads
from skyfence.formats.asterix.cat062 import TrackStatus, encode_record
from skyfence.formats.asterix.output import Cat062Writer, OutputSettings, track_number
from skyfence.scenario.model import Origin

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "asterix_croatiacontrol"
ORIGIN = Origin(lat=45.8, lon=15.97, alt_m=120.0)
SETTINGS = OutputSettings(sac=7, sic=42, service_id=3, simulated=True)
EPOCH = 1_700_006_400.0 + 3600.0  # 01:00 UTC


def line(t: float, track_id: int, enu: list[float], vel: list[float],
         coop: str | None = None) -> dict[str, Any]:
    return {"t": t, "track_id": track_id, "enu_m": enu, "vel_mps": vel,
            "pos_cov_m2": [[25, 0, 0], [0, 25, 0], [0, 0, 100]], "class": "drone",
            "class_prob": {"drone": 0.8, "bird": 0.1, "aircraft": 0.1},
            "cooperative_id": coop, "threat": 0.5}


TICK_1 = [line(10.0, 1, [1200.5, -830.25, 95.0], [12.25, -3.5, 0.5]),
          line(10.0, 70000, [-4000.0, 2500.0, 400.0], [-60.0, 20.0, -2.0], coop="4CA7A8")]
TICK_2 = [line(11.0, 1, [1212.75, -833.75, 95.5], [12.25, -3.5, 0.5])]


def decoded(datagrams: list[bytes]) -> list[Cat062Track]:
    out = [r for d in datagrams for r in decode_datagram(d)]
    assert all(isinstance(r, Cat062Track) for r in out)
    return out  # type: ignore[return-value]


def test_round_trip_values() -> None:
    writer = Cat062Writer(ORIGIN, SETTINGS, epoch_utc_s=EPOCH)
    first = decoded(writer.tick(TICK_1))
    assert [t.track_number for t in first] == [1, 70000 % 65536]
    for track, src in zip(first, TICK_1, strict=True):
        lat, lon, alt = pymap3d.enu2geodetic(*src["enu_m"], ORIGIN.lat, ORIGIN.lon, ORIGIN.alt_m)
        assert (track.sac, track.sic, track.service_id) == (7, 42, 3)
        assert track.time_of_day_s == 3610.0
        assert track.x_m == pytest.approx(src["enu_m"][0], abs=0.25)
        assert track.y_m == pytest.approx(src["enu_m"][1], abs=0.25)
        assert track.vx_mps == pytest.approx(src["vel_mps"][0], abs=0.125)
        assert track.vy_mps == pytest.approx(src["vel_mps"][1], abs=0.125)
        assert track.lat_deg == pytest.approx(lat, abs=180 / 2**26)
        assert track.lon_deg == pytest.approx(lon, abs=180 / 2**26)
        assert track.geometric_altitude_m == pytest.approx(alt, abs=6.25 * 0.3048 / 2)
        assert track.track_age_s == 0.0
        assert (track.sigma_x_m, track.sigma_y_m, track.xy_covariance_m) == (5.0, 5.0, 0.0)
        assert track.sigma_altitude_m == pytest.approx(5 * 6.25 * 0.3048)  # 10 m, 6.25 ft steps
        status = track.status
        assert status is not None and status.first_message and not status.last_message
        assert status.simulated and not status.tentative and not status.monosensor
    assert first[0].status and first[0].status.surveillance_sources == 2  # non-cooperative
    assert first[1].status and first[1].status.surveillance_sources == 0  # combined

    second = decoded(writer.tick(TICK_2))
    assert [(t.track_number, t.track_age_s) for t in second] == [(1, 1.0), (4464, 0.0)]
    assert second[0].status and not second[0].status.first_message
    assert second[1].status and second[1].status.last_message  # track 70000 ended
    ended = decoded(writer.finish())
    assert [t.track_number for t in ended] == [1]
    assert ended[0].status and ended[0].status.last_message


def test_encode_decode_identity_on_grid_values() -> None:
    track = Cat062Track(sac=1, sic=2, service_id=9, time_of_day_s=86399.9921875,
                        lat_deg=-6245028 * 180 / 2**25, lon_deg=28195635 * 180 / 2**25,
                        x_m=-1234.5, y_m=99.0, vx_mps=-0.25, vy_mps=7.75, track_number=65535,
                        status=TrackStatus(monosensor=True, tentative=True, coasting=True,
                                           surveillance_sources=1),
                        track_age_s=63.75, geometric_altitude_m=8 * (6.25 * 0.3048),
                        sigma_x_m=12.5, sigma_y_m=0.5, xy_covariance_m=-3.0,
                        sigma_altitude_m=255 * (6.25 * 0.3048))
    block = bytes((62, 0, 3 + len(encode_record(track)))) + encode_record(track)
    assert decode_datagram(block) == [track]


def test_accuracies_saturate_and_bad_covariance_is_left_out() -> None:
    huge = line(1.0, 5, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    huge["pos_cov_m2"] = [[1e12, -1e12, 0], [-1e12, 4.0, 0], [0, 0, 1e9]]
    bad = line(1.0, 6, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    bad["pos_cov_m2"] = None
    first, second = decoded(Cat062Writer(ORIGIN, SETTINGS).tick([huge, bad]))
    assert (first.sigma_x_m, first.sigma_y_m) == (65535 * 0.5, 2.0)
    assert first.xy_covariance_m == -32767 * 0.5
    assert first.sigma_altitude_m == pytest.approx(255 * 6.25 * 0.3048)
    assert second.sigma_x_m is None and second.sigma_altitude_m is None


def test_large_tick_splits_into_datagrams() -> None:
    lines = [line(5.0, i, [float(i), 0.0, 10.0], [1.0, 0.0, 0.0]) for i in range(200)]
    datagrams = Cat062Writer(ORIGIN, OutputSettings(sac=1, sic=1)).tick(lines)
    assert len(datagrams) > 1 and all(len(d) <= 1400 for d in datagrams)
    assert len(decoded(datagrams)) == 200
    assert track_number("T-17") == track_number("T-17") != track_number("T-18")


def test_cross_check_with_asterix_decoder() -> None:
    asterix = pytest.importorskip("asterix", reason="asterix-decoder (test-only) not installed")
    datagrams = Cat062Writer(ORIGIN, SETTINGS, epoch_utc_s=EPOCH).tick(TICK_1)
    theirs = [r for d in datagrams for r in asterix.parse(d)]
    ours = decoded(datagrams)
    assert [r["category"] for r in theirs] == [62, 62]
    for mine, ref in zip(ours, theirs, strict=True):
        assert ref["I010"]["SAC"]["val"] == 7 and ref["I010"]["SIC"]["val"] == 42
        assert ref["I040"]["TrkN"]["val"] == mine.track_number
        assert ref["I070"]["ToT"]["val"] == mine.time_of_day_s
        assert ref["I105"]["Lat"]["val"] == pytest.approx(mine.lat_deg, abs=1e-7)
        assert ref["I105"]["Lon"]["val"] == pytest.approx(mine.lon_deg, abs=1e-7)
        assert ref["I100"]["X"]["val"] == mine.x_m and ref["I100"]["Y"]["val"] == mine.y_m
        assert ref["I185"]["Vx"]["val"] == mine.vx_mps
        assert ref["I185"]["Vy"]["val"] == mine.vy_mps
        assert ref["I080"]["CNF"]["val"] == 0 and ref["I080"]["SIM"]["val"] == 1
        assert ref["I080"]["TSB"]["val"] == 1
        assert ref["I130"]["Alt"]["val"] * 0.3048 == pytest.approx(mine.geometric_altitude_m)
        assert ref["I500"]["APC"]["APC_X"]["val"] == mine.sigma_x_m
        assert ref["I500"]["COV"]["COV_XY"]["val"] == mine.xy_covariance_m
        assert ref["I500"]["AGA"]["AGA_Acc"]["val"] * 0.3048 == pytest.approx(
            mine.sigma_altitude_m)


def test_decodes_real_cat062_sample() -> None:
    path = REALDATA / "cat_062_065.pcap"
    if not path.exists():
        message = f"real ASTERIX sample {path} not present"
        if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    ((_, payload),) = list(udp_payloads(path))
    blocks = [payload[: int.from_bytes(payload[1:3], "big")]]  # the CAT062 block
    tracks = decoded(blocks)
    assert len(tracks) == 2
    first = tracks[0]
    assert (first.sac, first.sic, first.track_number, first.mode3a) == (25, 100, 4713, "1275")
    assert first.lat_deg == pytest.approx(41.167123317718506)
    assert first.lon_deg == pytest.approx(15.708866715431213)
    assert (first.x_m, first.y_m, first.vx_mps, first.vy_mps) == (-29514.5, -507088.0,
                                                                   228.75, -47.25)
    assert first.time_of_day_s == 45827.3984375 and first.flight_level == 390.0
    assert first.aircraft_address == "4CA7A8"


def test_tracks_file_to_raw_recording(tmp_path: Path) -> None:
    import io
    import json

    from skyfence.formats.asterix.output import write_tracks_file

    tracks = tmp_path / "tracks.jsonl"
    tracks.write_text("".join(json.dumps(x) + "\n" for x in TICK_1 + TICK_2), encoding="utf-8")
    out = io.BytesIO()
    assert write_tracks_file(tracks, ORIGIN, SETTINGS, out, epoch_utc_s=EPOCH) == 3
    records = decoded([out.getvalue()])
    # tick 1: two tracks; tick 2: track 1 and the end of 70000; finish: the end of track 1
    assert [(r.time_of_day_s, r.track_number) for r in records] == [
        (3610.0, 1), (3610.0, 4464), (3611.0, 1), (3610.0, 4464), (3611.0, 1)]


def test_unencodable_line_is_skipped_and_counted() -> None:
    far = line(1.0, 9, [1e10, 0.0, 0.0], [0.0, 0.0, 0.0])  # beyond I062/100's range
    broken = {"t": 1.0, "track_id": 10}  # no position
    writer = Cat062Writer(ORIGIN, SETTINGS)
    tracks = decoded(writer.tick([far, broken, *TICK_2]))
    assert [t.track_number for t in tracks] == [1] and writer.unencodable == 2


def test_live_sender_over_loopback() -> None:
    import socket
    from dataclasses import dataclass, field

    from skyfence.formats.asterix.output import Cat062Sender

    @dataclass
    class Snap:
        t_s: float
        tracks: dict[int, dict[str, Any]] = field(default_factory=dict)

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5.0)
    try:
        sender = Cat062Sender((ORIGIN.lat, ORIGIN.lon, ORIGIN.alt_m), EPOCH, "127.0.0.1",
                              receiver.getsockname()[1], sac=7, sic=42)
        assert sender.send(Snap(10.0, {1: TICK_1[0], 70000: TICK_1[1]})) == 1
        first = decoded([receiver.recv(65535)])
        sender.close()  # the last messages of both tracks
        last = decoded([receiver.recv(65535)])
    finally:
        receiver.close()
    assert [t.track_number for t in first] == [1, 4464]
    assert all(t.status and t.status.last_message for t in last) and len(last) == 2
