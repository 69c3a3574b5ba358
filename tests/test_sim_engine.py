"""The simulation engine and its files: determinism, ordering, contracts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skyfence.cli import main
from skyfence.scenario import load_scenario
from skyfence.scenario.load import validate
from skyfence.sim.engine import simulate
from skyfence.sim.writer import ASSOCIATIONS, MEASUREMENTS, TRUTH, write_simulation

ALL_SENSORS: dict[str, Any] = {
    "name": "all-sensors",
    "seed": 3,
    "duration_s": 40,
    "site": {"origin": {"lat": 51.0, "lon": -1.0, "alt_m": 50}},
    "sensors": [
        {"id": "radar", "type": "radar", "position_enu_m": [0, 0, 10]},
        {"id": "rf", "type": "rf", "position_enu_m": [100, 0, 5], "offset_s": 0.5},
        {"id": "ac", "type": "acoustic", "position_enu_m": [300, 0, 2]},
        {"id": "cam", "type": "eoir", "position_enu_m": [0, 0, 10], "period_s": 0.5},
        {"id": "adsb", "type": "adsb", "position_enu_m": [0, 0, 10]},
        {"id": "rid", "type": "remote_id", "position_enu_m": [0, 0, 10]},
    ],
    "targets": [
        {"type": "drone", "rf_link": True, "remote_id": {},
         "waypoints_enu_m": [[800, 200, 80], [200, 0, 80]], "end": "loiter"},
        {"type": "swarm", "count": 4, "launch_interval_s": 3,
         "waypoints_enu_m": [[3000, 1000, 100], [0, 0, 100]]},
        {"type": "bird_flock", "count": 5, "center_enu_m": [500, -500, 40]},
        {"type": "aircraft", "waypoints_enu_m": [[-8000, 0, 900], [8000, 0, 900]]},
    ],
}


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    write_simulation(validate(ALL_SENSORS, "<test>"), out)
    return out


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_same_seed_gives_byte_identical_files(sim_dir: Path, tmp_path: Path) -> None:
    write_simulation(validate(ALL_SENSORS, "<test>"), tmp_path)
    for name in (TRUTH, MEASUREMENTS, ASSOCIATIONS):
        assert (tmp_path / name).read_bytes() == (sim_dir / name).read_bytes(), name


def test_another_seed_gives_other_noise(sim_dir: Path, tmp_path: Path) -> None:
    write_simulation(validate({**ALL_SENSORS, "seed": 4}, "<test>"), tmp_path)
    assert (tmp_path / MEASUREMENTS).read_bytes() != (sim_dir / MEASUREMENTS).read_bytes()


def test_every_sensor_kind_reports_in_contract_shape(sim_dir: Path) -> None:
    fields = {
        "radar": ["range_m", "azimuth_deg", "elevation_deg", "range_rate_mps", "rcs_dbsm"],
        "rf": ["azimuth_deg", "elevation_deg", "emitter"],
        "acoustic": ["azimuth_deg", "elevation_deg"],
        "eoir": ["azimuth_deg", "elevation_deg", "label", "confidence"],
        "adsb": ["icao", "lat", "lon", "alt_m", "vel_mps"],
        "remote_id": ["uas_id", "lat", "lon", "alt_m", "vel_mps", "operator_lat",
                      "operator_lon"],
    }
    seen = set()
    for rec in _read(sim_dir / MEASUREMENTS):
        seen.add(rec["kind"])
        assert list(rec) == ["t", "sensor", "kind", *fields[rec["kind"]]]
    assert seen == set(fields)


def test_measurements_are_time_ordered_and_carry_no_truth(sim_dir: Path) -> None:
    meas = _read(sim_dir / MEASUREMENTS)
    times = [m["t"] for m in meas]
    assert times == sorted(times)
    assert not any("id" in m or "target" in m for m in meas)
    assoc = _read(sim_dir / ASSOCIATIONS)
    assert len(assoc) == len(meas)
    assert all(a["t"] == m["t"] and a["sensor"] == m["sensor"] for a, m in zip(assoc, meas,
                                                                               strict=True))
    ids = {a["id"] for a in assoc}
    assert None in ids and "drone-1" in ids


def test_truth_every_period_with_contract_fields(sim_dir: Path) -> None:
    truth = _read(sim_dir / TRUTH)
    assert list(truth[0]) == ["t", "id", "kind", "enu_m", "vel_mps"]
    assert sorted({r["t"] for r in truth}) == [float(t) for t in range(0, 41)]
    kinds = {r["id"]: r["kind"] for r in truth}
    assert kinds["drone-1"] == "drone" and kinds["flock-1-01"] == "bird"
    assert kinds["aircraft-1"] == "aircraft" and kinds["swarm-1-04"] == "drone"
    # the swarm's fourth member launches 9 s after the first
    assert min(r["t"] for r in truth if r["id"] == "swarm-1-04") == 9.0


def test_sensor_schedule_honours_period_and_offset(sim_dir: Path) -> None:
    meas = _read(sim_dir / MEASUREMENTS)
    rf_times = {m["t"] for m in meas if m["sensor"] == "rf"}
    assert rf_times and all(t % 1.0 == 0.5 for t in rf_times)
    cam_times = {m["t"] for m in meas if m["sensor"] == "cam"}
    assert any(t % 1.0 == 0.5 for t in cam_times) and any(t % 1.0 == 0.0 for t in cam_times)


def test_stream_is_time_ordered_and_matches_the_files(sim_dir: Path) -> None:
    steps = list(simulate(validate(ALL_SENSORS, "<test>")))
    times = [s.t_s for s in steps]
    assert times == sorted(set(times))
    n_meas = sum(len(s.measurements) for s in steps)
    assert n_meas == len(_read(sim_dir / MEASUREMENTS))


def test_cli_simulate_records_the_scenario_it_ran(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "night-swarm", "--out", str(tmp_path),
                 "--set", "duration_s=20", "--set", "targets.0.count=3"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["truth_lines"] > 0 and summary["measurements"] > 0
    recorded = load_scenario(tmp_path / "scenario.yaml")
    assert recorded == load_scenario("night-swarm", ["duration_s=20", "targets.0.count=3"])


def test_cli_help_on_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    for sub in ("simulate", "track", "evaluate", "demo", "validate", "scenarios"):
        with pytest.raises(SystemExit) as info:
            main([sub, "--help"])
        assert info.value.code == 0
        assert "usage: skyfence " + sub in capsys.readouterr().out
