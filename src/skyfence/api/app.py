"""The API's composition: :func:`create_app` wires the site, the hub, the tokens
and (optionally) the event store into one FastAPI application (docs/api.md).

Every malformed request is answered 4xx with a ``detail`` saying why, and
counted (``rejected_requests`` in ``GET /api/health``); an unexpected failure
is logged and answered 500 without internals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skyfence import __version__
from skyfence.api import routes, ws
from skyfence.api.history import router as history_router
from skyfence.api.models import ApiConfig
from skyfence.api.state import ApiState, HistorySource
from skyfence.api.tokens import Tokens
from skyfence.live.hub import Hub
from skyfence.scenario.model import Scenario

__all__ = ["HistorySource", "create_app"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"


class _CountRejected:
    """ASGI middleware: count HTTP responses with a 4xx status."""

    def __init__(self, app: ASGIApp, state: ApiState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                self.state.rejected += 1
            await send(message)

        await self.app(scope, receive, counting)


def _where(loc: tuple[int | str, ...] | list[int | str]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts) if parts else "request"


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"where": _where(e.get("loc", ())), "problem": str(e.get("msg", "invalid"))}
              for e in exc.errors()]
    detail = "; ".join(f"{e['where']}: {e['problem']}" for e in errors) or "invalid request"
    return JSONResponse({"detail": f"invalid request: {detail}", "errors": errors},
                        status_code=422)


async def _failed(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error (logged on the server)"}, status_code=500)


def create_app(site: Scenario, hub: Hub, tokens: Tokens,
               history: HistorySource | None = None, *,
               on_config: Callable[[ApiConfig], None] | None = None) -> FastAPI:
    """The live API over ``hub`` for ``site``; ``history`` (the event store) serves
    the time-range queries (else they answer 503). ``on_config`` is told of every
    accepted ``PUT /api/config`` (without it the config is only stored and echoed)."""
    state = ApiState(site=site, hub=hub, tokens=tokens, history=history, on_config=on_config)
    app = FastAPI(title="skyfence live API", version=__version__,
                  description="The live airspace picture of one site: tracks, swarms, "
                              "alerts, sensors (docs/api.md).")
    app.state.skyfence = state
    app.include_router(routes.router)
    app.include_router(history_router)
    app.include_router(ws.router)
    # the operator page (docs/live.md): plain files, no token needed to load them
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def operator_page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    handlers: dict[Any, Any] = {RequestValidationError: _invalid, Exception: _failed}
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
    app.add_middleware(_CountRejected, state=state)
    return app
