"""The operator page in a real browser: Debian's Chromium driven by Playwright.

The API runs in-process under uvicorn on a free port (a background thread with
its own event loop); the test publishes synthetic snapshots to the hub on that
loop. Never downloads a browser: without /usr/bin/chromium (``make test``
installs Debian's package) the module is skipped, or fails when
SKYFENCE_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
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
from skyfence.live.hub import Hub, Snapshot
from skyfence.scenario.model import Scenario

VIEWER, OPERATOR = "view-token", "ops-token"

SITE = Scenario.model_validate({
    "name": "ui-test", "duration_s": 60,
    "site": {"origin": {"lat": 51.0, "lon": -1.0},
             "zones": [{"name": "core", "level": "critical",
                        "circle": {"center_enu_m": [0, 0], "radius_m": 300}},
                       {"name": "fence", "level": "warning",
                        "polygon": [[-800, -800], [800, -800], [800, 800], [-800, 800]]}]},
    "sensors": [{"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 10],
                 "max_range_m": 2000, "min_range_m": 50},
                {"id": "rf-1", "type": "rf", "position_enu_m": [200, 0, 5],
                 "max_range_m": 1500}],
})

CLASSES = ("drone", "bird", "aircraft", "unknown")


def track(track_id: int, t: float, e: float, n: float, cls: str = "drone",
          swarm_id: int | None = None) -> dict[str, Any]:
    probs = {c: (0.7 if c == cls else 0.1) for c in CLASSES}
    return {"t": t, "track_id": track_id, "enu_m": [e, n, 60.0], "vel_mps": [-6.0, 1.0, 0.0],
            "pos_cov_m2": [[4.0, 0, 0], [0, 4.0, 0], [0, 0, 9.0]], "class": cls,
            "class_prob": probs, "cooperative_id": None, "threat": 0.6,
            "trail": [[t - k, e + 6 * k, n - k, 60.0] for k in range(5, 0, -1)],
            "evidence": {"radar": {"drone": 1.5, "bird": -0.4, "aircraft": -3.0},
                         "rf": {"drone": 2.2, "bird": -1.0, "aircraft": -1.0}},
            "zones": {"core": 45.0, "fence": 0.0}, "swarm_id": swarm_id, "suspect": False,
            "operator_enu_m": None}


class Picture:
    """Builds snapshots; remembers acknowledgements as the engine would."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.acked: dict[str, tuple[str, float]] = {}

    def alerts(self, t: float) -> dict[str, dict[str, Any]]:
        out = {}
        for aid, sev in (("zone-core-1", "critical"), ("swarm-7", "warning")):
            who, t_ack = self.acked.get(aid, (None, None))
            out[aid] = {"alert_id": aid, "kind": "zone_entry", "severity": sev,
                        "t_start": t - 3, "t_end": None, "track_ids": [1], "swarm_id": None,
                        "zone": "core", "reason": f"test alert {aid}", "acked_by": who,
                        "t_ack": t_ack}
        return out

    def snapshot(self, t: float, n_tracks: int = 0) -> Snapshot:
        shift = -6.0 * t
        tracks = {1: track(1, t, 600 + shift, 100, "drone", 7),
                  2: track(2, t, 650 + shift, 160, "drone", 7),
                  3: track(3, t, 620 + shift, 220, "drone", 7),
                  4: track(4, t, -500, 400 + shift, "bird"),
                  5: track(5, t, -200 + shift, -600, "aircraft"),
                  6: track(6, t, 300, -300 + shift, "unknown")}
        for k in range(n_tracks):
            a = 2 * math.pi * k / max(n_tracks, 1)
            r = 200 + (k * 37) % 1500
            tracks[100 + k] = track(100 + k, t, r * math.cos(a) + shift, r * math.sin(a),
                                    CLASSES[k % 4])
        swarm = {"swarm_id": 7, "count": 3, "members": [1, 2, 3],
                 "centroid_enu_m": [623 + shift, 160, 60], "velocity_mps": [-6, 1, 0],
                 "heading_deg": 280.0, "spread_m": 60.0}
        return Snapshot(t_s=t, tracks=tracks, swarms={7: swarm}, alerts=self.alerts(t))

    def ack(self, alert_id: str, operator: str, t_s: float) -> dict[str, Any]:
        latest = self.hub.latest
        if latest is None or alert_id not in latest.alerts:
            raise LookupError(alert_id)
        self.acked.setdefault(alert_id, (operator, t_s))
        who, t_ack = self.acked[alert_id]
        return {**latest.alerts[alert_id], "acked_by": who, "t_ack": t_ack}


