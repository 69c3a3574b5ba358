"""The operator page against a real live engine: Debian's Chromium, Playwright.

A real :class:`LiveEngine` plays night-swarm from the simulator (its first
``FAST_UNTIL_S`` seconds as fast as it goes, then at ``SPEED`` times real time)
into a real SQLite event store, and the real API serves it under uvicorn on a
free port (one background thread, one event loop for both). The page logs in,
watches tracks move, acknowledges a real alert (the store records it), opens
a track, goes back a minute on the time bar and reads the recorded picture
(checked against the store), replays at 16x and returns to live.

Skipped without /usr/bin/chromium, as tests/test_web_ui.py (tests/chromium.py).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from chromium import Page, expect  # skips this module without Chromium and Playwright
from netutil import free_port
from skyfence.api import create_app
from skyfence.api.tokens import tokens_from
from skyfence.demo import FastForwardPacer
from skyfence.live.engine import LiveEngine
from skyfence.live.hub import Hub
from skyfence.live.sources import SimulatedSource
from skyfence.scenario import load_scenario
from skyfence.store import SqlStore, open_store

OPERATOR = "ops-token"
FAST_UNTIL_S = 280.0  # night-swarm: tracks from 212 s, alerts from 229 s
SPEED = 2.0  # then twice real time: the picture moves while the page is read


class LiveServer:
    """Engine + store + API in one event loop on a background thread."""

    def __init__(self, store_path: Path) -> None:
        self.site = load_scenario("night-swarm")
        self.store: SqlStore = open_store(store_path)
        self.engine = LiveEngine(self.site, sink=self.store)
        self.hub = Hub(on_ack=self.engine.ack)
        app = create_app(self.site, self.hub, tokens_from([(OPERATOR, "operator")]),
                         self.store)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.summary: dict[str, Any] | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def both() -> None:
            job = asyncio.ensure_future(self.engine.run(
                SimulatedSource(self.site), self.hub, self.stop,
                FastForwardPacer(SPEED, until_s=FAST_UNTIL_S)))
            await self.server.serve()
            self.stop.set()
            self.summary = await job

        self.loop.run_until_complete(both())

    def t(self) -> float:
        latest = self.hub.latest
        return -1.0 if latest is None else float(latest.t_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.server.should_exit = True
        self.thread.join(30)
        self.store.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path_factory.mktemp("live-ui") / "events.sqlite")
    srv.thread.start()
    deadline = time.monotonic() + 120
    while not (srv.server.started and srv.t() >= FAST_UNTIL_S and srv.hub.latest
               and srv.hub.latest.alerts):
        assert time.monotonic() < deadline, f"the engine reached only t={srv.t()}"
        assert srv.thread.is_alive(), "the server thread died"
        time.sleep(0.1)
    yield srv
    srv.close()
    assert srv.summary is not None and srv.summary["ticks"] > FAST_UNTIL_S


def js(page: Page, expression: str, arg: Any = None) -> Any:
    return page.evaluate(expression, arg)


def test_real_engine_live_ack_detail_replay_and_back(page: Page, live: LiveServer,
                                                     tmp_path: Path) -> None:
    page.goto(live.url + "/")
    page.fill("#token", OPERATOR)
    page.click("#login-button")
    expect(page.locator("#main")).to_be_visible()
    page.wait_for_function("window.skyfence.live.tracks.size > 0")
    # the first snapshot brings each track's past (trails), drawn behind it
    assert js(page, "Math.max(...Array.from(window.skyfence.live.trails.values(),"
                    " tr => tr.length))") > 1

    # --- tracks move: the same track, two ticks apart
    t1 = js(page, "window.skyfence.live.t")
    before = js(page, "Object.fromEntries(Array.from(window.skyfence.live.tracks,"
                      " ([k, r]) => [k, r.enu_m]))")
    page.wait_for_function(f"window.skyfence.live.t >= {t1 + 2}")
    after = js(page, "Object.fromEntries(Array.from(window.skyfence.live.tracks,"
                     " ([k, r]) => [k, r.enu_m]))")
    both = set(before) & set(after)
    assert both, "no track lived two ticks"
    assert any(before[k] != after[k] for k in both)
    # each delta extends the trail: its last point is the track's position
    k = next(iter(both))
    last = js(page, f"window.skyfence.live.trails.get({k}).slice(-1)[0]")
    assert last[1:] == js(page, f"window.skyfence.live.tracks.get({k}).enu_m")

    # --- acknowledge a real alert: the engine and the store record it
    alert_id = page.locator("#alerts li:not(.ended):has(button.ack:enabled)").first.get_attribute(
        "data-alert-id")
    assert alert_id
    page.locator(f"#alerts li[data-alert-id='{alert_id}'] button.ack").click()
    row = page.locator(f"#alerts li[data-alert-id='{alert_id}']")
    expect(row).to_contain_text("acknowledged by operator-1")
    acks = live.store.acks(alert_id)
    assert [a["operator"] for a in acks] == ["operator-1"]

    # --- open a track: its detail panel
    box = page.locator("#plan").bounding_box()
    assert box is not None
    tid, (x, y) = js(page, "(() => { const t = window.skyfence.live.tracks.values().next().value;"
                           " return [t.track_id, window.skyfence.toScreen(t.enu_m[0],"
                           " t.enu_m[1])]; })()")
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page.locator("#detail")).to_be_visible()
    picked = js(page, "window.skyfence.selected")
    assert picked is not None  # tid or a neighbour in the swarm
    expect(page.locator("#detail-title")).to_have_text(f"Track {picked}")
    expect(page.locator("#detail")).to_contain_text("class probability")
    expect(page.locator("#detail")).to_contain_text("position (e, n, u)")
    del tid

    # --- the time bar: one minute back shows the recorded picture of then
    expect(page.locator("#tb-slider")).to_be_enabled()
    t_live = js(page, "window.skyfence.live.t")
    t_back = t_live - 60
    page.locator("#tb-slider").fill(str(t_back))
    page.wait_for_function("window.skyfence.replay.active && window.skyfence.replay.pic !== null")
    stored = live.store.snapshot_at(t_back)
    assert stored is not None
    shown_t = js(page, "window.skyfence.picture.t")
    assert shown_t == stored.t_s and shown_t <= t_back
    shown = js(page, "Array.from(window.skyfence.picture.tracks.values(),"
                     " r => [r.track_id, r.enu_m])")
    assert shown, "no track a minute ago"
    for track_id, enu in shown:
        assert enu == stored.tracks[track_id]["enu_m"]
    banner = page.locator("#replay-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"REPLAY t={stored.t_s:.1f}")
    expect(page.locator("#clock")).to_be_hidden()
    assert page.locator("#alerts li button.ack:enabled").count() == 0  # no acks in replay
    page.screenshot(path=str(tmp_path / "replay.png"))

    # --- play at 16x from there; live deltas keep arriving meanwhile
    page.select_option("#tb-speed", "16")
    page.click("#tb-play")
    page.wait_for_function(f"window.skyfence.replay.pic.t >= {stored.t_s + 8}")
    expect(banner).to_contain_text("playing 16")
    page.wait_for_function(f"window.skyfence.live.t > {t_live}")  # the live feed goes on
    # the trails carried on while playing forward (fetched once, then extended)
    assert js(page, "Math.max(...Array.from(window.skyfence.replay.pic.trails.values(),"
                    " tr => tr.length))") > 8

    # --- Live: back to the WebSocket picture at once
    page.click("#tb-live")
    expect(banner).to_be_hidden()
    expect(page.locator("#clock")).to_be_visible()
    assert js(page, "window.skyfence.replay.active") is False
    assert js(page, "window.skyfence.picture === window.skyfence.live")
    assert abs(js(page, "window.skyfence.picture.t") - live.t()) <= 2 * SPEED
    page.wait_for_function("document.querySelectorAll('#alerts li button.ack:enabled')"
                           ".length > 0")

    # "-1 min" from live, then Live again
    page.click("#tb-back")
    page.wait_for_function("window.skyfence.replay.pic !== null && window.skyfence.replay.pic.t"
                           " <= window.skyfence.live.t - 59")
    expect(banner).to_be_visible()
    page.click("#tb-live")
    expect(banner).to_be_hidden()

    shot = tmp_path / "live.png"
    page.screenshot(path=str(shot))
    if os.environ.get("SKYFENCE_UI_SHOT"):
        Path(os.environ["SKYFENCE_UI_SHOT"]).write_bytes(shot.read_bytes())
    for name in ("replay.png", "live.png"):
        data = (tmp_path / name).read_bytes()
        assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"
