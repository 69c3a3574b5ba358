"""Idle ticks: when every sensor falls silent the live picture still advances
(live/engine.py, ``LiveEngine.idle``), and data late after an idle tick are
counted, never a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from skyfence.live.engine import LiveEngine
from skyfence.live.hub import Hub, Snapshot
from skyfence.live.sources import Batch, FileSource, Pacer
from skyfence.scenario import Scenario, load_scenario
from skyfence.sim.writer import MEASUREMENTS, write_simulation

SILENT_FROM, SILENT_TO, END = 60.0, 100.0, 130.0


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def site() -> Scenario:
    return load_scenario("spoofing", [f"duration_s={END:g}"])


@pytest.fixture(scope="module")
def recorded(site: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("idle")
    write_simulation(site, out)
    return out / MEASUREMENTS


class Gap:
    """The recording with every sensor silent in [SILENT_FROM, SILENT_TO); the first
    batch after the gap also brings a line from before it (late)."""

    name = "gap"

    def __init__(self, path: Path) -> None:
        self.path = path

    def batches(self) -> Iterator[Batch]:
        old: bytes | None = None
        resumed = False
        for batch in FileSource(self.path).batches():
            if batch.t_s == 50.0:
                old = batch.lines[0]
            if SILENT_FROM <= batch.t_s < SILENT_TO:
                continue
            if batch.t_s >= SILENT_TO and not resumed and old is not None:
                resumed = True
                batch.lines.append(old)
            yield batch


@pytest.fixture(scope="module")
def played(site: Scenario, recorded: Path) -> dict[str, object]:
    engine = LiveEngine(site)
    fake = FakeTime()
    snaps: list[Snapshot] = []
    summary = asyncio.run(engine.run(Gap(recorded), Hub(), pacer=Pacer(1.0, fake.clock),
                                     sleep=fake.sleep, on_tick=snaps.append))
    return {"engine": engine, "snaps": snaps, "summary": summary}


def _at(snaps: list[Snapshot], t: float) -> Snapshot:
    return next(s for s in snaps if s.t_s == t)


def test_ticks_go_on_through_the_silence(played: dict[str, object]) -> None:
    snaps = played["snaps"]
    assert isinstance(snaps, list)
    times = [s.t_s for s in snaps]
    assert times == [float(k) for k in range(len(times))]  # every period, none twice
    assert times[-1] >= END - 1
    summary = played["summary"]
    assert isinstance(summary, dict)
    # silent from 60 s: the ticks from ~59 s until the data come back are idle ticks
    assert 35 <= summary["idle_ticks"] <= 42


def test_coasting_tracks_age_out(played: dict[str, object]) -> None:
    snaps = played["snaps"]
    assert isinstance(snaps, list)
    assert _at(snaps, 58.0).tracks  # the drones are tracked before the silence
    assert not _at(snaps, 75.0).tracks  # coasted past max_coast_s: gone
    assert _at(snaps, END - 1).tracks  # and found again after it


def test_the_silent_sensor_alert_fires(played: dict[str, object]) -> None:
    snaps = played["snaps"]
    assert isinstance(snaps, list)
    during = _at(snaps, SILENT_TO - 2)
    assert any(h["silent"] for h in during.health.values())
    started = {a["alert_id"]: a for s in snaps for a in s.alerts.values()
               if a["kind"] == "sensor_unhealthy"}
    assert any(SILENT_FROM < a["t_start"] < SILENT_TO for a in started.values())


def test_late_data_after_an_idle_tick_are_counted(played: dict[str, object]) -> None:
    summary = played["summary"]
    assert isinstance(summary, dict)
    assert summary["late_lines"] >= 1


class Heartbeats(Gap):
    """The gap filled with empty batches (a blocking source's "nothing up to t")."""

    def batches(self) -> Iterator[Batch]:
        for batch in super().batches():
            if batch.t_s >= SILENT_TO and batch.t_s - 1 < SILENT_TO:
                for t in range(int(SILENT_FROM), int(SILENT_TO)):
                    yield Batch(float(t), [])
            yield batch


def test_heartbeats_from_a_source_make_the_idle_ticks(site: Scenario, recorded: Path) -> None:
    engine = LiveEngine(site)
    fake = FakeTime()
    snaps: list[Snapshot] = []
    # everything due at once: the clock never waits, the heartbeats carry the time
    summary = asyncio.run(engine.run(Heartbeats(recorded), Hub(),
                                     pacer=Pacer(1e12, fake.clock), sleep=fake.sleep,
                                     on_tick=snaps.append))
    times = [s.t_s for s in snaps]
    assert times == [float(k) for k in range(len(times))] and times[-1] >= END - 1
    assert 30 <= summary["idle_ticks"] <= 40
    assert not next(s for s in snaps if s.t_s == 80.0).tracks
