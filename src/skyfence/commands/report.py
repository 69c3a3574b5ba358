"""``skyfence report`` and ``skyfence export``: incident reports and exports
from the event store (docs/reports.md)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from skyfence.errors import UserError


def register(sub: Any) -> None:
    """Add this module's sub-commands to the ``skyfence`` parser."""
    _add_report(sub)
    _add_export(sub)


def _period_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", required=True, metavar="URL",
                   help="event store: sqlite:///PATH, a file path, or postgresql://…")
    p.add_argument("--from", dest="t_from", type=float, default=None, metavar="T",
                   help="start of the period, scenario-time seconds (default: first tick)")
    p.add_argument("--to", dest="t_to", type=float, default=None, metavar="T",
                   help="end of the period, scenario-time seconds (default: last tick)")
    p.add_argument("--site", default=None, metavar="SITE",
                   help="site YAML or bundled name (default: the site the store holds)")


# ------------------------------------------------------------------- report
def _add_report(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="write a self-contained HTML incident report from the event store",
        description="Write one HTML page for a period of the event store: a map of tracks "
        "and zones, the alert timeline, a summary of every drone (first detection, "
        "classification, closest approach, estimated origin) and sensor health. The page "
        "has everything inside it (no links, no scripts). See docs/reports.md.",
    )
    _period_args(p)
    p.add_argument("--out", required=True, type=Path, metavar="HTML", help="the page to write")
    p.add_argument("--origin-back", dest="back_s", type=float, default=60.0, metavar="S",
                   help="follow each drone's first states back at most S seconds (default 60)")
    p.add_argument("--origin-fit", dest="fit_s", type=float, default=10.0, metavar="S",
                   help="fit the origin line to the first S seconds of states (default 10)")
    p.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from skyfence.report import build_report

    problems = []
    for flag, value in (("--origin-back", args.back_s), ("--origin-fit", args.fit_s)):
        if not (math.isfinite(value) and value > 0):
            problems.append(f"{flag} must be a positive number of seconds, not {value:g}")
    if problems:
        raise UserError(problems)
    data = _load(args)
    summary = build_report(data, args.out, fit_window_s=args.fit_s, back_s=args.back_s)
    print(f"report for t={data.t_from_s:g}–{data.t_to_s:g} s written to {args.out}",
          file=sys.stderr)
    print(json.dumps(summary))
    return 0


# ------------------------------------------------------------------- export
def _add_export(sub: Any) -> None:
    from skyfence.report.export import FORMATS, WHATS

    p = sub.add_parser(
        "export", help="export stored tracks or alerts as CSV or GeoJSON",
        description="Write a period's stored track states (one CSV row per state, or one "
        "GeoJSON LineString per track) or alerts (one row, or one Point, per alert) with "
        "site ENU and WGS-84 positions. See docs/reports.md.",
    )
    _period_args(p)
    p.add_argument("--what", required=True, choices=WHATS, help="what to export")
    p.add_argument("--format", dest="fmt", required=True, choices=FORMATS,
                   help="file format")
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="file to write")
    p.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from skyfence.report.export import export

    data = _load(args)
    n = export(data, args.what, args.fmt, args.out)
    print(f"{n} {args.what} {'rows' if args.fmt == 'csv' else 'features'} for "
          f"t={data.t_from_s:g}–{data.t_to_s:g} s written to {args.out}", file=sys.stderr)
    return 0


def _load(args: argparse.Namespace) -> Any:
    from skyfence.report.data import load_period, open_existing, resolve_period, site_for

    with open_existing(args.store) as store:
        t_from, t_to = resolve_period(store, args.t_from, args.t_to)
        site = site_for(store, args.site)
        return load_period(store, site, t_from, t_to)
