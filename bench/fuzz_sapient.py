"""Fuzz skyfence's SAPIENT fusion node and measure its decode rate.

Run: ``nice .venv/bin/python bench/fuzz_sapient.py --n 1000000 --seed 1``
(``--n 0 --rate-seconds 5`` for the decode rate only).

Seeds: the valid messages of a sensor node (formats/sapient/samples.py:
Registration, StatusReport, range-bearing and location DetectionReports, a
Task) and skyfence's own replies, framed. Each input is one of

- a byte mutation of a framed message (bit flips, byte edits, truncation,
  splices of two messages, length-prefix edits, duplicated frames),
- a field mutation: a random field somewhere in a valid message set to an
  edge value (NaN, ±inf, huge, negative, out-of-range enums, bad ids, empty
  strings, cleared sub-messages) and re-framed,
- random bytes,

fed in random cuts through a :class:`FrameReader` into a long-lived registered
:class:`Session` (re-registered when a mutated Registration changed its
node). Every input must come out as accepted, an Error / negative
RegistrationAck / rejected TaskAck reply, or a :class:`DecodeError` from the
framing ("message too large": the connection would be closed) — anything else
is a crash, recorded with the input's hex. Every reply must itself pass
validation (a bad reply is counted like a crash). An input over ``budget_s``
is re-timed alone; slow twice is a hang.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import time
from collections import Counter
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from fuzzing import Mutator, flip, main, run_fuzz
from skyfence.formats.errors import DecodeError
from skyfence.formats.sapient import convert, framing, samples, validate
from skyfence.formats.sapient.convert import NodeSensor, SapientMessage
from skyfence.formats.sapient.server import FusionNode

ORIGIN = (51.0, -1.0, 50.0)
SENSORS = {s.sensor_id: s for s in (
    NodeSensor("radar-1", "radar", (0.0, 0.0, 10.0)),
    NodeSensor("eoir-1", "eoir", (100.0, 0.0, 5.0)),
    NodeSensor("rid-1", "remote_id", (0.0, 0.0, 0.0)))}
MAX_BYTES = 64 * 1024


def seeds() -> list[SapientMessage]:
    node = samples.NODE_ID
    return [*samples.corpus(node),
            samples.location(node, alt_m=None, classification="Animal", sub_class="Bird"),
            convert.fusion_registration(node, 1.7e9),
            convert.error(node, 1.7e9, node, b"\x00\x01", ["x"]),
            convert.task_rejected(node, 1.7e9, node, samples.TASK_ID)]


# ---------------------------------------------------------------- byte mutations
def _length_edit(data: bytes, _other: bytes, rng: random.Random) -> bytes:
    """A new length prefix (the payload kept): short, long, huge."""
    body = data[framing.HEADER.size:]
    length = rng.choice((0, 1, len(body) - 1, len(body) + 1, len(body) * 2, MAX_BYTES,
                         MAX_BYTES + 1, 0xFFFFFFFF, rng.randrange(1 << 32)))
    return framing.HEADER.pack(max(length, 0) & 0xFFFFFFFF) + body


def _payload_flip(data: bytes, _other: bytes, rng: random.Random) -> bytes:
    """The payload's bytes mutated, the framing right."""
    return framing.frame(flip(data[framing.HEADER.size:], rng))


mutate_bytes = Mutator(byte_values=(0x00, 0xFF, 0x7F, 0x80, 0x08, 0x0A, 0x12, 0x22, 0x3A),
                       edits=(_length_edit, _payload_flip))
"""Bit flips, byte edits, truncations, splices, length-prefix edits, payload flips,
random bytes."""


# ---------------------------------------------------------------- field mutations
_FLOATS = (math.nan, math.inf, -math.inf, 1e308, -1e308, 0.0, -0.0, 1e-300, 361.0, -91.0,
           1e7, -1.0)
_INTS = (0, -1, 1, 2**31 - 1, -(2**31), 99, 7)
_STRINGS = ("", "x", "01JCZ8Q9W6V3YB5T2M4N7K8P0", "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
            "0f6d7c34-8a3e-4b2c-9d1e-3c5b7a9e2f4", "é" * 40, "UAV", "Bird", "\x00")


def _fields(msg: Message, out: list[tuple[Message, Any]], depth: int = 0) -> None:
    for f in msg.DESCRIPTOR.fields:
        out.append((msg, f))
        if f.type == FieldDescriptor.TYPE_MESSAGE and depth < 6:
            if f.is_repeated:
                for sub in getattr(msg, f.name):
                    _fields(sub, out, depth + 1)
            elif msg.HasField(f.name):
                _fields(getattr(msg, f.name), out, depth + 1)


def mutate_fields(seed: SapientMessage, rng: random.Random) -> bytes:
    msg = SapientMessage()
    msg.CopyFrom(seed)
    for _ in range(rng.randint(1, 3)):
        found: list[tuple[Message, Any]] = []
        _fields(msg, found)
        holder, f = rng.choice(found)
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            _set(holder, f, rng)
    return framing.frame(msg.SerializeToString())


def _value(f: FieldDescriptor, rng: random.Random) -> Any:
    t = f.type
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return rng.choice(_FLOATS) if rng.random() < 0.7 else rng.uniform(-1e4, 1e4)
    if t == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if t == FieldDescriptor.TYPE_STRING:
        return rng.choice(_STRINGS)
    if t == FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(rng.randint(0, 16))
    return rng.choice(_INTS)


