"""The whole chain on every bundled scenario at CI size: simulate → track → evaluate, and demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skyfence.cli import main

SMALL = {
    "night-swarm": ["duration_s=420", "targets.0.count=3"],
    "airport-mixed": ["duration_s=120"],
    "birds-only": ["duration_s=120"],
    "dense-swarm": ["duration_s=60", "targets.0.count=40"],
    "spoofing": ["duration_s=120"],  # the displaced broadcast starts at 90 s
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_simulate_track_evaluate(name: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    sets = [x for s in SMALL[name] for x in ("--set", s)]
    assert main(["simulate", name, "--out", str(tmp_path), *sets]) == 0
    site = str(tmp_path / "scenario.yaml")
    assert main(["track", "--site", site, str(tmp_path / "measurements.jsonl"),
                 "--out", str(tmp_path / "tracks.jsonl"),
                 "--alerts", str(tmp_path / "alerts.jsonl")]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--site", site, str(tmp_path / "truth.jsonl"),
                 str(tmp_path / "tracks.jsonl")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["scenario"] == name
    gospa = result["gospa"]
    detectable = gospa["per_tick"]["detectable"]
    # far better than reporting nothing (whose GOSPA is sqrt(c^2/alpha * n) per tick)
    nothing = sum((5000.0 * n) ** 0.5 for n in detectable) / len(detectable)
    assert gospa["mean"] is not None and 0.0 <= gospa["mean"] < 0.8 * nothing
    if name != "birds-only":  # birds are the tracker's hard case; drones/aircraft are not
        assert result["time_to_track"]["tracked"] > 0


def test_demo_runs_and_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--offline", "--out", str(tmp_path), "--set", "duration_s=200",
                 "--set", "targets.0.count=3"]) == 0
    out = capsys.readouterr().out
    assert "Mean GOSPA" in out and "ID switches" in out
    assert (tmp_path / "evaluation.json").exists()


def test_missing_measurements_file_is_a_user_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["track", "--site", "night-swarm", str(tmp_path / "nope.jsonl"),
                 "--out", str(tmp_path / "t.jsonl")])
    assert code == 2
    assert "nope.jsonl" in capsys.readouterr().err
