"""Tracker parameters: one frozen dataclass, units in the names, defaults documented.

The defaults suit small drones (up to ~60 m/s) seen by 1 Hz sensors; the
scenario file gives everything sensor-specific (pd, clutter, sigma, range).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class TrackerParams:
    # ------------------------------------------------------------- motion model
    accel_noise_psd_m2ps3: float = 2.0
    """q: power spectral density of the white acceleration in each horizontal
    axis (m²/s³). The velocity standard deviation grows by √(q·dt) over dt."""
    vertical_accel_noise_psd_m2ps3: float = 0.5
    """q for the vertical axis (m²/s³): small targets climb and sink gently."""

    # ------------------------------------------------------------- initiation
    max_speed_mps: float = 60.0
    """Expected maximum target speed (m/s). A new radar track's velocity across
    the line of sight gets σ = max_speed/√3 (uniform in ±max_speed); range
    rate, when present, fixes the radial part."""

    # ------------------------------------------------------- gating/association
    gate_probability: float = 0.999
    """P_G: probability that the true measurement falls inside the gate; the
    gate is the chi-square quantile of this for the measurement's dimension."""
    min_false_per_scan: float = 1.0
    """Floor on the expected false (clutter + new target) reports per scan used
    for the clutter density λ, so a clutter-free sensor still has a finite
    likelihood ratio."""

    bearing_update: Literal["unambiguous", "gnn"] = "unambiguous"
    """How bearings (RF, acoustic, EO/IR) update tracks. A bearing says nothing
    of range, so in a swarm one line of sight often passes several targets and
    GNN on bearings pulls tracks onto each other: "unambiguous" updates only
    where one track and one bearing gate each other and nothing else; "gnn"
    treats bearings like every other report."""

    ground_floor_m: float | None = 0.0
    """Height (ENU up, m) below which nothing flies: estimates are truncated
    there (see constraint.py). None: no constraint."""

    # --------------------------------------------------------- track management
    confirmation: Literal["m_of_n", "score"] = "m_of_n"
    """How a tentative track is confirmed: M hits in its first N opportunities,
    or its log-likelihood-ratio score crossing :attr:`confirm_score`."""
    confirm_m: int = 3
    confirm_n: int = 5
    """M of N: a tentative track is confirmed once it has M hits within its
    first N detection opportunities (scans of a miss-counting sensor that
    covers it) and deleted when it has not."""
    confirm_score: float = math.log(0.9 / 1e-4)
    """Sequential-probability-ratio threshold ln((1−β)/α) on the track score
    for β = 0.1 (miss a true track) and α = 1e-4 (confirm a false one)."""
    delete_score_drop: float = math.log(1e3)
    """A confirmed track is deleted when its score falls this far below its
    best: each miss costs ln(1 − P_D P_G), so a P_D = 0.9 radar deletes on the
    4th miss in a row and a P_D = 0.6 one on the 8th (a real target misses
    that many in a row with probability < 1e-3). Lazier deletion (1e-4, 1e-5) kept
    lost bird tracks coasting: airport-mixed false-track GOSPA part 3796 at
    1e-3, 6515 at 1e-4, 8385 at 1e-5; night-swarm within 2 %."""
    delete_after_misses: int = 12
    """...and in any case after this many consecutive missed opportunities."""
    max_coast_s: float = 8.0
    """A confirmed track is deleted after this long without any update (s)."""
    tentative_max_coast_s: float = 3.0
    """A tentative track is deleted after this long without any update (s)."""
    max_position_sigma_m: float = 500.0
    """A track is deleted when √trace of its position covariance exceeds this (m)."""
    merge_d2: float = 0.0
    """Two tracks whose 6-D states differ by less than this squared Mahalanobis
    distance (under the sum of their covariances) are the same object: the
    younger is deleted. 0 (the default) turns merging off: initiation already
    skips plots inside any track's gate, and on bird flocks merging deleted
    real tracks (airport-mixed: missed-target GOSPA part 21909 with 4.0,
    5083 with 0)."""
    merge_radius_m: float = 100.0
    """Only tracks closer than this (m) are tested for duplicates."""
    miss_sensor_types: tuple[str, ...] = ("radar",)
    """Sensor types whose scans count as detection opportunities: a covered
    track they do not detect gets a miss. Passive sensors hear only some
    targets, so their silence is no evidence."""
    initiating_sensor_types: tuple[str, ...] = ("radar", "adsb", "remote_id")
    """Sensor types whose unassociated reports start tracks (bearings alone
    cannot until passive triangulation exists)."""

    # --------------------------------------------------------- cooperative
    cooperative_max_alt_m: float = 15000.0
    cooperative_max_speed_mps: float = 300.0
    """Extent of the cooperative measurement space (altitude, speed) over which
    false reports are spread for the clutter density."""

    # --------------------------------------------------------- classification
    cooperative_class_weight: float = 100.0
    """Class evidence of one cooperative report (ADS-B: aircraft, Remote ID: drone)."""
    rf_drone_weight: float = 0.5
    """Class evidence for drone of one RF detection (a drone control link heard)."""
    unknown_prior: float = 1.0
    """Pseudo-count of 'unknown': a track's class is the largest of its evidence
    counts and this, so one doubtful label does not name it."""

    def __post_init__(self) -> None:
        if not 0 < self.confirm_m <= self.confirm_n <= 31:
            raise ValueError("need 0 < confirm_m <= confirm_n <= 31")
        if not 0 < self.gate_probability < 1:
            raise ValueError("gate_probability must be in (0, 1)")
        if self.max_speed_mps <= 0 or self.accel_noise_psd_m2ps3 < 0:
            raise ValueError("max_speed_mps must be > 0 and accel noise >= 0")
