"""Target motion: waypoints, loiter, hover, dive, vanish, swarms and flocks behave as documented."""

from __future__ import annotations

from typing import Any

import numpy as np

from skyfence.scenario.load import validate
from skyfence.sim.engine import simulate


def _scenario(targets: list[dict[str, Any]], duration_s: float = 300, seed: int = 1) -> Any:
    return validate({
        "name": "motion", "seed": seed, "duration_s": duration_s,
        "site": {"origin": {"lat": 50.0, "lon": 0.0}}, "targets": targets,
    }, "<test>")


def _tracks(targets: list[dict[str, Any]], duration_s: float = 300) -> dict[str, np.ndarray]:
    """id -> rows of (t, x, y, z, vx, vy, vz)."""
    rows: dict[str, list[list[float]]] = {}
    for step in simulate(_scenario(targets, duration_s)):
        for rec in step.truth or []:
            rows.setdefault(rec["id"], []).append([rec["t"], *rec["enu_m"], *rec["vel_mps"]])
    return {k: np.array(v) for k, v in rows.items()}


def test_waypoints_are_flown_at_speed_and_vanish_at_the_end() -> None:
    wps = [[0, 0, 100], [2000, 0, 100], [2000, 2000, 150]]
    tr = _tracks([{"type": "drone", "waypoints_enu_m": wps, "speed_mps": 20, "end": "vanish"}])
    d = tr["drone-1"]
    speed = np.linalg.norm(d[:, 4:7], axis=1)
    assert abs(np.median(speed) - 20) < 0.5
    # passes near the corner and ends near the last waypoint, then is gone
    assert np.min(np.linalg.norm(d[:, 1:4] - wps[1], axis=1)) < 150
    assert np.linalg.norm(d[-1, 1:4] - wps[2]) < 25
    path_m = 2000 + 2000
    assert abs(d[-1, 0] - path_m / 20) < 20
    assert d[-1, 0] < 299


def test_loiter_orbits_the_last_waypoint_at_its_radius() -> None:
    tr = _tracks([{"type": "drone", "waypoints_enu_m": [[0, 0, 80], [500, 0, 80]],
                   "end": "loiter", "loiter_radius_m": 200, "speed_mps": 15}], 400)
    d = tr["drone-1"]
    late = d[d[:, 0] > 150]
    r = np.hypot(late[:, 1] - 500, late[:, 2])
    assert np.all(np.abs(r - 200) < 40), (r.min(), r.max())
    assert np.all(np.abs(late[:, 3] - 80) < 10)
    # it goes round: the bearing from the centre covers the whole circle
    bearing = np.degrees(np.arctan2(late[:, 2], late[:, 1] - 500)) % 360
    assert np.histogram(bearing, bins=8, range=(0, 360))[0].min() > 0


def test_hover_holds_station() -> None:
    tr = _tracks([{"type": "drone", "waypoints_enu_m": [[0, 0, 50], [300, 300, 60]],
                   "end": "hover", "speed_mps": 10}], 200)
    late = tr["drone-1"][tr["drone-1"][:, 0] > 100]
    assert np.all(np.linalg.norm(late[:, 1:4] - [300, 300, 60], axis=1) < 10)


def test_dive_ends_on_the_target() -> None:
    tr = _tracks([{"type": "drone", "waypoints_enu_m": [[3000, 0, 100], [800, 0, 100]],
                   "end": "dive", "dive_target_enu_m": [0, 0, 0], "speed_mps": 40,
                   "dive_speed_mps": 50}], 300)
    d = tr["drone-1"]
    assert d[-1, 0] < 120  # ended, not still flying
    assert np.hypot(d[-1, 1], d[-1, 2]) < 150 and d[-1, 3] < 30
    assert d[-1, 6] < -2  # descending at the end


def test_swarm_members_launch_staggered_and_follow_the_route() -> None:
    tr = _tracks([{"type": "swarm", "id": "s", "count": 6, "launch_interval_s": 10,
                   "waypoints_enu_m": [[0, 0, 100], [6000, 0, 100]], "speed_mps": 30,
                   "spacing_m": 50, "path_noise_m": 20}], 200)
    assert sorted(tr) == [f"s-{k:02d}" for k in range(1, 7)]
    starts = [tr[f"s-{k:02d}"][0, 0] for k in range(1, 7)]
    assert starts == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    positions = np.array([tr[k][tr[k][:, 0] == 100][0, 1:4] for k in tr])
    assert np.all(np.abs(positions[:, 1]) < 300)  # near the route line
    assert len({tuple(np.round(p)) for p in positions}) == 6  # each on its own path


def test_bird_flock_roams_slowly_near_home() -> None:
    tr = _tracks([{"type": "bird_flock", "count": 10, "center_enu_m": [1000, 1000, 50],
                   "roam_radius_m": 400, "spread_m": 30, "speed_mps": 9}], 600)
    assert len(tr) == 10
    allrows = np.vstack(list(tr.values()))
    dist = np.hypot(allrows[:, 1] - 1000, allrows[:, 2] - 1000)
    assert dist.max() < 400 + 200
    speed = np.linalg.norm(allrows[:, 4:7], axis=1)
    assert 5 < np.median(speed) < 15
    # erratic: headings spread widely, unlike a drone on a leg
    heading = np.degrees(np.arctan2(allrows[:, 4], allrows[:, 5])) % 360
    assert np.histogram(heading, bins=8, range=(0, 360))[0].min() > 0


def test_targets_appear_at_start_time_only() -> None:
    tr = _tracks([{"type": "aircraft", "start_s": 42, "speed_mps": 70,
                   "waypoints_enu_m": [[-5000, 0, 1000], [5000, 0, 1000]]}], 60)
    assert tr["aircraft-1"][0, 0] == 42.0
    assert np.allclose(tr["aircraft-1"][0, 1:4], [-5000, 0, 1000])
