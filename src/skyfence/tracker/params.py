"""Tracker parameters: one frozen dataclass, units in the names, defaults documented.

The defaults suit small drones (up to ~60 m/s) seen by 1 Hz sensors; the
scenario file gives everything sensor-specific (pd, clutter, sigma, range).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from skyfence.tracker.evidence import EvidenceParams


@dataclass(frozen=True, slots=True)
class TrackerParams:
    # ------------------------------------------------------------- motion model
    accel_noise_psd_m2ps3: float = 2.0
    """q: power spectral density of the white acceleration in each horizontal
    axis (m²/s³). The velocity standard deviation grows by √(q·dt) over dt."""
    vertical_accel_noise_psd_m2ps3: float = 0.5
    """q for the vertical axis (m²/s³): small targets climb and sink gently."""

    motion: Literal["ncv", "imm"] = "imm"
    """Motion model: "ncv", one nearly-constant-velocity filter with the q
    above; or "imm", interacting multiple models (imm.py), one NCV filter
    per mode with the imm_* parameters below (the q above is then unused).
    Measured (mean GOSPA, m, NCV → IMM; full-size bundled scenarios, two
    seeds each): night-swarm 59.5 → 58.4 and 59.8 → 58.0, airport-mixed
    152.7 → 139.1 and 163.8 → 153.6, birds-only 207.1 → 193.1 and
    208.5 → 195.1, dense-swarm (120 s) 925.8 → 906.8; no single q does as
    well on all (q = 5: birds-only 192.6 but night-swarm 61.2). The IMM costs
    1.3–1.6× the NCV tracker's CPU time (night-swarm 1.3×, airport-mixed
    1.6×, birds-only 1.5×, dense-swarm with 500 drones 1.3×)."""
    imm_accel_noise_psd_m2ps3: tuple[float, ...] = (0.2, 5.0, 50.0)
    """IMM: horizontal acceleration PSD q of each mode (m²/s³): quiet (straight
    and level: the velocity wanders ~0.45 m/s in a second), agile (~2 m/s² of
    unmodelled acceleration: a bird's erratic flight, a small drone's waypoint
    turn) and manoeuvring (~7 m/s²: a hard turn, pull-up or dive)."""
    imm_vertical_accel_noise_psd_m2ps3: tuple[float, ...] = (0.5, 1.0, 10.0)
    """IMM: vertical acceleration PSD q of each mode (m²/s³). A quieter quiet
    mode (0.05) cost 3–5 % GOSPA on dense-swarm (500 drones at 120 m): radar
    heights are poor (1° of elevation is 100 m at 6 km) and a filter sure of
    a level flight holds on to a wrong height."""
    imm_sojourn_s: tuple[float, ...] = (20.0, 60.0, 5.0)
    """IMM: mean time a target stays in each mode before it switches to one of
    the others (s). Over a step dt, p_ii ≈ exp(−dt/τ_i) (exactly Π = exp(G dt),
    imm.py): sojourn times instead of probabilities because scans come at any
    interval. Birds stay agile; manoeuvres are short."""
    imm_initial_mode_prob: tuple[float, ...] = (0.3, 0.5, 0.2)
    """IMM: mode probabilities of a new track (sum to 1)."""
    imm_gate_modes: bool = False
    """IMM: gate each mode apart and take the union of their gates, scoring a
    pair by the mode mixture's likelihood (imm.gate_modes), instead of gating
    on the combined estimate. It holds tracks through sudden manoeuvres (a
    1 g turn at 40 m/s: the same track id in 8 of 8 seeded runs, against 0 of
    8 gating on the combined estimate) and lowered mean GOSPA on the bird
    scenarios (airport-mixed 139.1 → 135.4, birds-only 193.1 → 189.9) but
    not on the drone ones (night-swarm 58.4 → 58.6, dense-swarm 906.8 →
    911.6), for 1.1–1.3× the IMM's CPU time (the manoeuvring mode's wide
    gates bring many more candidate pairs): off by default."""

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

    association: Literal["gnn", "jpda"] = "gnn"
    """How radar reports are shared among tracks: "gnn" (global nearest
    neighbour, one report per track, see association.py) or "jpda" (every
    gated report weighted by its association probability, see jpda.py).
    Cooperative reports always take GNN: their identity needs one track."""

    bearing_update: Literal["unambiguous", "margin", "gnn", "jpda"] = "margin"
    """How bearings (RF, acoustic, EO/IR) update tracks. A bearing says nothing
    of range, so in a swarm or flock one line of sight often passes several
    targets and GNN on bearings pulls tracks onto each other. "margin" (the
    default) takes a GNN pair only when it is at least e^bearing_margin times
    as likely as any competing pair for its track or its bearing
    (ambiguity.py); "unambiguous" only where one track and one bearing gate
    each other and nothing else; "gnn" and "jpda" associate bearings by that
    method (whatever :attr:`association` says for radar).
    bench/association_ambiguity.py measures how often GNN on bearings picks
    the right target when the tracks are the clairvoyant reference's (the
    best predictions there can be): 79 % of EO/IR bearings in birds-only,
    while pairs clearing a 3-nat margin were right in every case. Mean GOSPA
    (m), unambiguous → margin 3: night-swarm 58.3 → 57.5, airport-mixed
    (300 s) 81.5 → 80.9, birds-only (300 s) 100.2 → 99.0, dense-swarm (100
    drones, 120 s) 470.0 → 470.0; margin 1: night-swarm 62.7 (wrong pairs
    start to get through); plain GNN: birds-only 84.7 but twice the missed
    and four times the false-track GOSPA parts, airport-mixed 81.2."""
    bearing_margin: float = 3.0
    """bearing_update="margin": the margin Δ in nats (natural-log likelihood
    ratio) by which a bearing pair must beat each competing pair."""

    radar_update: Literal["ekf", "ekf2", "ukf", "converted"] = "ekf2"
    """The radar plot update (radar_filters.py), for GNN tracks and each IMM
    mode (JPDA's PDA update is first order): "ekf2" the EKF plus the
    second-order (curvature) terms of range and range rate; "ekf" first order
    only; "ukf" unscented; "converted" unbiased converted position then a
    scalar range-rate EKF. bench/radar_filters.py (seeded Monte Carlo, 1–15 km):
    equal RMSE for all four; at 10–15 km the plain EKF's NEES is 3–8 % high
    (outside the 1000-run χ² band) from the curvature it leaves out, while
    ekf2's and the UKF's stay inside; ekf2 costs 1.1–1.2× the EKF per update,
    the UKF 2–2.5×."""

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
    history_length: int = 32
    """K: how many of its latest updates each track keeps, as (time, ENU position
    and velocity) in a fixed ring buffer (the trail, bank.py), for the UI's trail
    and swarm detection; one entry per instant the track was updated (sensors
    reporting at the same time share one). 32 is half a minute of a 1 Hz radar
    track, 56 bytes an entry (1.8 kB a track). Fixed, so memory is bounded by the
    number of live tracks however long the tracker runs; 0 keeps no trail."""
    merge_d2: float = 0.0
    """Two tracks whose 6-D states differ by less than this squared Mahalanobis
    distance (under the sum of their covariances) are the same object: the
    younger is deleted. 0 (the default) turns merging off: initiation already
    skips plots inside any track's gate, and on bird flocks merging deleted
    real tracks (airport-mixed: missed-target GOSPA part 21909 with 4.0,
    5083 with 0)."""
    merge_radius_m: float = 100.0
    """Only tracks closer than this (m) are tested for duplicates."""
    reacquire: bool = True
    """Continuation (manager.Reacquirer): a newly confirmed track that has taken
    over the target of a confirmed track that lost it (deleted lately, or
    alive with a run of misses its own detection record makes improbable)
    carries on that track's id. A turn the IMM does not follow (combined-
    estimate gating) breaks a track: the turn's reports start a new track that
    is confirmed while the old one coasts, and the target was shown under a
    new id (a 1 g turn: 8 of 8 seeded runs; in night-swarm, drones turning
    into their dive 1.6–1.9 km out); with this, 8 of 8 keep their id."""
    reacquire_max_sigma_m: float = 100.0
    """A deleted confirmed track is remembered for continuation only while its
    predicted position σ (√trace, m) stays under this. Tracks lost 8–10 km out
    in night-swarm (3–5 plots each) are 180–500 m uncertain seconds later, as
    far as the drones are apart: remembered up to 500 m, 8 of 17 continuations
    went to the wrong drone; up to 250 m, 1 of 4."""
    jpda_merge_d2: float = 0.25
    """Under JPDA, tracks that share reports are pulled onto each other and then
    stay together (coalescence): two tracks that gate a common report and whose
    6-D states differ by less than this squared Mahalanobis distance are merged
    by the rule of :attr:`merge_d2` (see jpda.coalesced); 0 turns it off.
    GOSPA airport-mixed, birds-only: off 201.2, 257.4 (false-track parts 26027,
    41929); 0.1: 149.1, 193.3; 0.25: 151.6, 195.2; 0.5: 156.7, 199.6; 1.0:
    164.5, 210.1 (real flock tracks merged); with the spawn limit at 0.8,
    0.1 and 0.25 tie (146.6, 190.7 and 147.1, 190.6) and 0.25 switched IDs
    less (jpda.SPAWN_MAX_PROBABILITY)."""
    miss_sensor_types: tuple[str, ...] = ("radar",)
    """Sensor types whose scans count as detection opportunities: a covered
    track they do not detect gets a miss. Passive sensors hear only some
    targets, so their silence is no evidence."""
    initiating_sensor_types: tuple[str, ...] = ("radar", "adsb", "remote_id")
    """Sensor types whose unassociated reports start tracks on their own (a
    bearing alone cannot: see passive_initiation)."""

    # ------------------------------------------------------- passive initiation
    passive_initiation: bool = True
    """Start tracks where spare bearings of two or more passive sensors (RF,
    acoustic, EO/IR) cross: triangulation with gating and ghost suppression
    (triangulation.py, passive_initiator.py), for targets no radar sees."""
    passive_window_s: float = 1.5
    """How long a spare bearing waits for bearings of other sensors (s). The
    fix allows for the target moving up to max_speed_mps between them."""
    passive_min_crossing_angle_deg: float = 3.0
    """Rays crossing at a smaller angle fix nothing (degenerate geometry)."""
    passive_prior_height_m: float = 100.0
    passive_prior_height_sigma_m: float = 100.0
    """Height prior N(h, σ²) (ENU up, m) of a fix from azimuth-only bearings."""
    passive_max_position_sigma_m: float = 250.0
    """A fix whose position σ (√trace of its covariance, m) is larger starts nothing."""
    passive_confirm_m: int = 4
    passive_confirm_n: int = 6
    """M of N for tracks started by triangulation, over their detection
    opportunities (radar scans, and passive scans that could hear them)."""
    passive_miss_sensor_types: tuple[str, ...] = ("eoir",)
    """Passive sensor types that see every kind of target they cover: their
    scans are opportunities for every tentative passive track they cover.
    Others (RF: only drones with a live link; acoustic: no birds) count only
    for tracks they have already reported."""

    # --------------------------------------------------------- cooperative
    coop_jump_min_m: float = 100.0
    """A cooperative report outside its track's gate restarts the track on it; it is
    recorded as a *jump* (bank.t_coop_jump_s, evidence that the broadcast lies, see
    assess/trust.py) only when it is also this far (m) from the predicted position.
    The gate alone is not enough: a Remote ID track is known to ~2 m, and a drone
    climbing away from its take-off left the 0.999 gate (airport-mixed hobby-1),
    a few metres off, not hundreds like a displaced broadcast (636 m in spoofing)."""
    cooperative_max_alt_m: float = 15000.0
    cooperative_max_speed_mps: float = 300.0
    """Extent of the cooperative measurement space (altitude, speed) over which
    false reports are spread for the clutter density."""

    # --------------------------------------------------------- classification
    evidence: EvidenceParams = field(default_factory=EvidenceParams)
    """The class evidence models: what each report and each second of flight says
    a track is (evidence.py)."""

    def __post_init__(self) -> None:
        if not 0 < self.confirm_m <= self.confirm_n <= 31:
            raise ValueError("need 0 < confirm_m <= confirm_n <= 31")
        if not 0 < self.gate_probability < 1:
            raise ValueError("gate_probability must be in (0, 1)")
        if self.max_speed_mps <= 0 or self.accel_noise_psd_m2ps3 < 0:
            raise ValueError("max_speed_mps must be > 0 and accel noise >= 0")
        if self.history_length < 0:
            raise ValueError("history_length must be >= 0")
        self._check_imm()
        self._check_passive()

    def _check_passive(self) -> None:
        if not 0 < self.passive_confirm_m <= self.passive_confirm_n <= 31:
            raise ValueError("need 0 < passive_confirm_m <= passive_confirm_n <= 31")
        if self.passive_window_s <= 0 or self.passive_prior_height_sigma_m <= 0:
            raise ValueError("passive_window_s and passive_prior_height_sigma_m must be > 0")

    def _check_imm(self) -> None:
        modes = (self.imm_accel_noise_psd_m2ps3, self.imm_vertical_accel_noise_psd_m2ps3,
                 self.imm_sojourn_s, self.imm_initial_mode_prob)
        if len({len(m) for m in modes}) != 1 or not modes[0]:
            raise ValueError("the imm_* parameters need one value per mode, at least one mode")
        if min(self.imm_accel_noise_psd_m2ps3 + self.imm_vertical_accel_noise_psd_m2ps3) < 0:
            raise ValueError("imm acceleration PSDs must be >= 0")
        if min(self.imm_sojourn_s) <= 0:
            raise ValueError("imm_sojourn_s must be > 0")
        if min(self.imm_initial_mode_prob) < 0 or abs(sum(self.imm_initial_mode_prob) - 1) > 1e-9:
            raise ValueError("imm_initial_mode_prob must be >= 0 and sum to 1")
