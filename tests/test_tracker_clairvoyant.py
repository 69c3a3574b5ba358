"""The clairvoyant reference: true associations in, the tracker's filter, a lower error."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

from skyfence.errors import UserError
from skyfence.evaluate import evaluate
from skyfence.evaluate.clairvoyant import read_associations, run_clairvoyant, scan_truth_ids
from skyfence.scenario.load import validate
from skyfence.sim.sensors.common import polar
from skyfence.sim.writer import write_simulation
from skyfence.track_io import run_track
from skyfence.tracker import Detections, Tracker, TrackerParams
from skyfence.tracker.clairvoyant import ClairvoyantTracker
from tracker_synth import clutter_plots, cv_truth, radar_spec


def _scan(states: np.ndarray, spec: Any, rng: np.random.Generator, t_s: float,
          clutter: int) -> tuple[Detections, list[str | None]]:
    """A radar scan of every state (ids ``t0``, ``t1``...) plus clutter, shuffled."""
    r, az, el, rr = polar(np.asarray(spec.position_enu_m), states[:, :3], states[:, 3:])
    z = np.column_stack((r, np.radians(az), np.radians(el), rr))
    z += rng.standard_normal(z.shape) * np.asarray(spec.sigma)
    ids: list[str | None] = [f"t{i}" for i in range(len(states))] + [None] * clutter
    z = np.vstack((z, clutter_plots(clutter, spec, rng)))
    order = rng.permutation(len(ids))
    return Detections(t_s, 0, z[order]), [ids[i] for i in order]


def test_one_track_per_target_and_none_from_clutter() -> None:
    rng = np.random.default_rng(3)
    spec = radar_spec(pd=0.9, clutter=30)
    x0 = [np.array([-2000.0, 3000.0, 150.0, 20.0, 0.0, 0.0]),
          np.array([2000.0, 3040.0, 150.0, -20.0, 0.0, 0.0])]  # they cross at t = 100 s
    truth = np.stack([cv_truth(x, 160, 1.0, 0.05, rng) for x in x0], axis=1)
    tracker = ClairvoyantTracker([spec])
    for k in range(160):
        scan, ids = _scan(truth[k], spec, rng, float(k), clutter=30)
        tracker.step(scan, ids)
        if k >= 3:
            assert sorted(tracker.truth_id.tolist()) == ["t0", "t1"]
            assert tracker.bank.confirmed.all()
    assert tracker.tracks_started == 2  # no clutter track, no re-start at the crossing
    err = np.linalg.norm(tracker.bank.x[:, :3] - truth[-1][[int(i[1]) for i in
                                                           tracker.truth_id], :3], axis=1)
    assert (err < 60.0).all()


def test_second_update_confirms_at_the_second_report() -> None:
    rng = np.random.default_rng(4)
    spec = radar_spec(pd=0.9)
    state = np.array([[1000.0, 2000.0, 100.0, 5.0, 5.0, 0.0]])
    tracker = ClairvoyantTracker([spec], confirm="second_update")
    for k, confirmed in enumerate([False, True]):
        scan, ids = _scan(state, spec, rng, float(k), clutter=0)
        tracker.step(scan, ids)
        assert tracker.bank.confirmed.tolist() == [confirmed]


def test_ids_must_match_the_scan() -> None:
    spec = radar_spec()
    scan = Detections(0.0, 0, np.array([[1000.0, 0.1, 0.05, 1.0]]))
    with pytest.raises(ValueError, match="truth ids"):
        ClairvoyantTracker([spec]).step(scan, ["a", None])
    with pytest.raises(UserError, match="do not match"):
        scan_truth_ids({(0.0, spec.id): []}, scan, [spec])


SCENARIO: dict[str, Any] = {
    "name": "clairvoyant-test", "seed": 17, "duration_s": 150,
    "site": {"origin": {"lat": 52.0, "lon": 5.0, "alt_m": 0.0}},
    "sensors": [{"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 15],
                 "max_range_m": 8000, "pd": 0.85, "clutter_per_scan": 40,
                 "reference": {"rcs_dbsm": -20, "range_m": 6000, "pd": 0.9}}],
    "targets": [{"type": "swarm", "count": 6, "launch_interval_s": 3, "formation": "random",
                 "spacing_m": 150, "path_noise_m": 40, "speed_mps": 25,
                 "waypoints_enu_m": [[5000, 2000, 100], [-5000, -1000, 100]],
                 "end": "continue"}],
}


@pytest.mark.parametrize("motion", ["ncv", "imm"])
def test_gospa_no_worse_than_the_tracker(motion: Literal["ncv", "imm"], tmp_path: Path) -> None:
    """On the same simulated measurements, with the same filter, the reference
    scores at least as well."""
    site = validate(SCENARIO, "<test>")
    write_simulation(site, tmp_path)
    meas, truth = tmp_path / "measurements.jsonl", tmp_path / "truth.jsonl"
    params = TrackerParams(motion=motion)
    run_track(site, meas, tmp_path / "tracks.jsonl", params=params)
    summary = run_clairvoyant(site, meas, tmp_path / "reference.jsonl", params=params)
    assert summary["scans"] == 151 and summary["tracks_confirmed"] >= 6
    real = evaluate(site, truth, tmp_path / "tracks.jsonl")["gospa"]
    ref = evaluate(site, truth, tmp_path / "reference.jsonl")["gospa"]
    assert ref["mean"] <= real["mean"]
    assert ref["false_mean"] <= real["false_mean"]


def test_associations_group_by_scan(tmp_path: Path) -> None:
    path = tmp_path / "associations.jsonl"
    path.write_text('{"t":0.0,"sensor":"r","id":null}\n{"t":0.0,"sensor":"r","id":"a"}\n'
                    '{"t":1.0,"sensor":"r","id":"a"}\n')
    assert read_associations(path) == {(0.0, "r"): [None, "a"], (1.0, "r"): ["a"]}


def test_the_real_tracker_reads_the_same_scans() -> None:
    """Sanity: the synthetic scans above are ones the Tracker tracks too."""
    rng = np.random.default_rng(5)
    spec = radar_spec(pd=0.95)
    state = np.array([[1000.0, 2000.0, 100.0, 5.0, 5.0, 0.0]])
    tracker = Tracker([spec])
    for k in range(5):
        tracker.step(_scan(state + k * np.r_[state[0, 3:], 0, 0, 0], spec, rng, float(k),
                           clutter=0)[0])
    assert tracker.bank.confirmed.sum() == 1
