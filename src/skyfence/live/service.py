"""The live service's composition root: the one place that wires a running site.

``skyfence run`` and ``skyfence demo`` both build a :class:`LiveService` from
:class:`LiveSettings` and call :meth:`LiveService.serve`. It opens the event
store, builds the engine and the hub, carries on from what the store already
holds (live/restart.py), records the site and settings in the store's meta
(for reports and replay), applies a stored admin configuration, builds the
API, and then runs the engine beside uvicorn until the source ends (a timed
or headless run), or until SIGINT/SIGTERM — a clean stop: the tick in hand
is finished, the store flushed and closed, exit code 0.

Nothing here computes anything: the engine, the API and the store do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from skyfence.api.tokens import Tokens
from skyfence.live.engine import LiveEngine, Source, quiet_gc
from skyfence.live.feeds import LiveFeeds
from skyfence.live.hub import Hub, Snapshot
from skyfence.live.sources import Pacer, SimulatedSource
from skyfence.scenario import Scenario
from skyfence.store import open_store


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class LiveSettings:
    """What a live run needs; the command line fills it (cli.cmd_run, demo)."""

    site: Scenario
    source: Source | None  # None: the site's live feeds (``sources``) or else the simulator
    store_url: str
    pacer: Pacer = field(default_factory=lambda: Pacer(1.0))
    output_period_s: float = 1.0
    reorder_window_s: float = 0.5
    retain_s: float | None = None
    warm_up_s: float = 30.0
    duration_s: float | None = None  # scenario seconds, then stop
    tokens: Tokens | None = None  # None: headless (no API)
    host: str = "127.0.0.1"
    port: int = 8000
    on_tick: Callable[[Snapshot], None] | None = None
    say: Callable[[str], None] = _stderr


class LiveService:
    """Store, engine, hub and API for one live run (module doc)."""

    def __init__(self, settings: LiveSettings) -> None:
        self.settings = s = settings
        self.store = open_store(s.store_url, retain_s=s.retain_s)
        self.feeds: LiveFeeds | None = None
        self._resumed_after_s: float | None = None
        live = s.source is None and bool(s.site.sources)  # the site's own feeds
        try:
            if s.source is None and not live:
                s.source = SimulatedSource(s.site)
            self.engine = LiveEngine(s.site, output_period_s=s.output_period_s,
                                     reorder_window_s=s.reorder_window_s, sink=self.store)
            self.hub = Hub(on_ack=self.engine.ack)
            config = self._resume()
            if live or s.site.outputs:
                self.feeds = LiveFeeds(s.site, self._epoch_utc_s(live))
                self.engine.reported_health = self.feeds.reported_health
            if live:
                assert self.feeds is not None
                s.source = self.feeds.source
                s.pacer = Pacer(1.0)  # live data come at the speed of the world
            self._record_run()
            self.app = None if s.tokens is None else self._app(config)
        except BaseException:
            self.store.close()
            raise

    # ------------------------------------------------------------ set-up
    def _epoch_utc_s(self, live: bool) -> float:
        """UTC of t = 0. Live feeds: kept in the store (meta ``epoch_utc_s``) so a
        restarted run goes on with the same clock; first set to midnight UTC today.
        A simulated or recorded source (outputs only): now minus where the run
        starts, so what the outputs send is stamped with the time it is sent (at 1×)."""
        if not live:
            return time.time() - (self._resumed_after_s or 0.0)
        text = self.store.get_meta("epoch_utc_s")
        if text is not None:
            return float(text)
        now = time.time()
        epoch = now - now % 86400.0
        self.store.set_meta("epoch_utc_s", repr(epoch))
        return epoch

    def _resume(self) -> Any:
        """A store that holds ticks: carry on after its last, the stored picture
        published, the stored admin configuration applied (returned, or None)."""
        from skyfence.live.restart import resume

        s, store = self.settings, self.store
        resumed = resume(self.engine, store, s.warm_up_s)
        if resumed is not None:
            self._resumed_after_s = resumed.after_s
            if hasattr(s.source, "after_s"):  # the simulator or a file: skip what is stored
                setattr(s.source, "after_s", resumed.after_s)  # noqa: B010
            snap = store.snapshot_at(resumed.after_s)
            if snap is not None:
                self.hub.publish(snap)
            s.say(f"skyfence run: {resumed.line()}")
        text = store.get_meta("config_json")
        if text is None:
            return None
        from skyfence.api.models import ApiConfig
        from skyfence.live.config import assess_params

        try:  # (pydantic's ValidationError is a ValueError)
            config = ApiConfig.model_validate_json(text)
            self.engine.configure(assess_params(config.model_dump(mode="json"),
                                                self.engine.assessor.params))
        except ValueError as exc:
            s.say(f"skyfence run: the stored configuration (meta config_json) is not "
                  f"usable, ignored: {exc}")
            return None
        s.say(f"skyfence run: the stored configuration applied: {text}")
        return config

    def _record_run(self) -> None:
        """The site (as ``skyfence simulate`` dumps it) and the engine's settings in the
        store's meta, for reports and ``skyfence replay``."""
        s = self.settings
        self.store.set_meta("site_yaml", yaml.safe_dump(s.site.model_dump(mode="json"),
                                                        sort_keys=False))
        self.store.set_meta("run_json", json.dumps({
            "output_period_s": s.output_period_s, "max_lag_s": s.reorder_window_s,
            "retain_s": s.retain_s}))

    def _app(self, config: Any) -> Any:
        from skyfence.api import create_app
        from skyfence.live.config import config_handler

        s = self.settings
        assert s.tokens is not None
        app = create_app(s.site, self.hub, s.tokens, self.store,
                         on_config=config_handler(self.engine, self.store))
        if config is not None:
            app.state.skyfence.config = config
        return app

    # ------------------------------------------------------------ running
    async def serve(self) -> dict[str, Any]:
        """Run until the source ends (headless or timed runs) or a signal; the
        engine's summary. The store is closed on the way out."""
        quiet_gc()
        s = self.settings
        assert s.source is not None
        stop = asyncio.Event()
        job = self.engine.run(s.source, self.hub, stop, s.pacer, duration_s=s.duration_s,
                              on_tick=s.on_tick)
        watcher = None
        try:
            if self.feeds is not None:
                await self.feeds.start(self.hub, stop)
                watcher = asyncio.create_task(_close_on(stop, self.feeds))
            if self.app is None:
                summary = await _until_done_or_signal(job, stop)
            else:
                summary = await _serve_beside(self.app, job, stop, s.host, s.port,
                                              stop_when_done=s.duration_s is not None)
            if self.feeds is not None:
                summary["feeds"] = self.feeds.summary()
            return summary
        finally:
            stop.set()
            if watcher is not None:
                await watcher
            elif self.feeds is not None:
                await self.feeds.close()
            self.store.close()

    def run(self) -> dict[str, Any]:
        """:meth:`serve` in a fresh asyncio loop (the command line's entry)."""
        return asyncio.run(self.serve())


