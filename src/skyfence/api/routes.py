"""REST endpoints (docs/api.md). Reads need ``viewer``, acknowledging ``operator``,
configuration ``admin``; health needs nothing."""

from __future__ import annotations

import logging
import math
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query

from skyfence.api.auth import require, state_of
from skyfence.api.models import (
    AckIn,
    AlertOut,
    ApiConfig,
    ErrorOut,
    SensorOut,
    ServiceHealth,
    SiteOut,
    SwarmOut,
    TrackOut,
    sensor_record,
)
from skyfence.api.state import ApiState, HistorySource
from skyfence.api.tokens import Principal
from skyfence.live.hub import Snapshot

log = logging.getLogger(__name__)

State = Annotated[ApiState, Depends(state_of)]
Viewer = Annotated[Principal, Depends(require("viewer"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Admin = Annotated[Principal, Depends(require("admin"))]
TFrom = Annotated[float | None, Query(alias="from", allow_inf_nan=False,
                                      description="start, scenario seconds (inclusive)")]
TTo = Annotated[float | None, Query(alias="to", allow_inf_nan=False,
                                    description="end, scenario seconds (inclusive)")]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 422)}
router = APIRouter(prefix="/api", responses=_ERRORS)


def _latest(state: ApiState) -> Snapshot:
    return state.hub.latest or Snapshot(t_s=math.nan)


def _history(state: ApiState) -> HistorySource:
    if state.history is None:
        raise HTTPException(503, "no event store: this service keeps no history")
    return state.history


def _range(t_from: float | None, t_to: float | None) -> tuple[float, float]:
    lo = -math.inf if t_from is None else t_from
    hi = math.inf if t_to is None else t_to
    if lo > hi:
        raise HTTPException(400, f"bad time range: from ({lo:g}) is after to ({hi:g})")
    return lo, hi


@router.get("/health", response_model=ServiceHealth)
def health(state: State) -> ServiceHealth:
    snap, hub = state.hub.latest, state.hub
    alerts = list(snap.alerts.values()) if snap else []
    return ServiceHealth(
        t=snap.t_s if snap else None, ticks=hub.published,
        tracks=len(snap.tracks) if snap else 0, swarms=len(snap.swarms) if snap else 0,
        alerts_active=sum(a.get("t_end") is None for a in alerts), alerts=len(alerts),
        unhealthy_sensors=sorted(h["sensor"] for h in (snap.health.values() if snap else ())
                                 if h.get("silent") or h.get("low_rate") or h.get("fault")),
        subscribers=hub.subscribers, dropped_subscribers=hub.dropped_subscribers,
        rejected_requests=state.rejected, history=state.history is not None)


@router.get("/site", response_model=SiteOut)
def site(state: State, _: Viewer) -> SiteOut:
    s = state.site
    return SiteOut(name=s.name, origin=s.site.origin, zones=s.site.zones)


@router.get("/sensors", response_model=list[SensorOut])
def sensors(state: State, _: Viewer) -> list[dict[str, Any]]:
    health = _latest(state).health
    return [sensor_record(s, health.get(s.id)) for s in state.site.sensors]


@router.get("/tracks", response_model=list[TrackOut], response_model_exclude_unset=True)
def tracks(state: State, _: Viewer,
           at: Annotated[float | None, Query(allow_inf_nan=False, description=(
               "scenario seconds: the tracks recorded then (history) instead of now"))] = None,
           ) -> list[dict[str, Any]]:
    if at is not None:
        return _history(state).tracks_at(at)
    return list(_latest(state).tracks.values())


TrackId = Annotated[int, Path(description="the track's id")]


@router.get("/tracks/{track_id}", response_model=TrackOut, response_model_exclude_unset=True)
def track(state: State, _: Viewer, track_id: TrackId) -> dict[str, Any]:
    snap = _latest(state)
    found = snap.tracks.get(track_id)
    if found is None:
        raise HTTPException(404, f"no current track {track_id}")
    trail = None if snap.trails is None else snap.trails.of(track_id)
    return found if trail is None else {**found, "trail": trail}


@router.get("/tracks/{track_id}/history", response_model=list[TrackOut],
            response_model_exclude_unset=True, responses={503: {"model": ErrorOut}})
def track_history(state: State, _: Viewer, track_id: TrackId,
                  t_from: TFrom = None, t_to: TTo = None) -> list[dict[str, Any]]:
    lo, hi = _range(t_from, t_to)
    return _history(state).track_history(track_id, lo, hi)


@router.get("/swarms", response_model=list[SwarmOut], response_model_exclude_unset=True)
def swarms(state: State, _: Viewer) -> list[dict[str, Any]]:
    return list(_latest(state).swarms.values())


@router.get("/alerts", response_model=list[AlertOut], response_model_exclude_unset=True,
            responses={503: {"model": ErrorOut}})
def alerts(state: State, _: Viewer, t_from: TFrom = None,
           t_to: TTo = None) -> list[dict[str, Any]]:
    if t_from is None and t_to is None:
        return list(_latest(state).alerts.values())
    lo, hi = _range(t_from, t_to)
    return _history(state).alerts(lo, hi)


@router.post("/alerts/{alert_id}/ack", response_model=AlertOut,
             response_model_exclude_unset=True, responses={409: {"model": ErrorOut}})
def ack(state: State, who: Operator,
        alert_id: Annotated[str, Path(min_length=1, max_length=200)],
        body: Annotated[AckIn | None, Body()] = None) -> dict[str, Any]:
    t_s = state.hub.latest.t_s if state.hub.latest else 0.0
    try:
        record = state.hub.ack(alert_id, who.name, t_s)
    except LookupError as exc:
        raise HTTPException(404, f"no alert {alert_id!r} to acknowledge") from exc
    except ValueError as exc:
        raise HTTPException(409, f"cannot acknowledge {alert_id!r}: {exc}") from exc
    note = body.note if body else None
    log.info("alert %s acknowledged by %s at t=%.1f%s", alert_id, who.name, t_s,
             f": {note}" if note else "")
    return record


@router.get("/config", response_model=ApiConfig)
def get_config(state: State, _: Admin) -> ApiConfig:
    return state.config


@router.put("/config", response_model=ApiConfig)
def put_config(state: State, who: Admin, config: ApiConfig) -> ApiConfig:
    """Replace the configuration; the running engine applies it from its next tick
    (``on_config``). A configuration the assessment refuses (e.g. threat weights
    that do not sum to 1) is answered 422 and changes nothing."""
    if state.on_config is not None:
        try:
            state.on_config(config)
        except ValueError as exc:
            raise HTTPException(422, f"configuration refused: {exc}") from exc
    state.config = config
    log.info("configuration replaced by %s", who.name)
    return config
