"""What the fuzz harnesses (bench/fuzz_<format>.py) share: byte mutations and the loop.

Each format's script supplies its seeds, how an input is made (:class:`Mutator` for
the byte mutations every format uses, plus its own edits), the decode call and its
own counters; :func:`run_fuzz` runs the inputs through the decode call and returns
the common result keys:

- ``inputs``, ``seed``, ``seconds`` (wall time of the loop);
- ``crashes``: inputs whose decoding raised anything (a DecodeError must be caught by
  the decode call: it is the expected rejection), the first ``MAX_RECORDED`` kept in
  ``crash_examples`` with the input's hex, the error and where it was raised;
- ``hangs``: inputs slower than ``budget_s`` (re-timed alone with fresh state when
  the script gives a ``retime`` call: the machine may be shared, so a hang is slow
  twice; or interrupted after ``hard_limit_s`` CPU seconds), the first kept in
  ``hang_examples``; ``budget_s``, ``slowest_input_s``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

MAX_RECORDED = 20
"""Crash and hang examples kept per run."""

Edit = Callable[[bytes, bytes, random.Random], bytes]
"""A format's own mutation: (sample, another sample, rng) -> input."""
Context = TypeVar("Context")


# ---------------------------------------------------------------- mutations
def flip(data: bytes, rng: random.Random) -> bytes:
    """One to eight bit flips."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def set_byte(data: bytes, rng: random.Random, values: Sequence[int]) -> bytes:
    """One byte set to one of ``values`` (the format's edge values) or a random byte."""
    if not data:
        return data
    at = rng.randrange(len(data))
    value = rng.choice((*values, rng.randrange(256)))
    return data[:at] + bytes((value,)) + data[at + 1:]


def truncate(data: bytes, rng: random.Random, keep_head_p: float = 0.5) -> bytes:
    """The head (with probability ``keep_head_p``) or the tail of ``data``, cut anywhere."""
    cut = rng.randint(0, len(data))
    return data[:cut] if rng.random() < keep_head_p else data[cut:]


def splice(data: bytes, other: bytes, rng: random.Random) -> bytes:
    """A head of ``data`` followed by a tail of ``other``."""
    return data[:rng.randint(0, len(data))] + other[rng.randint(0, len(other)):]


@dataclass(frozen=True)
class Mutator:
    """One mutation of a sample, each kind equally likely: a bit flip, a byte set to an
    edge value, a truncation, a splice with another sample, each of the format's own
    ``edits``, or random bytes (up to ``max_random`` of them)."""

    byte_values: Sequence[int]
    edits: Sequence[Edit] = ()
    keep_head_p: float = 0.5
    max_random: int = 64

    def __call__(self, sample: bytes, other: bytes, rng: random.Random) -> bytes:
        kind = rng.randrange(5 + len(self.edits))
        if kind == 0:
            return flip(sample, rng)
        if kind == 1:
            return set_byte(sample, rng, self.byte_values)
        if kind == 2:
            return truncate(sample, rng, self.keep_head_p)
        if kind == 3:
            return splice(sample, other, rng)
        if kind < 4 + len(self.edits):
            return self.edits[kind - 4](sample, other, rng)
        return rng.randbytes(rng.randint(0, self.max_random))


# ---------------------------------------------------------------- the loop
class _HangError(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _HangError


def run_fuzz(n: int, seed: int, make_input: Callable[[random.Random], tuple[bytes, Context]],
             decode: Callable[[bytes, Context, random.Random], object], budget_s: float = 0.25,
             *, retime: Callable[[bytes, Context], object] | None = None,
             clock: Callable[[], float] = time.perf_counter, hard_limit_s: float | None = None,
             label: Callable[[Context], dict[str, Any]] | None = None,
             rng: random.Random | None = None) -> dict[str, Any]:
    """Fuzz ``n`` inputs (module doc): ``make_input(rng)`` gives an input and its context
    (a link type, a stream to feed, …), ``decode(data, context, rng)`` decodes it.

    ``retime(data, context)`` decodes a slow input again with fresh state; without it
    one slow run is a hang. ``clock`` times each input (``time.process_time`` for a
    CPU-time budget). ``hard_limit_s``: CPU seconds after which an input is
    interrupted (SIGVTALRM, main thread only) and counted as a hang. ``label(context)``:
    fields added to each example. ``rng``: the generator, when the caller seeded it
    with ``seed`` and drew from it first (its samples); else a new one.
    """
    rng = rng or random.Random(seed)
    crashes: list[dict[str, Any]] = []
    hangs: list[dict[str, Any]] = []
    n_crashes = n_hangs = 0
    slowest_s = 0.0
    hard_s = hard_limit_s if threading.current_thread() is threading.main_thread() else None
    previous = signal.signal(signal.SIGVTALRM, _alarm) if hard_s is not None else None

    def hang(data: bytes, context: Context, seconds: float) -> None:
        nonlocal n_hangs
        n_hangs += 1
        if len(hangs) < MAX_RECORDED:
            hangs.append({**(label(context) if label else {}), "input_hex": data.hex(),
                          "seconds": round(seconds, 4)})

    start = time.perf_counter()
    try:
        for _ in range(n):
            data, context = make_input(rng)
            t0 = clock()
            try:
                if hard_s is not None:
                    signal.setitimer(signal.ITIMER_VIRTUAL, hard_s)
                decode(data, context, rng)
            except _HangError:
                hang(data, context, hard_s or 0.0)
                continue
            except Exception as error:  # the point: anything but DecodeError is a crash
                n_crashes += 1
                if len(crashes) < MAX_RECORDED:
                    crashes.append({**(label(context) if label else {}),
                                    "input_hex": data.hex(), "error": repr(error),
                                    "where": traceback.format_exc(limit=-2)})
            finally:
                if hard_s is not None:
                    signal.setitimer(signal.ITIMER_VIRTUAL, 0.0)
            took_s = clock() - t0
            slowest_s = max(slowest_s, took_s)
            if took_s > budget_s:
                again_s = _again(retime, data, context, clock) if retime else took_s
                if again_s > budget_s:
                    hang(data, context, again_s)
    finally:
        if previous is not None:
            signal.signal(signal.SIGVTALRM, previous)
    return {"inputs": n, "seed": seed, "crashes": n_crashes, "crash_examples": crashes,
            "hangs": n_hangs, "hang_examples": hangs, "budget_s": budget_s,
            "slowest_input_s": round(slowest_s, 5),
            "seconds": round(time.perf_counter() - start, 2)}


def _again(retime: Callable[[bytes, Any], object], data: bytes, context: Any,
           clock: Callable[[], float]) -> float:
    """The time of a slow input decoded again alone (a crash is reported by the first run)."""
    t0 = clock()
    with contextlib.suppress(Exception):
        retime(data, context)
    return clock() - t0


def main(doc: str | None, fuzz: Callable[[int, int], dict[str, Any]],
         decode_rate: Callable[[float], dict[str, Any]]) -> None:
    """The command line of a format's script: ``--n``, ``--seed``, ``--rate-seconds``;
    prints the fuzz result and the decode rate as JSON."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate-seconds", type=float, default=5.0)
    args = parser.parse_args()
    report = {"fuzz": fuzz(args.n, args.seed), "decode_rate": decode_rate(args.rate_seconds)}
    print(json.dumps(report, indent=2))