class Server:
    def __init__(self) -> None:
        self.hub = Hub()
        self.picture = Picture(self.hub)
        self.hub.on_ack = self.picture.ack
        tokens = tokens_from([(VIEWER, "viewer"), (OPERATOR, "operator")])
        app = create_app(SITE, self.hub, tokens)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    def publish(self, snap: Snapshot) -> None:
        done = threading.Event()

        def go() -> None:
            self.hub.publish(snap)
            done.set()

        self.loop.call_soon_threadsafe(go)
        assert done.wait(5)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    srv.thread.start()
    deadline = time.monotonic() + 10
    while not srv.server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    srv.publish(srv.picture.snapshot(10.0))
    yield srv
    srv.server.should_exit = True
    srv.thread.join(5)


def login(page: Page, server: Server, token: str) -> None:
    page.goto(server.url + "/")
    page.fill("#token", token)
    page.click("#login-button")
    expect(page.locator("#main")).to_be_visible()
    page.wait_for_function("window.skyfence.picture.tracks.size > 0")


def screen_of(page: Page, track_id: int) -> tuple[float, float]:
    box = page.locator("#plan").bounding_box()
    assert box is not None
    x, y = page.evaluate(
        "id => { const t = window.skyfence.picture.tracks.get(id);"
        " return window.skyfence.toScreen(t.enu_m[0], t.enu_m[1]); }", track_id)
    return box["x"] + x, box["y"] + y


def test_page_is_served_without_a_token_and_no_external_assets(server: Server) -> None:
    import httpx

    r = httpx.get(server.url + "/")
    assert r.status_code == 200 and "<canvas" in r.text
    for name in ("app.js", "app.css"):
        body = httpx.get(f"{server.url}/static/{name}").text
        assert body and "http://" not in body and "https://" not in body
    assert "http" not in r.text.replace('http-equiv', '')


def test_live_plan_ack_detail_and_screenshot(page: Page, server: Server,
                                             tmp_path: Path) -> None:
    login(page, server, OPERATOR)
    assert page.evaluate("window.skyfence.picture.tracks.size") == 6
    assert page.evaluate("window.skyfence.picture.swarms.size") == 1
    before = page.evaluate("window.skyfence.picture.tracks.get(1).enu_m")

    # a later tick moves the tracks: the page applies the delta
    server.publish(server.picture.snapshot(15.0))
    page.wait_for_function("window.skyfence.picture.t === 15")
    after = page.evaluate("window.skyfence.picture.tracks.get(1).enu_m")
    assert after[0] == pytest.approx(before[0] - 30)
    page.wait_for_function("window.skyfence.frameTimesMs.length > 5")

    # alerts sorted by severity; acknowledge the critical one
    items = page.locator("#alerts li")
    expect(items).to_have_count(2)
    assert items.nth(0).get_attribute("data-alert-id") == "zone-core-1"
    items.nth(0).get_by_role("button", name="Acknowledge").click()
    expect(items.nth(0)).to_contain_text("acknowledged by")
    who = server.picture.acked["zone-core-1"][0]
    expect(items.nth(0)).to_contain_text(who)
    # and it stays acknowledged on the next tick (the engine's record)
    server.publish(server.picture.snapshot(16.0))
    page.wait_for_function("window.skyfence.picture.t === 16")
    expect(page.locator("#alerts li[data-alert-id='zone-core-1']")).to_contain_text(who)

    # click a track: the detail panel shows it
    x, y = screen_of(page, 5)
    page.mouse.click(x, y)
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(page.locator("#detail-title")).to_have_text("Track 5")
    expect(detail).to_contain_text("aircraft")
    expect(detail).to_contain_text("class probability")
    expect(detail).to_contain_text("radar")
    expect(detail).to_contain_text("core")

    shot = tmp_path / "operator.png"
    page.screenshot(path=str(shot))
    if os.environ.get("SKYFENCE_UI_SHOT"):
        Path(os.environ["SKYFENCE_UI_SHOT"]).write_bytes(shot.read_bytes())
    data = shot.read_bytes()
    assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_viewer_sees_why_it_cannot_acknowledge(page: Page, server: Server) -> None:
    login(page, server, VIEWER)
    item = page.locator("#alerts li[data-alert-id='swarm-7']")
    item.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#alert-error")).to_contain_text("403")
    assert "swarm-7" not in server.picture.acked


