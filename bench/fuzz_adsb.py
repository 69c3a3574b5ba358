"""Fuzz the ADS-B decoders (Beast, AVR, DF17/18) and measure their decode rate.

Run: ``nice .venv/bin/python bench/fuzz_adsb.py --n 1000000 --seed 1``
(``--rate-seconds 5`` for the decode rate only with ``--n 0``).

Inputs are mutations of real frames (sample_dump1090.bin re-framed as Beast
and AVR, rs1090's DF17 frames): bit flips, byte edits, truncations, splices,
0x1a escape edits, Beast type/length edits, plus random bytes. Each input
goes through the pure decoders (:func:`split_beast`, :func:`decode_beast_frame`,
:func:`parse_avr_line`, :func:`decode_es`) and through long-lived stream
decoders (Beast and AVR, CPR state kept across inputs). Anything but a result
or a :class:`DecodeError` is a crash, recorded with the input in hex; an input
taking longer than ``budget_s`` is a hang.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fuzzing import Mutator, main, run_fuzz
from skyfence.formats.adsb import AdsbStream, CprSettings
from skyfence.formats.adsb_framing import (
    avr_line,
    beast_frame,
    decode_beast_frame,
    parse_avr_line,
    split_beast,
)
from skyfence.formats.adsb_messages import decode_es
from skyfence.formats.errors import DecodeError

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "traffic_samples"
DUMP1090 = REALDATA / "sample_dump1090.bin"
RS1090 = REALDATA / "rs1090_full_flight_short.jsonl.gz"
TOULOUSE = (43.6293, 1.3638)


def real_messages(limit: int = 4000) -> list[bytes]:
    """Mode S messages of the real captures: the Beast sample and rs1090's DF17s."""
    frames, _, _ = split_beast(DUMP1090.read_bytes())
    messages = [f.message for f in frames]
    with gzip.open(RS1090, "rt") as handle:
        for line in handle:
            row = json.loads(line)
            if row["df"] == "17" and len(messages) < limit:
                messages.append(bytes.fromhex(row["frame"]))
    return messages


def beast_samples(messages: list[bytes], rng: random.Random) -> list[bytes]:
    return [b"".join(beast_frame(m, rng.randrange(1 << 48), rng.randrange(256))
                     for m in rng.sample(messages, rng.randint(1, 4))) for _ in range(2000)]


def avr_samples(messages: list[bytes], rng: random.Random) -> list[bytes]:
    return [b"".join(avr_line(m, rng.choice((None, rng.randrange(1 << 48))))
                     for m in rng.sample(messages, rng.randint(1, 3))) for _ in range(2000)]


# ---------------------------------------------------------------- mutations
def _escape_edit(data: bytes, _other: bytes, rng: random.Random) -> bytes:
    places = [i for i, b in enumerate(data) if b == 0x1A] or [0]
    i = rng.choice(places)
    edit = rng.choice((b"", b"\x1a", b"\x1a\x1a", b"\x1a\x1a\x1a"))
    return data[:i] + edit + data[i + 1:]


def _length_edit(data: bytes, _other: bytes, rng: random.Random) -> bytes:
    """Change a Beast type byte or insert/delete hex digits in an AVR line."""
    i = rng.randrange(len(data)) if data else 0
    if rng.random() < 0.5:
        return data[:i] + bytes((rng.choice((0x31, 0x32, 0x33, 0x34, 0xE3)),)) + data[i + 1:]
    return data[:i] + rng.choice((b"", b"0", b"A1", b";", b"\r", b"@", b"*")) + data[i + 1:]


mutate = Mutator(byte_values=(0x00, 0x1A, 0x31, 0x32, 0x33, 0xFF, 0x2A, 0x40, 0x3B, 0x0A),
                 edits=(_escape_edit, _length_edit))
"""Bit flips, byte edits, truncations, splices, 0x1a escape and length edits, random bytes."""


# ---------------------------------------------------------------- targets
class Targets:
    """Every decoder an input goes through; streams keep state across inputs."""

    def __init__(self) -> None:
        settings = CprSettings(reference=TOULOUSE, receiver_range_m=300_000.0)
        self.beast = AdsbStream("beast", settings, start_utc_s=0.0)
        self.avr = AdsbStream("avr", settings, start_utc_s=0.0)
        self.t_utc_s = 0.0
        self.reasons: Counter[str] = Counter()

    def _pure(self, call: Callable[[], object]) -> None:
        try:
            call()
        except DecodeError as error:
            self.reasons[error.reason] += 1

    def run(self, data: bytes, avr: bool, rng: random.Random) -> None:
        self.t_utc_s += rng.random()
        split_beast(data)
        self._pure(lambda: decode_beast_frame(data))
        for line in data.split(b"\n"):
            self._pure(lambda line=line: parse_avr_line(line))  # type: ignore[misc]
        for message in (data[:7], data[:14], data[2:16], data[-14:]):
            self._pure(lambda m=message: decode_es(m, self.t_utc_s))  # type: ignore[misc]
        stream = self.avr if avr else self.beast
        cut = rng.randint(0, len(data))
        stream.feed(data[:cut], self.t_utc_s)
        stream.feed(data[cut:], self.t_utc_s)


def fuzz(n: int, seed: int = 0, budget_s: float = 0.25) -> dict[str, Any]:
    """Fuzz ``n`` inputs; counts crashes (with input hex) and hangs (over ``budget_s``)."""
    logging.getLogger("skyfence.formats.errors").setLevel(logging.ERROR)
    rng = random.Random(seed)
    messages = real_messages()
    pools = (beast_samples(messages, rng), avr_samples(messages, rng))
    targets = Targets()

    def make_input(rng: random.Random) -> tuple[bytes, bool]:
        avr = rng.random() < 0.4
        pool = pools[avr]
        return mutate(rng.choice(pool), rng.choice(pool), rng), avr

    result = run_fuzz(n, seed, make_input, targets.run, budget_s,
                      retime=lambda data, avr: Targets().run(data, avr, random.Random(0)),
                      rng=rng)
    rejections = targets.beast.rejections.by_reason + targets.avr.rejections.by_reason
    return {**result, "pure_decode_errors": dict(targets.reasons.most_common()),
            "stream_rejections": dict(rejections.most_common())}


def decode_rate(seconds: float = 5.0) -> dict[str, Any]:
    """Frames per second through the whole Beast pipeline on one core (real frames).

    The stream is rs1090's 57,793 frames (all DFs) re-framed as Beast, decoded
    again and again with fresh state for ``seconds``.
    """
    with gzip.open(RS1090, "rt") as handle:
        rows = [json.loads(line) for line in handle]
    t0 = rows[0]["timestamp"]
    wire = b"".join(beast_frame(bytes.fromhex(r["frame"]), int((r["timestamp"] - t0) * 12e6), 100)
                    for r in rows)
    n_es = sum(r["df"] in ("17", "18") for r in rows)
    chunks = [wire[i:i + 65536] for i in range(0, len(wire), 65536)]
    passes = results = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        stream = AdsbStream("beast", CprSettings(reference=(49.0097, 2.5479)), start_utc_s=t0)
        for chunk in chunks:
            results += len(stream.feed(chunk, t0))
        passes += 1
    elapsed = time.perf_counter() - start
    return {"frames_per_s": round(passes * len(rows) / elapsed),
            "df17_frames_per_s": round(passes * n_es / elapsed),
            "results_per_s": round(results / elapsed), "passes": passes,
            "frames_per_pass": len(rows), "seconds": round(elapsed, 2)}


if __name__ == "__main__":
    main(__doc__, fuzz, decode_rate)
