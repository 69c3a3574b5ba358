"""``skyfence track`` end to end on a small synthetic file, bad lines included."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pymap3d
import pytest
import yaml

from skyfence.cli import main
from skyfence.errors import UserError
from skyfence.scenario.model import Scenario
from skyfence.sim.sensors.common import polar
from skyfence.track_io import run_track
from tracker_synth import cv_truth, radar_line, radar_scan, radar_spec, site

SENSORS: list[dict[str, Any]] = [
    {"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 0], "pd": 0.9,
     "clutter_per_scan": 5, "max_range_m": 10000},
    {"id": "adsb-1", "type": "adsb", "position_enu_m": [0, 0, 0]},
    {"id": "rid-1", "type": "remote_id", "position_enu_m": [0, 0, 0]},
    {"id": "cam-1", "type": "eoir", "position_enu_m": [200, -100, 10]},
]
CONTRACT_KEYS = {"t", "track_id", "enu_m", "vel_mps", "pos_cov_m2", "class", "class_prob",
                 "cooperative_id", "threat"}

ALERT_KEYS = {"alert_id", "kind", "severity", "t_start", "t_end", "track_ids", "swarm_id", "zone",
              "reason"}

def _lines(scenario: Scenario, seconds: int = 40) -> list[str]:
    """Radar plots of a plane, a drone and an unidentified drone; ADS-B for the plane,
    Remote ID for the drone; EO/IR bearings labelled 'drone' for the third."""
    rng = np.random.default_rng(17)
    o = scenario.site.origin
    spec = radar_spec(clutter=5, pd=0.9)
    plane = cv_truth(np.array([-4000.0, 2000.0, 700.0, 60.0, 0.0, 0.0]), seconds, 1.0, 0.0, rng)
    drone = cv_truth(np.array([800.0, 1200.0, 90.0, 0.0, -6.0, 0.0]), seconds, 1.0, 0.0, rng)
    rogue = cv_truth(np.array([-900.0, 700.0, 60.0, 5.0, 3.0, 0.0]), seconds, 1.0, 0.0, rng)
    out: list[str] = []
    for k in range(seconds):
        t = float(k)
        scan = radar_scan(np.vstack((plane[k], drone[k], rogue[k])), spec, rng, t, clutter=5)
        out += [json.dumps(radar_line(t, "radar-1", z)) for z in scan.z]
        for kind, ident, x in (("adsb", "icao", plane[k]), ("remote_id", "uas_id", drone[k])):
            lat, lon, alt = pymap3d.enu2geodetic(*(x[:3] + rng.normal(0, 3, 3)), o.lat, o.lon,
                                                 o.alt_m)
            line = {"t": t, "sensor": "adsb-1" if kind == "adsb" else "rid-1", "kind": kind,
                    ident: "3c6dd4" if kind == "adsb" else "RID-TEST-1", "lat": float(lat),
                    "lon": float(lon), "alt_m": float(alt),
                    "vel_mps": [float(v) for v in x[3:] + rng.normal(0, 0.3, 3)]}
            if kind == "remote_id":
                line |= {"operator_lat": o.lat, "operator_lon": o.lon}
            out.append(json.dumps(line))
        _, az, el, _ = polar(np.array([[200.0, -100.0, 10.0]]), rogue[k:k + 1, :3])
        out.append(json.dumps({"t": t + 0.5, "sensor": "cam-1", "kind": "eoir",
                               "azimuth_deg": float(az[0] + rng.normal(0, 0.1)),
                               "elevation_deg": float(el[0] + rng.normal(0, 0.1)),
                               "label": "drone", "confidence": 0.9}))
    return out


BAD = [
    "this is not json",
    '{"t": 3.0, "sensor": "radar-9", "kind": "radar", "range_m": 100}',
    '{"t": 3.0, "sensor": "radar-1", "kind": "radar", "azimuth_deg": 10, "elevation_deg": 1}',
    '{"t": 3.0, "sensor": "radar-1", "kind": "radar", "range_m": 900, "azimuth_deg": "east"}',
    '{"t": 3.0, "sensor": "radar-1", "kind": "eoir", "azimuth_deg": 10}',
    '[1, 2, 3]',
    '{"t": true, "sensor": "radar-1", "kind": "radar", "range_m": 900, "azimuth_deg": 1}',
    '{"t": 3.0, "sensor": "adsb-1", "kind": "adsb", "icao": "abc", "lat": 95, "lon": 0,'
    ' "alt_m": 1}',
]


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Scenario, Path, Path]:
    scenario = site(SENSORS)
    lines = _lines(scenario)
    # bad lines at known places, a blank line, and two scans swapped (late by 1 s)
    for i, bad in enumerate(BAD):
        lines.insert(50 + 7 * i, bad)
    lines.insert(200, "")
    swap_a = next(i for i, x in enumerate(lines) if x.startswith('{"t": 20.0'))
    swap_b = next(i for i, x in enumerate(lines) if x.startswith('{"t": 21.0'))
    lines[swap_a], lines[swap_b] = lines[swap_b], lines[swap_a]
    meas = tmp_path / "measurements.jsonl"
    meas.write_text("\n".join(lines) + "\n", encoding="utf-8")
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump(scenario.model_dump(exclude_defaults=True)),
                         encoding="utf-8")
    return scenario, meas, site_file


def test_track_file_end_to_end(files: tuple[Scenario, Path, Path], tmp_path: Path) -> None:
    scenario, meas, _ = files
    out, alerts = tmp_path / "tracks.jsonl", tmp_path / "alerts.jsonl"
    summary = run_track(scenario, meas, out, alerts)
    assert summary["bad_lines"] == len(BAD)
    assert summary["measurements_rejected"] == len(BAD)
    examples = summary["bad_line_examples"]
    assert examples[0].startswith(f"{meas}:51: ")  # 1-based line numbers
    assert any("unknown sensor 'radar-9'" in e for e in examples)
    assert any("missing range_m" in e for e in examples)
    assert summary["scans"] > 100 and summary["scans_per_s"] > 0
    written = [json.loads(x) for x in alerts.read_text().splitlines()]
    assert [a["kind"] for a in written] == ["new_noncooperative_drone"]  # the rogue only
    assert set(written[0]) >= ALERT_KEYS and written[0]["t_end"] == 39.5
    assert summary["alerts"] == 1

    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows and all(set(r) == CONTRACT_KEYS for r in rows)
    assert all(0 <= r["threat"] <= 1 and float(r["t"]).is_integer() for r in rows)
    assert all(abs(sum(r["class_prob"].values()) - 1.0) < 1e-3 for r in rows)
    assert all(np.allclose(r["pos_cov_m2"], np.transpose(r["pos_cov_m2"])) for r in rows)
    last = [r for r in rows if r["t"] == 39.0]
    by_coop = {r["cooperative_id"]: r for r in last}
    assert by_coop["3c6dd4"]["class"] == "aircraft"
    assert by_coop["RID-TEST-1"]["class"] == "drone"
    assert len(last) == 3  # plane, drone, rogue: no duplicates, no clutter tracks
    rogue = by_coop[None]
    assert rogue["class"] == "drone"  # EO/IR labels
    assert rogue["threat"] > by_coop["RID-TEST-1"]["threat"] > by_coop["3c6dd4"]["threat"]
    assert np.linalg.norm(np.subtract(rogue["enu_m"], [-900 + 5 * 39, 700 + 3 * 39, 60])) < 50
    assert summary["tracks_confirmed"] == 3


def test_cli_track(files: tuple[Scenario, Path, Path], tmp_path: Path,
                   capsys: pytest.CaptureFixture[str]) -> None:
    _, meas, site_file = files
    out = tmp_path / "cli_tracks.jsonl"
    assert main(["track", "--site", str(site_file), str(meas), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["bad_lines"] == len(BAD) and out.stat().st_size > 0


def test_missing_measurements_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such measurements file"):
        run_track(site(SENSORS), tmp_path / "nope.jsonl", tmp_path / "t.jsonl")


def test_azimuth_only_and_null_fields_are_accepted(tmp_path: Path) -> None:
    scenario = site(SENSORS)
    meas = tmp_path / "m.jsonl"
    meas.write_text("\n".join([
        json.dumps({"t": 0.0, "sensor": "radar-1", "kind": "radar", "range_m": 2000.0,
                    "azimuth_deg": 45.0, "elevation_deg": None, "range_rate_mps": None,
                    "rcs_dbsm": None}),
        json.dumps({"t": 0.5, "sensor": "cam-1", "kind": "eoir", "azimuth_deg": 45.0,
                    "elevation_deg": None, "label": None, "confidence": None}),
        json.dumps({"t": 1.0, "sensor": "rid-1", "kind": "remote_id", "uas_id": "X",
                    "lat": 52.001, "lon": 4.001, "alt_m": 50.0, "vel_mps": None,
                    "operator_lat": None, "operator_lon": None}),
    ]) + "\n")
    summary = run_track(scenario, meas, tmp_path / "t.jsonl")
    assert summary["bad_lines"] == 0 and summary["scans"] == 3
    assert summary["tracks_confirmed"] == 1  # the Remote ID report
    assert not math.isnan(summary["wall_s"])