def _set(holder: Message, f: FieldDescriptor, rng: random.Random) -> None:
    if f.type == FieldDescriptor.TYPE_MESSAGE:
        if f.is_repeated:
            items = getattr(holder, f.name)
            if len(items) and rng.random() < 0.5:
                del items[rng.randrange(len(items))]
            else:
                items.add()
        else:
            holder.ClearField(f.name) if rng.random() < 0.6 else getattr(holder, f.name)
            if holder.HasField(f.name) or rng.random() < 0.5:
                getattr(holder, f.name).SetInParent()
        return
    if f.is_repeated:
        getattr(holder, f.name).append(_value(f, rng))
    elif rng.random() < 0.2:
        holder.ClearField(f.name)
    else:
        setattr(holder, f.name, _value(f, rng))


# ---------------------------------------------------------------- target
class Target:
    """A fusion node with one registered connection; replies checked."""

    def __init__(self) -> None:
        self.emitted = 0
        self.node = FusionNode(ORIGIN, SENSORS, self._emit, {samples.NODE_ID: "radar-1"},
                               epoch_utc_s=1.7e9 - 100.0, clock=lambda: 1.7e9)
        self.session = self.node.session("fuzz")
        self._registration = samples.registration().SerializeToString()
        self.session.handle(self._registration)
        self.outcomes: Counter[str] = Counter()

    def _emit(self, records: list[dict[str, Any]]) -> None:
        self.emitted += len(records)

    def reset(self) -> None:
        reg = self.session.registered
        if reg is None or reg.node_id != samples.NODE_ID:
            self.session.handle(self._registration)
        if len(self.node.nodes_seen) > 500:
            self.node.nodes_seen.clear()

    def run(self, data: bytes, rng: random.Random) -> None:
        frames = framing.FrameReader(MAX_BYTES)
        cut = rng.randint(0, len(data))
        try:
            payloads = frames.feed(data[:cut]) + frames.feed(data[cut:])
        except DecodeError as exc:
            self.outcomes[f"framing: {exc.reason}"] += 1
            return
        if not payloads:
            self.outcomes["incomplete frame"] += 1
        for payload in payloads:
            replies = self.session.handle(payload)
            for reply in replies:
                bad = validate.problems(reply)
                if bad:
                    raise AssertionError(f"invalid reply: {[str(p) for p in bad]}")
            kind = replies[0].WhichOneof("content") if replies else "accepted"
            if kind == "registration_ack" and not replies[0].registration_ack.acceptance:
                kind = "registration refused"
            self.outcomes[kind or "none"] += 1


def fuzz(n: int, seed: int = 0, budget_s: float = 0.25) -> dict[str, Any]:
    """Fuzz ``n`` inputs; counts crashes (with input hex) and hangs (over ``budget_s``)."""
    logging.getLogger("skyfence.formats.errors").setLevel(logging.ERROR)
    logging.getLogger("skyfence.formats.sapient").setLevel(logging.ERROR)
    messages = seeds()
    framed = [framing.frame(m) for m in messages]
    target = Target()
    kinds: Counter[str] = Counter()

    def make_input(rng: random.Random) -> tuple[bytes, None]:
        r = rng.random()
        if r < 0.55:
            data = mutate_bytes(rng.choice(framed), rng.choice(framed), rng)
            kinds["bytes"] += 1
        elif r < 0.95:
            data = mutate_fields(rng.choice(messages), rng)
            kinds["fields"] += 1
        else:
            data = rng.choice(framed)
            kinds["valid"] += 1
        target.reset()
        return data, None

    result = run_fuzz(n, seed, make_input, lambda data, _, rng: target.run(data, rng),
                      budget_s, retime=lambda data, _: Target().run(data, random.Random(0)))
    return {**result, "mutations": dict(kinds),
            "outcomes": dict(target.outcomes.most_common()),
            "measurements_emitted": target.emitted,
            "rejections": dict(target.node.rejections.by_reason.most_common())}


def decode_rate(seconds: float = 5.0) -> dict[str, Any]:
    """DetectionReports per second through framing + parse + validate + convert on one
    core (a stream of 1,000 distinct range-bearing and location reports)."""
    rng = random.Random(0)
    reports = []
    for k in range(1000):
        if k % 2:
            msg = samples.range_bearing(t_utc_s=1.7e9 + k * 0.1, range_m=rng.uniform(200, 5000),
                                        azimuth_deg=rng.uniform(0, 360))
        else:
            msg = samples.location(t_utc_s=1.7e9 + k * 0.1, lat=51 + rng.uniform(-0.02, 0.02),
                                   lon=-1 + rng.uniform(-0.02, 0.02))
        reports.append(framing.frame(msg))
    wire = b"".join(reports)
    chunks = [wire[i:i + 65536] for i in range(0, len(wire), 65536)]
    target = Target()
    frames = framing.FrameReader()
    passes = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for chunk in chunks:
            for payload in frames.feed(chunk):
                target.session.handle(payload)
        passes += 1
    elapsed = time.perf_counter() - start
    assert target.emitted == passes * len(reports)
    parse_n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < min(seconds, 1.0):
        for payload in reports:
            framing.parse(payload[framing.HEADER.size:])
        parse_n += len(reports)
    parse_s = time.perf_counter() - t0
    return {"reports_per_s": round(passes * len(reports) / elapsed),
            "parse_only_per_s": round(parse_n / parse_s),
            "bytes_per_report": round(len(wire) / len(reports), 1),
            "passes": passes, "seconds": round(elapsed, 2)}


if __name__ == "__main__":
    main(__doc__, fuzz, decode_rate)
