"""What every simulated sensor model offers the simulation engine and the scorer.

A sensor model turns the truth at one instant (a :class:`Snapshot` of every
target, as arrays) into the measurement records of one report period. It is
vectorised over targets: no Python loop per target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from skyfence.scenario.model import Origin, SensorBase

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TargetAttributes:
    """Static per-target attributes, index-aligned with :class:`Snapshot` arrays."""

    ids: list[str]
    kind: npt.NDArray[np.str_]  # 'drone' | 'bird' | 'aircraft'
    rcs_dbsm: FloatArray  # mean RCS (Swerling-1 fluctuates around it)
    rf_link: BoolArray  # True: an RF control link is on (RF detectors hear it)
    emitter: list[str]  # RF emitter type heard by RF detectors
    adsb: BoolArray  # True: broadcasts ADS-B
    icao: list[str | None]  # 24-bit address, 6 hex digits
    callsign: list[str | None]
    remote_id: BoolArray  # True: broadcasts Remote ID
    uas_id: list[str | None]
    operator_enu_m: FloatArray  # (N, 3); NaN where no Remote ID
    # False: nothing is there, only its broadcasts (a phantom); None: all physical
    physical: BoolArray | None = None
    # (N, 3) added to the broadcast position from spoof_start_s[i] on; None: no spoofing
    spoof_offset_enu_m: FloatArray | None = None
    spoof_start_s: FloatArray | None = None  # (N,); +inf where never spoofed

    def __len__(self) -> int:
        return len(self.ids)

    def physical_mask(self) -> BoolArray:
        """(N,) True where a target is really there (radar, RF, sound, light see it)."""
        if self.physical is None:
            return np.ones(len(self), dtype=bool)
        return self.physical

    def broadcast_offset_m(self, t_s: float) -> FloatArray:
        """(N, 3) what each target's broadcast adds to its true position at ``t_s``."""
        if self.spoof_offset_enu_m is None or self.spoof_start_s is None:
            return np.zeros((len(self), 3))
        on = self.spoof_start_s <= t_s + 1e-9
        out: FloatArray = np.where(on[:, None], self.spoof_offset_enu_m, 0.0)
        return out


@dataclass(frozen=True)
class Snapshot:
    """Truth of every target at time ``t_s``; inactive targets are not in the air."""

    t_s: float
    pos_enu_m: FloatArray  # (N, 3)
    vel_enu_mps: FloatArray  # (N, 3)
    active: BoolArray  # (N,)


@dataclass
class ScanOutput:
    """The records of one report; ``target_index[i]`` made ``records[i]`` (-1: clutter).

    Records are JSON-ready dicts in the key order of DESIGN.md's contract,
    already shuffled so that their order says nothing about the truth.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    target_index: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


class SensorModel(Protocol):
    @property
    def config(self) -> SensorBase:
        """The sensor's settings from the scenario file."""
        ...

    def detection_probability(self, snap: Snapshot, targets: TargetAttributes) -> FloatArray:
        """(N,) probability that each target is reported this period; 0 where it
        cannot be (inactive, out of range or field of view, below the horizon,
        a kind or emission this sensor does not sense). Deterministic."""
        ...

    def scan(
        self, snap: Snapshot, targets: TargetAttributes, rng: np.random.Generator
    ) -> ScanOutput:
        """One report period's measurements: detections plus clutter, shuffled."""
        ...


SensorFactory = type[SensorModel]


def sensor_position(config: SensorBase) -> FloatArray:
    return np.asarray(config.position_enu_m, dtype=np.float64)


def origin_tuple(origin: Origin) -> tuple[float, float, float]:
    return (origin.lat, origin.lon, origin.alt_m)
