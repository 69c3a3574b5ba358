"""Spoofed and phantom cooperative broadcasts in the simulator (the scenario side of issue 4).

A displaced Remote ID broadcast reports the true position plus its offset
(within the receiver's noise) from ``spoof_start_s`` on; a phantom
(``physical: false``) is heard by the cooperative receivers only and has no
truth lines; honest broadcasts and every existing scenario's output are
unchanged.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pymap3d
import pytest
from scipy import stats

from scenario_checks import assert_refused
from skyfence.cli import main
from skyfence.scenario import load_scenario
from skyfence.scenario.load import validate
from skyfence.scenario.model import Origin, PositionSigma, RemoteIdSensor
from skyfence.sim.engine import SimStep, simulate
from skyfence.sim.sensors.base import Snapshot, TargetAttributes
from skyfence.sim.sensors.cooperative import RemoteIdModel
from skyfence.sim.targets import broadcast_roles
from skyfence.sim.writer import ASSOCIATIONS, MEASUREMENTS, TRUTH, write_simulation

CI = 0.999
ORIGIN = {"lat": 51.0, "lon": -1.0, "alt_m": 50.0}
OFFSET = [600.0, -350.0, 20.0]
SPOOF_START_S = 60.0
SIGMA_M = 5.0

SITE: dict[str, Any] = {
    "name": "spoof-test",
    "seed": 5,
    "duration_s": 150,
    "site": {"origin": ORIGIN},
    "sensors": [
        {"id": "radar", "type": "radar", "position_enu_m": [0, 0, 10]},
        {"id": "rf", "type": "rf", "position_enu_m": [0, 0, 5]},
        {"id": "ac", "type": "acoustic", "position_enu_m": [0, 0, 2], "max_range_m": 2000},
        {"id": "cam", "type": "eoir", "position_enu_m": [0, 0, 10]},
        {"id": "adsb", "type": "adsb", "position_enu_m": [0, 0, 10]},
        {"id": "rid", "type": "remote_id", "position_enu_m": [0, 0, 10],
         "sigma": {"position_m": SIGMA_M}},
    ],
    "targets": [
        {"type": "drone", "id": "honest", "rf_link": True, "remote_id": {"uas_id": "HONEST"},
         "waypoints_enu_m": [[800, 300, 80], [300, 100, 80]], "end": "loiter"},
        {"type": "drone", "id": "liar", "rf_link": True,
         "remote_id": {"uas_id": "LIAR", "spoof_offset_enu_m": OFFSET,
                       "spoof_start_s": SPOOF_START_S},
         "waypoints_enu_m": [[-900, 400, 60], [-300, 200, 70]], "end": "hover"},
        {"type": "drone", "id": "ghost", "physical": False, "rf_link": True,
         "remote_id": {"uas_id": "GHOST"}, "waypoints_enu_m": [[500, -600, 90]], "end": "hover"},
        {"type": "aircraft", "id": "ghost-plane", "physical": False, "icao": "abcdef",
         "waypoints_enu_m": [[-6000, -2000, 600], [6000, -2000, 600]]},
    ],
}


def _run(data: dict[str, Any]) -> list[SimStep]:
    return list(simulate(validate(copy.deepcopy(data), "<test>")))


@pytest.fixture(scope="module")
def steps() -> list[SimStep]:
    return _run(SITE)


def _enu(rec: dict[str, Any], origin: dict[str, float] = ORIGIN) -> list[float]:
    e, n, u = pymap3d.geodetic2enu(rec["lat"], rec["lon"], rec["alt_m"],
                                   origin["lat"], origin["lon"], origin["alt_m"])
    return [float(e), float(n), float(u)]


def _rid_residuals(steps: list[SimStep], target: str) -> tuple[np.ndarray, np.ndarray]:
    """(t, reported ENU - true ENU) of every Remote ID report of ``target``."""
    t, res = [], []
    for step in steps:
        truth = {r["id"]: r["enu_m"] for r in step.truth or []}
        for rec, src in zip(step.measurements, step.sources, strict=True):
            if src == target and rec["kind"] == "remote_id":
                t.append(step.t_s)
                res.append(np.subtract(_enu(rec), truth[target]))
    return np.array(t), np.array(res).reshape(-1, 3)


def _assert_noise_only(res: np.ndarray, sigma_m: float) -> None:
    """Residuals are N(0, sigma²) per axis: mean and variance within 99.9 % bounds."""
    n = len(res)
    assert n >= 30
    z = stats.norm.ppf(0.5 + CI / 2)
    np.testing.assert_array_less(np.abs(res.mean(axis=0)), z * sigma_m / np.sqrt(n))
    dof = res.size
    chi2 = float(np.sum(res**2)) / sigma_m**2
    assert stats.chi2.ppf((1 - CI) / 2, dof) < chi2 < stats.chi2.ppf((1 + CI) / 2, dof)


# --------------------------------------------------------------- displaced
def test_displaced_broadcast_is_truth_plus_offset_from_spoof_start(steps: list[SimStep]) -> None:
    t, res = _rid_residuals(steps, "liar")
    before, after = t < SPOOF_START_S - 1e-9, t >= SPOOF_START_S - 1e-9
    assert before.sum() > 30 and after.sum() > 30
    _assert_noise_only(res[before], SIGMA_M)
    _assert_noise_only(res[after] - OFFSET, SIGMA_M)


def test_displaced_broadcast_keeps_the_true_velocity(steps: list[SimStep]) -> None:
    for step in steps:
        truth = {r["id"]: r["vel_mps"] for r in step.truth or []}
        for rec, src in zip(step.measurements, step.sources, strict=True):
            if src == "liar" and rec["kind"] == "remote_id":
                assert np.abs(np.subtract(rec["vel_mps"], truth["liar"])).max() < 3.0


def test_honest_broadcast_is_at_truth(steps: list[SimStep]) -> None:
    _, res = _rid_residuals(steps, "honest")
    _assert_noise_only(res, SIGMA_M)


def test_displaced_drone_is_sensed_where_it_really_is(steps: list[SimStep]) -> None:
    """Radar, RF, acoustic and EO/IR see the real drone; truth gives its true position."""
    kinds = {rec["kind"] for step in steps
             for rec, src in zip(step.measurements, step.sources, strict=True) if src == "liar"}
    assert kinds == {"radar", "rf", "acoustic", "eoir", "remote_id"}
    last = next(r for r in steps[-1].truth or [] if r["id"] == "liar")
    assert np.linalg.norm(np.subtract(last["enu_m"], [-300, 200, 70])) < 30.0


def test_remote_id_model_offset_vectorised() -> None:
    """The receiver model alone, over many targets at once: offset on where and when due."""
    n = 3000
    rng = np.random.default_rng(1)
    pos = np.column_stack((rng.uniform(-800, 800, (n, 2)), rng.uniform(20, 120, n)))
    offset = rng.normal(0.0, 400.0, (n, 3))
    start = np.where(np.arange(n) % 3 == 0, np.inf, rng.uniform(0, 20, n))
    targets = TargetAttributes(
        ids=[f"t{i}" for i in range(n)], kind=np.full(n, "drone", dtype="<U8"),
        rcs_dbsm=np.zeros(n), rf_link=np.zeros(n, bool), emitter=[""] * n,
        adsb=np.zeros(n, bool), icao=[None] * n, callsign=[None] * n,
        remote_id=np.ones(n, bool), uas_id=[f"U{i}" for i in range(n)],
        operator_enu_m=np.zeros((n, 3)), spoof_offset_enu_m=offset, spoof_start_s=start,
    )
    origin = Origin(**ORIGIN)
    config = RemoteIdSensor(id="rid", type="remote_id", position_enu_m=[0, 0, 10],
                            pd=1.0, sigma=PositionSigma(position_m=SIGMA_M))
    snap = Snapshot(10.0, pos, np.zeros((n, 3)), np.ones(n, bool))
    out = RemoteIdModel(config, origin).scan(snap, targets, np.random.default_rng(2))
    assert len(out.records) == n
    idx = out.target_index
    due = (start <= 10.0)[idx]
    assert 0 < due.sum() < n
    expected = pos[idx] + np.where(due[:, None], offset[idx], 0.0)
    res = np.array([_enu(r) for r in out.records]) - expected
    _assert_noise_only(res[due], SIGMA_M)
    _assert_noise_only(res[~due], SIGMA_M)


# ----------------------------------------------------------------- phantom
def test_phantom_has_broadcasts_only_and_no_truth(steps: list[SimStep]) -> None:
    by_source: dict[str, set[str]] = {}
    for step in steps:
        for rec, src in zip(step.measurements, step.sources, strict=True):
            if src is not None:
                by_source.setdefault(src, set()).add(rec["kind"])
        truth_ids = {r["id"] for r in step.truth or []}
        assert not truth_ids & {"ghost", "ghost-plane"}
    assert by_source["ghost"] == {"remote_id"}  # rf_link on, yet RF hears nothing
    assert by_source["ghost-plane"] == {"adsb"}


def test_phantom_broadcasts_its_claimed_route(steps: list[SimStep]) -> None:
    pts = np.array([_enu(rec) for step in steps
                    for rec, src in zip(step.measurements, step.sources, strict=True)
                    if src == "ghost"])
    assert len(pts) > 100
    assert np.linalg.norm(pts.mean(axis=0) - [500, -600, 90]) < 10.0


def test_the_same_drone_made_physical_is_seen_by_every_sensor() -> None:
    """Control for the phantom test: where the phantom hovers, a real drone is seen."""
    data = copy.deepcopy(SITE)
    data["duration_s"] = 30
    data["targets"][2]["physical"] = True
    kinds = {rec["kind"] for step in _run(data)
             for rec, src in zip(step.measurements, step.sources, strict=True) if src == "ghost"}
    assert kinds == {"radar", "rf", "acoustic", "eoir", "remote_id"}


def test_associations_name_the_phantom(tmp_path: Path) -> None:
    write_simulation(validate(copy.deepcopy(SITE), "<test>"), tmp_path)
    truth = (tmp_path / TRUTH).read_text()
    assoc = (tmp_path / ASSOCIATIONS).read_text()
    assert '"id":"ghost"' not in truth and '"id":"ghost"' in assoc


# ------------------------------------------------------------------- roles
def test_broadcast_roles() -> None:
    roles = {(b.target_id, b.kind): b for b in broadcast_roles(validate(SITE, "<test>"))}
    assert set(roles) == {("honest", "remote_id"), ("liar", "remote_id"),
                          ("ghost", "remote_id"), ("ghost-plane", "adsb")}
    assert roles["honest", "remote_id"].role == "genuine"
    liar = roles["liar", "remote_id"]
    assert (liar.role, liar.identity, liar.from_s, liar.offset_enu_m) == (
        "displaced", "LIAR", SPOOF_START_S, tuple(OFFSET))
    assert roles["ghost", "remote_id"].role == "phantom"
    assert roles["ghost-plane", "adsb"].identity == "abcdef"


def test_swarm_members_share_the_spoof() -> None:
    data = copy.deepcopy(SITE)
    data["targets"] = [{"type": "swarm", "count": 3, "physical": False, "remote_id": {},
                        "waypoints_enu_m": [[0, 900, 50], [0, 0, 50]]}]
    roles = broadcast_roles(validate(data, "<test>"))
    assert [b.role for b in roles] == ["phantom"] * 3
    assert len({b.identity for b in roles}) == 3


# ---------------------------------------------------------- bundled scenario
def test_bundled_spoofing_scenario() -> None:
    scenario = load_scenario("spoofing", ["duration_s=120"])
    roles = {b.target_id: b for b in broadcast_roles(scenario)}
    assert {k: v.role for k, v in roles.items()} == {
        "survey-1": "genuine", "courier-1": "displaced", "ghost-1": "phantom"}
    assert roles["courier-1"].from_s == 90.0 and roles["ghost-1"].from_s == 30.0
    offset = np.linalg.norm(roles["courier-1"].offset_enu_m or [0, 0, 0])
    assert 400.0 <= offset <= 800.0
    origin = scenario.site.origin.model_dump()
    kinds: dict[str, set[str]] = {}
    late_gap = []
    for step in simulate(scenario):
        assert all(r["id"] != "ghost-1" for r in step.truth or [])
        truth = {r["id"]: r["enu_m"] for r in step.truth or []}
        for rec, src in zip(step.measurements, step.sources, strict=True):
            if src is None:
                continue
            kinds.setdefault(src, set()).add(rec["kind"])
            if src == "courier-1" and rec["kind"] == "remote_id" and step.t_s >= 90:
                late_gap.append(np.linalg.norm(np.subtract(_enu(rec, origin), truth[src])))
    assert kinds["ghost-1"] == {"remote_id"}
    assert {"radar", "eoir", "remote_id"} <= kinds["survey-1"]
    assert {"radar", "eoir", "remote_id"} <= kinds["courier-1"]
    assert len(late_gap) > 10 and abs(np.median(late_gap) - offset) < 10.0


def test_spoofing_scenario_is_deterministic(tmp_path: Path) -> None:
    scenario = load_scenario("spoofing", ["duration_s=60"])
    write_simulation(scenario, tmp_path / "a")
    write_simulation(scenario, tmp_path / "b")
    for name in (TRUTH, MEASUREMENTS, ASSOCIATIONS):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


# ------------------------------------------------------- existing scenarios
# sha256 of airport-mixed at 60 s (it has Remote ID drones), computed before
# spoofing existed: honest broadcasts and every other sensor are unchanged.
# Change these only on purpose (a new scenario file or sensor model).
AIRPORT_60S_SHA256 = {
    MEASUREMENTS: "27622a86be4d032a595769f0802f60e6e18c2eefc8aa83204b35f48328df7713",
    ASSOCIATIONS: "755d87f843e5b8d93df3318a313c11539774d8cc3d4fa0e0ff326f512928a4fc",
    TRUTH: "e9298c305bca0b0685847c994f64d2ad6f5695242f96f06c86ad5edc28cf9627",
}


def test_existing_scenario_output_unchanged(tmp_path: Path) -> None:
    # the Remote ID receiver's range as it was when the digests were taken
    site = load_scenario("airport-mixed", ["duration_s=60", "sensors.2.max_range_m=3000"])
    write_simulation(site, tmp_path)
    for name, digest in AIRPORT_60S_SHA256.items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest, name


def test_explicit_defaults_change_nothing(tmp_path: Path) -> None:
    """physical: true and an honest remote_id spelt out give the same bytes as leaving them out."""
    plain = copy.deepcopy(SITE)
    plain["targets"] = plain["targets"][:1]
    explicit = copy.deepcopy(plain)
    explicit["targets"][0]["physical"] = True
    explicit["targets"][0]["remote_id"].update(spoof_offset_enu_m=None, spoof_start_s=0)
    write_simulation(validate(plain, "<test>"), tmp_path / "a")
    write_simulation(validate(explicit, "<test>"), tmp_path / "b")
    for name in (TRUTH, MEASUREMENTS, ASSOCIATIONS):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


# --------------------------------------------------------------- validation
def _target(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": "drone", "waypoints_enu_m": [[0, 0, 50]]}
    return {**base, **fields}


BAD: list[tuple[str, dict[str, Any], list[str]]] = [
    ("offset of 2 numbers", _target(remote_id={"spoof_offset_enu_m": [1, 2]}),
     ["targets[0].remote_id.spoof_offset_enu_m", "at least 3"]),
    ("offset not numbers", _target(remote_id={"spoof_offset_enu_m": ["far", 0, 0]}),
     ["targets[0].remote_id.spoof_offset_enu_m[0]"]),
    ("zero offset", _target(remote_id={"spoof_offset_enu_m": [0, 0, 0]}),
     ["targets[0].remote_id", "spoof_offset_enu_m is [0, 0, 0]"]),
    ("negative start", _target(remote_id={"spoof_offset_enu_m": [500, 0, 0],
                                          "spoof_start_s": -1}),
     ["targets[0].remote_id.spoof_start_s", "greater than or equal to 0"]),
    ("start without offset", _target(remote_id={"spoof_start_s": 30}),
     ["targets[0].remote_id", "spoof_start_s needs spoof_offset_enu_m"]),
    ("misspelt spoof field", _target(remote_id={"spoof_ofset_enu_m": [500, 0, 0]}),
     ["targets[0].remote_id.spoof_ofset_enu_m", "unknown field"]),
    ("phantom with nothing to broadcast", _target(physical=False),
     ["targets[0]", "physical: false needs remote_id"]),
    ("physical not a bool", _target(physical="perhaps"), ["targets[0].physical"]),
    ("phantom aircraft without ADS-B", {"type": "aircraft", "physical": False, "adsb": False,
                                        "waypoints_enu_m": [[0, 0, 900]]},
     ["targets[0]", "physical: false needs adsb: true"]),
    ("swarm spoof field", {"type": "swarm", "waypoints_enu_m": [[0, 0, 50]],
                           "remote_id": {"spoof_offset_enu_m": [1, 2, 3, 4]}},
     ["targets[0].remote_id.spoof_offset_enu_m", "at most 3"]),
]


@pytest.mark.parametrize(("what", "target", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_spoof_fields_name_the_field(tmp_path: Path, what: str, target: dict[str, Any],
                                         words: list[str]) -> None:
    assert_refused(tmp_path, {**SITE, "targets": [target]}, words, what)


def test_validate_and_list_the_bundled_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "spoofing"]) == 0
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "spoofing: ok" in out and "\nspoofing " in out
