"""Out-of-sequence and late data: reordered within the lag, counted and logged beyond it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from skyfence.scenario import load_scenario
from skyfence.sim.writer import write_simulation
from skyfence.track_io import run_track

OVERRIDES = ["duration_s=120", "targets.1.start_s=0"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("oos")
    scenario = load_scenario("airport-mixed", OVERRIDES)
    write_simulation(scenario, out)
    return out, scenario


def _blocks(lines: list[bytes]) -> list[list[bytes]]:
    """Consecutive lines of one (t, sensor) scan."""
    blocks: list[list[bytes]] = []
    key = None
    for line in lines:
        k = line.split(b',"kind"')[0]
        if k != key:
            blocks.append([])
            key = k
        blocks[-1].append(line)
    return blocks


def test_scans_out_of_order_within_the_lag_give_the_same_tracks(sim: tuple[Path, object],
                                                                 tmp_path: Path) -> None:
    out, scenario = sim
    lines = (out / "measurements.jsonl").read_bytes().splitlines(keepends=True)
    blocks = _blocks(lines)
    shuffled: list[bytes] = []
    for i in range(0, len(blocks), 3):  # reverse every run of three scans (< 2 s apart)
        for block in reversed(blocks[i:i + 3]):
            shuffled.extend(block)
    (tmp_path / "shuffled.jsonl").write_bytes(b"".join(shuffled))
    a = run_track(scenario, out / "measurements.jsonl", tmp_path / "a.jsonl")  # type: ignore[arg-type]
    b = run_track(scenario, tmp_path / "shuffled.jsonl", tmp_path / "b.jsonl")  # type: ignore[arg-type]
    assert b["reordered_lines"] > 100 and a["reordered_lines"] == 0
    assert b["late_lines"] == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_data_later_than_the_lag_is_counted_logged_and_dropped(
        sim: tuple[Path, object], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out, scenario = sim
    lines = (out / "measurements.jsonl").read_bytes().splitlines(keepends=True)
    early = [ln for ln in lines if b'"t":10.0,' in ln][:3]
    rest = [ln for ln in lines if ln not in early]
    cut = next(i for i, ln in enumerate(rest) if b'"t":20.0,' in ln)
    late = rest[:cut] + early + rest[cut:]  # three lines 10 s late
    path = tmp_path / "late.jsonl"
    path.write_bytes(b"".join(late))
    with caplog.at_level(logging.WARNING, logger="skyfence.track"):
        summary = run_track(scenario, path, tmp_path / "t.jsonl",  # type: ignore[arg-type]
                            reorder_window_s=2.0)
    assert summary["late_lines"] == 3
    assert summary["measurements_rejected"] >= 3
    assert len(summary["late_line_examples"]) == 3
    assert f"late.jsonl:{cut + 1}" in summary["late_line_examples"][0]
    assert sum("late measurement dropped" in r.message for r in caplog.records) == 3
    # a longer lag takes them back in
    again = run_track(scenario, path, tmp_path / "t2.jsonl",  # type: ignore[arg-type]
                      reorder_window_s=15.0)
    assert again["late_lines"] == 0 and again["reordered_lines"] == 3


def test_cli_max_lag_option(sim: tuple[Path, object], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    from skyfence.cli import main

    out, _ = sim
    args = ["track", "--site", "airport-mixed", str(out / "measurements.jsonl"),
            "--out", str(tmp_path / "t.jsonl")]
    assert main([*args, "--max-lag", "-1"]) == 2
    assert "--max-lag" in capsys.readouterr().err
    assert main([*args, "--max-lag", "0.5"]) == 0
    assert "tracks confirmed" in capsys.readouterr().err


def test_a_scan_already_fed_takes_no_more_lines(sim: tuple[Path, object]) -> None:
    """A line for a (t, sensor) whose scan went to the engine is late, even at the same t."""
    import io

    from skyfence.track_io import ScanReader

    _, scenario = sim
    radar = b'{"t":%s,"sensor":"radar-1","kind":"radar","range_m":1000.0,"azimuth_deg":10.0,' \
            b'"elevation_deg":1.0,"range_rate_mps":0.0,"rcs_dbsm":-20.0}\n'
    text = radar % b"1.0" + radar % b"5.0" + radar % b"1.0" + radar % b"5.0"
    reader = ScanReader(scenario, reorder_window_s=2.0)  # type: ignore[arg-type]
    scans = list(reader.read(io.BytesIO(text), "mem"))
    assert [(s.t_s, len(s)) for s in scans] == [(1.0, 1), (5.0, 2)]
    assert reader.counts.late == 1 and reader.counts.late_examples[0].startswith("mem:3")
