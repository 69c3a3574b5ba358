"""Beast binary and AVR text framing of Mode S frames (no pyModeS needed)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from skyfence.formats.adsb_framing import (
    AvrStream,
    BeastStream,
    RawFrame,
    avr_line,
    beast_frame,
    decode_beast_frame,
    parse_avr_line,
    replay_beast_file,
    split_beast,
)
from skyfence.formats.errors import DecodeError

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
DUMP1090 = REALDATA / "traffic_samples" / "sample_dump1090.bin"

LONG = bytes.fromhex("8D4840D6202CC371C32CE0576098")
SHORT = bytes.fromhex("5D4840D6DA6B6D")
ESCAPEY = bytes.fromhex("8D1A1A1A202CC371C32CE057601A")  # 0x1a in the message


def realdata(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
            pytest.fail(f"real data missing: {path}")
        pytest.skip(f"real data not present: {path} (../shared/realdata)")
    return path


def test_realdata_path_is_the_shared_folder() -> None:
    assert REALDATA.parts[-2:] == ("shared", "realdata")
    assert REALDATA.parent.parent == Path(__file__).resolve().parents[1].parent


# ---------------------------------------------------------------- Beast
def test_beast_round_trip_with_escapes() -> None:
    frames = [RawFrame(LONG, 0x1A1A1A1A1A1A, 0x1A), RawFrame(SHORT, 12_000_000, 200),
              RawFrame(ESCAPEY, 1, 0), RawFrame(b"\x1a\x1a", 26, 26)]
    wire = b"".join(beast_frame(f.message, f.mlat_ticks or 0, f.signal_level or 0)
                    for f in frames)
    assert wire.count(b"\x1a\x1a") >= 10
    out, errors, consumed = split_beast(wire)
    assert (out, errors, consumed) == (frames, [], len(wire))
    assert decode_beast_frame(beast_frame(ESCAPEY, 7, 9)) == RawFrame(ESCAPEY, 7, 9)


def test_beast_frames_across_every_chunk_boundary() -> None:
    wire = (beast_frame(ESCAPEY, 0x1A00001A, 0x1A) + beast_frame(SHORT, 5, 6)
            + beast_frame(LONG, 0x1A1A, 3))
    for cut in range(1, len(wire)):
        stream = BeastStream()
        got = stream.feed(wire[:cut]) + stream.feed(wire[cut:])
        assert [f.message for f in got] == [ESCAPEY, SHORT, LONG], cut
        assert stream.rejections.total == 0, cut
    stream = BeastStream()
    got = [f for byte in wire for f in stream.feed(bytes((byte,)))]
    assert [f.message for f in got] == [ESCAPEY, SHORT, LONG]


def test_beast_resyncs_after_garbage_and_broken_frames() -> None:
    good = beast_frame(LONG, 42, 7)
    broken = beast_frame(LONG, 43, 7)[:10]  # cut short: the next 0x1a starts a frame
    wire = b"\x00\x11garbage" + good + broken + good + b"\x1a\x39junk" + good
    stream = BeastStream()
    frames = stream.feed(wire)
    assert [f.mlat_ticks for f in frames] == [42, 42, 42]
    reasons = stream.rejections.by_reason
    assert reasons["broken Beast escape"] == 1
    assert reasons["unknown Beast frame type"] == 1
    assert reasons["garbage between Beast frames"] >= 2


def test_decode_beast_frame_rejects_partial_input() -> None:
    with pytest.raises(DecodeError) as info:
        decode_beast_frame(beast_frame(LONG)[:-1])
    assert info.value.reason == "truncated Beast frame"
    with pytest.raises(ValueError):
        beast_frame(b"\x00\x01\x02")


def test_sample_dump1090_frames_by_df() -> None:
    data = realdata(DUMP1090).read_bytes()
    frames, errors, consumed = split_beast(data)
    assert errors == [] and consumed == len(data)
    assert len(frames) == 239
    assert Counter(len(f.message) for f in frames) == {7: 185, 14: 54}
    assert Counter(f.downlink_format for f in frames) == {
        11: 90, 0: 44, 4: 39, 17: 23, 20: 16, 21: 14, 5: 12, 16: 1}
    span_s = (frames[-1].mlat_ticks or 0) - (frames[0].mlat_ticks or 0)
    assert span_s / 12e6 == pytest.approx(23.917155)
    # re-framing gives the capture back byte for byte (it has 0x1a escapes)
    assert b"".join(beast_frame(f.message, f.mlat_ticks or 0, f.signal_level or 0)
                    for f in frames) == data
    assert data.count(b"\x1a\x1a") > 0


def test_replay_chunks_reassemble_the_capture() -> None:
    path = realdata(DUMP1090)
    chunks = list(replay_beast_file(path, chunk_bytes=37))
    assert b"".join(chunks) == path.read_bytes()
    stream = BeastStream()
    assert len([f for c in chunks for f in stream.feed(c)]) == 239


# ---------------------------------------------------------------- AVR
def test_avr_lines_both_ways() -> None:
    assert avr_line(LONG) == b"*8D4840D6202CC371C32CE0576098;\n"
    assert avr_line(SHORT, 0x12A3B4C) == b"@0000012A3B4C5D4840D6DA6B6D;\n"
    assert parse_avr_line(b"*8d4840d6202cc371c32ce0576098;\r\n") == RawFrame(LONG, None)
    assert parse_avr_line(b"@0000012A3B4C5D4840D6DA6B6D;") == RawFrame(SHORT, 0x12A3B4C)
    assert parse_avr_line(b"*8D4840D6202CC371C32CE0576098") == RawFrame(LONG, None)
    assert parse_avr_line(b"  \r\n") is None


@pytest.mark.parametrize(("line", "reason"), [
    (b"#8D4840D6202CC371C32CE0576098;", "unknown AVR line"),
    (b"*8D4840D6202CC371C32CE05760;", "bad Mode S length"),
    (b"*8D4840D6 202CC371C32CE0576098;", "bad AVR hex"),
    (b"*0x4840D6202CC371C32CE0576098;", "bad AVR hex"),
    (b"@0000012A3B;", "bad Mode S length"),
])
def test_avr_bad_lines(line: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        parse_avr_line(line)
    assert info.value.reason == reason


def test_avr_stream_splits_lines_across_chunks() -> None:
    text = (avr_line(LONG, 1) + b"\r\n" + avr_line(SHORT).replace(b"\n", b"\r")
            + b"*zz;\n" + avr_line(ESCAPEY, 3)[:-1])
    for cut in range(1, len(text)):
        stream = AvrStream()
        got = stream.feed(text[:cut]) + stream.feed(text[cut:]) + stream.flush()
        assert [f.message for f in got] == [LONG, SHORT, ESCAPEY], cut
        assert stream.rejections.by_reason == {"bad AVR hex": 1}
    stream = AvrStream()
    assert stream.feed(b"*" * 500) == []
    assert stream.rejections.by_reason == {"AVR line too long": 1}
    assert stream.feed(b"\n" + avr_line(LONG)) == [RawFrame(LONG, None)]
