"""ADS-B decoding: real captures against their reference values, CPR, time, measurements."""

from __future__ import annotations

import csv
import gzip
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skyfence.errors import UserError
from skyfence.formats import adsb_messages
from skyfence.formats.adsb import (
    AdsbIdentity,
    AdsbPosition,
    AdsbStream,
    AdsbVelocity,
    CprSettings,
    MlatClock,
    decode_frames,
    ingest_file,
    settings_for_site,
    to_measurements,
)
from skyfence.formats.adsb_framing import avr_line, beast_frame, split_beast
from skyfence.formats.adsb_messages import PositionCpr, address_of, decode_es
from skyfence.formats.adsb_state import AdsbDecoder, distance_m
from skyfence.formats.errors import DecodeError, Rejections
from skyfence.scenario.load import validate
from skyfence.scenario.model import Scenario

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
DUMP1090 = REALDATA / "traffic_samples" / "sample_dump1090.bin"
RS1090 = REALDATA / "traffic_samples" / "rs1090_full_flight_short.jsonl.gz"
PYMODES_CSV = REALDATA / "pymodes_tests"
KT = 1852.0 / 3600.0
FT = 0.3048
TOULOUSE = (43.6293, 1.3638)  # LFBO, near the receiver of sample_dump1090.bin
CDG = (49.0097, 2.5479)
BAD_CRC = bytes.fromhex("8D406B9058B975870B738754F481")  # a real TC 11 frame, last bit flipped


