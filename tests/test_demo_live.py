"""``skyfence demo`` (live, what ``make demo`` runs) as a user starts it: a process that
prints the page's URL and a token, serves a picture with tracks within seconds,
and stops cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from netutil import free_port
from skyfence.demo import FastForwardPacer
from skyfence.store import open_store


def test_fast_forward_pacer_maps_both_parts() -> None:
    now = [50.0]
    pacer = FastForwardPacer(speed=2.0, fast_speed=100.0, until_s=210.0, clock=lambda: now[0])
    assert pacer.due_at(10.0) == 50.0  # the first batch is "now"
    assert pacer.due_at(110.0) == 51.0  # 100 s at 100x
    assert pacer.due_at(210.0) == 52.0
    assert pacer.due_at(230.0) == 62.0  # then 20 s at 2x
    now[0] = 57.0
    assert pacer.scenario_now() == 220.0
    assert pacer.wait_s(230.0) == 5.0


def _lines(stream: object, out: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        out.put(line)


def test_demo_serves_the_live_picture_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "skyfence.cli", "demo", "--out", str(tmp_path / "demo"),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    try:
        printed: list[str] = []
        url = token = None
        started = time.monotonic()
        while token is None:
            assert time.monotonic() - started < 60, f"no token printed: {printed}"
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                printed.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            if m := re.match(r"Open\s+(http://\S+)", printed[-1]):
                url = m.group(1)
            if m := re.match(r"Token\s+(\S+)", printed[-1]):
                token = m.group(1)
        assert url == f"http://127.0.0.1:{port}/"
        auth = {"Authorization": f"Bearer {token}"}
        tracks: list[dict[str, object]] = []
        while not tracks:  # the fast-forward: tracks within seconds, not minutes
            assert time.monotonic() - started < 60, "no track on the page after 60 s"
            time.sleep(0.5)
            try:
                health = httpx.get(url + "api/health", timeout=5)
            except httpx.TransportError:
                continue
            assert health.status_code == 200 and health.json()["status"] == "ok"
            r = httpx.get(url + "api/tracks", headers=auth, timeout=5)
            assert r.status_code == 200
            tracks = r.json()
        print(f"first tracks {time.monotonic() - started:.1f} s after starting")
        assert httpx.get(url + "api/tracks", timeout=5).status_code == 401
        span = httpx.get(url + "api/history/range", headers=auth, timeout=5).json()
        assert span["t_first"] == 0.0 and span["t_last"] >= 200
        assert "<canvas" in httpx.get(url, timeout=5).text

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    time.sleep(0.2)
    rest = []
    while not lines.empty():
        rest.append(lines.get())
    assert any("stopped at" in line for line in rest), rest
    with open_store(tmp_path / "demo" / "events.sqlite", flush_interval_s=None) as store:
        span_stored = store.tick_span()
        assert span_stored is not None and span_stored[1] >= span["t_last"]
