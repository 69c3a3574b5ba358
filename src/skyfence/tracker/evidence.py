r"""Class evidence: what each report and each second of flight says a track is.

Every track keeps a ledger of log-likelihoods, one row per evidence source
(:data:`SOURCES`) and one column per hypothesis (:data:`HYPOTHESES`: drone,
bird, aircraft, unknown). A report, or a stretch of flight, with likelihood
``l_k`` under class ``k`` adds ``w · ln l_k`` to its source's row, where
``w`` tempers sources whose reports are not independent. The fourth
hypothesis, *unknown*, is "some target, we cannot say which": its
likelihood is the mixture ``l_u = Σ_k m_k l_k`` with the weights ``m_k`` of
:attr:`EvidenceParams.unknown_mixture`. Evidence that tells classes apart
makes the best class beat the mixture; evidence that does not (a report
every class makes equally often) leaves every hypothesis where it was. The
posterior is

.. math::

    \ln p_h = \ln \pi_h + \sum_s L_{s,h} - \ln Z, \qquad h \in \{d, b, a, u\}

with prior ``π`` (:attr:`EvidenceParams.prior`). After each addition a
source's row is shifted so its best hypothesis is at 0 and clipped below at
``−cap_s``: no single source can push a hypothesis more than ``cap_s`` nats
down, so a long run of one kind of report (or a model that is slightly
wrong) cannot outvote every other sensor, and later contrary evidence can
still turn the class. The ledger explains the class: row ``s`` column ``h``
minus column ``u`` is how many nats source ``s`` moved ``h`` against
"unknown" (:func:`explain`).

Sources and their likelihood models (defaults in :class:`EvidenceParams`):

- **kinematics** — each second of an updated track: horizontal speed, height
  and (with the IMM) how agile the track flies. Per class a Gaussian of
  speed ``N(μ, σ² + σ_v²)`` and of height ``N(μ, σ² + σ_u²)``, where
  ``σ_v²``, ``σ_u²`` are the track's own velocity and height variances, so a
  new, uncertain track learns little; agility ``e = 1 − μ_quiet`` (the IMM's
  probability of its quietest mode) has density ``1.5 − e`` for drones and
  aircraft (they fly straight between waypoints) and ``0.5 + e`` for birds:
  at most a factor 3 per look, because a bird in a flock also flies straight
  for tens of seconds (with ``2(1 − e)`` against ``2e``, one such bird track
  on birds-only gathered 5 nats for drone from agility alone).
  Weighted by ``dt / kinematics_correlation_s``: successive seconds of one
  flight are not independent samples.
- **rcs** — each radar plot's RCS estimate (dBsm):
  ``N(μ_k + swerling_bias, σ_k² + swerling_sd²)``: the class's RCS spread
  plus the Swerling-1 fluctuation of one look (``10 log10`` of an
  exponential variable: mean −2.5 dB, σ 5.6 dB).
- **rf** — a control-link emission heard on the track's bearing: drones
  emit, birds never, aircraft rarely on these bands.
- **acoustic** — a detection by an acoustic array: drones and aircraft are
  heard, birds not.
- **eoir** — a camera label ``ℓ`` with confidence ``c``:
  ``l_k = c · C[k, ℓ] + (1 − c)/3`` with ``C`` the camera's confusion
  matrix (row: true class, column: label): a confident label counts fully,
  a doubtful one hardly.
- **cooperative** — an ADS-B report says aircraft, a Remote ID report
  says drone, each with a small probability of a mislabelled emitter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skyfence.tracker.base import CLASSES, Detections, FloatArray, IntArray

HYPOTHESES = (*CLASSES, "unknown")
"""Columns of the ledger: the three classes, then 'unknown'."""
SOURCES = ("kinematics", "rcs", "rf", "acoustic", "eoir", "cooperative")
"""Rows of the ledger."""
SOURCE_INDEX = {name: i for i, name in enumerate(SOURCES)}
EVIDENCE_WIDTH = len(SOURCES) * len(HYPOTHESES)
"""Width of one report's evidence flattened (the passive initiator's buffer)."""
N_CLASSES = len(CLASSES)

SWERLING1_BIAS_DB = -2.507
"""E[10 log10 X] for X ~ Exp(1): a Swerling-1 target's mean RCS in dB, one look."""
SWERLING1_SD_DB = 5.572
"""Standard deviation of 10 log10 X, X ~ Exp(1) (π/√6 · 10/ln 10)."""