def realdata(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
            pytest.fail(f"real data missing: {path}")
        pytest.skip(f"real data not present: {path} (../shared/realdata)")
    return path


def site(lat: float, lon: float, max_range_m: float = 250_000.0) -> Scenario:
    return validate({"name": "adsb-test", "duration_s": 60,
                     "site": {"origin": {"lat": lat, "lon": lon, "alt_m": 150.0}},
                     "sensors": [{"id": "adsb1", "type": "adsb", "position_enu_m": [0, 0, 10],
                                  "max_range_m": max_range_m}]}, "test")


def rs1090_rows() -> list[dict[str, Any]]:
    with gzip.open(realdata(RS1090), "rt") as handle:
        return [json.loads(line) for line in handle]


# ---------------------------------------------------------------- sample_dump1090.bin
def test_dump1090_icao_set_and_addresses() -> None:
    frames, _, _ = split_beast(realdata(DUMP1090).read_bytes())
    in_clear = {address_of(f.message) for f in frames if f.downlink_format in (11, 17, 18)}
    assert in_clear == {"48520a", "3981e4", "440062", "44ce69"}
    parity = {address_of(f.message) for f in frames if f.downlink_format in (0, 4, 5, 16, 20, 21)}
    assert parity <= in_clear  # address/parity agrees with the addresses heard in clear


def test_dump1090_decodes_one_aircraft() -> None:
    data = realdata(DUMP1090).read_bytes()
    stream = AdsbStream("beast", start_utc_s=1_700_000_000.0)
    results = stream.feed(data, 0.0)
    assert stream.rejections.total == 0
    assert stream.frames_by_df[17] == 23
    identities = [r for r in results if isinstance(r, AdsbIdentity)]
    assert len(identities) == 1
    assert (identities[0].icao, identities[0].callsign, identities[0].category) == (
        "48520a", "TRA89M", "A3")
    assert identities[0].t_utc_s == pytest.approx(1_700_000_007.5849925)
    positions = [r for r in results if isinstance(r, AdsbPosition)]
    assert [p.fix for p in positions] == ["global", "local", "local"]
    first = positions[0]  # even 35.1256 s + odd 36.0756 s of the receiver clock
    assert first.icao == "48520a" and first.alt_kind == "barometric"
    assert first.t_utc_s == pytest.approx(1_700_000_000.0 + (36.0755845 - 30.2805225))
    assert (first.lat_deg, first.lon_deg) == pytest.approx((43.64421, 1.23152), abs=1e-5)
    assert first.alt_m == pytest.approx(38000 * FT)
    assert first.vel_enu_mps == pytest.approx((-43 * KT, 393 * KT, 0.0))
    velocities = [r for r in results if isinstance(r, AdsbVelocity)]
    assert len(velocities) == 8
    assert velocities[0].ground_speed_mps == pytest.approx(395.34 * KT, abs=0.01)
    assert velocities[0].track_deg == pytest.approx(353.7558, abs=1e-4)


def test_dump1090_as_avr_gives_the_same_results() -> None:
    data = realdata(DUMP1090).read_bytes()
    frames, _, _ = split_beast(data)
    text = b"".join(avr_line(f.message, f.mlat_ticks) for f in frames)
    beast = AdsbStream("beast", start_utc_s=0.0).feed(data, 0.0)
    avr = AdsbStream("avr", start_utc_s=0.0).feed(text, 0.0)
    assert avr == beast and len(beast) == 12


# ---------------------------------------------------------------- rs1090 reference
def test_rs1090_positions_altitudes_velocities() -> None:
    rows = [r for r in rs1090_rows() if r["df"] in ("17", "18")]
    decoder = AdsbDecoder(CprSettings(reference=CDG))
    n_pos = n_close = n_alt = n_vel = 0
    for row in rows:
        out = decoder.decode(bytes.fromhex(row["frame"]), row["timestamp"])
        position = next((r for r in out if isinstance(r, AdsbPosition)), None)
        if "latitude" in row and position is not None:
            n_pos += 1
            gap_m = distance_m(position.lat_deg, position.lon_deg,
                               row["latitude"], row["longitude"])
            n_close += gap_m <= 10.0
        if row.get("bds") == "05":
            assert position is not None and position.alt_m is not None
            assert round(position.alt_m / FT) == row["altitude"]
            n_alt += 1
        if row.get("bds") == "09":
            v = next(r for r in out if isinstance(r, AdsbVelocity) and r.ground_speed_mps)
            assert v.ground_speed_mps == pytest.approx(row["groundspeed"] * KT, abs=1e-9)
            assert v.track_deg == pytest.approx(row["track"], abs=1e-9)
            assert v.vertical_rate_mps == pytest.approx(row["vertical_rate"] * FT / 60)
            n_vel += 1
    with_reference = sum("latitude" in r for r in rows)
    assert n_pos >= 0.99 * with_reference
    assert n_close >= 0.99 * n_pos
    assert (n_alt, n_vel) == (6457, 6384)


def test_rs1090_identity() -> None:
    rows = [r for r in rs1090_rows() if r.get("bds") == "08"][:20]
    for row in rows:
        ident = decode_es(bytes.fromhex(row["frame"]), row["timestamp"])
        assert isinstance(ident, AdsbIdentity)
        assert (ident.icao, ident.callsign) == (row["icao24"], row["callsign"])


# ---------------------------------------------------------------- pyModeS test data
def test_pymodes_adsb_csv_columns() -> None:
    path = realdata(PYMODES_CSV / "sample_data_adsb.csv")
    kinds = {4: AdsbIdentity, 11: PositionCpr, 19: AdsbVelocity}
    rows = list(csv.reader(path.open()))
    assert len(rows) == 2000
    callsigns = set()
    for ts, hex_text, icao, tc in rows:
        es = decode_es(bytes.fromhex(hex_text), float(ts))
        assert es is not None and isinstance(es, kinds[int(tc)])
        assert es.icao == icao.lower()
        if isinstance(es, AdsbIdentity):
            callsigns.add(es.callsign)
    assert callsigns == {"EZY85MH"}
    results = list(decode_frames((float(r[0]), bytes.fromhex(r[1])) for r in rows))
    positions = [r for r in results if isinstance(r, AdsbPosition)]
    assert len(positions) >= 930


def test_pymodes_positions_agree_with_pipedecoder() -> None:
    """Our CPR state against pyModeS's own stream decoder, frame by frame.

    The CSV stamps are whole seconds; both decoders get the rows' order as a
    tie-break (+0.1 ms a row) so "the newer frame of a pair" means the same.
    """
    import pyModeS

    rows = list(csv.reader(realdata(PYMODES_CSV / "sample_data_adsb.csv").open()))
    pipe = pyModeS.PipeDecoder()
    decoder = AdsbDecoder()
    compared = 0
    for i, row in enumerate(rows):
        t = float(row[0]) + i * 1e-4
        ref = pipe.decode(row[1], timestamp=t)
        ours = [r for r in decoder.decode(bytes.fromhex(row[1]), t)
                if isinstance(r, AdsbPosition)]
        if ours and ref.get("latitude") is not None:
            compared += 1
            assert (ours[0].lat_deg, ours[0].lon_deg) == pytest.approx(
                (ref["latitude"], ref["longitude"]), abs=1e-9)
    assert compared >= 900


@pytest.mark.parametrize("name", ["sample_data_commb_df20.csv", "sample_data_commb_df21.csv"])
def test_pymodes_commb_addresses(name: str) -> None:
    path = realdata(PYMODES_CSV / name)
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    assert len(rows) == 5000
    same = 0
    for _ts, icao, hex_text in rows:
        message = bytes.fromhex(hex_text)
        same += address_of(message) == icao.lower()
        assert decode_es(message, 0.0) is None  # Comm-B replies are not ADS-B
    assert same >= 4997  # 3 DF20 rows of the file carry an address their parity does not


# ---------------------------------------------------------------- errors and CPR checks
def test_bad_crc_and_length_are_decode_errors() -> None:
    good = bytes.fromhex("8D406B902015A678D4D220AA4BDA")
    assert isinstance(decode_es(good, 0.0), AdsbIdentity)
    flipped = bytes((good[0],)) + bytes((good[1] ^ 0x01,)) + good[2:]
    with pytest.raises(DecodeError) as info:
        decode_es(flipped, 0.0)
    assert info.value.reason == "bad CRC"
    with pytest.raises(DecodeError) as info:
        decode_es(good[:7], 0.0)
    assert info.value.reason == "bad Mode S length"
    with pytest.raises(DecodeError):
        address_of(b"\x00")


def rs1090_positions() -> Iterator[tuple[float, bytes]]:
    for row in rs1090_rows():
        if row.get("bds") == "05":
            yield row["timestamp"], bytes.fromhex(row["frame"])


def test_implausible_jump_is_rejected_then_state_restarts() -> None:
    frames = list(rs1090_positions())
    decoder = AdsbDecoder(CprSettings(max_rejected_jumps=2))
    for t, msg in frames[:40]:
        decoder.decode(msg, t)
    fix = decoder.aircraft["393322"].fix
    assert fix is not None
    far = [m for _, m in frames[3000:3002]]  # ~200 km on, sent 1 s later
    for i, msg in enumerate(far):
        with pytest.raises(DecodeError) as info:
            decoder.decode(msg, fix[0] + 1 + i)
        assert info.value.reason == "implausible position jump"
    assert decoder.aircraft["393322"].fix is None  # restarts from a fresh pair


def test_site_decode_and_receiver_range() -> None:
    frames = list(rs1090_positions())
    t, msg = frames[0]
    near = AdsbDecoder(settings_for_site(site(*CDG), "adsb1"))
    (position,) = near.decode(msg, t)
    assert isinstance(position, AdsbPosition) and position.fix == "site"
    assert distance_m(position.lat_deg, position.lon_deg, *CDG) < 10_000
    unknown_range = AdsbDecoder(CprSettings(reference=CDG))
    assert unknown_range.decode(msg, t) == []  # waits for a pair
    # a reach over 180 NM: no site decode, but a pair 600 km away is out of range
    too_far = AdsbDecoder(settings_for_site(site(*TOULOUSE, max_range_m=400_000), "adsb1"))
    reasons = []
    for t, msg in frames[:40]:
        try:
            assert too_far.decode(msg, t) == []
        except DecodeError as error:
            reasons.append(error.reason)
    assert reasons and set(reasons) == {"position beyond receiver range"}


# ---------------------------------------------------------------- time and measurements
def test_mlat_clock_live_and_file() -> None:
    live = MlatClock()
    assert live.utc(12_000_000, 1000.3) == pytest.approx(1000.3)
    assert live.utc(24_000_000, 1001.1) == pytest.approx(1001.1)  # less delayed
    assert live.utc(36_000_000, 1002.5) == pytest.approx(1002.1)
    assert live.utc(12_000, 1010.0) == pytest.approx(1010.0)  # receiver restarted
    assert live.utc(None, 1011.0) == 1011.0
    file = MlatClock(start_utc_s=500.0)
    assert file.utc(120_000_000, 0.0) == 500.0
    assert file.utc(126_000_000, 0.0) == pytest.approx(500.5)
    assert file.utc(None, 0.0) == pytest.approx(500.5)
    assert file.utc(1_200, 0.0) == pytest.approx(500.5)  # restart: continues


def test_to_measurements_shape_and_epoch() -> None:
    epoch = 1_720_224_000.0  # 2024-07-06 00:00 UTC
    rows = [r for r in rs1090_rows() if r["df"] == "17"][:4000]
    frames = [(r["timestamp"], bytes.fromhex(r["frame"])) for r in rows]
    results = list(decode_frames(frames, CprSettings(reference=CDG)))
    lines = to_measurements(results, site(*CDG), "adsb1")
    assert lines and lines == to_measurements(results, site(*CDG), "adsb1", epoch)
    first = lines[0]
    assert set(first) == {"t", "sensor", "kind", "icao", "lat", "lon", "alt_m", "vel_mps"}
    assert first["kind"] == "adsb" and first["icao"] == "393322" and first["sensor"] == "adsb1"
    # the first surface pair (no site decode: this receiver's reach is not known)
    assert first["t"] == pytest.approx(1720248199.464496 - epoch, abs=1e-3)
    assert first["alt_m"] == 150.0  # on the surface: the site's height
    airborne = [ln for ln in lines if ln["alt_m"] != 150.0]
    assert airborne and all(ln["vel_mps"] is None or len(ln["vel_mps"]) == 3 for ln in lines)


def test_ingest_file_beast_and_avr(tmp_path: Path) -> None:
    data = realdata(DUMP1090).read_bytes()
    rejections = Rejections()
    lines = list(ingest_file(DUMP1090, site(*TOULOUSE), "adsb1", rejections=rejections,
                             start_utc_s=1_700_000_000.0))
    assert rejections.total == 0
    assert [ln["t"] for ln in lines] == sorted(ln["t"] for ln in lines)
    # the first even frame decoded against the site, then a pair, then local decodes
    assert len(lines) == 4
    assert lines[0]["t"] == pytest.approx(1_700_000_000.0 % 86400 + 4.845, abs=1e-3)
    frames, _, _ = split_beast(data)
    avr = tmp_path / "capture.avr"
    avr.write_bytes(b"".join(avr_line(f.message, f.mlat_ticks) for f in frames))
    assert list(ingest_file(avr, site(*TOULOUSE), "adsb1",
                            start_utc_s=1_700_000_000.0)) == lines
    noisy = tmp_path / "noisy.bin"
    noisy.write_bytes(data[:100] + b"\x1a\x39" + data[100:] + beast_frame(BAD_CRC))
    rejections = Rejections()
    assert len(list(ingest_file(noisy, site(*TOULOUSE), "adsb1", rejections=rejections))) == 4
    assert rejections.by_reason["bad CRC"] == 1


def test_missing_pymodes_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adsb_messages, "_PYMODES", [])
    monkeypatch.setitem(sys.modules, "pyModeS", None)
    with pytest.raises(UserError, match=r"pip install 'skyfence\[adsb\]'"):
        decode_es(bytes.fromhex("8D406B902015A678D4D220AA4BDA"), 0.0)


def test_ingest_file_that_is_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x00\x01not a capture")
    with pytest.raises(UserError, match="not a Beast or AVR capture"):
        list(ingest_file(path, site(*TOULOUSE), "adsb1"))
    with pytest.raises(UserError, match="cannot read"):
        list(ingest_file(tmp_path / "missing.bin", site(*TOULOUSE), "adsb1"))


def test_ac12_altitude_code_matches_rs1090() -> None:
    """The 12-bit code our GNSS-height path reads, checked on rs1090's barometric frames."""
    rows = [r for r in rs1090_rows() if r.get("bds") == "05"][::10]
    for row in rows:
        me = int.from_bytes(bytes.fromhex(row["frame"])[4:11], "big")
        assert adsb_messages.ac12_feet((me >> 36) & 0xFFF) == row["altitude"]
    assert adsb_messages.ac12_feet(0) is None
