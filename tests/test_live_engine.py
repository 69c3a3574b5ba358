"""The live engine (live/engine.py, live/sources.py) and ``skyfence run``."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from netutil import free_port
from skyfence.cli import main
from skyfence.live.engine import LiveEngine
from skyfence.live.hub import Hub, Snapshot
from skyfence.live.sources import Batch, FileSource, Pacer, SimulatedSource
from skyfence.scenario import Scenario, load_scenario
from skyfence.sim.writer import MEASUREMENTS, write_simulation
from skyfence.store import open_store
from skyfence.track_io import run_track

DETAIL = {"evidence", "zones", "swarm_id", "suspect", "operator_enu_m"}
WINDOW_S = 0.5


class FakeTime:
    """An instant clock: ``sleep`` moves it on and records how long it was asked to."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def site() -> Scenario:
    # four drones: alerts from ~244 s, a swarm from ~249 s
    return load_scenario("night-swarm", ["targets.0.count=4", "duration_s=265"])


@pytest.fixture(scope="module")
def recorded(site: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("live")
    write_simulation(site, out)
    return out / MEASUREMENTS


def _play(engine: LiveEngine, source: Any, hub: Hub, speed: float = 1e12,
          **kwargs: Any) -> tuple[dict[str, Any], FakeTime]:
    fake = FakeTime()
    summary = asyncio.run(engine.run(source, hub, pacer=Pacer(speed, fake.clock),
                                     sleep=fake.sleep, **kwargs))
    return summary, fake


@pytest.fixture(scope="module")
def played(site: Scenario, recorded: Path) -> dict[str, Any]:
    """The recording played at once, an operator acknowledging the first alert."""
    engine = LiveEngine(site, reorder_window_s=WINDOW_S)
    hub = Hub(on_ack=engine.ack)
    snapshots: list[Snapshot] = []
    acked: list[dict[str, Any]] = []

    def on_tick(snap: Snapshot) -> None:
        snapshots.append(snap)
        if not acked and snap.alerts:
            alert_id = next(iter(snap.alerts))
            acked.append(hub.ack(alert_id, "alice", snap.t_s))

    summary, _ = _play(engine, FileSource(recorded), hub, on_tick=on_tick)
    return {"engine": engine, "hub": hub, "snapshots": snapshots, "acked": acked,
            "summary": summary}


def test_a_snapshot_is_published_every_tick(played: dict[str, Any]) -> None:
    snaps: list[Snapshot] = played["snapshots"]
    assert played["hub"].published == len(snaps) == played["summary"]["ticks"] == 266
    assert [s.t_s for s in snaps] == [float(k) for k in range(266)]
    assert played["summary"]["bad_lines"] == 0
    assert played["summary"]["latency"]["ticks"] == 266
    assert {"radar-1", "eoir-east"} <= set(snaps[-1].health)


def test_tracks_carry_the_detail_keys(played: dict[str, Any]) -> None:
    last: Snapshot = played["snapshots"][-1]
    assert len(last.tracks) >= 2
    for tid, track in last.tracks.items():
        assert track["track_id"] == tid and set(track) >= DETAIL
        assert "trail" not in track  # the trails travel beside the records
        assert last.trails is not None
        trail = last.trails.of(tid)
        assert trail and all(len(p) == 4 for p in trail) and trail[-1][0] <= last.t_s
        assert [p[0] for p in trail] == sorted(p[0] for p in trail)
        assert set(track["zones"]) == {"runway", "base"}
    drones = [t for t in last.tracks.values() if t["class"] == "drone"]
    assert drones and all("kinematics" in t["evidence"] for t in drones)
    swarmed = [s for s in played["snapshots"] if s.swarms]
    assert swarmed
    for snap in swarmed:
        members = {m for sw in snap.swarms.values() for m in sw["members"]}
        assert members == {t for t, r in snap.tracks.items() if r["swarm_id"] is not None}
    json.dumps(last.message())  # JSON-ready


def test_tracks_equal_what_run_track_writes(played: dict[str, Any], site: Scenario,
                                            recorded: Path, tmp_path: Path) -> None:
    tracks = tmp_path / "tracks.jsonl"
    run_track(site, recorded, tracks, reorder_window_s=WINDOW_S)
    offline: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for line in tracks.read_text().splitlines():
        row = json.loads(line)
        offline[row["t"]].append(row)
    live = {s.t_s: [{k: v for k, v in r.items() if k not in DETAIL} for r in s.tracks.values()]
            for s in played["snapshots"]}
    assert offline[265.0]  # tracks at the final tick
    for t_s, rows in live.items():
        assert json.loads(json.dumps(rows)) == offline.get(t_s, []), t_s


def test_an_ack_through_the_hub_shows_in_the_next_snapshot(played: dict[str, Any]) -> None:
    (record,) = played["acked"]
    assert record["acked_by"] == "alice" and record["t_end"] is None
    snaps: list[Snapshot] = played["snapshots"]
    i = next(k for k, s in enumerate(snaps) if record["alert_id"] in s.alerts)
    later = snaps[i + 1].alerts[record["alert_id"]]
    assert later["acked_by"] == "alice" and later["t_ack"] == snaps[i].t_s
    assert snaps[i].alerts[record["alert_id"]]["acked_by"] is None  # published before it
    with pytest.raises(LookupError):
        played["hub"].ack("A-999", "alice", 1.0)


def test_the_simulator_source_gives_the_recording(site: Scenario, recorded: Path) -> None:
    batches = itertools.takewhile(lambda b: b.t_s <= 20.0, SimulatedSource(site).batches())
    lines = [b for batch in batches for b in batch.lines]
    assert lines and lines == recorded.read_bytes().splitlines()[: len(lines)]


def test_bad_lines_in_a_file_are_counted_and_skipped(site: Scenario, recorded: Path,
                                                     tmp_path: Path) -> None:
    good = recorded.read_bytes().splitlines()[:400]
    bad = [b"not json", b'{"t": 3.0, "sensor": "nope", "kind": "radar"}', b"",
           b'{"t": "soon"}', b'{"t": 4.0, "sensor": "radar-1", "kind": "radar"}']
    path = tmp_path / "m.jsonl"
    path.write_bytes(b"\n".join(good[:100] + bad + good[100:]) + b"\n")
    source = FileSource(path)
    engine = LiveEngine(site, reorder_window_s=WINDOW_S)
    summary, _ = _play(engine, source, Hub())
    assert summary["bad_lines"] == 4  # the empty line is no line
    assert summary["measurements"] == 400
    assert any("nope" in e for e in summary["bad_line_examples"])
    assert source.untimed == 3 and summary["ticks"] > 0


def test_pacing_follows_the_injected_clock(site: Scenario, recorded: Path) -> None:
    engine = LiveEngine(site, reorder_window_s=WINDOW_S)
    summary, fake = _play(engine, FileSource(recorded), Hub(), speed=10.0, duration_s=20.0)
    assert summary["t_last_s"] == 20.0
    # every batch waited for, none early: 20 s of scenario time at 10x is 2 s of clock
    assert fake.now - 100.0 == pytest.approx(2.0)
    assert all(s > 0 for s in fake.sleeps)
    pacer = Pacer(4.0, lambda: 50.0)
    assert pacer.wait_s(10.0) == 0.0 and pacer.wait_s(14.0) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        Pacer(0.0)


def test_a_stop_event_ends_the_run(site: Scenario) -> None:
    engine = LiveEngine(site)
    hub = Hub()
    stop: asyncio.Event | None = None

    def on_tick(snap: Snapshot) -> None:
        if snap.t_s >= 3.0 and stop is not None:
            stop.set()

    async def go() -> dict[str, Any]:
        nonlocal stop
        stop = asyncio.Event()
        return await engine.run(SimulatedSource(site), hub, stop, Pacer(1e6), on_tick=on_tick)

    summary = asyncio.run(go())
    assert 3 <= summary["ticks"] < 30


def test_the_engine_writes_every_tick_to_the_sink(site: Scenario, recorded: Path) -> None:
    class Sink:
        def __init__(self) -> None:
            self.ticks: list[tuple[float, int]] = []
            self.flushed = 0

        def write_tick(self, snapshot: Snapshot, measurements: Any = ()) -> None:
            assert all(isinstance(m, dict) for m in measurements)
            self.ticks.append((snapshot.t_s, len(measurements)))

        def flush(self) -> None:
            self.flushed += 1

        def record_ack(self, alert_id: str, operator: str, t_ack: float) -> None:
            raise AssertionError("no acks here")

    sink = Sink()
    engine = LiveEngine(site, sink=sink)
    summary, _ = _play(engine, FileSource(recorded), Hub(), duration_s=10.0)
    assert [t for t, _ in sink.ticks] == [float(k) for k in range(11)]
    assert sum(n for _, n in sink.ticks) <= summary["measurements"]
    assert sink.flushed == 1


def test_empty_batches_are_harmless(site: Scenario) -> None:
    class Empty:
        name = "empty"

        def batches(self) -> Any:
            yield Batch(0.0, [])
            yield Batch(1.0, [])

    summary, _ = _play(LiveEngine(site), Empty(), Hub())
    assert summary["ticks"] == 0 and summary["scans"] == 0


# --------------------------------------------------------------------- the CLI
def test_skyfence_run_headless(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "events.sqlite"
    code = main(["run", "--site", "night-swarm", "--duration", "5", "--speed", "1000",
                 "--headless", "--store", str(store)])
    assert code == 0
    captured = capsys.readouterr()
    assert "t=     5.0 s" in captured.out
    summary = json.loads(captured.out[captured.out.index("{"):])
    assert summary["ticks"] == 6 and summary["t_last_s"] == 5.0
    assert "6 ticks" in captured.err
    with open_store(store, flush_interval_s=None) as opened:
        assert opened.last_tick_t() == 5.0


def test_skyfence_run_with_the_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("tok-view: viewer\ntok-op: {role: operator, name: alice}\n")
    code = main(["run", "--site", "night-swarm", "--duration", "5", "--speed", "1000",
                 "--port", str(free_port()), "--tokens", str(tokens),
                 "--store", str(tmp_path / "e.sqlite")])
    assert code == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:" in out and "Bearer tok-op" in out
    assert json.loads(out[out.index("{"):])["ticks"] == 6


@pytest.mark.parametrize("args, message", [
    (["--speed", "0"], "--speed"),
    (["--duration", "-1"], "--duration"),
    (["--port", "70000"], "--port"),
    (["--measurements", "nope.jsonl"], "nope.jsonl"),
    (["--tokens", "nope.yaml"], "nope.yaml"),
])
def test_skyfence_run_bad_arguments(args: list[str], message: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--site", "night-swarm", "--headless", *args]) == 2
    assert message in capsys.readouterr().err
