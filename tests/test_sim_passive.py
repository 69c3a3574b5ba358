"""Statistical tests of the passive sensor models (RF, acoustic, EO/IR)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from skyfence.scenario.model import (
    KINDS,
    AcousticSensor,
    Coverage,
    EoirSensor,
    Origin,
    RfSensor,
)
from skyfence.sim.sensors.base import (
    FloatArray,
    ScanOutput,
    SensorModel,
    Snapshot,
    TargetAttributes,
)
from skyfence.sim.sensors.common import in_fov, polar
from skyfence.sim.sensors.passive import CLUTTER_EMITTERS, AcousticModel, EoirModel, RfModel

ORIGIN = Origin(lat=51.5, lon=-0.1, alt_m=30.0)
CI = 0.999
BEARING_KEYS = ["t", "sensor", "kind", "azimuth_deg", "elevation_deg"]


def make_targets(kinds: list[str], rf_link: list[bool] | None = None) -> TargetAttributes:
    """Attributes for ``kinds``; drones emit 'ocusync' with their link as given."""
    n = len(kinds)
    link = np.array(rf_link if rf_link is not None else [k == "drone" for k in kinds], dtype=bool)
    return TargetAttributes(
        ids=[f"t{i}" for i in range(n)],
        kind=np.array(kinds, dtype="<U8"),
        rcs_dbsm=np.full(n, -20.0),
        rf_link=link,
        emitter=[f"emitter-{i}" if k == "drone" else "" for i, k in enumerate(kinds)],
        adsb=np.zeros(n, dtype=bool),
        icao=[None] * n,
        callsign=[None] * n,
        remote_id=np.zeros(n, dtype=bool),
        uas_id=[None] * n,
        operator_enu_m=np.full((n, 3), np.nan),
    )


def ring(n: int, range_m: float, height_m: float = 100.0) -> FloatArray:
    """``n`` positions at horizontal distance ``range_m``, spread round the compass."""
    a = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return np.column_stack((range_m * np.sin(a), range_m * np.cos(a), np.full(n, height_m)))


def snapshot(pos_enu_m: FloatArray, vel_enu_mps: FloatArray | None = None,
             t_s: float = 12.5) -> Snapshot:
    vel = np.zeros_like(pos_enu_m) if vel_enu_mps is None else vel_enu_mps
    return Snapshot(t_s=t_s, pos_enu_m=pos_enu_m, vel_enu_mps=vel,
                    active=np.ones(len(pos_enu_m), dtype=bool))


def run_scans(model: SensorModel, snap: Snapshot, targets: TargetAttributes, n_scans: int,
              seed: int) -> list[ScanOutput]:
    rng = np.random.default_rng(seed)
    return [model.scan(snap, targets, rng) for _ in range(n_scans)]


def gather(outs: list[ScanOutput]) -> tuple[list[dict[str, Any]], np.ndarray]:
    records = [r for o in outs for r in o.records]
    index = np.concatenate([o.target_index for o in outs]) if outs else np.zeros(0, np.int64)
    return records, index


def column(records: list[dict[str, Any]], name: str) -> FloatArray:
    return np.array([r[name] for r in records], dtype=np.float64)


def wrap180(deg: FloatArray) -> FloatArray:
    return (deg + 180.0) % 360.0 - 180.0


def assert_sigma(residuals: FloatArray, sigma: float) -> None:
    """Σ r² / σ² of zero-mean Gaussian residuals is χ²(n); check the 99.9% interval."""
    n = len(residuals)
    stat = float(np.sum(residuals**2) / sigma**2)
    lo, hi = stats.chi2.ppf([(1 - CI) / 2, (1 + CI) / 2], n)
    assert lo < stat < hi, (stat, lo, hi, np.std(residuals), sigma)


def assert_binomial(successes: int, trials: int, p: float) -> None:
    lo, hi = stats.binom.interval(CI, trials, p)
    assert lo <= successes <= hi, (successes, trials, p)


# ------------------------------------------------------------------- RF
def test_rf_detection_rate_matches_pd() -> None:
    cfg = RfSensor(type="rf", id="rf1", position_enu_m=[0, 0, 5], pd=0.7, clutter_per_scan=0)
    targets = make_targets(["drone"] * 200)
    snap = snapshot(ring(200, 1500.0))
    model = RfModel(cfg, ORIGIN)
    np.testing.assert_array_equal(model.detection_probability(snap, targets), 0.7)
    _, index = gather(run_scans(model, snap, targets, 50, seed=1))
    assert (index >= 0).all()
    assert_binomial(len(index), 200 * 50, 0.7)


def test_rf_silent_without_link_and_hears_link_on() -> None:
    cfg = RfSensor(type="rf", id="rf1", position_enu_m=[0, 0, 5], pd=0.9, clutter_per_scan=0)
    kinds = ["drone"] * 6 + ["bird", "aircraft"]
    link = [True, False, True, False, False, True, False, False]
    targets = make_targets(kinds, rf_link=link)
    snap = snapshot(ring(8, 800.0))
    model = RfModel(cfg, ORIGIN)
    pd = model.detection_probability(snap, targets)
    np.testing.assert_array_equal(pd, np.where(link, 0.9, 0.0))
    records, index = gather(run_scans(model, snap, targets, 400, seed=2))
    heard = set(index.tolist())
    assert heard == {0, 2, 5}
    for rec, i in zip(records, index, strict=True):
        assert list(rec) == [*BEARING_KEYS, "emitter"]
        assert rec["emitter"] == targets.emitter[i]
        assert rec["elevation_deg"] is None  # default: azimuth-only direction finder
        assert rec["sensor"] == "rf1" and rec["kind"] == "rf" and rec["t"] == 12.5


def test_rf_azimuth_noise_within_chi_square() -> None:
    cfg = RfSensor(type="rf", id="rf1", position_enu_m=[10, -20, 5], clutter_per_scan=0,
                   sigma={"azimuth_deg": 2.0, "elevation_deg": 1.5})
    targets = make_targets(["drone"] * 100)
    snap = snapshot(ring(100, 2000.0, 300.0))
    _, az, el, _ = polar(np.array([10.0, -20.0, 5.0]), snap.pos_enu_m)
    records, index = gather(run_scans(RfModel(cfg, ORIGIN), snap, targets, 40, seed=3))
    assert_sigma(wrap180(column(records, "azimuth_deg") - az[index]), 2.0)
    assert_sigma(column(records, "elevation_deg") - el[index], 1.5)


def test_rf_range_and_fov_gates() -> None:
    cov = Coverage(boresight_az_deg=90.0, fov_az_deg=90.0, min_elevation_deg=0.0,
                   max_elevation_deg=45.0)
    cfg = RfSensor(type="rf", id="rf1", position_enu_m=[0, 0, 0], pd=1.0, clutter_per_scan=0,
                   min_range_m=100.0, max_range_m=3000.0, coverage=cov)
    pos = np.array([
        [1000.0, 0.0, 100.0],  # east, in range: sensed
        [-1000.0, 0.0, 100.0],  # west: outside the sector
        [50.0, 0.0, 10.0],  # too close
        [4000.0, 0.0, 100.0],  # too far
        [200.0, 0.0, 1000.0],  # too high (elevation ~79 deg)
        [1000.0, 0.0, -50.0],  # below the minimum elevation
        [1000.0, 500.0, 100.0],  # az ~63 deg: inside the 45..135 sector
    ])
    snap = snapshot(pos)
    targets = make_targets(["drone"] * len(pos))
    expected = np.array([1, 0, 0, 0, 0, 0, 1], dtype=float)
    model = RfModel(cfg, ORIGIN)
    np.testing.assert_array_equal(model.detection_probability(snap, targets), expected)
    inactive = Snapshot(snap.t_s, pos, snap.vel_enu_mps, np.zeros(len(pos), dtype=bool))
    assert not model.detection_probability(inactive, targets).any()
    _, index = gather(run_scans(model, snap, targets, 5, seed=4))
    assert sorted(set(index.tolist())) == [0, 6]


# ------------------------------------------------------------- acoustic
def test_acoustic_hears_drones_and_aircraft_never_birds() -> None:
    cfg = AcousticSensor(type="acoustic", id="ac1", position_enu_m=[0, 0, 2], pd=0.8,
                         clutter_per_scan=0, max_range_m=500.0, aircraft_max_range_m=5000.0)
    ranges = np.array([200, 450, 550, 1000, 200, 450, 1000, 3000, 4800, 5500, 8000], float)
    kinds = ["drone"] * 4 + ["bird"] * 3 + ["aircraft"] * 4
    pos = np.column_stack((ranges, np.zeros_like(ranges), np.full_like(ranges, 50.0)))
    targets = make_targets(kinds)
    snap = snapshot(pos)  # at rest: the delay does not move them
    model = AcousticModel(cfg, ORIGIN)
    expected = [1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0]
    np.testing.assert_array_equal(model.detection_probability(snap, targets),
                                  0.8 * np.array(expected))
    records, index = gather(run_scans(model, snap, targets, 300, seed=5))
    assert set(index.tolist()) == {0, 1, 7, 8}
    assert all(list(r) == BEARING_KEYS for r in records)
    for i in (0, 1, 7, 8):
        assert_binomial(int(np.sum(index == i)), 300, 0.8)


def exact_emission(sensor: FloatArray, pos: FloatArray, vel: FloatArray, c: float) -> FloatArray:
    """p - v τ with c τ = |p - v τ - s| solved exactly (constant velocity, subsonic)."""
    r = pos - sensor
    a = c**2 - vel @ vel
    b = r @ vel
    tau = (-b + np.sqrt(b**2 + a * (r @ r))) / a
    emitted: FloatArray = pos - vel * tau
    return emitted


def test_acoustic_bearing_points_at_delayed_position() -> None:
    cfg = AcousticSensor(type="acoustic", id="ac1", position_enu_m=[0, 0, 0], pd=1.0,
                         clutter_per_scan=0, sigma={"azimuth_deg": 3.0, "elevation_deg": 5.0})
    pos = np.array([[2000.0, 0.0, 100.0]])
    vel = np.array([[0.0, 100.0, 0.0]])  # 100 m/s north: ~6 s of sound travel, ~17 deg
    targets = make_targets(["aircraft"])
    records, _ = gather(run_scans(AcousticModel(cfg, ORIGIN), snapshot(pos, vel), targets,
                                  2000, seed=6))
    az = column(records, "azimuth_deg")
    emitted = exact_emission(np.zeros(3), pos[0], vel[0], 343.0)
    _, az_delayed, _, _ = polar(np.zeros(3), emitted[None, :])
    _, az_now, _, _ = polar(np.zeros(3), pos)
    mean_delayed = float(np.mean(wrap180(az - az_delayed[0])))
    tolerance = 4 * 3.0 / np.sqrt(len(az)) + 0.1  # noise + the one-step approximation
    assert abs(mean_delayed) < tolerance
    assert abs(float(np.mean(wrap180(az - az_now[0])))) > 10.0


def test_acoustic_noise_within_chi_square() -> None:
    cfg = AcousticSensor(type="acoustic", id="ac1", position_enu_m=[0, 0, 2], clutter_per_scan=0)
    targets = make_targets(["drone"] * 60)
    snap = snapshot(ring(60, 300.0, 80.0))
    _, az, el, _ = polar(np.array([0.0, 0.0, 2.0]), snap.pos_enu_m)
    records, index = gather(run_scans(AcousticModel(cfg, ORIGIN), snap, targets, 50, seed=7))
    assert_sigma(wrap180(column(records, "azimuth_deg") - az[index]), 3.0)
    assert_sigma(column(records, "elevation_deg") - el[index], 5.0)


# ----------------------------------------------------------------- EO/IR
def eoir_scans(kind: str, n_targets: int, n_scans: int, seed: int,
               **cfg: Any) -> tuple[list[dict[str, Any]], np.ndarray]:
    config = EoirSensor(type="eoir", id="eo1", position_enu_m=[0, 0, 10],
                        **{"clutter_per_scan": 0.0, **cfg})
    snap = snapshot(ring(n_targets, 1000.0, 150.0))
    return gather(run_scans(EoirModel(config, ORIGIN), snap, make_targets([kind] * n_targets),
                            n_scans, seed))


def assert_labels(labels: list[str], row: dict[str, float]) -> None:
    """Chi-square goodness of fit of label counts to ``row`` (impossible labels: never)."""
    possible = [k for k in KINDS if row.get(k, 0.0) > 0]
    assert all(row.get(label, 0.0) > 0 for label in labels)
    observed = np.array([labels.count(k) for k in possible], dtype=float)
    expected = np.array([row[k] for k in possible]) * len(labels)
    assert stats.chisquare(observed, expected).pvalue > 1e-3, (observed, expected)


def assert_beta_mean(values: FloatArray, a: float, b: float) -> None:
    mean = a / (a + b)
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    z = stats.norm.ppf((1 + CI) / 2)
    assert abs(float(np.mean(values)) - mean) < z * sd / np.sqrt(len(values))
    assert ((values >= 0) & (values <= 1)).all()


@pytest.mark.parametrize("kind", ["drone", "bird"])
def test_eoir_labels_follow_confusion_row(kind: str) -> None:
    records, index = eoir_scans(kind, 300, 20, seed=8 if kind == "drone" else 9)
    cfg = EoirSensor(type="eoir", id="eo1", position_enu_m=[0, 0, 10])
    assert (index >= 0).all()
    assert_labels([r["label"] for r in records], cfg.confusion[kind])
    assert_binomial(len(records), 300 * 20, cfg.pd)
    assert all(list(r) == [*BEARING_KEYS, "label", "confidence"] for r in records)
    conf = column(records, "confidence")
    right = np.array([r["label"] == kind for r in records])
    assert_beta_mean(conf[right], *cfg.confidence_correct)
    assert_beta_mean(conf[~right], *cfg.confidence_wrong)


def test_eoir_custom_confusion_row() -> None:
    row = {"drone": 0.5, "bird": 0.5, "aircraft": 0.0}
    records, _ = eoir_scans("drone", 200, 10, seed=10, confusion={"drone": row})
    assert_labels([r["label"] for r in records], row)


def test_eoir_noise_within_chi_square() -> None:
    records, index = eoir_scans("aircraft", 100, 30, seed=11)
    _, az, el, _ = polar(np.array([0.0, 0.0, 10.0]), ring(100, 1000.0, 150.0))
    assert_sigma(wrap180(column(records, "azimuth_deg") - az[index]), 0.1)
    assert_sigma(column(records, "elevation_deg") - el[index], 0.1)


def test_eoir_clutter_labels_and_confidence() -> None:
    cfg = EoirSensor(type="eoir", id="eo1", position_enu_m=[0, 0, 10], clutter_per_scan=5.0)
    targets = make_targets([])
    snap = snapshot(np.zeros((0, 3)))
    records, index = gather(run_scans(EoirModel(cfg, ORIGIN), snap, targets, 600, seed=12))
    assert (index == -1).all()
    assert_labels([r["label"] for r in records], cfg.confusion["clutter"])
    assert_beta_mean(column(records, "confidence"), *cfg.confidence_wrong)


# ---------------------------------------------------------------- clutter
SECTOR = Coverage(boresight_az_deg=350.0, fov_az_deg=60.0, min_elevation_deg=2.0,
                  max_elevation_deg=30.0)


def clutter_models() -> list[SensorModel]:
    common: dict[str, Any] = {"position_enu_m": [0, 0, 0], "clutter_per_scan": 2.5,
                              "coverage": SECTOR}
    return [
        RfModel(RfSensor(type="rf", id="s", **common), ORIGIN),
        AcousticModel(AcousticSensor(type="acoustic", id="s", **common), ORIGIN),
        EoirModel(EoirSensor(type="eoir", id="s", **common), ORIGIN),
    ]


@pytest.mark.parametrize("model", clutter_models(), ids=["rf", "acoustic", "eoir"])
def test_clutter_poisson_and_inside_fov(model: SensorModel) -> None:
    targets = make_targets(["drone", "bird", "aircraft"])
    pos = ring(3, 300.0)
    snap = Snapshot(0.0, pos, np.zeros_like(pos), np.zeros(3, dtype=bool))  # none in the air
    n_scans = 1000
    outs = run_scans(model, snap, targets, n_scans, seed=13)
    records, index = gather(outs)
    assert (index == -1).all()
    lo, hi = stats.poisson.interval(CI, 2.5 * n_scans)
    assert lo <= len(records) <= hi
    counts = np.array([len(o.records) for o in outs])
    # dispersion: Var/mean of a Poisson count is 1; (n-1) s²/λ ~ χ²(n-1) approximately
    stat = (n_scans - 1) * counts.var(ddof=1) / 2.5
    lo, hi = stats.chi2.ppf([(1 - CI) / 2, (1 + CI) / 2], n_scans - 1)
    assert lo < stat < hi
    az = column(records, "azimuth_deg")
    el_values = [r["elevation_deg"] for r in records]
    el = np.array([SECTOR.min_elevation_deg if e is None else e for e in el_values], float)
    assert in_fov(SECTOR, az, el).all()
    if isinstance(model, RfModel):
        assert {r["emitter"] for r in records} == set(CLUTTER_EMITTERS)


def test_scan_is_reproducible_for_a_seed() -> None:
    cfg = EoirSensor(type="eoir", id="eo1", position_enu_m=[0, 0, 10], clutter_per_scan=2.0)
    targets = make_targets(["drone", "bird", "aircraft"] * 10)
    snap = snapshot(ring(30, 900.0))
    a = run_scans(EoirModel(cfg, ORIGIN), snap, targets, 3, seed=14)
    b = run_scans(EoirModel(cfg, ORIGIN), snap, targets, 3, seed=14)
    assert [o.records for o in a] == [o.records for o in b]
    assert all((x.target_index == y.target_index).all() for x, y in zip(a, b, strict=True))
    # shuffled: target order is not the record order
    assert any(np.any(np.diff(o.target_index) < 0) for o in a)