Triple = tuple[float, float, float]  # one value per class: drone, bird, aircraft


@dataclass(frozen=True, slots=True)
class EvidenceParams:
    """The class models. Per-class tuples are ordered (drone, bird, aircraft)."""

    prior: tuple[float, float, float, float] = (0.2, 0.2, 0.1, 0.5)
    """π of (drone, bird, aircraft, unknown) for a new track: unknown until
    evidence speaks."""
    unknown_mixture: Triple = (1 / 3, 1 / 3, 1 / 3)
    """m_k: 'unknown' is this mixture of the classes."""

    speed_mean_mps: Triple = (20.0, 10.0, 80.0)
    speed_sd_mps: Triple = (15.0, 5.0, 40.0)
    """Horizontal speed per class (m/s): small drones 0–50 (hover to a
    fixed-wing dash), birds 5–20, aircraft 40–160."""
    height_mean_m: Triple = (100.0, 60.0, 1500.0)
    height_sd_m: Triple = (150.0, 80.0, 3000.0)
    """Height above the site origin per class (m)."""
    kinematics_correlation_s: float = 5.0
    """Seconds of flight that count as one independent kinematic sample."""

    rcs_mean_dbsm: Triple = (-20.0, -25.0, 10.0)
    rcs_sd_db: Triple = (5.0, 4.0, 6.0)
    """Mean RCS and its spread over targets and aspects, per class (dBsm, dB)."""
    rcs_weight: float = 0.5
    """w of one RCS estimate (a plot's power also carries range and clutter errors)."""

    rf_likelihood: Triple = (1.0, 0.01, 0.05)
    acoustic_likelihood: Triple = (1.0, 0.02, 1.0)
    """Relative probability that a target of each class makes the report."""
    eoir_confusion: tuple[Triple, Triple, Triple] = (
        (0.85, 0.10, 0.05), (0.10, 0.87, 0.03), (0.03, 0.02, 0.95))
    """C[true class][label]: a camera classifier's confusion matrix."""
    adsb_likelihood: Triple = (1e-3, 1e-3, 1.0)
    remote_id_likelihood: Triple = (1.0, 1e-3, 1e-3)

    cap_nats: tuple[float, float, float, float, float, float] = (8.0, 3.0, 6.0, 4.0, 10.0, 12.0)
    """cap_s, per source in SOURCES order: the most one source can push a
    hypothesis down (nats). RCS gets only 3: a radar reports a weak target only
    on its strong looks, so near the detection limit a bird's measured RCS is
    biased up towards a drone's (5 dB apart); on birds-only a 5-nat RCS cap let
    one bird track reach P(drone) 0.88 for a few seconds. RCS still tells
    aircraft (30 dB up) from small targets at once."""

    def __post_init__(self) -> None:
        if abs(sum(self.prior) - 1.0) > 1e-9 or min(self.prior) <= 0:
            raise ValueError("evidence prior must be > 0 and sum to 1")
        if abs(sum(self.unknown_mixture) - 1.0) > 1e-9 or min(self.unknown_mixture) < 0:
            raise ValueError("unknown_mixture must be >= 0 and sum to 1")
        if self.kinematics_correlation_s <= 0 or min(self.cap_nats) <= 0:
            raise ValueError("kinematics_correlation_s and cap_nats must be > 0")


def empty_ledger(n: int) -> FloatArray:
    """(n, len(SOURCES), 4) zeros: no evidence yet."""
    return np.zeros((n, len(SOURCES), len(HYPOTHESES)))


def with_unknown(loglik: FloatArray, params: EvidenceParams) -> FloatArray:
    """(M, 3) class log-likelihoods → (M, 4) with the unknown mixture appended."""
    mix = np.log(np.asarray(params.unknown_mixture))
    unknown = np.logaddexp.reduce(loglik + mix, axis=1)
    return np.concatenate((loglik, unknown[:, None]), axis=1)


