r"""Threat score: one number in [0, 1] per track to rank tracks for the operator.

A weighted sum of bounded terms, split in two: *who* the track is (class,
cooperative identity) and *what it is doing* (speed, closing on a critical
zone, predicted entry, inside a zone, in a swarm). The behaviour terms are
scaled by how threatening the track's identity is, so an airliner on final
approach to the airport (cooperative, classed aircraft) does not rank above
an unknown drone just by flying at the runway:

.. math::

    c_\text{class} &= w_\text{class}\, f_\text{class}, \qquad
    c_\text{identity} = w_\text{identity}\, f_\text{identity}, \\
    g &= \frac{c_\text{class} + c_\text{identity}}{w_\text{class} + w_\text{identity}}
        \in [0, 1], \\
    c_k &= w_k\, g\, f_k \quad (k \in \text{speed, closing, entry, inside, swarm}), \\
    \text{score} &= \textstyle\sum_k c_k \in [0, 1]
        \quad (\textstyle\sum_k w_k = 1,\ f_k \in [0, 1]).

The contributions :math:`c_k` are returned (N, 7) and sum to the score
exactly, so the UI can say why a track ranks where it does. Terms, each in
[0, 1]:

- ``class``: :math:`\sum_c P(c)\, a_c` over (drone, bird, aircraft, unknown)
  with values :math:`a` = (1, 0.1, 0.1, 0.5).
- ``identity``: 0 for a compliant cooperative identity (ADS-B, Remote ID),
  0.5 for none, 1 for a suspect one (``suspect`` wins over ``cooperative``).
- ``speed``: :math:`s/(s + s_{1/2})`, 3-D speed, :math:`s_{1/2}` = 15 m/s.
- ``closing``: :math:`\operatorname{clip}(v_c / v_\text{full}, 0, 1)\,\ell`,
  :math:`v_c` the closing speed on the nearest critical zone (nearest zone
  of any level when the site has no critical zone), :math:`v_\text{full}` =
  20 m/s, :math:`\ell` its level value (critical 1, warning 0.5); a track
  inside that zone counts as closing at full speed (:math:`\ell`).
- ``entry``: :math:`\max_z \ell_z\, P_z(\text{enter within } H)\,
  \tau_s/(\tau_s + t_z)`, sooner is higher; :math:`t_z` the predicted time
  to enter (0 inside), :math:`\tau_s` = 30 s (a half at 30 s).
- ``inside``: :math:`\max_z \ell_z\,[\text{inside } z]`.
- ``swarm``: 1 for a member of a swarm.

Default weights: class 0.25, identity 0.15, speed 0.05, closing 0.15,
entry 0.15, inside 0.15, swarm 0.10.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from skyfence.assess.zones import ZoneAssessment

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TERMS = ("class", "identity", "speed", "closing", "entry", "inside", "swarm")
"""Columns of :attr:`Threat.contributions`."""


@dataclass(frozen=True, slots=True)
class ThreatParams:
    weight_class: float = 0.25
    weight_identity: float = 0.15
    weight_speed: float = 0.05
    weight_closing: float = 0.15
    weight_entry: float = 0.15
    weight_inside: float = 0.15
    weight_swarm: float = 0.10
    """Weights of the terms; they must sum to 1 (the score is then in [0, 1])."""
    class_value: tuple[float, float, float, float] = (1.0, 0.1, 0.1, 0.5)
    """Value of each class: drone, bird, aircraft, unknown."""
    identity_compliant: float = 0.0
    identity_none: float = 0.5
    identity_suspect: float = 1.0
    speed_half_mps: float = 15.0
    """Speed at which the speed term is one half."""
    closing_full_mps: float = 20.0
    """Closing speed at which the closing term saturates."""
    entry_time_scale_s: float = 30.0
    """Predicted time to enter at which the entry term is halved."""
    level_value_critical: float = 1.0
    level_value_warning: float = 0.5

    def __post_init__(self) -> None:
        w = self.weights()
        if (w < 0).any() or abs(w.sum() - 1.0) > 1e-9:
            raise ValueError(f"threat weights must be >= 0 and sum to 1, not {w.sum():g}")
        if w[0] + w[1] == 0:
            raise ValueError("weight_class + weight_identity must be > 0 (they scale the rest)")
        values = (*self.class_value, self.identity_compliant, self.identity_none,
                  self.identity_suspect, self.level_value_critical, self.level_value_warning)
        if not all(0.0 <= v <= 1.0 for v in values):
            raise ValueError("class, identity and level values must be in [0, 1]")

    def weights(self) -> FloatArray:
        """(7,) in the order of :data:`TERMS`."""
        return np.array([self.weight_class, self.weight_identity, self.weight_speed,
                         self.weight_closing, self.weight_entry, self.weight_inside,
                         self.weight_swarm])


@dataclass(frozen=True, slots=True)
class Threat:
    terms: tuple[str, ...]  # TERMS
    score: FloatArray  # (N,) in [0, 1]
    contributions: FloatArray  # (N, len(terms)), rows sum to score
    identity_factor: FloatArray  # (N,) g, the scale on the behaviour terms
    order: IntArray  # (N,) rows from the highest score down (stable)


def _level_values(zones: ZoneAssessment, params: ThreatParams) -> FloatArray:
    return np.array([params.level_value_critical if lv == "critical" else
                     params.level_value_warning for lv in zones.levels], dtype=np.float64)


def closing_on_nearest_critical_mps(zones: ZoneAssessment) -> tuple[FloatArray, IntArray]:
    """(N,) closing speed on each track's nearest critical zone (of any level when
    there is none) and that zone's column, -1 with no zones."""
    n, nz = zones.distance_m.shape
    if nz == 0:
        return np.zeros(n), np.full(n, -1, dtype=np.int64)
    critical = np.array([lv == "critical" for lv in zones.levels])
    dist = zones.distance_m if not critical.any() else np.where(critical, zones.distance_m, np.inf)
    col = np.argmin(dist, axis=1).astype(np.int64)
    return zones.closing_speed_mps[np.arange(n), col], col


