"""``skyfence replay`` (commands/replay.py): a recorded period re-run through the
engine, with the recorded settings or others."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skyfence.cli import main
from skyfence.live.hub import Snapshot
from skyfence.store import open_store

SITE = ["--site", "spoofing", "--set", "duration_s=130"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "events.sqlite"
    assert main(["run", *SITE, "--headless", "--quiet", "--speed", "1000",
                 "--store", str(path)]) == 0
    return path


def _replay(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["replay", *args]) == 0
    out = capsys.readouterr().out
    result: dict[str, Any] = json.loads(out)
    return result


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_same_settings_give_the_same_alerts_and_tracks(
        recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "same"
    summary = _replay(capsys, "--store", str(recorded), "--out", str(out))
    assert summary["original"] == summary["replay"]
    assert summary["original"]["ticks"] == 131 and summary["original"]["alerts"] >= 3
    assert summary["alerts_compared"]["only_original"] == []
    assert summary["alerts_compared"]["only_replay"] == []
    with open_store(recorded, flush_interval_s=None) as a, \
            open_store(out / "events.sqlite", flush_interval_s=None) as b:
        assert b.alerts() == a.alerts()  # ids, kinds, starts, ends, members, reasons
        states = a.track_states(0, 1e9)
        assert states and b.track_states(0, 1e9) == states
        assert len(_jsonl(out / "measurements.jsonl")) == len(a.measurements(0, 1e9))
        assert b.get_meta("site_yaml") == a.get_meta("site_yaml")
    # tracks.jsonl and alerts.jsonl as skyfence track writes them: the same picture
    lines = {(r["t"], r["track_id"]): r for r in _jsonl(out / "tracks.jsonl")}
    assert len(lines) == len(states)
    for r in states:
        line = lines[(r["t"], r["track_id"])]
        assert {k: r[k] for k in line} == line
    # alerts.jsonl: the same alerts (skyfence track ends those still active at the end)
    with open_store(recorded, flush_interval_s=None) as a:
        stored = {(x["alert_id"], x["kind"], x["t_start"]) for x in a.alerts()}
    assert {(x["alert_id"], x["kind"], x["t_start"])
            for x in _jsonl(out / "alerts.jsonl")} == stored


def test_other_settings_change_the_outcome(recorded: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    # the perimeter grown to 6 km across: the tracks inside it raise zone-entry alerts
    wide = "site.zones.0.polygon=[[-3000,-3000],[3000,-3000],[3000,3000],[-3000,3000]]"
    summary = _replay(capsys, "--store", str(recorded), "--out", str(tmp_path / "wide"),
                      "--set", wide)
    assert summary["replay"]["alerts_by_kind"] != summary["original"]["alerts_by_kind"]
    assert summary["alerts_compared"]["only_replay"]
    assert summary["settings"]["overrides"] == [wide]
    ncv = _replay(capsys, "--store", str(recorded), "--out", str(tmp_path / "ncv"),
                  "--motion", "ncv", "--from", "20", "--to", "80")
    assert ncv["settings"]["motion"] == "ncv" and ncv["period"] == [20.0, 80.0]
    with open_store(recorded, flush_interval_s=None) as a, \
            open_store(tmp_path / "ncv" / "events.sqlite", flush_interval_s=None) as b:
        assert b.tick_times(0, 1e9)[0] == 20.0
        assert b.tracks_at(80.0) != a.tracks_at(80.0)


@pytest.mark.parametrize("args, message", [
    (["--store", "nope.sqlite"], "no such event store"),
    (["--from", "50", "--to", "10"], "bad period"),
    (["--from", "5000"], "no measurements stored"),
    (["--set", "site.nothing.0=1"], "no such field"),
    (["--site", "nope.yaml"], "nope.yaml"),
])
def test_bad_input_is_a_clear_error(recorded: Path, tmp_path: Path, args: list[str],
                                    message: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--store", str(recorded)] if "--store" not in args else []
    assert main(["replay", *base, "--out", str(tmp_path / "x"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skyfence replay: ") and message in err


def test_a_store_without_a_site_needs_site(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bare.sqlite"
    with open_store(path, flush_interval_s=None) as store:
        store.write_tick(Snapshot(1.0), [{"t": 0.5, "sensor": "radar-1", "kind": "radar"}])
    assert main(["replay", "--store", str(path), "--out", str(tmp_path / "x")]) == 2
    assert "give --site" in capsys.readouterr().err
