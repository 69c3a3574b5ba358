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
    _add_validate(sub)
    _add_scenarios(sub)
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
    p = sub.add_parser(
        "demo", help="simulate, track and evaluate a bundled scenario, with a summary",
    )
    p.add_argument("--scenario", default="night-swarm", help="scenario (default night-swarm)")
    p.add_argument("--out", type=Path, default=Path("out/demo"), metavar="DIR")
    _overrides(p)
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from skyfence.demo import run_demo

    return run_demo(args.scenario, args.out, args.overrides)


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
