"""Filter consistency (NEES, NIS) of the default tracker on the sparse bundled scenario.

The tracker with its defaults (IMM, GNN, second-order EKF radar update) runs
on ``night-swarm`` from the simulator, one drone and three, over several
seeds. Both statistics are taken against the truth a track *follows*: the
target whose reports made all of its updates over the :data:`FOLLOW_S`
seconds up to its latest one (``associations.jsonl``). A false track, or one
that has just been pulled by another target's report, is an association
error, not a filter error, and is left out (the tests count it).

- **NEES** of the confirmed tracks at every truth tick (1 s), ``eᵀ P⁻¹ e``
  with ``e`` the estimate minus the truth, over the 3-D position (what the
  track output carries, ``pos_cov_m2``) and over the whole 6-D state.
  Samples of one track are correlated in time: their integrated
  autocorrelation time, measured on the full-length scenario, is 2–10 s, so
  the band counts one independent sample per :data:`NEES_CORRELATION_S`
  seconds.
- **NIS** of the radar updates, ``yᵀ S⁻¹ y`` as the filter forms it (its
  second-order terms included; with the IMM on the combined prediction,
  which gating uses too), recorded through :attr:`Tracker.on_update`
  (:class:`~skyfence.tracker.diagnostics.InnovationLog`): the whole plot
  (range, azimuth, elevation, range rate), its position part and its range
  rate alone. Innovations of a consistent filter are white, so the N
  samples count as independent: their mean lies in ``χ²(kN)/N``'s 95 %
  interval.

The scenario is the bundled one with the first 6.7 km of the approach, out
of radar range (only clutter there), cut to save time: the route starts at
(12000, 6000, 69) m on its first leg and the run lasts 320 s.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2

from skyfence.evaluate.clairvoyant import read_associations, scan_truth_ids
from skyfence.evaluate.records import TruthTable, read_truth
from skyfence.scenario import load_scenario
from skyfence.sim.writer import write_simulation
from skyfence.track_io import ScanReader
from skyfence.tracker import Tracker, TrackerParams
from skyfence.tracker.diagnostics import InnovationLog, UpdateEvent
from skyfence.tracker.measurement import RadarPolar

SHORT_APPROACH = (
    "targets.0.waypoints_enu_m=[[12000, 6000, 69], [7000, 3500, 60], [2200, 600, 50]]",
    "duration_s=320",
)
FOLLOW_S = 10.0
"""A track follows a target when every update over this long up to its latest
was by that target's reports."""
NEES_CORRELATION_S = 10.0
"""Seconds of track per independent NEES sample (the largest integrated
autocorrelation time measured: 2.2–10.1 s over four single-drone runs)."""
SINGLE_SEEDS = (1, 2, 3, 4, 5)
SPARSE_SEEDS = (1, 2, 3)
Snapshot = tuple[float, np.ndarray, np.ndarray, np.ndarray]


@dataclasses.dataclass(frozen=True)
class Run:
    """The statistics of one or several runs (module doc)."""

    nees3: np.ndarray  # (S,) confirmed tracks following a target, every truth tick
    nees6: np.ndarray  # (S,)
    nis4: np.ndarray  # (U,) radar updates by a full plot of the target the track follows
    nis3: np.ndarray  # (U,) the same updates: range, azimuth, elevation
    nis_rr: np.ndarray  # (U,) the same updates: range rate alone
    unscored: np.ndarray  # (1,) confirmed-track ticks left out (following no target)

    @staticmethod
    def pooled(runs: list[Run]) -> Run:
        return Run(*(np.concatenate([getattr(r, f.name) for r in runs])
                     for f in dataclasses.fields(Run)))


class _Parts:
    """An update hook: the NIS of full radar plots over (range, azimuth, elevation)
    and over range rate alone, beside the whole plot's."""

    def __init__(self) -> None:
        self.full, self.position, self.range_rate = (InnovationLog(), InnovationLog(),
                                                     InnovationLog())

    def __call__(self, event: UpdateEvent) -> None:
        self.full(event)
        model = event.model
        if isinstance(model, RadarPolar) and model.components == (0, 1, 2, 3):
            self.position(dataclasses.replace(event, model=model.subset((0, 1, 2)),
                                              z=event.z[:, :3]))
            self.range_rate(dataclasses.replace(event, model=model.subset((3,)),
                                                z=event.z[:, 3:]))


