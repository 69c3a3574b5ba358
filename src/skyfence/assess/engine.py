"""The assessment stage: confirmed tracks at one tick → class, trust, swarms, zones,
threat and alerts.

One :class:`Assessor` per run (offline ``skyfence track``, live or replay).
Each output tick it takes the tracker's confirmed tracks predicted to the
tick (a :class:`~skyfence.tracker.bank.TrackBank` copy) and the number of
reports each sensor made since the previous tick, and answers a
:class:`TickAssessment`; the alerts that ended are handed over by
:meth:`Assessor.pop_ended` (each once) and the rest by
:meth:`Assessor.close_all` at the end. It reads the tracks and never changes
them, and imports no I/O.

Order within a tick: class (the tracker's evidence ledger, evidence.py) →
cooperative trust (trust.py) → zones (predicted entry, zones.py) → swarms
(drone-like tracks, swarm.py) → threat (threat.py) → alert rules
(alerts.py) with sensor health (sensor_health.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from skyfence.assess.alerts import Alert, AlertEngine, AlertParams, TrackConditions
from skyfence.assess.sensor_health import (
    SensorHealth,
    SensorHealthMonitor,
    SensorHealthParams,
)
from skyfence.assess.swarm import SwarmParams, Swarms, SwarmTracker, swarm_eligible
from skyfence.assess.threat import ThreatParams, threat_scores
from skyfence.assess.trust import Trust, TrustParams, assess_trust
from skyfence.assess.zones import ZoneAssessment, ZoneParams, assess_zones
from skyfence.scenario.model import Zone
from skyfence.tracker.bank import TrackBank
from skyfence.tracker.base import BoolArray, FloatArray, IntArray
from skyfence.tracker.evidence import HYPOTHESES, EvidenceParams
from skyfence.tracker.sensors import SensorSpec

_DRONE, _UNKNOWN = HYPOTHESES.index("drone"), HYPOTHESES.index("unknown")
_POPCOUNT8 = np.array([bin(b).count("1") for b in range(256)], dtype=np.int64)


def popcount(values: IntArray) -> IntArray:
    """(N,) the number of set bits of each non-negative int64, by a byte table
    (``np.bitwise_count`` needs NumPy 2)."""
    octets = np.ascontiguousarray(values, dtype=np.int64).view(np.uint8).reshape(-1, 8)
    out: IntArray = _POPCOUNT8[octets].sum(axis=1)
    return out


@dataclass(frozen=True, slots=True)
class AssessParams:
    alerts: AlertParams = field(default_factory=AlertParams)
    swarm: SwarmParams = field(default_factory=SwarmParams)
    threat: ThreatParams = field(default_factory=ThreatParams)
    trust: TrustParams = field(default_factory=TrustParams)
    health: SensorHealthParams = field(default_factory=SensorHealthParams)
    drone_alert_probability: float = 0.8
    """A track counts as a drone for the alert rules once P(drone) reaches this
    (its reported class is the most probable hypothesis, whatever this says). A
    new track's first seconds of evidence are thin: on birds-only, tracks on
    clutter and birds reached P(drone) 0.4–0.7 in their first 1–6 s as the
    argmax; at 0.8 none did, while every drone in night-swarm, airport-mixed and
    spoofing still passed it. A track whose broadcast is suspect is not a drone
    for the zone rules either: its position is the broadcast's, which the sensors
    contradict (it raises its own suspect-broadcast alert; a real drone behind a
    lying broadcast has a track of its own from the sensors)."""
    drone_dwell_s: float = 10.0
    """...and has stayed at or above it this long (s): a decision that holds, not a
    few lucky seconds. On birds-only and airport-mixed the only bird or false
    tracks that passed 0.8 did so for 2–14 s (tracks that jumped between birds
    in a flock, and so seemed fast); the night-swarm drones pass it minutes
    before they reach the base."""
    monitor_min_expected: float = 10.0
    """A sensor's health is judged only when it is expected to report at least this
    many times in ``silent_periods`` periods from clutter alone (clutter_per_scan ×
    silent_periods): a sensor that is often quiet when healthy (an RF detector
    with 0.1 false reports per scan) says nothing by being quiet."""
    entry_samples: int = 0
    """ZoneParams.entry_samples: 0, the normal approximation of P(enter within the
    horizon) — the sampled estimate costs ~0.1 ms per track and zone, too much at
    a thousand tracks every second; entry *times*, which the alert rules use,
    are exact either way."""


@dataclass(frozen=True, slots=True)
class TickAssessment:
    """Per confirmed track (rows of the bank it was made from) at one tick."""

    t_s: float
    class_prob: FloatArray  # (N, 4) drone, bird, aircraft, unknown
    class_index: IntArray  # (N,) argmax of class_prob, into HYPOTHESES
    trust: Trust
    threat: FloatArray  # (N,) in [0, 1]
    swarm_id: IntArray  # (N,) −1: none
    swarms: Swarms
    started: list[Alert]
    zones: ZoneAssessment  # (N, Z) inside, predicted entry time and its sigma, closest approach


class Assessor:
    """Situation assessment over a run (module doc)."""

    def __init__(self, specs: Sequence[SensorSpec], zones: Sequence[Zone],
                 evidence_params: EvidenceParams | None = None,
                 params: AssessParams | None = None) -> None:
        self.params = params or AssessParams()
        self.evidence_params = evidence_params or EvidenceParams()
        self.specs = list(specs)
        self.zones = list(zones)
        self._radars = [s for s in self.specs if s.type == "radar"]
        horizon = self.params.alerts.horizon_s * self.params.alerts.horizon_end_factor
        self._zone_params = ZoneParams(horizon_s=horizon, entry_samples=self.params.entry_samples)
        self.swarms = SwarmTracker(self.params.swarm)
        self.alerts = AlertEngine([(z.name, z.level) for z in self.zones], self.params.alerts)
        # tracks at P(drone) ≥ threshold: ids (sorted) and since when
        self._drone_ids = np.zeros(0, dtype=np.int64)
        self._drone_since = np.zeros(0, dtype=np.float64)
        self.health = SensorHealthMonitor(
            [s.id for s in self.specs], [s.period_s for s in self.specs],
            monitored=[s.clutter_per_scan * self.params.health.silent_periods
                       >= self.params.monitor_min_expected for s in self.specs],
            params=self.params.health)
        self.last_health: SensorHealth | None = None  # the latest tick's, for the live picture

    def assess(self, t_s: float, bank: TrackBank, reports: IntArray,
               reported_faults: Collection[str] = ()) -> TickAssessment:
        """The tick at ``t_s``: ``bank`` the confirmed tracks predicted to it,
        ``reports`` (len(specs),) the reports of each sensor since the last tick,
        ``reported_faults`` the sensors that say they have failed (a sensor alert)."""
        prob = bank.class_probabilities(self.evidence_params)
        best = np.argmax(prob, axis=1) if len(bank) else np.zeros(0, dtype=np.int64)
        cooperative = bank.has_identity()
        trust = self._trust(t_s, bank, cooperative)
        zones = assess_zones(bank.x, bank.P, self.zones, self._zone_params)
        swarms = self.swarms.update(t_s, bank.id, bank.x,
                                    swarm_eligible(np.ones(len(bank), dtype=np.bool_), prob,
                                                   self.params.swarm))
        in_swarm = swarms.swarm_of_track >= 0
        threat = threat_scores(bank.x, prob, cooperative, trust.suspect, zones, in_swarm,
                               self.params.threat)
        conditions = TrackConditions.build(
            bank.id, len(self.zones), position_enu_m=bank.x[:, :3],
            is_drone=self._drone_decision(t_s, bank.id, prob) & ~trust.suspect,
            # "unknown" to the rules (what holds an alert once raised): anything not yet a
            # firm drone whose best hypothesis is drone or unknown
            is_unknown=(best == _UNKNOWN) | (best == _DRONE), cooperative=cooperative,
            suspect=trust.suspect, inside_zone=zones.inside,
            entry_time_s=zones.time_to_enter_s, swarm_id=swarms.swarm_of_track)
        self.last_health = self.health.observe(t_s, reports)
        if reported_faults:
            self.last_health = self.last_health.with_reported_faults(reported_faults)
        changes = self.alerts.update(t_s, conditions, self.last_health)
        return TickAssessment(t_s, prob, np.asarray(best, dtype=np.int64), trust, threat.score,
                              swarms.swarm_of_track, swarms, changes.started, zones)

    def _drone_decision(self, t_s: float, track_id: IntArray, prob: FloatArray) -> BoolArray:
        """(N,) P(drone) ≥ drone_alert_probability for at least drone_dwell_s."""
        p = self.params
        now = prob[:, _DRONE] >= p.drone_alert_probability
        ids = np.asarray(track_id, dtype=np.int64)[now]
        known = self._drone_ids
        at = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
        found = known[at] == ids if len(known) else np.zeros(len(ids), dtype=np.bool_)
        since = np.where(found, self._drone_since[at] if len(known) else t_s, t_s)
        order = np.argsort(ids, kind="stable")
        # tracks gone or below the threshold are forgotten
        self._drone_ids, self._drone_since = ids[order], since[order]
        held = np.zeros(len(now), dtype=np.bool_)
        held[now] = t_s - since >= p.drone_dwell_s
        return held

    def reconfigure(self, params: AssessParams) -> None:
        """Assess by ``params`` from the next :meth:`assess` on (between ticks): the alert
        rules' thresholds and debounce counts (:meth:`AlertEngine.reconfigure`), the
        zone prediction horizon and every parameter read at each tick (threat, trust,
        the drone decision, swarm eligibility). The swarm tracker's grouping and the
        sensor-health monitor keep the parameters they were built with. Active alerts
        stay active."""
        a = params.alerts
        self.params = params
        self._zone_params = ZoneParams(horizon_s=a.horizon_s * a.horizon_end_factor,
                                       entry_samples=params.entry_samples)
        self.alerts.reconfigure(a)

    def restore_drone_dwell(self, track_ids: npt.ArrayLike, since_s: npt.ArrayLike) -> None:
        """Carry on the drone decision's dwell (a restart from the event store): track
        ``track_ids[i]`` has been at P(drone) ≥ ``drone_alert_probability`` since
        ``since_s[i]``, in place of what this assessor knew. A track the next tick
        finds below the threshold is forgotten as usual."""
        ids = np.asarray(track_ids, dtype=np.int64).reshape(-1)
        since = np.asarray(since_s, dtype=np.float64).reshape(-1)
        if ids.shape != since.shape:
            raise ValueError(f"{len(ids)} track ids but {len(since)} times")
        order = np.argsort(ids, kind="stable")
        self._drone_ids, self._drone_since = ids[order], since[order]

    def pop_ended(self) -> list[Alert]:
        """Alerts that ended since the last call (each handed over once)."""
        return self.alerts.pop_ended()

    def close_all(self, t_s: float) -> list[Alert]:
        """End every active alert at ``t_s``; every ended alert not yet handed over."""
        return self.alerts.close_all(t_s)

    def _trust(self, t_s: float, bank: TrackBank, cooperative: BoolArray) -> Trust:
        """Cooperative trust (trust.py) from the tracks' radar records."""
        window = self.params.trust.window
        n = np.minimum(bank.opportunities, window)
        mask = (np.int64(1) << n) - 1
        hits = popcount(bank.history & mask)
        return assess_trust(t_s, cooperative, hits, n, self._radar_pd(bank, cooperative),
                            bank.t_coop_jump_s, self.params.trust)

    def _radar_pd(self, bank: TrackBank, which: BoolArray) -> FloatArray:
        """(N,) nominal P_D of the best radar that covers each track well (0: none)."""
        pd = np.zeros(len(bank))
        rows = np.flatnonzero(which)
        if rows.size == 0:
            return pd
        frac = self.params.trust.judge_range_fraction
        for radar in self._radars:
            x = bank.x[rows]
            near = np.linalg.norm(x[:, :3] - np.asarray(radar.position_enu_m), axis=1)
            good = radar.covers(x) & (near <= frac * radar.max_range_m)
            pd[rows[good]] = np.maximum(pd[rows[good]], radar.pd)
        return pd
