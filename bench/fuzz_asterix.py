"""Fuzz the ASTERIX decoders (CAT048, CAT034, CAT062, CAT015) and measure their decode rate.

Run: ``nice .venv/bin/python bench/fuzz_asterix.py --n 1000000 --seed 1``
(``--n 0`` for the decode rate only).

Seeds are real datagrams (the UDP payloads of the Croatia Control captures
cat_034_048.pcap and cat_062_065.pcap, the raw cat048/cat034 blocks), CAT062 datagrams
from skyfence's own encoder and one hand-made CAT015 record. Mutations: bit flips, byte
edits, truncations, splices, block LEN edits, FSPEC edits (presence and FX bits of a
record's first octets), REP/length-octet edits, duplicated blocks, plus random bytes.
Each input goes through the strict pure decoder (:func:`decode_datagram`: a result or
:class:`DecodeError`), the live decoder (:class:`AsterixDecoder`: never raises) and the
measurement adapter. Anything else is a crash, recorded with the input in hex; an input
slower than ``budget_s`` twice is a hang.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from fuzzing import Mutator, flip, main, run_fuzz
from skyfence.formats.asterix import AsterixDecoder, decode_datagram, to_measurements
from skyfence.formats.asterix.block import frame_block, fspec
from skyfence.formats.asterix.capture import udp_payloads
from skyfence.formats.asterix.output import Cat062Writer, OutputSettings
from skyfence.formats.errors import DecodeError
from skyfence.scenario.model import Origin, Scenario

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "asterix_croatiacontrol"
CAPTURES = ("cat_034_048.pcap", "cat_062_065.pcap")
RAW = ("cat048.raw", "cat034.raw")
SITE = Scenario.model_validate({
    "name": "fuzz", "duration_s": 1, "site": {"origin": {"lat": 45.0, "lon": 16.0}},
    "sensors": [{"id": "radar", "type": "radar", "position_enu_m": [0, 0, 10]}],
})


def real_datagrams() -> list[bytes]:
    """The UDP payloads and raw blocks of the real samples."""
    out = [payload for name in CAPTURES for _, payload in udp_payloads(REALDATA / name)]
    out.extend((REALDATA / name).read_bytes() for name in RAW)
    return out


def own_datagrams() -> list[bytes]:
    """CAT062 from skyfence's encoder and a CAT015 record built from the specification."""
    writer = Cat062Writer(Origin(lat=45.0, lon=16.0, alt_m=100.0), OutputSettings(sac=1, sic=2))
    lines = [{"t": 5.0, "track_id": i, "enu_m": [100.0 * i, -50.0 * i, 30.0],
              "vel_mps": [3.0, -1.0, 0.0], "cooperative_id": None} for i in range(12)]
    out = writer.tick(lines) + writer.tick(lines[:3]) + writer.finish()
    cat015 = (fspec([1, 2, 6, 20, 22, 23]) + b"\x10\x20\x04" + (460800).to_bytes(3, "big")
              + b"\x90" + (25000).to_bytes(3, "big") + (65000).to_bytes(3, "big")
              + b"\x80\x40\x00" + b"\x80\x04\x00")
    out.append(frame_block(15, cat015))
    return out


# ---------------------------------------------------------------- mutations
def _block_starts(data: bytes) -> list[int]:
    starts, at = [], 0
    while at + 3 <= len(data):
        starts.append(at)
        length = (data[at + 1] << 8) | data[at + 2]
        if length < 3:
            break
        at += length
    return starts or [0]


def _length_edit(data: bytes, _other: bytes, rng: random.Random) -> bytes:
    """A block's LEN set off by a little, to 0..3, or to 0xFFFF."""
    at = rng.choice(_block_starts(data))
    if at + 3 > len(data):
        return data
    length = (data[at + 1] << 8) | data[at + 2]
    new = rng.choice((length + rng.randint(-4, 4), rng.randint(0, 3), 0xFFFF,
                      rng.randrange(65536))) & 0xFFFF
    return data[:at + 1] + new.to_bytes(2, "big") + data[at + 3:]


def _fspec_edit(data: bytes, _other: bytes, rng: random.Random) -> bytes:
    """Presence and FX bits of the first record's FSPEC of a block."""
    at = rng.choice(_block_starts(data)) + 3 + rng.randint(0, 3)
    if at >= len(data):
        return data
    value = rng.choice((data[at] | 1, data[at] & 0xFE, data[at] ^ (0x80 >> rng.randrange(7)),
                        0xFF, 0x01, 0x00))
    return data[:at] + bytes((value,)) + data[at + 1:]


