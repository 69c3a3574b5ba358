"""``skyfence report``: the HTML incident report from an event store filled by the
live engine on a shortened night-swarm (three drones flying into the base)."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from skyfence.cli import main
from skyfence.live.engine import LiveEngine
from skyfence.live.sources import SimulatedSource
from skyfence.report import render_report
from skyfence.report.data import load_period, open_existing, resolve_period
from skyfence.report.summary import summarise_drones
from skyfence.scenario import Scenario, load_scenario
from skyfence.store import open_store

CHROMIUM = "/usr/bin/chromium"
# three drones start 8.4 km east-north-east at 45 m/s: alerts from ~20 s, a swarm,
# and entries into the "base" zone from ~117 s
OVERRIDES = ["targets.0.count=3", "duration_s=150", "targets.0.launch_interval_s=4",
             "targets.0.waypoints_enu_m=[[7500,3800,60],[2200,600,50]]"]
ACKED = "A-2"


@pytest.fixture(scope="module")
def site() -> Scenario:
    return load_scenario("night-swarm", OVERRIDES)


@pytest.fixture(scope="module")
def store_url(site: Scenario, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'events.sqlite'}"
    with open_store(url, flush_interval_s=None) as store:
        set_meta = getattr(store, "set_meta", None)
        if callable(set_meta):  # what skyfence run records
            set_meta("site_yaml", yaml.safe_dump(site.model_dump(mode="json")))
        engine = LiveEngine(site, sink=store)
        for batch in SimulatedSource(site).batches():
            for tick in engine.feed(batch):
                store.write_tick(tick[0])
        for tick in engine.finish():
            store.write_tick(tick[0])
        store.flush()
        store.record_ack(ACKED, "alice", 30.0)
    return url


@pytest.fixture(scope="module")
def report(store_url: str, site: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report.html"
    args = ["report", "--store", store_url, "--out", str(out)]
    with open_existing(store_url) as store:
        if not callable(getattr(store, "get_meta", None)):
            args += ["--site", "night-swarm"]  # before the store kept the site
    assert main(args) == 0
    return out


def test_the_report_is_self_contained_with_every_section(report: Path, store_url: str) -> None:
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower() and "<link" not in html.lower()
    for section in ("summary", "map", "alerts", "drones", "health"):
        assert f'id="{section}"' in html
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) >= 4
    assert all(base64.b64decode(b).startswith(b"\x89PNG\r\n\x1a\n") for b in images)
    with open_existing(store_url) as store:
        drones = {r["track_id"] for r in store.track_states(0, 1e9) if r["class"] == "drone"}
        alerts = store.alerts()
    assert len(drones) == 3
    for tid in drones:
        assert f'id="drone-{tid}"' in html
    for a in alerts:
        assert f"<td>{a['alert_id']}</td>" in html
    assert "alice at t=30.0 s" in html  # the acknowledgement from the acks table
    assert "<dt>Drones</dt><dd>3</dd>" in html
    assert "night-swarm" in html and "Estimated origin" in html


def test_drone_summaries_match_the_alerts(store_url: str) -> None:
    with open_existing(store_url) as store:
        t_from, t_to = resolve_period(store, None, None)
        site = load_scenario("night-swarm", OVERRIDES)
        data = load_period(store, site, t_from, t_to)
    drones = summarise_drones(data, back_s=60.0)
    assert len(drones) == 3
    entries = {(a["track_ids"][0], a["zone"]): a["t_start"] for a in data.alerts
               if a["kind"] == "zone_entry"}
    assert entries
    for d in drones:
        first_range = float(np.hypot(*d.first_enu_m[:2]))
        assert d.first_enu_m[0] > 5000 and d.first_enu_m[1] > 2000  # seen first to the ENE
        assert d.closest_origin_m < first_range and d.classes[0].cls == "drone"
        base = next(z for z in d.zones if z.zone == "base")
        if (d.track_id, "base") in entries:  # the alert fires at the first tick inside
            assert base.entered_t_s == pytest.approx(entries[(d.track_id, "base")], abs=1.0)
            assert base.closest_m == 0.0
            assert base.first_warning_t_s is not None and base.first_warning_t_s < 40
        # the drones came from further out along their line of approach
        o = d.origin
        assert o is not None and o.stop == "time" and o.back_s == 60.0
        assert float(np.hypot(*o.enu_m[:2])) > first_range + 1500
        assert o.enu_m[0] > d.first_enu_m[0] and o.enu_m[1] > d.first_enu_m[1]
        assert 0 < o.area_km2() < 5


def test_a_sub_period_report(store_url: str) -> None:
    with open_existing(store_url) as store:
        data = load_period(store, load_scenario("night-swarm", OVERRIDES),
                           *resolve_period(store, 100.0, 120.0))
    assert data.t_from_s == 100.0 and data.tick_t_s.tolist() == [float(t) for t in
                                                                  range(100, 121)]
    html = render_report(data)
    assert "t = 100 s to 120 s" in html and html.count("data:image/png;base64,") >= 4


# ------------------------------------------------------------------ errors
def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--from", "500", "--to", "600"], "no stored ticks between t=500 s and t=600 s"),
    (["--from", "90", "--to", "10"], "--from 90 is after --to 10"),
    (["--from", "nan"], "--from must be a finite number"),
    (["--origin-back", "-5"], "--origin-back must be a positive number"),
])
def test_bad_periods_exit_2(store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            extra: list[str], message: str) -> None:
    code, err = run_cli(["report", "--store", store_url, "--site", "night-swarm",
                         "--out", str(tmp_path / "r.html"), *extra], capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert err.startswith("skyfence report: ") and not (tmp_path / "r.html").exists()


def test_a_missing_store_is_not_created(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.sqlite"
    for command in (["report", "--out", str(tmp_path / "r.html")],
                    ["export", "--what", "tracks", "--format", "csv",
                     "--out", str(tmp_path / "t.csv")]):
        code, err = run_cli([*command, "--store", f"sqlite:///{missing}"], capsys)
        assert code == 2 and "no such event store" in err and str(missing) in err
    assert not missing.exists()


def test_an_empty_store_or_no_site_exit_2(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    open_store(url, flush_interval_s=None).close()
    code, err = run_cli(["report", "--store", url, "--out", str(tmp_path / "r.html")], capsys)
    assert code == 2 and "holds no ticks" in err
    from skyfence.live.hub import Snapshot

    with open_store(url, flush_interval_s=None) as store:
        store.write_tick(Snapshot(t_s=1.0))
    code, err = run_cli(["export", "--store", url, "--what", "alerts", "--format", "csv",
                         "--out", str(tmp_path / "a.csv")], capsys)
    assert code == 2 and "give it with --site" in err


def test_export_from_the_engine_store(store_url: str, tmp_path: Path) -> None:
    out = tmp_path / "tracks.csv"
    assert main(["export", "--store", store_url, "--site", "night-swarm", "--what", "tracks",
                 "--format", "csv", "--out", str(out), "--from", "10", "--to", "20"]) == 0
    with open_existing(store_url) as store:
        n = len(store.track_states(10.0, 20.0))
    assert n > 0 and len(out.read_text().splitlines()) == n + 1


# ------------------------------------------------------------------ the browser
@pytest.fixture
def chromium() -> Any:
    """Debian's Chromium for one test (Playwright's sync API holds an event loop in
    this thread while it runs, so it must be gone before ``skyfence run``)."""
    import importlib.util

    if not Path(CHROMIUM).exists() or importlib.util.find_spec("playwright") is None:
        if os.environ.get("SKYFENCE_REQUIRE_BROWSER") == "1":
            raise RuntimeError(f"{CHROMIUM} or the playwright package is missing (make test "
                               "installs both)")
        pytest.skip(f"needs {CHROMIUM} (Debian's chromium) and playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def test_the_report_renders_in_chromium(chromium: Any, report: Path, tmp_path: Path) -> None:
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, offline=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.resolve().as_uri())
    widths = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) >= 4 and all(w > 0 for w in widths)
    assert page.locator("h1").inner_text().startswith("Incident report")
    assert page.locator("#drones .drone").count() == 3
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    # only the page itself and its data: images were loaded
    assert all(u.startswith(("file:", "data:")) for u in requests)
    context.close()


def test_run_then_report_with_the_site_the_store_keeps(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "run.sqlite"
    sets = [x for o in OVERRIDES for x in ("--set", o)]
    assert main(["run", "--site", "night-swarm", *sets, "--duration", "30", "--speed", "1000",
                 "--headless", "--quiet", "--store", str(store)]) == 0
    capsys.readouterr()
    out = tmp_path / "r.html"
    assert main(["report", "--store", str(store), "--out", str(out), "--from", "5"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "t = 5 s to 30 s" in html and 'class="drone"' in html
    geo = tmp_path / "a.geojson"
    assert main(["export", "--store", f"sqlite:///{store}", "--what", "alerts",
                 "--format", "geojson", "--out", str(geo)]) == 0
    assert '"FeatureCollection"' in geo.read_text()