@functools.cache
def run(count: int, seed: int, folder: Path, params: TrackerParams | None = None) -> Run:
    """Simulate night-swarm (``count`` drones, ``seed``), track it, score (module doc)."""
    site = load_scenario("night-swarm", (f"targets.0.count={count}", f"seed={seed}",
                                         *SHORT_APPROACH))
    out = folder / f"night-swarm-{count}-{seed}"
    if not (out / "associations.jsonl").exists():
        write_simulation(site, out)
    table = read_associations(out / "associations.jsonl")
    reader = ScanReader(site)
    tracker = Tracker(reader.specs, params)  # None: the defaults, IMM, GNN, ekf2
    parts = _Parts()
    tracker.on_update = parts
    sources: dict[tuple[float, int], np.ndarray] = {}
    truth = read_truth(out / "truth.jsonl")
    ticks = np.unique(truth.t_s)
    snapshots: list[Snapshot] = []  # the confirmed tracks at each truth tick
    k = 0
    with (out / "measurements.jsonl").open("rb") as stream:
        for scan in reader.read(stream, "measurements.jsonl"):
            while k < ticks.size and ticks[k] < scan.t_s - 1e-9:
                snapshots.append(_snapshot(tracker, float(ticks[k])))
                k += 1
            sources[(scan.t_s, scan.sensor)] = scan_truth_ids(table, scan, reader.specs)
            tracker.step(scan)
    snapshots.extend(_snapshot(tracker, float(t)) for t in ticks[k:])

    log = parts.full.table()
    src = np.array([sources[(t, s)][r] for t, s, r in zip(
        log["t_s"].tolist(), log["sensor"].tolist(), log["row"].tolist(), strict=True)],
        dtype=object)
    follows = _follows(log["t_s"], log["track_id"], src)
    radar = np.isin(log["sensor"], [i for i, s in enumerate(reader.specs) if s.type == "radar"])
    full_plot = radar & (log["dof"] == 4)
    assert parts.position.table()["nis"].size == int(full_plot.sum())
    by_followed = np.array([f is not None and f == s for f, s in zip(follows, src, strict=True)],
                           dtype=np.bool_)  # by a report of the target it was following
    scored = by_followed[full_plot]
    nees3, nees6, unscored = _nees(snapshots, log, np.where(by_followed, src, None), truth)
    return Run(nees3, nees6, log["nis"][full_plot][scored],
               parts.position.table()["nis"][scored], parts.range_rate.table()["nis"][scored],
               np.array([unscored], dtype=np.float64))


def _snapshot(tracker: Tracker, t_s: float) -> Snapshot:
    bank = tracker.confirmed_at(t_s)
    return t_s, bank.id.copy(), bank.x.copy(), bank.P.copy()


def _follows(t_s: np.ndarray, track_id: np.ndarray, src: np.ndarray) -> np.ndarray:
    """For each update (in log order): the target its track followed *before* it,
    i.e. the one source of all that track's updates in the FOLLOW_S before it
    (None: none, or several, or clutter)."""
    out = np.full(src.size, None, dtype=object)
    history: dict[int, list[tuple[float, object]]] = {}
    for i, (t, tid) in enumerate(zip(t_s.tolist(), track_id.tolist(), strict=True)):
        past = [s for u, s in history.get(tid, []) if u >= t - FOLLOW_S]
        if past and past[0] is not None and all(s == past[0] for s in past):
            out[i] = past[0]
        history.setdefault(tid, []).append((t, src[i]))
    return out


def _nees(snapshots: list[Snapshot], log: dict[str, np.ndarray], good: np.ndarray,
          truth: TruthTable) -> tuple[np.ndarray, np.ndarray, int]:
    """NEES (3-D, 6-D) of every confirmed track at every tick against the target it
    follows after its latest update (``good``: that update's source where it was by
    the target the track followed before, else None), and how many track ticks
    followed none."""
    state = {(float(t), truth.ids[g]): np.r_[p, v] for t, g, p, v in zip(
        truth.t_s.tolist(), truth.target.tolist(), truth.enu_m, truth.vel_mps, strict=True)}
    order = np.argsort(log["t_s"], kind="stable")
    t_upd, tid_upd, good = log["t_s"][order], log["track_id"][order], good[order]
    latest: dict[int, object] = {}
    j, unscored = 0, 0
    n3, n6 = [], []
    for t, ids, x, P in snapshots:
        while j < t_upd.size and t_upd[j] <= t + 1e-9:
            latest[int(tid_upd[j])] = good[j]
            j += 1
        for i, tid in enumerate(ids.tolist()):
            target = latest.get(tid)
            if target is None or (t, target) not in state:
                unscored += 1
                continue
            e = x[i] - state[(t, target)]
            n6.append(float(e @ np.linalg.solve(P[i], e)))
            n3.append(float(e[:3] @ np.linalg.solve(P[i, :3, :3], e[:3])))
    return np.asarray(n3), np.asarray(n6), unscored


