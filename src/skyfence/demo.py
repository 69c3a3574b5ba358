"""``skyfence demo``: the operator page on a bundled scenario, live; or (``--offline``)
simulate, track and score it, and say how it went.

Live (the default) is ``skyfence run`` on the scenario with everything chosen
for a first look: the simulator streams at real time, every tick goes to the
event store ``DIR/events.sqlite`` (made afresh each run), the API and the page
are served, and the page's URL and an operator token made for this run are
printed. The scenario's first ``fast_until_s`` seconds (default 210 s: just
before night-swarm's first drones are confirmed, 212 s) are played as fast as
the engine goes, so the picture has tracks within seconds of starting and the
time bar has that recorded past to scroll back into. Ctrl-C (or SIGTERM)
stops cleanly: the tick in hand is finished, the store flushed and closed,
exit code 0.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from skyfence.errors import UserError
from skyfence.live.sources import Pacer
from skyfence.scenario import load_scenario
from skyfence.scenario.dump import dump_scenario
from skyfence.sim.writer import ASSOCIATIONS, MEASUREMENTS, TRUTH, write_simulation

FAST_UNTIL_S = 210.0  # night-swarm: the first confirmed track at 212 s, the first alert at 229 s
FAST_SPEED = 1e6  # "as fast as the engine goes" before fast_until_s


class FastForwardPacer(Pacer):
    """A :class:`Pacer` that plays scenario time up to ``until_s`` at ``fast_speed``
    and the rest at ``speed`` (both × real time)."""

    def __init__(self, speed: float = 1.0, fast_speed: float = FAST_SPEED,
                 until_s: float = FAST_UNTIL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(speed, clock)
        if not fast_speed > 0:
            raise ValueError("fast_speed must be > 0")
        self.fast_speed = fast_speed
        self.until_s = until_s

    def _split(self, t0_s: float) -> tuple[float, float]:
        """Where the fast part ends: scenario time, and wall seconds after the start."""
        split = max(t0_s, self.until_s)
        return split, (split - t0_s) / self.fast_speed

    def due_at(self, t_s: float) -> float:
        if self._t0_s is None:
            self._t0_s, self._wall0 = t_s, self.clock()
        split, fast_wall = self._split(self._t0_s)
        if t_s <= split:
            return self._wall0 + (t_s - self._t0_s) / self.fast_speed
        return self._wall0 + fast_wall + (t_s - split) / self.speed

    def scenario_now(self) -> float | None:
        if self._t0_s is None:
            return None
        split, fast_wall = self._split(self._t0_s)
        wall = self.clock() - self._wall0
        if wall <= fast_wall:
            return self._t0_s + wall * self.fast_speed
        return split + (wall - fast_wall) * self.speed


def run_demo(scenario_name: str, out_dir: Path, overrides: Sequence[str] = ()) -> int:
    """The offline demo: simulate, track, evaluate, and print a summary."""
    from skyfence.evaluate import evaluate
    from skyfence.track_io import run_track

    scenario = load_scenario(scenario_name, overrides)
    print(f"skyfence demo: {scenario.name}")
    for line in scenario.description.strip().splitlines():
        print(f"  {line}")
    t0 = time.perf_counter()
    sim = write_simulation(scenario, out_dir)
    dump_scenario(scenario, out_dir / "scenario.yaml")
    t1 = time.perf_counter()
    print(f"1/3 simulated {scenario.duration_s:g} s: {sim['truth_lines']} truth points, "
          f"{sim['measurements']} measurements ({_kinds(sim)}) in {t1 - t0:.1f} s")
    tracks_path = out_dir / "tracks.jsonl"
    alerts_path = out_dir / "alerts.jsonl"
    summary = run_track(scenario, out_dir / MEASUREMENTS, tracks_path, alerts_path, 1.0)
    t2 = time.perf_counter()
    print(f"2/3 tracked: {summary.get('tracks_confirmed', '?')} tracks confirmed from "
          f"{summary.get('measurements_used', '?')} measurements in {t2 - t1:.1f} s")
    result = evaluate(scenario, out_dir / TRUTH, tracks_path, alerts_path)
    (out_dir / "evaluation.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"3/3 evaluated in {time.perf_counter() - t2:.1f} s")
    print()
    for line in summary_lines(result):
        print(line)
    print()
    print(f"Files in {out_dir}/: {TRUTH}, {MEASUREMENTS}, {ASSOCIATIONS}, tracks.jsonl, "
          "alerts.jsonl, evaluation.json, scenario.yaml")
    return 0


def _kinds(sim: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sim["measurements_by_kind"].items())


def summary_lines(result: dict[str, Any]) -> list[str]:
    """A few plain sentences from an evaluation result."""
    g = result["gospa"]
    if g["mean"] is None:
        return ["Nothing to score: no truth ticks."]
    ident = result["identity"]
    ttt = result["time_to_track"]
    lines = [
        f"Mean GOSPA {g['mean']:.1f} m (c = {g['c_m']:g} m, p = 2; 0 is perfect, one target "
        f"missed alone scores {(g['c_m'] ** 2 / 2) ** 0.5:.0f} m). Parts, in m² before the root: "
        f"localisation {g['localisation_mean']:.0f}, missed {g['missed_mean']:.0f}, "
        f"false {g['false_mean']:.0f}.",
        f"Identity: {ident['id_switches']} ID switches, {ident['fragmentations']} "
        "fragmentations.",
    ]
    if ttt["tracked"]:
        lines.append(
            f"{ttt['tracked']} targets tracked, {ttt['never_tracked']} detected but never "
            f"tracked; from first detection to confirmed track: median {ttt['median_s']:.1f} s, "
            f"worst {ttt['max_s']:.1f} s."
        )
    else:
        lines.append(f"No target was tracked ({ttt['never_tracked']} were detected).")
    lines.extend(_assessment_lines(result))
    return lines


def _assessment_lines(result: dict[str, Any]) -> list[str]:
    """Classification, alert lead time, false alerts and swarm alerts, when scored."""
    out = []
    rates = result.get("classification", {}).get("rates_aged", {})
    if rates.get("drone_as_drone") is not None:
        out.append(f"Classification (tracks 10 s and older): {100 * rates['drone_as_drone']:.1f} % "
                   "of drone track-time called drone"
                   + (f", {100 * rates['bird_as_drone']:.2f} % of bird track-time called drone."
                      if rates.get("bird_as_drone") is not None else "."))
    lead = result.get("alert_lead_time", {})
    if lead.get("drones"):
        out.append(f"{lead['drones']} drones entered a critical zone, {lead['alerted_in_time']} "
                   f"alerted before it; median warning {lead['median_s']:.0f} s.")
    false = result.get("false_alerts", {})
    if false.get("alerts_given"):
        out.append(f"False alerts: {false['count']} ({false['per_hour']:.1f} per hour).")
    swarms = result.get("swarms", {})
    for s in swarms.get("per_swarm", []):
        out.append(f"Swarm {s['swarm']} ({s['count']} drones): {s['alerts']} swarm alert(s), "
                   f"naming up to {s['size_peak']}.")
    return out


# ------------------------------------------------------------------------ live
def run_live_demo(scenario_name: str, out_dir: Path, overrides: Sequence[str] = (), *,
                  host: str = "127.0.0.1", port: int = 8000, speed: float = 1.0,
                  fast_until_s: float = FAST_UNTIL_S) -> int:
    """The live demo (module doc): serve until Ctrl-C; 0 on a clean stop."""
    import secrets
    import socket

    from skyfence.api.tokens import tokens_from
    from skyfence.live.service import LiveService, LiveSettings
    from skyfence.live.sources import SimulatedSource

    problems = []
    if not 0 < speed < float("inf"):
        problems.append("--speed must be a positive number")
    if not 0 < port < 65536:
        problems.append("--port must be within 1..65535")
    if problems:
        raise UserError(problems)
    try:  # a clear message now rather than uvicorn's after the simulator has started
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UserError(f"cannot serve on {host}:{port}: {exc.strerror or exc} "
                        "(another program there? try --port)") from exc
    site = load_scenario(scenario_name, overrides)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "events.sqlite"
    for old in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        old.unlink(missing_ok=True)  # each run records its own picture
    token = secrets.token_urlsafe(16)
    service = LiveService(LiveSettings(
        site, SimulatedSource(site), f"sqlite:///{db}",
        FastForwardPacer(speed, until_s=fast_until_s),
        tokens=tokens_from([(token, "operator")]), host=host, port=port))
    url = f"http://{host}:{port}/"
    print(f"skyfence demo: {site.name}, live at {speed:g}x real time (the first "
          f"{fast_until_s:g} s of scenario time fast-forwarded); event store sqlite:///{db}")
    for line in site.description.strip().splitlines():
        print(f"  {line}")
    print()
    print(f"Open   {url}")
    print(f"Token  {token}   (log in with it; operator: may acknowledge alerts)")
    print("Ctrl-C stops.", flush=True)
    summary = service.run()
    print(f"skyfence demo: stopped at t={summary.get('t_last_s')} s after "
          f"{summary['ticks']} ticks, {summary['tracks_confirmed']} tracks confirmed; "
          f"the run is kept in {db}", flush=True)
    return 0