def add(ledger: FloatArray, rows: IntArray, source: str, loglik: FloatArray,
        params: EvidenceParams, weight: float | FloatArray = 1.0) -> None:
    """Add ``weight ·`` (M, 3) class log-likelihoods of source ``source`` to the
    ledger rows ``rows`` (repeated rows accumulate), then shift and cap."""
    add_contributions(ledger, rows, contributions(source, loglik, params, weight), params)


def contributions(source: str, loglik: FloatArray, params: EvidenceParams,
                  weight: float | FloatArray = 1.0) -> FloatArray:
    """(M, len(SOURCES), 4): what M reports of ``source`` with class log-likelihoods
    ``loglik`` (M, 3) add to a ledger, before the cap. Contributions of several
    reports add up (a triangulated track's bearings)."""
    out = empty_ledger(loglik.shape[0])
    w = np.broadcast_to(np.asarray(weight, dtype=np.float64), (loglik.shape[0],))
    out[:, SOURCE_INDEX[source], :] = with_unknown(loglik, params) * w[:, None]
    return out


def add_contributions(ledger: FloatArray, rows: IntArray, contrib: FloatArray,
                      params: EvidenceParams) -> None:
    """Add (M, len(SOURCES), 4) contributions to ledger rows ``rows`` (repeats
    accumulate), then shift each touched row's sources to a best of 0 and cap."""
    if rows.size == 0:
        return
    np.add.at(ledger, rows, contrib)
    touched = np.unique(rows)
    block = ledger[touched]
    block -= block.max(axis=2, keepdims=True)
    ledger[touched] = np.maximum(block, -np.asarray(params.cap_nats)[None, :, None])


def posterior(ledger: FloatArray, params: EvidenceParams) -> FloatArray:
    """(N, 4) P(drone, bird, aircraft, unknown) of each track."""
    logp = np.log(np.asarray(params.prior)) + ledger.sum(axis=1)
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return np.asarray(p / p.sum(axis=1, keepdims=True), dtype=np.float64)


def explain(ledger_row: FloatArray) -> dict[str, dict[str, float]]:
    """One track's ledger (len(SOURCES), 4) as {source: {class: nats for the class
    against 'unknown'}}, sources that said nothing left out."""
    return explain_all(np.asarray(ledger_row)[None])[0]


def explain_all(ledger: FloatArray) -> list[dict[str, dict[str, float]]]:
    """:func:`explain` for every track of an (N, len(SOURCES), 4) ledger at once
    (one array pass, then plain lists: the live engine does this every tick)."""
    moved = ledger[:, :, :N_CLASSES] - ledger[:, :, N_CLASSES:]
    said = np.abs(moved).max(axis=2, initial=0.0) > 1e-9
    values = np.round(moved, 3).tolist()
    out: list[dict[str, dict[str, float]]] = []
    for row, flags in zip(values, said.tolist(), strict=True):
        out.append({name: dict(zip(CLASSES, row[s], strict=True))
                    for s, name in enumerate(SOURCES) if flags[s]})
    return out


# ------------------------------------------------------------------ the models
def _gauss_loglik(value: FloatArray, mean: Triple, sd: Triple,
                  extra_var: FloatArray | float = 0.0) -> FloatArray:
    """(M, 3) ln N(value; μ_k, σ_k² + extra_var)."""
    var = np.asarray(sd)[None, :] ** 2 + np.asarray(extra_var, dtype=np.float64).reshape(-1, 1)
    d = np.asarray(value, dtype=np.float64).reshape(-1, 1) - np.asarray(mean)[None, :]
    return np.asarray(-0.5 * (d * d / var + np.log(2 * np.pi * var)), dtype=np.float64)


