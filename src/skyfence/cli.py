"""The ``skyfence`` command line: thin wrappers over the library.

User errors (bad files, bad arguments) print one line per problem on stderr
and exit with code 2; nothing the user did wrong shows a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from skyfence import __version__
from skyfence.errors import UserError
from skyfence.scenario import bundled_names, load_scenario

EXIT_USER_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="skyfence %(name)s: %(message)s")
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UserError as exc:
        for problem in exc.problems:
            print(f"skyfence {args.command}: {problem}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skyfence",
        description="Counter-drone airspace awareness: simulate sensors, track, evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"skyfence {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_simulate(sub)
    _add_track(sub)
    _add_evaluate(sub)
    _add_demo(sub)
    _add_run(sub)
    _add_validate(sub)
    _add_scenarios(sub)
    from skyfence.commands import ingest, replay, report

    replay.register(sub)
    report.register(sub)
    ingest.register(sub)
    return parser


def _overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
        help="override a scenario field, e.g. --set targets.0.count=1000 --set duration_s=60",
    )


# ----------------------------------------------------------------- simulate
def _add_simulate(sub: Any) -> None:
    p = sub.add_parser(
        "simulate", help="simulate a scenario's targets and sensors",
        description="Simulate SCENARIO and write DIR/truth.jsonl, DIR/measurements.jsonl, "
        "DIR/associations.jsonl (truth source of each measurement, for scoring only) and "
        "DIR/scenario.yaml (the scenario as simulated, overrides applied).",
    )
    p.add_argument("scenario", help="scenario YAML file, or the name of a bundled one")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    _overrides(p)
    p.set_defaults(handler=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> int:
    from skyfence.scenario.dump import dump_scenario
    from skyfence.sim.writer import write_simulation

    scenario = load_scenario(args.scenario, args.overrides)
    summary = write_simulation(scenario, args.out)
    dump_scenario(scenario, args.out / "scenario.yaml")
    print(json.dumps(summary, indent=2))
    return 0


# -------------------------------------------------------------------- track
def _add_track(sub: Any) -> None:
    p = sub.add_parser(
        "track", help="track a measurements file",
        description="Run the tracker over MEASUREMENTS and write confirmed tracks each "
        "output tick to TRACKS (JSON Lines, DESIGN.md contract).",
    )
    p.add_argument("--site", required=True, help="site / scenario YAML (its targets are ignored)")
    p.add_argument("measurements", type=Path, help="measurements.jsonl")
    p.add_argument("--out", required=True, type=Path, metavar="TRACKS",
                   help="tracks.jsonl to write")
    p.add_argument("--alerts", type=Path, default=None, metavar="ALERTS",
                   help="alerts.jsonl to write")
    p.add_argument("--output-period", type=float, default=1.0, metavar="S",
                   help="seconds between track output ticks (default 1)")
    p.add_argument("--max-lag", type=float, default=2.0, metavar="S",
                   help="measurements up to this many seconds out of order are put back in "
                   "order; later ones are counted, logged and dropped (default 2)")
    p.add_argument("--motion", choices=("ncv", "imm"), default=None,
                   help="motion model: one nearly-constant-velocity filter (ncv) or "
                   "interacting multiple models (imm); default: the tracker's")
    p.add_argument("--association", choices=("gnn", "jpda"), default=None,
                   help="radar data association: global nearest neighbour (gnn) or joint "
                   "probabilistic (jpda); default: the tracker's")
    _overrides(p)
    p.set_defaults(handler=cmd_track)


def cmd_track(args: argparse.Namespace) -> int:
    from skyfence.track_io import run_track, summary_line
    from skyfence.tracker import TrackerParams

    if args.output_period <= 0:
        raise UserError("--output-period must be positive")
    if not args.max_lag >= 0:
        raise UserError("--max-lag must be zero or positive")
    scenario = load_scenario(args.site, args.overrides)
    chosen = {"motion": args.motion, "association": args.association}
    params = TrackerParams(**{k: v for k, v in chosen.items() if v is not None})
    summary = run_track(scenario, args.measurements, args.out, args.alerts, args.output_period,
                        params=params, reorder_window_s=args.max_lag,
                        progress=sys.stderr.isatty())
    print(summary_line(summary), file=sys.stderr)
    print(json.dumps(summary, indent=2))
    return 0


# ----------------------------------------------------------------- evaluate
def _add_evaluate(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate", help="score tracks against truth",
        description="Print one JSON object: GOSPA (c=100 m, p=2, alpha=2) per tick and mean "
        "with its parts, ID switches, fragmentations, time to first confirmed track per "
        "target and alert lead times. See docs/evaluation.md.",
    )
    p.add_argument("--site", required=True, help="the scenario YAML that was simulated")
    p.add_argument("truth", type=Path, help="truth.jsonl")
    p.add_argument("tracks", type=Path, help="tracks.jsonl")
    p.add_argument("--alerts", type=Path, default=None, help="alerts.jsonl, for lead times")
    p.add_argument("--min-pd", type=float, default=0.5,
                   help="a target counts as missed only where some sensor's Pd >= this")
    _overrides(p)
    p.set_defaults(handler=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from skyfence.evaluate import evaluate

    if not 0.0 <= args.min_pd <= 1.0:
        raise UserError("--min-pd must be within [0, 1]")
    scenario = load_scenario(args.site, args.overrides)
    result = evaluate(scenario, args.truth, args.tracks, args.alerts, min_pd=args.min_pd)
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------- demo
def _add_demo(sub: Any) -> None:
    from skyfence.demo import FAST_UNTIL_S

    p = sub.add_parser(
        "demo", help="the operator page on a bundled scenario, live (--offline: a scored run)",
        description="Run SCENARIO live as 'skyfence run' does -- simulated at real time, "
        "recorded in DIR/events.sqlite (made afresh), API and operator page served -- "
        "and print the page's URL and an operator token for this run; Ctrl-C stops. "
        f"The first --fast-until seconds (default {FAST_UNTIL_S:g}) of scenario time are "
        "played as fast as the engine goes, so tracks show within seconds. --offline: "
        "simulate, track and evaluate instead, and print a summary (files in DIR).",
    )
    p.add_argument("--scenario", default="night-swarm", help="scenario (default night-swarm)")
    p.add_argument("--out", type=Path, default=Path("out/demo"), metavar="DIR")
    p.add_argument("--offline", action="store_true",
                   help="simulate, track and evaluate; print a summary; serve nothing")
    p.add_argument("--port", type=int, default=8000, help="page and API port (default 8000)")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--speed", type=float, default=1.0, metavar="N",
                   help="after the fast-forward, N times real time (default 1)")
    p.add_argument("--fast-until", type=float, default=FAST_UNTIL_S, metavar="S",
                   help="play scenario time up to S as fast as possible "
                   f"(default {FAST_UNTIL_S:g}; 0: none)")
    _overrides(p)
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from skyfence.demo import run_demo, run_live_demo

    if args.offline:
        return run_demo(args.scenario, args.out, args.overrides)
    return run_live_demo(args.scenario, args.out, args.overrides, host=args.host,
                         port=args.port, speed=args.speed, fast_until_s=args.fast_until)


# ---------------------------------------------------------------------- run
def _add_run(sub: Any) -> None:
    p = sub.add_parser(
        "run", help="run the engine live and serve the picture",
        description="Track and assess live: read the site file's live feeds (sources: "
        "ADS-B, ASTERIX, Remote ID, SAPIENT), or simulate the site's targets in real time, or "
        "play --measurements at --speed; send the picture to the site's outputs (CoT, "
        "ASTERIX CAT062, SAPIENT); write every output tick to the event store and "
        "serve it on the API (or, --headless, print a line per tick). "
        "Ctrl-C stops cleanly. See docs/live.md.",
    )
    p.add_argument("--site", required=True, help="site / scenario YAML, or a bundled name")
    p.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    p.add_argument("--host", default="127.0.0.1", help="API address (default 127.0.0.1)")
    p.add_argument("--tokens", type=Path, default=None, metavar="TOKENS",
                   help="tokens YAML mapping each token to a role (viewer, operator, admin)")
    p.add_argument("--measurements", type=Path, default=None, metavar="FILE",
                   help="play this measurements.jsonl instead of simulating the site's targets")
    p.add_argument("--speed", type=float, default=1.0, metavar="N",
                   help="play at N times real time (default 1)")
    p.add_argument("--store", default=None, metavar="URL",
                   help="event store URL (default: SQLite in out/runs/<time>/events.sqlite)")
    p.add_argument("--duration", type=float, default=None, metavar="S",
                   help="stop after S seconds of scenario time")
    p.add_argument("--output-period", type=float, default=1.0, metavar="S",
                   help="seconds between output ticks (default 1)")
    p.add_argument("--max-lag", type=float, default=0.5, metavar="S",
                   help="reorder window for out-of-order measurements (default 0.5)")
    p.add_argument("--simulate", action="store_true",
                   help="simulate the site's targets even if the site file names live "
                   "feeds (sources)")
    p.add_argument("--headless", action="store_true",
                   help="no API: print a line per tick instead")
    p.add_argument("--quiet", action="store_true", help="no line per tick when headless")
    p.add_argument("--retain", type=float, default=None, metavar="S",
                   help="keep only the last S seconds (scenario time) of ticks, tracks, "
                   "swarms, health and measurements in the store; alerts and acks are kept "
                   "(default: keep everything)")
    p.add_argument("--warm-up", type=float, default=30.0, metavar="S",
                   help="restarting on a store that holds ticks: replay its last S seconds "
                   "of measurements through the tracker first (default 30)")
    _overrides(p)
    p.set_defaults(handler=cmd_run)


def _login_token(path: Path | None) -> str | None:
    """A token of TOKENS.yaml to print for logging in: an operator's, else an admin's, else
    any (the file is checked by skyfence.api.load_tokens; this only picks one)."""
    import yaml

    if path is None:
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("tokens"), dict):
        data = data["tokens"]
    roles = {str(t): (v.get("role") if isinstance(v, dict) else v) for t, v in data.items()}
    for role in ("operator", "admin", "viewer"):
        for token, r in roles.items():
            if r == role:
                return token
    return None


def cmd_run(args: argparse.Namespace) -> int:
    import datetime
    import secrets

    from skyfence.live.engine import Source
    from skyfence.live.hub import Snapshot
    from skyfence.live.service import LiveService, LiveSettings
    from skyfence.live.sources import FileSource, Pacer, SimulatedSource

    problems = []
    if not args.speed > 0 or args.speed == float("inf"):
        problems.append("--speed must be a positive number")
    if args.duration is not None and not args.duration > 0:
        problems.append("--duration must be positive")
    if not 0 < args.port < 65536:
        problems.append("--port must be within 1..65535")
    if not args.output_period > 0:
        problems.append("--output-period must be positive")
    if not args.max_lag >= 0:
        problems.append("--max-lag must be zero or positive")
    if args.tokens is not None and not args.tokens.is_file():
        problems.append(f"{args.tokens}: no such tokens file")
    if args.retain is not None and not args.retain > 0:
        problems.append("--retain must be positive")
    if not args.warm_up >= 0:
        problems.append("--warm-up must be zero or positive")
    if problems:
        raise UserError(problems)
    site = load_scenario(args.site, args.overrides)
    source: Source | None = None  # the site's live feeds, else the simulator (LiveService)
    if args.measurements is not None:
        source = FileSource(args.measurements)
    elif args.simulate or not site.sources:
        source = SimulatedSource(site)
    tokens, login = None, None
    if not args.headless:
        from skyfence.api import load_tokens
        from skyfence.api.tokens import tokens_from

        login = _login_token(args.tokens)
        if args.tokens is None:  # no file: one operator token for this run
            login = secrets.token_urlsafe(16)
            tokens = tokens_from([(login, "operator")])
        else:
            tokens = load_tokens(args.tokens)
    url = args.store
    if url is None:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        run_dir = Path("out") / "runs" / stamp
        run_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{run_dir / 'events.sqlite'}"
    what = (f"{source.name} at {args.speed:g}x" if source is not None else
            "live feeds " + ", ".join(f"{f.format} ({f.host}:{f.resolved_port()})"
                                      for f in site.sources))
    print(f"skyfence run: {what}, event store {url}", file=sys.stderr)
    settings = LiveSettings(site, source, url, Pacer(args.speed), args.output_period,
                            args.max_lag, args.retain, args.warm_up, args.duration, tokens,
                            args.host, args.port)
    service = LiveService(settings)
    if tokens is not None:
        print(f"skyfence run: serving http://{args.host}:{args.port}/  (log in with "
              f"Authorization: Bearer {login or '<a token of ' + str(args.tokens) + '>'})",
              flush=True)

    def line(snap: Snapshot) -> None:
        active = sum(a["t_end"] is None for a in snap.alerts.values())
        samples = service.engine.latency.samples
        lat = samples[-1] * 1e3 if samples else 0.0
        print(f"t={snap.t_s:8.1f} s  tracks {len(snap.tracks):4d}  swarms "
              f"{len(snap.swarms):2d}  alerts {active:3d}  latency {lat:7.1f} ms", flush=True)

    if tokens is None and not args.quiet:
        settings.on_tick = line
    summary = service.run()
    lat = summary["latency"]
    print(f"skyfence run: {summary['ticks']} ticks, {summary['tracks_confirmed']} tracks "
          f"confirmed, {summary['measurements']} measurements ({summary['bad_lines']} bad) in "
          f"{summary['wall_s']:.1f} s; tick latency p50 {lat['p50_ms']} ms, p95 "
          f"{lat['p95_ms']} ms", file=sys.stderr)
    print(json.dumps(summary, indent=2))
    return 0


# ------------------------------------------------------------ validate/list
def _add_validate(sub: Any) -> None:
    p = sub.add_parser("validate", help="check scenario files and report every problem")
    p.add_argument("scenario", nargs="+", help="scenario YAML files or bundled names")
    p.set_defaults(handler=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    problems: list[str] = []
    for item in args.scenario:
        try:
            scenario = load_scenario(item)
        except UserError as exc:
            problems.extend(exc.problems)
            continue
        print(f"{item}: ok ({scenario.name}: {len(scenario.sensors)} sensors, "
              f"{len(scenario.targets)} target entries, {scenario.duration_s:g} s)")
    if problems:
        raise UserError(problems)
    return 0


def _add_scenarios(sub: Any) -> None:
    p = sub.add_parser("scenarios", help="list the bundled scenarios")
    p.set_defaults(handler=cmd_scenarios)


def cmd_scenarios(args: argparse.Namespace) -> int:
    for name in bundled_names():
        scenario = load_scenario(name)
        first = scenario.description.strip().splitlines()[0] if scenario.description else ""
        print(f"{name:16s} {first}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
