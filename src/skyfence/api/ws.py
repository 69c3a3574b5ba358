"""WebSocket ``/ws``: the hub's snapshot, then one delta per tick, as JSON text.

Auth by ``Authorization: Bearer TOKEN`` or ``?token=``; a refused socket is
accepted and closed at once with code 4401 (no or unknown token). A client
too slow to keep up is sent a fresh snapshot (``type: "snapshot"``) and
continues from it. Messages from the client are read and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections import deque
from typing import Any

import msgspec
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from skyfence.api.auth import token_from_header
from skyfence.api.state import ApiState
from skyfence.live.hub import Record, Snapshot

log = logging.getLogger(__name__)
router = APIRouter()

CLOSE_UNAUTHORISED = 4401


def _plain(value: Any) -> Any:
    """JSON-safe: non-finite floats become null, NumPy scalars/arrays plain values."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    return value


def _numpy_hook(value: Any) -> Any:
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return value.tolist()
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


_ENCODER = msgspec.json.Encoder(enc_hook=_numpy_hook)


def encode(message: Record) -> str:
    """Compact JSON text; non-finite floats become null (msgspec's rule).

    msgspec, not the standard library: a 1000-track delta (3 MB of JSON) took
    173 ms with ``json.dumps`` — which refuses NaN, so every message with one
    took the slow :func:`_plain` walk — and 8 ms here, and WebSocket delivery
    was half the live system's end-to-end latency (bench/live_latency.py)."""
    try:
        return _ENCODER.encode(message).decode()
    except (TypeError, NotImplementedError, msgspec.EncodeError):
        return json.dumps(_plain(message), allow_nan=False, separators=(",", ":"))


class _Encoded:
    """The text of the last few messages sent: every subscriber gets the same delta
    object from the hub, so it is encoded once, not once per WebSocket."""

    def __init__(self, keep: int = 4) -> None:
        self._recent: deque[tuple[Record, str]] = deque(maxlen=keep)

    def text(self, message: Record) -> str:
        for held, text in self._recent:
            if held is message:  # identity: the hub never changes a published message
                return text
        text = encode(message)
        self._recent.append((message, text))
        return text


_encoded = _Encoded()


async def _pump(ws: WebSocket, state: ApiState) -> None:
    hub = state.hub
    first = None if hub.latest is not None else Snapshot(t_s=math.nan).message()
    queue = hub.subscribe()  # no await since checking latest: nothing slips in between
    try:
        if first is not None:
            first["t"] = None
            await ws.send_text(encode(first))
        while True:
            message = await queue.get()
            if message.get("type") == "dropped":
                hub.unsubscribe(queue)
                queue = hub.subscribe()  # begins with a fresh snapshot
                continue
            await ws.send_text(_encoded.text(message))
    finally:
        hub.unsubscribe(queue)


async def _listen(ws: WebSocket) -> None:
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return


@router.websocket("/ws")
async def feed(ws: WebSocket) -> None:
    state: ApiState = ws.app.state.skyfence
    token = ws.query_params.get("token") or token_from_header(ws.headers.get("authorization"))
    await ws.accept()
    if state.tokens.lookup(token) is None:
        state.rejected += 1
        reason = "missing token" if not token else "unknown token"
        await ws.close(code=CLOSE_UNAUTHORISED, reason=reason)
        return
    tasks = {asyncio.create_task(_pump(ws, state)), asyncio.create_task(_listen(ws))}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
    for task in done:
        exc = task.exception() if not task.cancelled() else None
        if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
            log.error("WebSocket feed failed", exc_info=exc)