def nis_band(dof: int, samples: int) -> tuple[float, float]:
    """95 % interval of the mean of ``samples`` independent χ²(dof) values."""
    lo, hi = chi2.ppf([0.025, 0.975], dof * samples) / samples
    return float(lo), float(hi)


def nees_band(dof: int, samples: int) -> tuple[float, float]:
    """95 % interval of the mean of ``samples`` NEES values 1 s apart, counting one
    independent sample per :data:`NEES_CORRELATION_S`."""
    n_eff = max(samples / NEES_CORRELATION_S, 1.0)
    lo, hi = chi2.ppf([0.025, 0.975], dof * n_eff) / n_eff
    return float(lo), float(hi)


def report(name: str, values: np.ndarray, band: tuple[float, float]) -> str:
    return (f"{name} {values.mean():.3f} over {values.size} samples, 95 % band "
            f"[{band[0]:.3f}, {band[1]:.3f}]")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("consistency")


CASES = [pytest.param(1, SINGLE_SEEDS, id="single"), pytest.param(3, SPARSE_SEEDS, id="sparse")]


def _pooled(count: int, seeds: tuple[int, ...], folder: Path) -> Run:
    return Run.pooled([run(count, s, folder) for s in seeds])


# ------------------------------------------------------------------ the tests
def test_the_log_records_each_update_with_the_filters_nis() -> None:
    """An ADS-B track (linear model): the NIS of its second report by hand, from the
    prediction the hook saw."""
    from skyfence.tracker import Detections, SensorSpec

    adsb = SensorSpec(id="adsb", type="adsb", position_enu_m=(0.0, 0.0, 0.0),
                      sigma=(5.0, 5.0, 5.0, 0.5, 0.5, 0.5), pd=0.95, clutter_per_scan=0.0,
                      max_range_m=50000.0)
    tracker = Tracker([adsb])
    log = InnovationLog()
    seen: list[UpdateEvent] = []
    tracker.on_update = lambda e: (seen.append(e), log(e))[-1]
    ident = np.array(["abc"], dtype=object)
    assert log.table()["nis"].size == 0
    tracker.step(Detections(0.0, 0, np.array([[0.0, 0.0, 100.0, 50.0, 0.0, 0.0]]),
                            cooperative_id=ident))  # starts the track: no update
    z = np.array([[52.0, -3.0, 101.0, 49.0, 0.5, 0.0]])
    tracker.step(Detections(1.0, 0, np.vstack((np.full((1, 6), 9e3), z)),
                            cooperative_id=np.array(["zzz", "abc"], dtype=object)))
    table = log.table()
    assert table["t_s"].tolist() == [1.0] and table["track_id"].tolist() == [1]
    assert table["row"].tolist() == [1] and table["dof"].tolist() == [6]
    assert table["sensor"].tolist() == [0]
    event = seen[0]
    y = z[0] - event.x[0]
    S = event.P[0] + np.diag(np.square(adsb.sigma))
    assert table["nis"][0] == pytest.approx(y @ np.linalg.solve(S, y))
    assert not np.allclose(event.x[0], tracker.bank.x[0])  # the state before the update


@pytest.mark.parametrize(("count", "seeds"), CASES)
def test_radar_position_nis_is_consistent(count: int, seeds: tuple[int, ...],
                                          folder: Path) -> None:
    """The radar plot's range, azimuth and elevation against the predicted track.
    Measured: single 2.91 over 760 updates [2.83, 3.18]; sparse 2.93 over 1354
    [2.87, 3.13]."""
    r = _pooled(count, seeds, folder)
    band = nis_band(3, r.nis3.size)
    assert r.nis3.size >= 500
    assert band[0] <= r.nis3.mean() <= band[1], report("NIS (ρ, az, el)", r.nis3, band)