def test_bad_token_stays_on_the_login_box(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    page.fill("#token", "nope")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_contain_text("Unknown token")
    expect(page.locator("#main")).to_be_hidden()


def test_thousand_tracks_frame_times(page: Page, server: Server, tmp_path: Path) -> None:
    login(page, server, OPERATOR)
    server.publish(server.picture.snapshot(20.0, n_tracks=1000))
    page.wait_for_function("window.skyfence.picture.tracks.size === 1006")
    page.evaluate("window.skyfence.frameTimesMs.length = 0;"
                  " window.skyfence.frameIntervalsMs.length = 0")
    # a tick a second while measuring, as the engine would publish
    for t in (21.0, 22.0):
        time.sleep(1.0)
        server.publish(server.picture.snapshot(t, n_tracks=1000))
    work = page.evaluate("window.skyfence.frameTimesMs.slice()")
    gaps = page.evaluate("window.skyfence.frameIntervalsMs.slice()")
    assert len(work) > 10, "no frames drawn"

    def pct(xs: list[float], q: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))]

    figures = {"frames": len(work), "draw_ms_median": statistics.median(work),
               "draw_ms_p95": pct(work, 0.95),
               "interval_ms_median": statistics.median(gaps) if gaps else None,
               "interval_ms_p95": pct(gaps, 0.95) if gaps else None}
    (tmp_path / "frame_times.json").write_text(json.dumps(figures))
    print("\n1,006-track frame times:", json.dumps(figures))
    assert figures["draw_ms_median"] < 33, figures  # the page's budget: 30 frames a second


def test_trails_from_deltas_without_trail_keys(page: Page, server: Server) -> None:
    """Records without ``trail`` (the WebSocket contract since trails left the deltas):
    the page starts each trail from the snapshot, extends it with every delta's
    position, keeps the newest 32 and forgets it with the track."""

    def bare(t: float, drop: int | None = None) -> Snapshot:
        snap = server.picture.snapshot(t)
        tracks = {k: {f: v for f, v in r.items() if f != "trail"}
                  for k, r in snap.tracks.items() if k != drop}
        return Snapshot(t_s=t, tracks=tracks, swarms=snap.swarms, alerts=snap.alerts)

    server.publish(bare(30.0))
    login(page, server, OPERATOR)
    page.wait_for_function("window.skyfence.live.t === 30")
    for t in range(31, 31 + 40):
        server.publish(bare(float(t)))
    page.wait_for_function("window.skyfence.live.t === 70")
    trail = page.evaluate("window.skyfence.live.trails.get(1)")
    assert len(trail) == 32 and [p[0] for p in trail] == [float(t) for t in range(39, 71)]
    assert trail[-1][1:] == page.evaluate("window.skyfence.live.tracks.get(1).enu_m")
    server.publish(bare(71.0, drop=4))
    page.wait_for_function("window.skyfence.live.t === 71")
    assert page.evaluate("window.skyfence.live.trails.has(4)") is False
    # a repeated tick adds no point
    server.publish(bare(71.0))
    page.wait_for_function("window.skyfence.live.tracks.has(4)")
    assert len(page.evaluate("window.skyfence.live.trails.get(1)")) == 32
    assert page.evaluate("window.skyfence.live.trails.get(1).slice(-1)[0][0]") == 71