def _count_edit(data: bytes, _other: bytes, rng: random.Random) -> bytes:
    """A REP or explicit-length octet (any octet, really) set to a large count."""
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes((rng.choice((0xFF, 0x80, 0x40, 0x10)),)) + data[at + 1:]


def _doubled(data: bytes, other: bytes, rng: random.Random) -> bytes:
    """Blocks of two datagrams back to back, then bit flips."""
    return flip(data + other, rng)


mutate = Mutator(byte_values=(0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF),
                 edits=(_length_edit, _fspec_edit, _count_edit, _doubled),
                 keep_head_p=0.7, max_random=96)
"""Bit flips, byte edits, truncations, splices, LEN, FSPEC and count edits, doubled
datagrams, random bytes."""


# ------------------------------------------------------------------ targets
class Targets:
    """The strict decoder, the live decoder (state kept across inputs), the adapter."""

    def __init__(self) -> None:
        self.live = AsterixDecoder()
        self.reasons: Counter[str] = Counter()
        self.records = 0
        self.measurements = 0
        self.rx_utc_s = 1_462_433_756.0

    def run(self, data: bytes, rng: random.Random) -> None:
        try:
            self.records += len(decode_datagram(data))
        except DecodeError as error:
            self.reasons[error.reason] += 1
        self.rx_utc_s += rng.random()
        rx = None if rng.random() < 0.2 else self.rx_utc_s
        stamped = self.live.feed(data, rx)
        self.measurements += len(to_measurements(stamped, SITE, "radar"))


def fuzz(n: int, seed: int = 0, budget_s: float = 0.25) -> dict[str, Any]:
    """Fuzz ``n`` inputs; counts crashes (with input hex) and hangs (over ``budget_s``)."""
    for name in ("skyfence.formats.errors", "skyfence.formats.asterix"):
        logging.getLogger(name).setLevel(logging.ERROR)  # rejections are counted, not logged
    pool = real_datagrams() + own_datagrams()
    targets = Targets()

    def make_input(rng: random.Random) -> tuple[bytes, None]:
        return mutate(rng.choice(pool), rng.choice(pool), rng), None

    result = run_fuzz(n, seed, make_input, lambda data, _, rng: targets.run(data, rng),
                      budget_s, retime=lambda data, _: Targets().run(data, random.Random(0)))
    return {**result, "seeds": len(pool),
            "records_decoded": targets.records, "measurements": targets.measurements,
            "strict_decode_errors": dict(targets.reasons.most_common()),
            "live_rejections": dict(targets.live.rejections.by_reason.most_common())}


def decode_rate(seconds: float = 5.0) -> dict[str, Any]:
    """Records per second on one core: the real capture's datagrams through the live
    decoder (with time stamping), again and again for ``seconds``; also the strict pure
    decoder and the measurement adapter alone."""
    payloads = list(udp_payloads(REALDATA / CAPTURES[0]))
    per_pass = sum(len(decode_datagram(p)) for _, p in payloads)
    out: dict[str, Any] = {"records_per_pass": per_pass, "datagrams_per_pass": len(payloads)}
    passes = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds / 2:
        decoder = AsterixDecoder()
        for rx, payload in payloads:
            decoder.feed(payload, rx)
        passes += 1
    elapsed = time.perf_counter() - start
    out["live_records_per_s"] = round(passes * per_pass / elapsed)
    passes = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds / 2:
        for _, payload in payloads:
            decode_datagram(payload)
        passes += 1
    elapsed = time.perf_counter() - start
    out["pure_records_per_s"] = round(passes * per_pass / elapsed)
    stamped = [s for rx, p in payloads for s in AsterixDecoder().feed(p, rx)]
    every = {(s.record.sac, s.record.sic): "radar" for s in stamped}  # all seven radars
    start = time.perf_counter()
    rounds = 0
    while time.perf_counter() - start < 0.5:
        to_measurements(stamped, SITE, "radar", sensors_by_source=every)
        rounds += 1
    out["adapter_records_per_s"] = round(rounds * len(stamped) / (time.perf_counter() - start))
    return out


if __name__ == "__main__":
    main(__doc__, fuzz, decode_rate)