def threat_scores(
    x: FloatArray,
    class_probabilities: FloatArray,
    cooperative: BoolArray,
    suspect: BoolArray,
    zones: ZoneAssessment,
    in_swarm: BoolArray,
    params: ThreatParams | None = None,
) -> Threat:
    """Score every track. ``x`` (N, 6) ENU state; ``class_probabilities`` (N, 4)
    P(drone, bird, aircraft, unknown); ``cooperative`` (N,): has a cooperative
    identity; ``suspect`` (N,): that identity (or the track) is suspect;
    ``zones``: :func:`skyfence.assess.zones.assess_zones` for the same rows;
    ``in_swarm`` (N,): member of a swarm."""
    prm = ThreatParams() if params is None else params
    n = len(x)
    w = prm.weights()
    f = np.zeros((n, len(TERMS)))
    f[:, 0] = class_probabilities @ np.asarray(prm.class_value)
    f[:, 1] = np.where(suspect, prm.identity_suspect,
                       np.where(cooperative, prm.identity_compliant, prm.identity_none))
    speed = np.linalg.norm(x[:, 3:6], axis=1)
    f[:, 2] = speed / (speed + prm.speed_half_mps)
    level = _level_values(zones, prm)
    if len(level):
        closing, col = closing_on_nearest_critical_mps(zones)
        there = zones.inside[np.arange(n), col]  # already in: as bad as full closing speed
        f[:, 3] = np.where(there, 1.0, np.clip(closing / prm.closing_full_mps, 0.0, 1.0))
        f[:, 3] *= level[col]
        t = zones.time_to_enter_s
        soon = prm.entry_time_scale_s / (prm.entry_time_scale_s + t)  # 0 where t = inf
        f[:, 4] = (level * zones.p_enter * soon).max(axis=1)
        f[:, 5] = (level * zones.inside).max(axis=1)
    f[:, 6] = in_swarm
    c = f * w
    g = (c[:, 0] + c[:, 1]) / (w[0] + w[1])
    c[:, 2:] *= g[:, None]
    score = c.sum(axis=1)
    return Threat(terms=TERMS, score=score, contributions=c, identity_factor=g,
                  order=np.argsort(-score, kind="stable").astype(np.int64))