async def _close_on(stop: asyncio.Event, feeds: LiveFeeds) -> None:
    """Close the feeds once ``stop`` is set: their source ends, so the engine does."""
    await stop.wait()
    await feeds.close()


async def _until_done_or_signal(job: Coroutine[Any, Any, dict[str, Any]],
                                stop: asyncio.Event) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    with _on_signals(loop, stop.set):
        return await job


@contextlib.contextmanager
def _on_signals(loop: asyncio.AbstractEventLoop, handler: Callable[[], None]) -> Iterator[None]:
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, handler)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _serve_beside(app: Any, job: Coroutine[Any, Any, dict[str, Any]],
                        stop: asyncio.Event, host: str, port: int,
                        stop_when_done: bool) -> dict[str, Any]:
    """Serve ``app`` under uvicorn beside ``job`` (the engine's run, watching
    ``stop``) until SIGINT or SIGTERM — or, ``stop_when_done``, until the job ends;
    otherwise the job ending (the scenario is over) leaves the last picture
    served. uvicorn's own signal capture is off: it would re-raise SIGINT after
    serving, and the process would end in a KeyboardInterrupt instead of
    closing the store."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    server = Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))

    def on_signal() -> None:
        if server.should_exit:  # the second Ctrl-C: do not wait for open connections
            server.force_exit = True
        server.should_exit = True
        stop.set()

    engine_task = asyncio.ensure_future(job)

    def ended(task: asyncio.Future[dict[str, Any]]) -> None:
        failed = not task.cancelled() and task.exception() is not None
        if failed or stop_when_done:  # a failed engine: stop serving, report it
            server.should_exit = True

    engine_task.add_done_callback(ended)
    with _on_signals(asyncio.get_running_loop(), on_signal):
        try:
            await server.serve()
        finally:
            stop.set()
    return await engine_task