def kinematics_loglik(x: FloatArray, P: FloatArray, agility: FloatArray | None,
                      params: EvidenceParams) -> FloatArray:
    """(M, 3) log-likelihood of one kinematic look at states ``x`` (M, 6), ``P``."""
    vx, vy = x[:, 3], x[:, 4]
    speed = np.hypot(vx, vy)
    var_v = 0.5 * (P[:, 3, 3] + P[:, 4, 4])
    ll = _gauss_loglik(speed, params.speed_mean_mps, params.speed_sd_mps, var_v)
    ll += _gauss_loglik(x[:, 2], params.height_mean_m, params.height_sd_m, P[:, 2, 2])
    if agility is not None:
        e = np.clip(agility, 0.0, 1.0)
        quiet = np.log(1.5 - e)
        ll += np.stack((quiet, np.log(0.5 + e), quiet), axis=1)
    return ll


def rcs_loglik(rcs_dbsm: FloatArray, params: EvidenceParams) -> FloatArray:
    """(M, 3) log-likelihood of single-look RCS estimates (dBsm)."""
    mean = tuple(m + SWERLING1_BIAS_DB for m in params.rcs_mean_dbsm)
    sd = tuple(float(np.hypot(s, SWERLING1_SD_DB)) for s in params.rcs_sd_db)
    return _gauss_loglik(rcs_dbsm, mean, sd)  # type: ignore[arg-type]


def constant_loglik(n: int, likelihood: Triple) -> FloatArray:
    """(n, 3) the same relative likelihood for every report (RF, acoustic, cooperative)."""
    return np.broadcast_to(np.log(np.asarray(likelihood)), (n, N_CLASSES)).copy()


def eoir_loglik(label: IntArray, confidence: FloatArray, params: EvidenceParams) -> FloatArray:
    """(M, 3) log-likelihood of camera labels with confidences (label −1: none)."""
    C = np.asarray(params.eoir_confusion)
    c = np.clip(np.nan_to_num(confidence, nan=1.0), 0.0, 1.0)
    has = label >= 0
    lik = np.full((label.size, N_CLASSES), 1.0 / N_CLASSES)
    lik[has] = c[has, None] * C[:, label[has]].T + (1 - c[has, None]) / N_CLASSES
    return np.asarray(np.log(lik), dtype=np.float64)


def report_contributions(sensor_type: str, scan: Detections, rows: IntArray,
                         params: EvidenceParams) -> FloatArray:
    """(len(rows), len(SOURCES), 4): what the reports ``rows`` of ``scan`` (from a
    sensor of ``sensor_type``) say about the class of the tracks they update."""
    n = rows.size
    if sensor_type == "radar":
        if scan.rcs_dbsm is None:
            return empty_ledger(n)
        rcs = scan.rcs_dbsm[rows]
        known = np.isfinite(rcs)
        ll = np.zeros((n, N_CLASSES))
        ll[known] = rcs_loglik(rcs[known], params)
        return contributions("rcs", ll, params, np.where(known, params.rcs_weight, 0.0))
    if sensor_type == "eoir" and scan.label is not None:
        conf = np.ones(n) if scan.confidence is None else scan.confidence[rows]
        return contributions("eoir", eoir_loglik(scan.label[rows], conf, params), params)
    table = {"rf": ("rf", params.rf_likelihood),
             "acoustic": ("acoustic", params.acoustic_likelihood),
             "adsb": ("cooperative", params.adsb_likelihood),
             "remote_id": ("cooperative", params.remote_id_likelihood)}
    if sensor_type in table:
        source, lik = table[sensor_type]
        return contributions(source, constant_loglik(n, lik), params)
    return empty_ledger(n)


def add_kinematics(ledger: FloatArray, t_kinematics_s: FloatArray, rows: IntArray, t_s: float,
                   x: FloatArray, P: FloatArray, agility: FloatArray | None,
                   params: EvidenceParams) -> None:
    """One kinematic look at tracks ``rows`` (updated at ``t_s``), weighted by the
    seconds since their last look over ``kinematics_correlation_s`` (at most 1)."""
    if rows.size == 0:
        return
    w = np.clip((t_s - t_kinematics_s[rows]) / params.kinematics_correlation_s, 0.0, 1.0)
    looked = rows[w > 0]
    if looked.size == 0:
        return
    ll = kinematics_loglik(x[looked], P[looked], None if agility is None else agility[looked],
                           params)
    add(ledger, looked, "kinematics", ll, params, w[w > 0])
    t_kinematics_s[looked] = t_s
