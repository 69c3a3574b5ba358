"""``skyfence replay``: re-run a recorded period through the engine, for forensics.

``skyfence replay --store URL [--from T] [--to T] --out DIR [--set PATH=VALUE]
[--motion ncv|imm] [--association gnn|jpda] [--site SITE]`` reads the raw
measurements the live engine stored for ``[from, to]`` and runs them again,
with the recorded site and settings or with others:

- ``DIR/measurements.jsonl``: the stored lines of the period, in time order;
- ``DIR/tracks.jsonl``, ``DIR/alerts.jsonl``: as ``skyfence track`` writes
  them (:func:`skyfence.track_io.run_track`);
- ``DIR/events.sqlite``: a new event store of the re-run (the live engine,
  :class:`~skyfence.live.engine.LiveEngine`, played with no clock);
- on stdout a JSON summary comparing the original period with the re-run:
  ticks, tracks confirmed, alerts by kind, and which alerts (id, kind, start)
  are the same.

The site is the one the run stored (meta ``site_yaml``) unless ``--site``
names another; ``--set`` overrides apply to either. The output period and
reorder window are the run's (meta ``run_json``). Replaying a whole run with
its own settings gives its alerts and track states back exactly; a period
that starts mid-run starts from an empty picture, so its first minutes
differ.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec

from skyfence.errors import UserError

FILES = ("measurements.jsonl", "tracks.jsonl", "alerts.jsonl", "events.sqlite")


def register(sub: Any) -> None:
    """Add this module's sub-commands to the ``skyfence`` parser."""
    p = sub.add_parser(
        "replay", help="re-run a recorded period of an event store through the engine",
        description="Re-run the measurements an event store holds for [--from, --to] "
        "with the recorded site and settings, or others (--site, --set, --motion, "
        "--association); write DIR/measurements.jsonl, DIR/tracks.jsonl, DIR/alerts.jsonl "
        "and DIR/events.sqlite and print a summary comparing the original and the re-run. "
        "See docs/store.md.")
    p.add_argument("--store", required=True, metavar="URL",
                   help="the event store (sqlite:///PATH, a path, or postgresql://...)")
    p.add_argument("--from", dest="t_from", type=float, default=None, metavar="T",
                   help="start of the period, scenario seconds (default: the first stored)")
    p.add_argument("--to", dest="t_to", type=float, default=None, metavar="T",
                   help="end of the period, scenario seconds (default: the last stored)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    p.add_argument("--site", default=None,
                   help="site / scenario YAML (default: the one the run stored)")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="PATH=VALUE", help="override a site field, e.g. "
                   "--set site.zones.0.circle.radius_m=2000")
    p.add_argument("--motion", choices=("ncv", "imm"), default=None,
                   help="motion model (default: the tracker's)")
    p.add_argument("--association", choices=("gnn", "jpda"), default=None,
                   help="radar data association (default: the tracker's)")
    p.set_defaults(handler=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    from skyfence.store import open_store
    from skyfence.track_io import run_track
    from skyfence.tracker import TrackerParams

    lo = -math.inf if args.t_from is None else args.t_from
    hi = math.inf if args.t_to is None else args.t_to
    if math.isnan(lo) or math.isnan(hi) or lo > hi:
        raise UserError(f"bad period: --from {args.t_from} is after --to {args.t_to}")
    _check_exists(args.store)
    with open_store(args.store, flush_interval_s=None) as store:
        site, site_yaml = _site(store, args)
        run = json.loads(store.get_meta("run_json") or "{}")
        period_s = float(run.get("output_period_s") or 1.0)
        window_s = float(run.get("max_lag_s") if run.get("max_lag_s") is not None else 0.5)
        lines = store.measurements(lo, hi)
        if not lines:
            raise UserError(f"{args.store}: no measurements stored between {lo:g} and {hi:g}")
        lo = max(lo, float(lines[0]["t"]))
        hi = min(hi, float(lines[-1]["t"]))
        original = _profile(store, lo, hi)
    chosen = {"motion": args.motion, "association": args.association}
    params = TrackerParams(**{k: v for k, v in chosen.items() if v is not None})
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
        measurements = out / FILES[0]
        encode = msgspec.json.Encoder().encode
        measurements.write_bytes(b"".join(encode(m) + b"\n" for m in lines))
    except OSError as exc:
        raise UserError(f"{out}: cannot write: {exc}") from None
    track = run_track(site, measurements, out / FILES[1], out / FILES[2], period_s,
                      params=params, reorder_window_s=window_s)
    rerun = _rerun(site, site_yaml, params, period_s, window_s, out, args, lo, hi)
    summary = {"period": [lo, hi], "store": args.store,
               "settings": {"output_period_s": period_s, "max_lag_s": window_s,
                            "motion": params.motion, "association": params.association,
                            "site": args.site or "stored", "overrides": args.overrides},
               "original": original, "replay": rerun,
               "alerts_compared": _compare(original, rerun),
               "bad_lines": track["bad_lines"], "late_lines": track["late_lines"],
               "files": {name: str(out / name) for name in FILES}}
    for side in (summary["original"], summary["replay"]):
        side.pop("alert_keys")
    print(json.dumps(summary, indent=2))
    return 0


def _check_exists(url: str) -> None:
    """A SQLite store must exist (opening one creates it)."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        return
    path = Path(text[len("sqlite:///"):] if text.startswith("sqlite:///") else text)
    if not path.is_file():
        raise UserError(f"{url}: no such event store")


def _site(store: Any, args: argparse.Namespace) -> tuple[Any, str]:
    """The site to replay with (``--site``, else the stored one), overrides applied;
    and its YAML."""
    import yaml

    from skyfence.scenario import load_scenario
    from skyfence.scenario.load import apply_override, parse_yaml, validate

    if args.site is not None:
        site = load_scenario(args.site, args.overrides)
    else:
        text = store.get_meta("site_yaml")
        if text is None:
            raise UserError(f"{args.store}: the store holds no site (meta site_yaml, written "
                            "by skyfence run): give --site")
        where = f"{args.store} (stored site)"
        data = parse_yaml(text, where)
        for item in args.overrides:
            apply_override(data, item, where)
        site = validate(data, where)
    return site, yaml.safe_dump(site.model_dump(mode="json"), sort_keys=False)


def _rerun(site: Any, site_yaml: str, params: Any, period_s: float, window_s: float,
           out: Path, args: argparse.Namespace, lo: float, hi: float) -> dict[str, Any]:
    """The live engine over DIR/measurements.jsonl into a fresh DIR/events.sqlite."""
    from skyfence.live.engine import LiveEngine
    from skyfence.live.sources import FileSource
    from skyfence.store import open_store

    path = out / FILES[3]
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    with open_store(path, flush_interval_s=None) as store:
        store.set_meta("site_yaml", site_yaml)
        store.set_meta("run_json", json.dumps({"output_period_s": period_s,
                                               "max_lag_s": window_s, "retain_s": None}))
        store.set_meta("replay_of", json.dumps({"store": args.store, "from": lo, "to": hi}))
        engine = LiveEngine(site, params, output_period_s=period_s, reorder_window_s=window_s,
                            sink=store)
        engine.play(FileSource(out / FILES[0]))
        return _profile(store, lo, hi)


def _profile(store: Any, lo: float, hi: float) -> dict[str, Any]:
    """Ticks, tracks and alerts (by kind) a store holds for ``[lo, hi]``."""
    alerts = store.alerts(lo, hi)
    return {"ticks": len(store.tick_times(lo, hi)),
            "tracks_confirmed": len(store.track_ids(lo, hi)),
            "alerts": len(alerts),
            "alerts_by_kind": dict(sorted(Counter(a["kind"] for a in alerts).items())),
            "alert_keys": sorted((a["alert_id"], a["kind"], a["t_start"]) for a in alerts)}


def _compare(original: dict[str, Any], rerun: dict[str, Any]) -> dict[str, Any]:
    """Which alerts (id, kind, start) the two runs share and which only one has."""
    a = {tuple(k) for k in original["alert_keys"]}
    b = {tuple(k) for k in rerun["alert_keys"]}
    return {"same": len(a & b),
            "only_original": [list(k) for k in sorted(a - b)],
            "only_replay": [list(k) for k in sorted(b - a)]}
