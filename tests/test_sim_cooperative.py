"""Statistical tests of the cooperative receivers (ADS-B, Remote ID)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pymap3d
from scipy import stats

from skyfence.scenario.model import AdsbSensor, Origin, RemoteIdSensor
from skyfence.sim.sensors.base import (
    FloatArray,
    ScanOutput,
    SensorModel,
    Snapshot,
    TargetAttributes,
)
from skyfence.sim.sensors.cooperative import AdsbModel, RemoteIdModel

ORIGIN = Origin(lat=52.1, lon=4.4, alt_m=12.0)
CI = 0.999
ADSB_KEYS = ["t", "sensor", "kind", "icao", "lat", "lon", "alt_m", "vel_mps"]
RID_KEYS = ["t", "sensor", "kind", "uas_id", "lat", "lon", "alt_m", "vel_mps",
            "operator_lat", "operator_lon"]


def make_targets(kinds: list[str], adsb: list[bool] | None = None,
                 remote_id: list[bool] | None = None,
                 operator_enu_m: FloatArray | None = None) -> TargetAttributes:
    """Attributes for ``kinds``; by default aircraft broadcast ADS-B, drones Remote ID."""
    n = len(kinds)
    on_adsb = np.array(adsb if adsb is not None else [k == "aircraft" for k in kinds], bool)
    on_rid = np.array(remote_id if remote_id is not None else [k == "drone" for k in kinds], bool)
    if operator_enu_m is None:
        operator_enu_m = np.column_stack((np.arange(n) * 10.0, -np.arange(n) * 7.0, np.zeros(n)))
    return TargetAttributes(
        ids=[f"t{i}" for i in range(n)],
        kind=np.array(kinds, dtype="<U8"),
        rcs_dbsm=np.full(n, 0.0),
        rf_link=np.zeros(n, dtype=bool),
        emitter=[""] * n,
        adsb=on_adsb,
        icao=[f"{0x400000 + i:06x}" if a else None for i, a in enumerate(on_adsb)],
        callsign=[None] * n,
        remote_id=on_rid,
        uas_id=[f"UAS{i:04d}" if r else None for i, r in enumerate(on_rid)],
        operator_enu_m=np.where(on_rid[:, None], operator_enu_m, np.nan),
    )


def spread(n: int, range_m: float, height_m: float, seed: int) -> tuple[FloatArray, FloatArray]:
    """``n`` positions within ``range_m`` (horizontally) at up to ``height_m``, and velocities."""
    rng = np.random.default_rng(seed)
    r = range_m * np.sqrt(rng.uniform(0.05, 1.0, n))
    a = rng.uniform(0.0, 2 * np.pi, n)
    pos = np.column_stack((r * np.sin(a), r * np.cos(a), rng.uniform(0.3, 1.0, n) * height_m))
    vel = rng.normal(0.0, 30.0, (n, 3)) * np.array([1.0, 1.0, 0.1])
    return pos, vel


def snapshot(pos: FloatArray, vel: FloatArray, t_s: float = 42.0) -> Snapshot:
    return Snapshot(t_s=t_s, pos_enu_m=pos, vel_enu_mps=vel, active=np.ones(len(pos), bool))


def run_scans(model: SensorModel, snap: Snapshot, targets: TargetAttributes, n_scans: int,
              seed: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    rng = np.random.default_rng(seed)
    outs: list[ScanOutput] = [model.scan(snap, targets, rng) for _ in range(n_scans)]
    records = [r for o in outs for r in o.records]
    return records, np.concatenate([o.target_index for o in outs])


def column(records: list[dict[str, Any]], name: str) -> FloatArray:
    return np.array([r[name] for r in records], dtype=np.float64)


def back_to_enu(records: list[dict[str, Any]]) -> FloatArray:
    e, n, u = pymap3d.geodetic2enu(column(records, "lat"), column(records, "lon"),
                                   column(records, "alt_m"), ORIGIN.lat, ORIGIN.lon, ORIGIN.alt_m)
    return np.column_stack((e, n, u))


def assert_sigma(residuals: FloatArray, sigma: float) -> None:
    """Σ r² / σ² of zero-mean Gaussian residuals is χ²(n); check the 99.9% interval."""
    n = len(residuals)
    stat = float(np.sum(residuals**2) / sigma**2)
    lo, hi = stats.chi2.ppf([(1 - CI) / 2, (1 + CI) / 2], n)
    assert lo < stat < hi, (stat, lo, hi, np.std(residuals), sigma)


# ----------------------------------------------------------------- ADS-B
def adsb_case(n: int = 100, **cfg: Any) -> tuple[AdsbModel, Snapshot, TargetAttributes]:
    config = AdsbSensor(type="adsb", id="adsb1", position_enu_m=[0, 0, 5], **cfg)
    pos, vel = spread(n, 40000.0, 3000.0, seed=100)
    return AdsbModel(config, ORIGIN), snapshot(pos, vel), make_targets(["aircraft"] * n)


def test_adsb_detection_rate_and_gates() -> None:
    model, snap, _ = adsb_case()
    kinds = ["aircraft"] * 80 + ["drone"] * 20
    adsb = [i % 4 != 0 for i in range(80)] + [False] * 20
    targets = make_targets(kinds, adsb=adsb)
    pd = model.detection_probability(snap, targets)
    np.testing.assert_array_equal(pd, np.where(adsb, 0.95, 0.0))
    records, index = run_scans(model, snap, targets, 100, seed=1)
    assert np.all(np.array(adsb)[index])
    lo, hi = stats.binom.interval(CI, sum(adsb) * 100, 0.95)
    assert lo <= len(records) <= hi


def test_adsb_range_gate_and_inactive() -> None:
    model, _, _ = adsb_case(max_range_m=10000.0, min_range_m=500.0)
    pos = np.array([[5000.0, 0.0, 1000.0], [0.0, 20000.0, 1000.0], [100.0, 0.0, 50.0]])
    snap = snapshot(pos, np.zeros_like(pos))
    targets = make_targets(["aircraft"] * 3)
    np.testing.assert_array_equal(model.detection_probability(snap, targets), [0.95, 0, 0])
    asleep = Snapshot(0.0, pos, np.zeros_like(pos), np.array([False, True, True]))
    assert not model.detection_probability(asleep, targets).any()


def test_adsb_records_contract_and_index() -> None:
    model, snap, targets = adsb_case(clutter_per_scan=3.0)  # clutter is ignored
    records, index = run_scans(model, snap, targets, 20, seed=2)
    assert (index >= 0).all()
    for rec, i in zip(records, index, strict=True):
        assert list(rec) == ADSB_KEYS
        assert (rec["t"], rec["sensor"], rec["kind"]) == (42.0, "adsb1", "adsb")
        assert rec["icao"] == targets.icao[i]
        assert len(rec["vel_mps"]) == 3


def test_adsb_altitude_in_25_ft_steps() -> None:
    model, snap, targets = adsb_case()
    records, _ = run_scans(model, snap, targets, 10, seed=3)
    steps = column(records, "alt_m") / 7.62
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-6)
    model0, _, _ = adsb_case(altitude_step_m=0.0)
    records0, _ = run_scans(model0, snap, targets, 10, seed=3)
    steps0 = column(records0, "alt_m") / 7.62
    assert np.mean(np.abs(steps0 - np.round(steps0)) > 1e-3) > 0.9


def test_adsb_round_trip_recovers_truth_within_noise() -> None:
    model, snap, targets = adsb_case()
    records, index = run_scans(model, snap, targets, 100, seed=4)
    residual = back_to_enu(records) - snap.pos_enu_m[index]
    assert_sigma(residual[:, 0], 10.0)
    assert_sigma(residual[:, 1], 10.0)
    # vertical: N(0, σ/2) then rounding to 7.62 m: variance ≈ (σ/2)² + step²/12 (Sheppard)
    up = residual[:, 2]
    sd_expected = np.sqrt(5.0**2 + 7.62**2 / 12)
    assert abs(np.std(up) / sd_expected - 1) < 0.05
    assert abs(np.mean(up)) < 4 * sd_expected / np.sqrt(len(up))
    vel = np.array([r["vel_mps"] for r in records]) - snap.vel_enu_mps[index]
    for axis in range(3):
        assert_sigma(vel[:, axis], 0.5)


# ------------------------------------------------------------- Remote ID
def rid_case(n: int = 100, **cfg: Any) -> tuple[RemoteIdModel, Snapshot, TargetAttributes]:
    config = RemoteIdSensor(type="remote_id", id="rid1", position_enu_m=[0, 0, 3], **cfg)
    pos, vel = spread(n, 1800.0, 120.0, seed=200)
    return RemoteIdModel(config, ORIGIN), snapshot(pos, vel), make_targets(["drone"] * n)


def test_remote_id_detection_rate_and_gates() -> None:
    model, _, _ = rid_case()
    pos = np.array([[500.0, 0.0, 100.0], [0.0, 2500.0, 100.0], [-300.0, 300.0, 60.0],
                    [100.0, 100.0, 50.0]])
    snap = snapshot(pos, np.zeros_like(pos))
    targets = make_targets(["drone", "drone", "drone", "bird"], remote_id=[True, True, False,
                                                                          False])
    np.testing.assert_array_equal(model.detection_probability(snap, targets), [0.9, 0, 0, 0])
    records, index = run_scans(model, snap, targets, 2000, seed=5)
    assert (index == 0).all()
    lo, hi = stats.binom.interval(CI, 2000, 0.9)
    assert lo <= len(records) <= hi


def test_remote_id_records_contract_and_operator() -> None:
    model, snap, targets = rid_case(clutter_per_scan=2.0)
    records, index = run_scans(model, snap, targets, 10, seed=6)
    assert (index >= 0).all()
    op_lat, op_lon, _ = pymap3d.enu2geodetic(
        targets.operator_enu_m[:, 0], targets.operator_enu_m[:, 1], targets.operator_enu_m[:, 2],
        ORIGIN.lat, ORIGIN.lon, ORIGIN.alt_m)
    for rec, i in zip(records, index, strict=True):
        assert list(rec) == RID_KEYS
        assert (rec["t"], rec["sensor"], rec["kind"]) == (42.0, "rid1", "remote_id")
        assert rec["uas_id"] == targets.uas_id[i]
        assert abs(rec["operator_lat"] - op_lat[i]) < 1e-8
        assert abs(rec["operator_lon"] - op_lon[i]) < 1e-8


def test_remote_id_operator_null_when_unknown() -> None:
    model, snap, _ = rid_case(n=3, pd=1.0)
    targets = make_targets(["drone"] * 3, operator_enu_m=np.full((3, 3), np.nan))
    records, _ = run_scans(model, snap, targets, 1, seed=7)
    assert len(records) == 3
    assert all(r["operator_lat"] is None and r["operator_lon"] is None for r in records)


def test_remote_id_round_trip_recovers_truth_within_noise() -> None:
    model, snap, targets = rid_case()
    records, index = run_scans(model, snap, targets, 100, seed=8)
    residual = back_to_enu(records) - snap.pos_enu_m[index]
    for axis in range(3):
        assert_sigma(residual[:, axis], 5.0)
    vel = np.array([r["vel_mps"] for r in records]) - snap.vel_enu_mps[index]
    for axis in range(3):
        assert_sigma(vel[:, axis], 0.3)
