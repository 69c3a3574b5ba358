"""Fuzz the Remote ID decoders, and measure their decode rate.

Inputs are mutations of real frames (../shared/realdata Remote ID captures:
Wi-Fi beacon and NAN, Bluetooth 5 long range via the nRF sniffer) and of
synthetic frames built by the encoders (raw messages, Message Packs, Wi-Fi
beacon/NAN, Bluetooth legacy and extended advertisements): bit flips,
truncations, splices of two samples, length-field edits, byte
insertions/deletions, plus purely random bytes. Every input goes through the
live receiver (``RemoteIdDecoder.feed`` for the sample's link type) and every
fix it returns through the measurement adapter; each must decode or be
rejected with a DecodeError. Any other exception is a crash, recorded with
the input's hex; an input that takes more CPU time than the per-input budget
is recorded as a hang (and interrupted after ``HARD_LIMIT_CPU_S``).

    python bench/fuzz_remoteid.py --n 1000000 --seed 1
    python bench/fuzz_remoteid.py --rate 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import time
from pathlib import Path
from typing import Any

from fuzzing import flip, run_fuzz, splice
from skyfence.formats.errors import DecodeError, Rejections
from skyfence.formats.remoteid_frames import (
    LINK_DECODERS,
    encode_beacon_frame,
    encode_ble_advertisement,
    encode_hci_advertising_report,
    encode_nan_frame,
)
from skyfence.formats.remoteid_ingest import RemoteIdDecoder, fix_to_measurement, read_capture
from skyfence.formats.remoteid_messages import (
    EPOCH_2019_UTC_S,
    Authentication,
    BasicId,
    Location,
    Message,
    OperatorId,
    SelfId,
    System,
    decode_message,
    encode_message,
    encode_message_pack,
)

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
CAPTURES = [REALDATA / "droneid_bkerler_pcaps" / "dji_air3.pcapng",
            REALDATA / "droneid_bkerler_pcaps" / "wireless_RID_test_linux_transmitter.pcapng",
            REALDATA / "opendroneid_pcaps" / "odid_bt5_lr_sample.pcapng",
            REALDATA / "opendroneid_pcaps" / "odid_wifi_bcn_sample.pcap",
            REALDATA / "opendroneid_pcaps" / "odid_wifi_sample.pcap"]
PER_INPUT_BUDGET_S = 0.25
"""CPU seconds an input may take before it is reported as a hang (CPU, not wall time:
the machine may be shared)."""
HARD_LIMIT_CPU_S = 5.0
"""CPU seconds after which an input is interrupted (SIGVTALRM) and reported as a hang."""

Sample = tuple[int | str, bytes]


def real_samples() -> list[Sample]:
    """(link type, frame) of every frame in the real captures present."""
    samples: list[Sample] = []
    for path in CAPTURES:
        if path.exists():
            link, records = read_capture(path)
            samples.extend((link, frame) for _rx, frame in records)
    samples = list(dict.fromkeys(samples))
    return samples


def _inner_samples(samples: list[Sample]) -> list[Sample]:
    """Inner layers of captured frames, so mutations also reach past the CRC and headers:
    the 802.11 frame under radiotap, the advertising PDU (no CRC) under the nRF sniffer
    header, and the decoded messages re-packed."""
    inner: list[Sample] = []
    for link, frame in samples:
        if link == 127 and len(frame) > 4:
            inner.append(("wifi", frame[int.from_bytes(frame[2:4], "little"):]))
        elif link == 272 and len(frame) > 8:
            event = frame[7:]
            packet = event[event[0]:]
            pdu = packet[5:] if (event[1] >> 4) & 7 == 2 else packet[4:]
            inner.append(("ble_pdu", pdu[: 2 + pdu[1]] if len(pdu) > 2 else pdu))
        try:
            decoded = LINK_DECODERS[int(link)](frame) if isinstance(link, int) else ()
        except DecodeError:
            decoded = ()
        inner.extend(("message", encode_message_pack(found.messages)) for found in decoded
                     if 1 <= len(found.messages) <= 9)
    return inner


def all_samples() -> list[Sample]:
    """Real frames, their inner layers and synthetic samples, without repeats."""
    real = real_samples()
    unique = dict.fromkeys(real + _inner_samples(real) + synthetic_samples())
    return list(unique)


def synthetic_samples() -> list[Sample]:
    """Every message type, a full pack, and each carrier, built by the encoders."""
    messages: list[Message] = [
        BasicId(2, 1, 2, "1581F6N8A23B2ML3Y3KR"),
        Location(2, 2, 1, 215.0, 5.5, 5.0, 45.539309, -122.966389, 100.0, 110.0, 80.0,
                 11, 6, 5, 3, 360.5, 0.2),
        Authentication(2, 1, 0, 2, 63, EPOCH_2019_UTC_S + 28_000_000, b"12345678901234567"),
        Authentication(2, 1, 1, None, None, None, b"12345678901234567890123"),
        SelfId(2, 0, "DronesRUS: Real Estate"),
        System(2, 1, 1, 45.5, -122.9, 35, 70, 176.5, 41.5, 2, 4, 20.5, EPOCH_2019_UTC_S + 1),
        OperatorId(2, 0, "FIN87astrdge12k8"),
    ]
    pack = encode_message_pack(messages)
    mac = "60:60:1f:71:93:3b"
    samples: list[Sample] = [("message", encode_message(m)) for m in messages]
    samples += [("message", pack), ("wifi", encode_beacon_frame(pack, mac, 1, "RID-X")),
                ("wifi", encode_nan_frame(pack, mac, 2)),
                ("ble_ll", encode_ble_advertisement(encode_message(messages[1]), mac, 3)),
                ("ble_ll", encode_ble_advertisement(pack, mac, 4, extended=True)),
                (187, encode_hci_advertising_report(encode_message(messages[1]), mac, 5)),
                (187, encode_hci_advertising_report(pack, mac, 6, extended=True))]
    return samples


def _length_edit(rng: random.Random, data: bytearray) -> None:
    """Overwrite a byte with a length-like value (0, 1, 25, 255, len +- 1, or random)."""
    at = rng.randrange(len(data))
    data[at] = rng.choice([0, 1, 9, 10, 25, 0x7F, 0xFF, max(0, data[at] - 1),
                           min(255, data[at] + 1), rng.randrange(256)])


def mutate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """One to three random mutations of ``data`` (``other``: a second sample to splice)."""
    out = data
    for _ in range(rng.randint(1, 3)):
        choice = rng.random()
        if not out:
            out = rng.randbytes(rng.randint(1, 64))
        elif choice < 0.35:
            out = flip(out, rng)
        elif choice < 0.5:
            out = out[:rng.randrange(len(out) + 1)]
        elif choice < 0.62:
            out = splice(out, other, rng)
        elif choice < 0.85:
            edited = bytearray(out)
            _length_edit(rng, edited)
            out = bytes(edited)
        elif choice < 0.93:
            at = rng.randrange(len(out) + 1)
            out = out[:at] + rng.randbytes(rng.randint(1, 8)) + out[at:]
        else:
            at = rng.randrange(len(out))
            out = out[:at] + out[at + rng.randint(1, 8):]
    return out


def fuzz(n: int, seed: int) -> dict[str, Any]:
    """Run ``n`` inputs; returns counts, crashes (with input hex) and hangs."""
    real = real_samples()
    samples = all_samples()
    links = sorted({link for link, _ in samples}, key=str)
    decoders = {link: RemoteIdDecoder(link, rejections=Rejections(log_first=0))
                for link in links}
    inputs = 0

    def make_input(rng: random.Random) -> tuple[bytes, tuple[int | str, float]]:
        nonlocal inputs
        rx_utc_s = 1.7e9 + inputs * 0.01
        inputs += 1
        if rng.random() < 0.05:
            link = rng.choice(links)
            return rng.randbytes(rng.randint(0, 300)), (link, rx_utc_s)
        link, base = rng.choice(samples)
        return mutate(rng, base, rng.choice(samples)[1]), (link, rx_utc_s)

    def decode(data: bytes, context: tuple[int | str, float], _rng: random.Random) -> None:
        link, rx_utc_s = context
        for fix in decoders[link].feed(data, rx_utc_s):
            with contextlib.suppress(DecodeError):
                fix_to_measurement(fix, "fuzz", 0.0)

    result = run_fuzz(n, seed, make_input, decode, PER_INPUT_BUDGET_S,
                      clock=time.process_time, hard_limit_s=HARD_LIMIT_CPU_S,
                      label=lambda context: {"link": str(context[0])})
    rejected: dict[str, int] = {}
    for decoder in decoders.values():
        for reason, count in decoder.rejections.by_reason.items():
            rejected[reason] = rejected.get(reason, 0) + count
    return {**result, "samples": len(samples), "real_samples": len(real),
            "rejected_by_reason": rejected}


def decode_rate(seconds: float) -> dict[str, Any]:
    """Frames and messages decoded per second (one core) over the real captures."""
    samples = real_samples() or synthetic_samples()
    decoders = {link: LINK_DECODERS[link] for link, _ in samples if isinstance(link, int)}
    frames = messages = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for link, data in samples:
            decoder = decoders.get(link) if isinstance(link, int) else None
            if decoder is None:
                continue
            try:
                found = decoder(data)
            except DecodeError:
                found = ()
            frames += 1
            messages += sum(len(frame.messages) for frame in found)
    elapsed = time.perf_counter() - started
    packs = [data for link, data in _inner_samples(samples) if link == "message"]
    raw = [pack[3 + 25 * i: 28 + 25 * i] for pack in packs for i in range(pack[2])] or [
        encode_message(Location(2, 2, 0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                                0, 0, 0, 0, 1.0, None))]
    count, raw_started = 0, time.perf_counter()
    while time.perf_counter() < raw_started + seconds:
        for message in raw:
            decode_message(message)
        count += len(raw)
    raw_elapsed = time.perf_counter() - raw_started
    return {"frames_per_s": round(frames / elapsed), "messages_per_s": round(messages / elapsed),
            "frames": frames, "seconds": round(elapsed, 2), "samples": len(samples),
            "raw_25_byte_messages_per_s": round(count / raw_elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="also measure the decode rate for this many seconds")
    args = parser.parse_args()
    result: dict[str, Any] = {"fuzz": fuzz(args.n, args.seed)}
    if args.rate > 0:
        result["decode_rate"] = decode_rate(args.rate)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
