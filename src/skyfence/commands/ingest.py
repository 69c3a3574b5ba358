"""``skyfence ingest``: a capture in a site's own format → measurements.jsonl.

Any capture can then be tracked (``skyfence track``), evaluated and replayed
offline. One format per run; the measurements belong to one site sensor
(``--sensor``, by default the site's only sensor of the format's type).
Rejected input is counted by reason and summarised; nothing in a capture
stops the run. The format modules (skyfence.formats.*) do the decoding.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from skyfence.errors import UserError
from skyfence.formats.adsb import Framing
from skyfence.formats.errors import DecodeError, Rejections
from skyfence.scenario import Scenario, load_scenario

Ingest = Callable[[Path, Scenario, str, float | None, Rejections, argparse.Namespace],
                  Iterator[Any]]


def _adsb(framing: Framing) -> Ingest:
    def ingest(path: Path, site: Scenario, sensor: str, epoch: float | None,
               rejections: Rejections, args: argparse.Namespace) -> Iterator[Any]:
        from skyfence.formats import adsb

        return adsb.ingest_file(path, site, sensor, epoch, rejections,
                                start_utc_s=args.start_utc, framing=framing)
    return ingest


def _remoteid(path: Path, site: Scenario, sensor: str, epoch: float | None,
              rejections: Rejections, args: argparse.Namespace) -> Iterator[Any]:
    from skyfence.formats import remoteid

    return remoteid.ingest_file(path, site, sensor, epoch, rejections)


def _asterix(path: Path, site: Scenario, sensor: str, epoch: float | None,
             rejections: Rejections, args: argparse.Namespace) -> Iterator[Any]:
    from skyfence.formats.asterix.measurements import ingest_file

    return ingest_file(path, site, sensor, epoch, rejections, args.radars or None)


FORMATS: dict[str, tuple[str, Ingest]] = {
    "adsb-beast": ("adsb", _adsb("beast")),
    "adsb-avr": ("adsb", _adsb("avr")),
    "remoteid-pcap": ("remote_id", _remoteid),
    "asterix-pcap": ("radar", _asterix),
    "asterix-raw": ("radar", _asterix),
}
"""Format name → (site sensor type, reader)."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ingest", help="convert a capture (ADS-B, Remote ID, ASTERIX) into measurements.jsonl",
        description="Decode CAPTURE (Beast binary or AVR text ADS-B; a pcap/pcapng of Remote "
        "ID Wi-Fi or Bluetooth frames; ASTERIX CAT048/034 in a pcap or as raw blocks) into "
        "the measurement contract of DESIGN.md, as SENSOR's reports. Prints a JSON summary "
        "(measurements, rejected input by reason). See docs/formats/.",
    )
    p.add_argument("capture", type=Path, help="the capture file")
    p.add_argument("--format", required=True, choices=sorted(FORMATS),
                   help="what the capture holds")
    p.add_argument("--site", required=True, help="site / scenario YAML, or a bundled name")
    p.add_argument("--out", required=True, type=Path, metavar="MEASUREMENTS",
                   help="measurements.jsonl to write")
    p.add_argument("--sensor", default=None, metavar="ID",
                   help="the site sensor these reports come from (default: the site's only "
                   "sensor of the format's type)")
    p.add_argument("--epoch-utc", type=float, default=None, metavar="S",
                   help="UTC seconds (POSIX) of t = 0 (default: midnight UTC of the day of "
                   "the first record)")
    p.add_argument("--start-utc", type=float, default=0.0, metavar="S",
                   help="adsb: UTC seconds (POSIX) of the first frame; Beast and AVR files "
                   "carry no date (default 0)")
    p.add_argument("--radar", dest="radar", action="append", default=[],
                   metavar="SAC/SIC=SENSOR",
                   help="asterix: the site radar of one data source (repeat for a feed of "
                   "several radars; records of others are counted and dropped). Default: "
                   "the first radar seen is --sensor")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="PATH=VALUE", help="override a site field")
    p.set_defaults(handler=cmd_ingest)


def pick_sensor(site: Scenario, kind: str, wanted: str | None, fmt: str) -> str:
    """The sensor id to stamp on the measurements (checked against the site)."""
    of_kind = [s.id for s in site.sensors if s.type == kind]
    if wanted is not None:
        types = {s.id: s.type for s in site.sensors}
        if wanted not in types:
            raise UserError(f"--sensor {wanted}: no such sensor in site {site.name!r}")
        if types[wanted] != kind:
            raise UserError(f"--sensor {wanted} is a {types[wanted]} sensor; {fmt} gives "
                            f"{kind} reports")
        return wanted
    if len(of_kind) == 1:
        return of_kind[0]
    if not of_kind:
        raise UserError(f"site {site.name!r} has no {kind} sensor for {fmt} reports: add one "
                        "(its position and accuracy are what the tracker uses)")
    raise UserError(f"site {site.name!r} has {len(of_kind)} {kind} sensors "
                    f"({', '.join(of_kind)}): say which with --sensor")


def _radars(specs: list[str], site: Scenario, kind: str) -> dict[tuple[int, int], str]:
    """``--radar SAC/SIC=SENSOR`` options, checked against the site."""
    from skyfence.scenario.model import parse_sac_sic

    out: dict[tuple[int, int], str] = {}
    for spec in specs:
        key, _, sensor = spec.partition("=")
        try:
            pair = parse_sac_sic(key)
        except ValueError as exc:
            raise UserError(f"--radar {spec}: {exc}") from None
        out[pair] = pick_sensor(site, kind, sensor, "asterix")
    return out


def cmd_ingest(args: argparse.Namespace) -> int:
    if not args.capture.is_file():
        raise UserError(f"{args.capture}: no such file")
    site = load_scenario(args.site, args.overrides)
    kind, reader = FORMATS[args.format]
    args.radars = _radars(args.radar, site, kind)
    wanted = args.sensor or (next(iter(args.radars.values())) if args.radars else None)
    sensor = pick_sensor(site, kind, wanted, args.format)
    rejections = Rejections()
    encoder = msgspec.json.Encoder()
    count, t_first, t_last = 0, None, None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as out:
        try:
            for record in reader(args.capture, site, sensor, args.epoch_utc, rejections, args):
                out.write(encoder.encode(record) + b"\n")
                count += 1
                t_first = record["t"] if t_first is None else t_first
                t_last = record["t"]
        except DecodeError as exc:  # the file as a whole cannot be read (not a capture)
            raise UserError(f"{args.capture}: {exc} (is it a {args.format} capture?)") from None
    summary = {"format": args.format, "sensor": sensor, "measurements": count,
               "t_first": t_first, "t_last": t_last, **rejections.summary()}
    print(f"skyfence ingest: {count} measurements from {args.capture} "
          f"({rejections.total} inputs rejected) → {args.out}", file=sys.stderr)
    print(json.dumps(summary, indent=2))
    return 0