POSITION_NEES_CASES = [
    pytest.param(1, SINGLE_SEEDS, id="single", marks=pytest.mark.xfail(
        strict=True, reason="below the band: the IMM's velocity is conservative")),
    pytest.param(3, SPARSE_SEEDS, id="sparse"),
]


@pytest.mark.parametrize(("count", "seeds"), POSITION_NEES_CASES)
def test_position_nees_is_consistent(count: int, seeds: tuple[int, ...], folder: Path) -> None:
    """The 3-D position NEES within the chi-square band. Measured: sparse 3.00 over
    1688 track-seconds [2.64, 3.38]; single 2.41 over 973 [2.53, 3.51], *below* the
    band (strict xfail). Both were inside (2.64, 3.16) while the ground constraint
    was applied again at every scan: that made the height overconfident
    (error² / variance 1.01 and 1.06, now 0.78 and 0.80) and offset the horizontal
    part's conservatism (1.63 of 2, from the IMM's velocity, see
    test_radar_nis_is_consistent). Confirmed track-seconds following no target
    (false tracks, tracks just pulled by another target's report): 6.5 %, 9.1 %."""
    r = _pooled(count, seeds, folder)
    band = nees_band(3, r.nees3.size)
    assert r.nees3.size >= 800
    assert r.unscored.sum() <= 0.15 * (r.unscored.sum() + r.nees3.size)
    assert band[0] <= r.nees3.mean() <= band[1], report("NEES (position)", r.nees3, band)


@pytest.mark.parametrize(("count", "seeds"), CASES)
def test_position_nees_is_not_overconfident(count: int, seeds: tuple[int, ...],
                                            folder: Path) -> None:
    """The upper half of the check above, for every case (the single-target case's
    xfail must not hide an overconfident filter)."""
    r = _pooled(count, seeds, folder)
    band = nees_band(3, r.nees3.size)
    assert r.nees3.mean() <= band[1], report("NEES (position)", r.nees3, band)


@pytest.mark.parametrize(("count", "seeds"), CASES)
def test_state_nees_is_not_overconfident(count: int, seeds: tuple[int, ...],
                                         folder: Path) -> None:
    """The 6-D NEES is at most the band's upper end: the filter never claims more
    than it knows. Measured: single 4.30 [5.33, 6.71], *below* the band (the
    velocity is conservative, see test_radar_nis_is_consistent); sparse 5.05
    [5.49, 6.54], below too (4.95 and 5.69 while the ground constraint was
    applied at every scan)."""
    r = _pooled(count, seeds, folder)
    band = nees_band(6, r.nees6.size)
    assert r.nees6.mean() <= band[1], report("NEES (state)", r.nees6, band)


@pytest.mark.xfail(strict=True, reason="the IMM's range-rate prediction is conservative")
@pytest.mark.parametrize(("count", "seeds"), CASES)
def test_radar_nis_is_consistent(count: int, seeds: tuple[int, ...], folder: Path) -> None:
    """The whole radar plot. KNOWN TO FAIL, conservative: measured single 3.13
    over 760 updates against [3.80, 4.20], sparse 3.17 over 1354 [3.85, 4.15].
    The position part is consistent (above); the range rate alone averages
    0.20 and 0.23 against [0.90, 1.10]: its innovation is 0.71 m/s RMS (the
    radar's noise 0.5 of it) where the filter predicts 1.45 m/s. The IMM's
    Markov prior moves ~2.4 % of a quiet track's probability to the
    manoeuvring mode (q = 50 m²/s³) at every 1-s step (quiet sojourn 20 s,
    switches split over the two other modes), which adds ~1.2 m²/s² to the
    combined predicted velocity variance against the quiet mode's own 0.2;
    the simulated drones wander ~0.4 m/s a second on straight legs and turn
    three times a flight. A single NCV filter with q = 0.2 m²/s³ gets 3.85
    on the full-length scenario, but its 6-D NEES averages 14–17 there (it
    loses the turns). Retuning imm_* (sojourn times, q) would change every
    scenario's GOSPA, which chose them: not done here."""
    r = _pooled(count, seeds, folder)
    band = nis_band(4, r.nis4.size)
    assert band[0] <= r.nis4.mean() <= band[1], (
        report("NIS", r.nis4, band) + "; " + report("range rate", r.nis_rr,
                                                    nis_band(1, r.nis_rr.size)))
