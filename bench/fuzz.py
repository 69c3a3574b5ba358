"""Fuzz every wire-format decoder and measure its decode rate: one command.

    .venv/bin/python bench/fuzz.py                    # 10^6 inputs per format (minutes)
    .venv/bin/python bench/fuzz.py --n 20000 adsb     # one format, a short run

Each format's own script (bench/fuzz_<format>.py) mutates real samples (bit
flips, truncations, splices, length and framing edits) and adds random bytes;
every input must decode or be rejected with a DecodeError (counted by reason).
Any other exception is a crash, an input over the time budget a hang. Prints
one JSON object per format and exits 1 if any crashed or hung.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

FORMATS = ("adsb", "remoteid", "asterix", "sapient")


def run(fmt: str, n: int, seed: int, rate_s: float) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).parent))
    module = importlib.import_module(f"fuzz_{fmt}")
    started = time.perf_counter()
    result: dict[str, Any] = module.fuzz(n, seed)
    wall_s = time.perf_counter() - started
    return {"format": fmt, "inputs": n, "seed": seed, "wall_s": round(wall_s, 1),
            "crashes": _count(result.get("crashes")), "hangs": _count(result.get("hangs")),
            "fuzz": result, "decode_rate": module.decode_rate(rate_s)}


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list | dict) else int(value or 0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("formats", nargs="*", metavar="FORMAT",
                    help=f"formats to fuzz (default all: {', '.join(FORMATS)})")
    ap.add_argument("--n", type=int, default=1_000_000, help="inputs per format")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate-seconds", type=float, default=5.0)
    args = ap.parse_args()
    unknown = sorted(set(args.formats) - set(FORMATS))
    if unknown:
        ap.error(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    bad = 0
    for fmt in args.formats or FORMATS:
        result = run(fmt, args.n, args.seed, args.rate_seconds)
        bad += result["crashes"] + result["hangs"]
        summary = {k: v for k, v in result.items() if k != "fuzz"}
        print(json.dumps(summary), flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
