"""The recorded picture for the operator page's time bar (docs/api.md, "History").

``GET /api/history/range`` says which span of time the event store holds;
``GET /api/history/snapshot?t=T`` answers the picture at the newest stored tick
at or before ``T`` in the shape of the WebSocket's ``snapshot`` message, so the
page draws a past tick with the code that draws the live one. Alerts are shown
as they stood at that tick (an alert that ended, or was acknowledged, later is
shown active and unacknowledged); ``trails`` hold each track's recorded
positions of the 32 s up to the tick.

Reads need the viewer role; without an event store (or with one that keeps no
ticks) both answer 503.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from skyfence.api.auth import require, state_of
from skyfence.api.models import AlertOut, ErrorOut, SensorHealthOut, SwarmOut, TrackOut
from skyfence.api.state import ApiState
from skyfence.api.tokens import Principal
from skyfence.live.hub import Record, Snapshot

TRAIL_S = 32.0  # seconds of recorded positions behind each track
TRAIL_POINTS = 32  # the most points a trail keeps (the live page keeps as many)

State = Annotated[ApiState, Depends(state_of)]
Viewer = Annotated[Principal, Depends(require("viewer"))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 403, 404, 422, 503)}
router = APIRouter(prefix="/api/history", tags=["history"], responses=_ERRORS)


class PictureHistory(Protocol):
    """What these endpoints read from the event store (skyfence.store.EventStore)."""

    def tick_span(self) -> tuple[float, float] | None: ...

    def snapshot_at(self, t: float) -> Snapshot | None: ...

    def track_states(self, t_from: float, t_to: float) -> list[Record]: ...


class HistoryRange(BaseModel):
    """The stored span: the first and the last stored tick (null: nothing stored yet)."""

    t_first: float | None
    t_last: float | None


class HistorySnapshot(BaseModel):
    """The picture at one stored tick, shaped as the WebSocket's snapshot message."""

    type: Literal["snapshot"] = "snapshot"
    t: float
    tracks: list[TrackOut]
    swarms: list[SwarmOut]
    alerts: list[AlertOut]
    health: list[SensorHealthOut]
    trails: dict[str, list[list[float]]]


def _store(state: ApiState) -> PictureHistory:
    store: Any = state.history
    if store is None:
        raise HTTPException(503, "no event store: this service keeps no history")
    if not all(hasattr(store, m) for m in ("tick_span", "snapshot_at", "track_states")):
        raise HTTPException(503, "this event store keeps no recorded picture")
    return store  # type: ignore[no-any-return]


def _trails(store: PictureHistory, t0: float, track_ids: list[int]) -> dict[str, list[list[float]]]:
    """Each track's recorded ``[t, e, n, u]`` in ``[t0 - 32 s, t0]``, oldest first
    (one query: every track record of the span, by time)."""
    wanted = set(track_ids)
    out: dict[str, list[list[float]]] = {}
    positions = getattr(store, "track_positions", None)  # the event store: SQL does it
    if positions is not None:
        for t, tid, e, n, u in positions(t0 - TRAIL_S, t0):
            if tid in wanted:
                out.setdefault(str(tid), []).append([t, e, n, u])
    else:
        for r in store.track_states(t0 - TRAIL_S, t0):
            tid = int(r["track_id"])
            if tid in wanted:
                e, n, u = r["enu_m"][:3]
                out.setdefault(str(tid), []).append([float(r["t"]), e, n, u])
    return {k: v[-TRAIL_POINTS:] for k, v in out.items()}


def _as_then(alert: Record, t0: float) -> Record:
    """``alert`` as it stood at ``t0``: not yet ended, not yet acknowledged if either
    happened later (the store keeps only an alert's latest version)."""
    out = dict(alert)
    if out.get("t_end") is not None and float(out["t_end"]) > t0:
        out["t_end"] = None
    if out.get("t_ack") is not None and float(out["t_ack"]) > t0:
        out["acked_by"], out["t_ack"] = None, None
    return out


def picture_at(store: PictureHistory, t: float, trails: bool = True) -> Record | None:
    """The snapshot message of the newest stored tick at or before ``t`` (module doc);
    None when nothing is stored that early. ``trails=False``: an empty ``trails``."""
    snap = store.snapshot_at(t)
    if snap is None:
        return None
    t0 = float(snap.t_s)
    tracks = [{k: v for k, v in r.items() if k != "trail"} for r in snap.tracks.values()]
    return {"type": "snapshot", "t": t0, "tracks": tracks, "swarms": list(snap.swarms.values()),
            "alerts": [_as_then(a, t0) for a in snap.alerts.values()],
            "health": list(snap.health.values()),
            "trails": _trails(store, t0, [int(r["track_id"]) for r in tracks]) if trails else {}}


@router.get("/range", response_model=HistoryRange)
def history_range(state: State, _: Viewer) -> HistoryRange:
    span = _store(state).tick_span()
    if span is None:
        return HistoryRange(t_first=None, t_last=None)
    return HistoryRange(t_first=span[0], t_last=span[1])


@router.get("/snapshot", response_model=HistorySnapshot, response_model_exclude_unset=True)
def history_snapshot(state: State, _: Viewer,
                     t: Annotated[float, Query(allow_inf_nan=False, description=(
                         "scenario seconds: the picture at the newest stored tick at or "
                         "before t"))],
                     trails: Annotated[bool, Query(description=(
                         "false: leave trails out (a replaying client that extends the "
                         "trails it has; they cost most of the answer's time)"))] = True,
                     ) -> Record:
    store = _store(state)
    found = picture_at(store, t, trails)
    if found is None:
        span = store.tick_span()
        where = "nothing is stored yet" if span is None else f"the store begins at t={span[0]:g}"
        raise HTTPException(404, f"no stored tick at or before t={t:g}: {where}")
    return found
