"""Pydantic shapes of what the API answers and accepts (they make /openapi.json).

Records come from the hub as plain dicts (skyfence.live.hub); the response
models name the contract's keys and let any further detail keys through
(``extra="allow"``), so the engine can add detail without breaking the API.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from skyfence.assess.alerts import AlertParams
from skyfence.assess.threat import ThreatParams
from skyfence.scenario.model import Origin, Zone


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class TrackOut(_Record):
    """A confirmed track: a tracks.jsonl line plus optional detail keys
    (``trail``, ``evidence``, ``zones``, ``swarm_id``, ``suspect``, ``operator_enu_m``)."""

    t: float
    track_id: int
    enu_m: list[float]
    vel_mps: list[float]
    pos_cov_m2: list[list[float]] | None = None
    class_: str | None = Field(default=None, alias="class")
    class_prob: dict[str, float] | None = None
    cooperative_id: str | None = None
    threat: float | None = None


class SwarmOut(_Record):
    swarm_id: int
    count: int
    members: list[int] = []
    centroid_enu_m: list[float] | None = None
    velocity_mps: list[float] | None = None
    heading_deg: float | None = None
    spread_m: float | None = None


class AlertOut(_Record):
    """An alerts.jsonl record; ``t_end`` null while active."""

    alert_id: str
    kind: str
    severity: str
    t_start: float
    t_end: float | None = None
    track_ids: list[int] = []
    swarm_id: int | None = None
    zone: str | None = None
    reason: str = ""
    acked_by: str | None = None
    t_ack: float | None = None


class SensorHealthOut(_Record):
    sensor: str
    silent: bool
    low_rate: bool
    fault: bool = False  # the sensor says it has failed (its own status message)
    recent_count: int | None = None
    expected_count: float | None = None


class SensorOut(_Record):
    """A sensor of the site file (every field it has) and its latest health."""

    id: str
    type: str
    position_enu_m: list[float]
    period_s: float
    max_range_m: float
    pd: float
    health: SensorHealthOut | None = None


class SiteOut(BaseModel):
    name: str
    origin: Origin
    zones: list[Zone]


class ServiceHealth(BaseModel):
    """``GET /api/health``: the service and the engine's last tick."""

    status: Literal["ok"] = "ok"
    t: float | None = Field(description="scenario time of the latest tick; null before the first")
    ticks: int = Field(description="snapshots the engine has published")
    tracks: int
    swarms: int
    alerts_active: int
    alerts: int
    unhealthy_sensors: list[str]
    subscribers: int
    dropped_subscribers: int
    rejected_requests: int = Field(description="requests answered 4xx, and refused WebSockets")
    history: bool = Field(description="whether history queries are served (an event store)")


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Field(max_length=2000)] | None = None


class ErrorOut(BaseModel):
    detail: str


_ALERTS = AlertParams()
_THREAT = ThreatParams()
PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Ticks = Annotated[int, Field(ge=1, le=1000)]


class AlertConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    horizon_s: PosFloat = _ALERTS.horizon_s
    horizon_end_factor: Annotated[float, Field(ge=1, le=10)] = _ALERTS.horizon_end_factor
    start_ticks: Ticks = _ALERTS.start_ticks
    end_ticks: Ticks = _ALERTS.end_ticks
    swarm_min_count: Annotated[int, Field(ge=2, le=100000)] = _ALERTS.swarm_min_count
    unknown_as_drone: bool = _ALERTS.unknown_as_drone


class ThreatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight_class: Weight = _THREAT.weight_class
    weight_identity: Weight = _THREAT.weight_identity
    weight_speed: Weight = _THREAT.weight_speed
    weight_closing: Weight = _THREAT.weight_closing
    weight_entry: Weight = _THREAT.weight_entry
    weight_inside: Weight = _THREAT.weight_inside
    weight_swarm: Weight = _THREAT.weight_swarm


class ApiConfig(BaseModel):
    """What an admin may change (``PUT /api/config`` replaces it whole)."""

    model_config = ConfigDict(extra="forbid")

    alerts: AlertConfig = AlertConfig()
    threat: ThreatConfig = ThreatConfig()


def sensor_record(sensor: BaseModel, health: dict[str, Any] | None) -> dict[str, Any]:
    return {**sensor.model_dump(mode="json"), "health": health}
