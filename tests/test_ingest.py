"""``skyfence ingest``: real captures → measurements.jsonl the tracker reads and tracks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from skyfence.cli import main
from skyfence.track_io import run_track

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def realdata(name: str) -> Path:
    path = REALDATA / name
    if not path.is_file():
        if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
            raise AssertionError(f"real data missing: {path}")
        pytest.skip(f"real data not present: {path} (../shared/realdata)")
    return path


def write_site(tmp_path: Path, lat: float, lon: float, **sensors: dict[str, Any]) -> Path:
    site = {"name": "ingest-site", "duration_s": 60,
            "site": {"origin": {"lat": lat, "lon": lon, "alt_m": 150.0}},
            "sensors": [{"id": sid, "position_enu_m": [0, 0, 10], **spec}
                        for sid, spec in sensors.items()]}
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


def ingest(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["ingest", *args]) == 0
    summary: dict[str, Any] = json.loads(capsys.readouterr().out)
    return summary


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_beast_capture_becomes_a_tracked_aircraft(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyModeS")
    site = write_site(tmp_path, 43.6, 1.36,  # Toulouse: the capture's one ADS-B aircraft
                      **{"adsb-1": {"type": "adsb", "max_range_m": 250000}})
    out = tmp_path / "m.jsonl"
    summary = ingest(tmp_path, capsys, str(realdata("traffic_samples/sample_dump1090.bin")),
                     "--format", "adsb-beast", "--site", str(site), "--out", str(out),
                     "--start-utc", "1700000000")
    records = lines(out)
    assert summary["sensor"] == "adsb-1" and summary["measurements"] == len(records) >= 3
    assert {r["icao"] for r in records} == {"48520a"}
    assert all(r["kind"] == "adsb" and abs(r["lat"] - 43.65) < 0.02 for r in records)
    assert [r["t"] for r in records] == sorted(r["t"] for r in records)
    assert records[0]["t"] == pytest.approx(1700000000 % 86400 + 4.845, abs=1.0)
    tracked = run_track(site, out, tmp_path / "tracks.jsonl")
    assert tracked["bad_lines"] == 0
    tracks = lines(tmp_path / "tracks.jsonl")
    assert tracks and {t["cooperative_id"] for t in tracks} == {"48520a"}


def test_real_dji_remote_id_becomes_a_track_with_its_serial(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path, 33.665, -82.19, **{"rid-1": {"type": "remote_id"}})
    out = tmp_path / "m.jsonl"
    summary = ingest(tmp_path, capsys, str(realdata("droneid_bkerler_pcaps/dji_air3.pcapng")),
                     "--format", "remoteid-pcap", "--site", str(site), "--out", str(out))
    records = lines(out)
    assert summary["measurements"] == len(records) == 9 and summary["rejected"] == 0
    assert {r["uas_id"] for r in records} == {"1581F6N8A23B2ML3Y3KR"}
    assert records[0]["lat"] == pytest.approx(33.66527, abs=1e-4)
    assert records[0]["operator_lat"] == pytest.approx(33.66324, abs=1e-4)
    run_track(site, out, tmp_path / "tracks.jsonl")
    tracks = lines(tmp_path / "tracks.jsonl")
    assert tracks and {t["cooperative_id"] for t in tracks} == {"1581F6N8A23B2ML3Y3KR"}


def test_asterix_capture_becomes_radar_plots_the_reader_accepts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path, 45.8, 16.0,
                      **{"radar-1": {"type": "radar", "max_range_m": 500000}})
    out = tmp_path / "m.jsonl"
    summary = ingest(tmp_path, capsys,
                     str(realdata("asterix_croatiacontrol/cat_034_048.pcap")),
                     "--format", "asterix-pcap", "--site", str(site), "--out", str(out))
    records = lines(out)
    assert summary["measurements"] == len(records) > 0
    assert all(r["kind"] == "radar" and r["sensor"] == "radar-1" and r["range_m"] > 0
               and 0 <= r["azimuth_deg"] < 360 for r in records)
    assert run_track(site, out, tmp_path / "tracks.jsonl")["bad_lines"] == 0


def test_user_errors_exit_2_naming_the_problem(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path, 45.0, 7.0, **{"r1": {"type": "radar"}, "r2": {"type": "radar"},
                                              "a1": {"type": "adsb"}})
    capture = tmp_path / "c.pcap"
    capture.write_bytes(b"")
    cases = [
        (["ingest", str(tmp_path / "none.bin"), "--format", "adsb-beast"], "no such file"),
        (["ingest", str(capture), "--format", "asterix-pcap"], "say which with --sensor"),
        (["ingest", str(capture), "--format", "asterix-pcap", "--sensor", "a1"],
         "a1 is a adsb sensor"),
        (["ingest", str(capture), "--format", "remoteid-pcap"], "no remote_id sensor"),
    ]
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(bytes(range(256)) * 4)
    site_rid = write_site(tmp_path, 45.0, 7.0, **{"rid": {"type": "remote_id"}})
    capsys.readouterr()
    assert main(["ingest", str(junk), "--format", "remoteid-pcap", "--site", str(site_rid),
                 "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "junk.pcap: not a pcap or pcapng file" in capsys.readouterr().err
    site = write_site(tmp_path, 45.0, 7.0, **{"r1": {"type": "radar"}, "r2": {"type": "radar"},
                                              "a1": {"type": "adsb"}})
    for argv, words in cases:
        capsys.readouterr()
        assert main([*argv, "--site", str(site), "--out", str(tmp_path / "o.jsonl")]) == 2
        assert words in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["remoteid-pcap", "asterix-pcap", "adsb-beast"])
def test_corrupt_captures_never_crash_and_keep_what_was_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    """Real captures cut short and with bytes overwritten (seeded): every run ends
    with exit 0 (what could be read, the rest counted) or 2 (a clear message)."""
    import random

    pytest.importorskip("pyModeS")
    rng = random.Random(11)
    source = {"remoteid-pcap": "droneid_bkerler_pcaps/dji_air3.pcapng",
              "asterix-pcap": "asterix_croatiacontrol/cat_034_048.pcap",
              "adsb-beast": "traffic_samples/sample_dump1090.bin"}[fmt]
    data = realdata(source).read_bytes()
    site = write_site(tmp_path, 43.6, 1.36, **{"a": {"type": "adsb"}, "r": {"type": "radar"},
                                               "rid": {"type": "remote_id"}})
    for k in range(12):
        bad = bytearray(data[: rng.randrange(30, len(data))] if k % 2 == 0 else data)
        for _ in range(rng.randrange(1, 40)):
            bad[rng.randrange(24, len(bad))] = rng.randrange(256)
        capture = tmp_path / f"bad{k}.bin"
        capture.write_bytes(bytes(bad))
        capsys.readouterr()
        rc = main(["ingest", str(capture), "--format", fmt, "--site", str(site),
                   "--out", str(tmp_path / "o.jsonl")])
        out, err = capsys.readouterr()
        assert rc in (0, 2), err
        if rc == 2:
            assert str(capture) in err
        else:
            assert json.loads(out)["measurements"] == len(lines(tmp_path / "o.jsonl"))
