"""Framing of raw Mode S receiver output: Beast binary and AVR text (no pyModeS).

dump1090, readsb and most 1090 MHz receivers serve what they hear in two
framings; this module cuts a byte stream into frames and writes frames back.
It does not look inside a frame (that is :mod:`skyfence.formats.adsb_messages`).

Beast binary (dump1090/readsb TCP 30005)::

    0x1a  TYPE  TIMESTAMP(6)  SIGNAL(1)  MESSAGE(n)
    TYPE  '1' (0x31)  Mode A/C        n = 2
          '2' (0x32)  Mode S short    n = 7   (56 bits)
          '3' (0x33)  Mode S long     n = 14  (112 bits)
    TIMESTAMP  48-bit big-endian count of a 12 MHz clock ("MLAT ticks"),
               relative to the receiver (its start), not to UTC
    SIGNAL     received signal level, 0-255 (receiver-specific scale)

Every 0x1a byte after TYPE (in timestamp, signal or message) is sent twice
(0x1a 0x1a); a single 0x1a always starts a frame. So a reader resyncs after
garbage by skipping to the next 0x1a that is not doubled, and a frame broken
by a lone 0x1a is dropped and reading restarts at that 0x1a.

AVR text (dump1090 TCP 30002; ``--mlat`` adds timestamps), one frame a line,
CR, LF or CRLF ended, ``;`` optional::

    *8D4840D6202CC371C32CE0576098;          no timestamp
    @0000012A3B4C8D4840D6202CC371C32CE0576098;
     ^^^^^^^^^^^^ 12 hex digits: the same 48-bit 12 MHz MLAT ticks

Message lengths in hex digits: 4 (Mode A/C), 14 (short) or 28 (long).

Rejections (:class:`~skyfence.formats.errors.DecodeError` reasons):
``"garbage between Beast frames"``, ``"unknown Beast frame type"``,
``"broken Beast escape"``, ``"unknown AVR line"``, ``"bad AVR hex"``,
``"bad Mode S length"``, ``"AVR line too long"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from skyfence.formats.errors import DecodeError, Rejections

ESCAPE = 0x1A
MLAT_TICKS_HZ = 12_000_000.0
"""The Beast/AVR timestamp clock: 12 MHz."""
MLAT_TICKS_MAX = (1 << 48) - 1
BEAST_MESSAGE_BYTES = {0x31: 2, 0x32: 7, 0x33: 14}
"""Beast frame type byte -> message length in bytes."""
_TYPE_OF_LENGTH = {n: t for t, n in BEAST_MESSAGE_BYTES.items()}
_HEADER_BYTES = 7  # 6 timestamp + 1 signal
AVR_MAX_LINE_BYTES = 128
_AVR_LINE = re.compile(rb"([*@])([^;]*);?")
_HEX = re.compile(rb"[0-9A-Fa-f]*")
_MESSAGE_HEX_DIGITS = (4, 14, 28)


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One received frame: the message bytes and what the receiver said about it.

    ``message``: 2 (Mode A/C), 7 or 14 (Mode S) bytes. ``mlat_ticks``: the
    receiver's 12 MHz timestamp, ``None`` when the framing has none (AVR ``*``).
    ``signal_level``: 0-255, ``None`` when the framing has none (AVR).
    """

    message: bytes
    mlat_ticks: int | None
    signal_level: int | None = None

    @property
    def is_mode_s(self) -> bool:
        return len(self.message) in (7, 14)

    @property
    def downlink_format(self) -> int | None:
        """Mode S DF (first 5 bits; 24 for every DF >= 24), ``None`` for Mode A/C."""
        if not self.is_mode_s:
            return None
        df = self.message[0] >> 3
        return 24 if df >= 24 else df


# ---------------------------------------------------------------- Beast
def beast_frame(message: bytes, mlat_ticks: int = 0, signal_level: int = 0) -> bytes:
    """The Beast binary framing of one message (0x1a bytes doubled)."""
    frame_type = _TYPE_OF_LENGTH.get(len(message))
    if frame_type is None:
        raise ValueError(f"a Beast message is 2, 7 or 14 bytes, not {len(message)}")
    if not 0 <= mlat_ticks <= MLAT_TICKS_MAX or not 0 <= signal_level <= 255:
        raise ValueError("mlat_ticks must fit 48 bits and signal_level 8 bits")
    body = mlat_ticks.to_bytes(6, "big") + bytes((signal_level,)) + message
    return bytes((ESCAPE, frame_type)) + body.replace(b"\x1a", b"\x1a\x1a")


def decode_beast_frame(frame: bytes) -> RawFrame:
    """One complete Beast frame (from 0x1a to its last byte) -> :class:`RawFrame`."""
    frames, errors, consumed = split_beast(frame)
    if errors:
        raise errors[0]
    if len(frames) != 1 or consumed != len(frame):
        raise DecodeError("truncated Beast frame", f"{len(frame)} bytes")
    return frames[0]


def split_beast(buffer: bytes) -> tuple[list[RawFrame], list[DecodeError], int]:
    """Cut ``buffer`` into Beast frames.

    Returns the frames, the rejections met on the way, and how many bytes were
    consumed: ``buffer[consumed:]`` is an incomplete frame (or a lone trailing
    0x1a) to be completed by the next chunk.
    """
    frames: list[RawFrame] = []
    errors: list[DecodeError] = []
    pos, end = 0, len(buffer)
    while pos < end:
        start = buffer.find(ESCAPE, pos)
        if start < 0:
            errors.append(DecodeError("garbage between Beast frames", f"{end - pos} bytes"))
            return frames, errors, end
        if start > pos:
            errors.append(DecodeError("garbage between Beast frames", f"{start - pos} bytes"))
        if start + 1 >= end:
            return frames, errors, start
        kind = buffer[start + 1]
        if kind == ESCAPE:  # an escaped data byte: we are inside a frame we lost
            errors.append(DecodeError("garbage between Beast frames", "escaped 0x1a"))
            pos = start + 2
            continue
        size = BEAST_MESSAGE_BYTES.get(kind)
        if size is None:
            errors.append(DecodeError("unknown Beast frame type", f"0x{kind:02x}"))
            pos = start + 1
            continue
        body, next_pos, broken = _beast_body(buffer, start + 2, _HEADER_BYTES + size)
        if broken:
            errors.append(DecodeError("broken Beast escape", f"frame at byte {start}"))
            pos = next_pos
            continue
        if body is None:
            return frames, errors, start
        frames.append(RawFrame(message=body[_HEADER_BYTES:],
                               mlat_ticks=int.from_bytes(body[:6], "big"),
                               signal_level=body[6]))
        pos = next_pos
    return frames, errors, pos


def _beast_body(buffer: bytes, pos: int, size: int) -> tuple[bytes | None, int, bool]:
    """Unescape ``size`` bytes from ``pos``: (body or None if incomplete, next pos, broken)."""
    fast = buffer[pos:pos + size]
    if len(fast) == size and ESCAPE not in fast:
        return fast, pos + size, False
    out = bytearray()
    end = len(buffer)
    while len(out) < size:
        if pos >= end:
            return None, pos, False
        byte = buffer[pos]
        if byte == ESCAPE:
            if pos + 1 >= end:
                return None, pos, False
            if buffer[pos + 1] != ESCAPE:
                return None, pos, True  # a lone 0x1a: a new frame starts here
            pos += 1
        out.append(byte)
        pos += 1
    return bytes(out), pos, False


class BeastStream:
    """Incremental Beast reader: keeps a partial frame across TCP chunks."""

    def __init__(self, rejections: Rejections | None = None) -> None:
        self.rejections = rejections if rejections is not None else Rejections()
        self._pending = b""

    def feed(self, data: bytes) -> list[RawFrame]:
        """The frames completed by ``data`` (rejections counted, never raised)."""
        buffer = self._pending + data if self._pending else data
        frames, errors, consumed = split_beast(buffer)
        for error in errors:
            self.rejections.add(error, "beast")
        self._pending = bytes(buffer[consumed:])
        return frames


# ---------------------------------------------------------------- AVR
def avr_line(message: bytes, mlat_ticks: int | None = None) -> bytes:
    """The AVR text line of one message: ``*HEX;`` or ``@TICKSHEX;`` with LF."""
    if len(message) * 2 not in _MESSAGE_HEX_DIGITS:
        raise ValueError(f"an AVR message is 2, 7 or 14 bytes, not {len(message)}")
    hex_text = message.hex().upper()
    if mlat_ticks is None:
        return f"*{hex_text};\n".encode("ascii")
    if not 0 <= mlat_ticks <= MLAT_TICKS_MAX:
        raise ValueError("mlat_ticks must fit 48 bits")
    return f"@{mlat_ticks:012X}{hex_text};\n".encode("ascii")


def parse_avr_line(line: bytes) -> RawFrame | None:
    """One AVR line (without or with its CR/LF) -> :class:`RawFrame`; ``None`` if blank."""
    text = line.strip()
    if not text:
        return None
    match = _AVR_LINE.fullmatch(text)
    if match is None:
        raise DecodeError("unknown AVR line", repr(text[:40]))
    marker, digits = match.groups()
    if not _HEX.fullmatch(digits):
        raise DecodeError("bad AVR hex", repr(digits[:40]))
    ticks: int | None = None
    if marker == b"@":
        if len(digits) < 12:
            raise DecodeError("bad Mode S length", f"{len(digits)} hex digits after @")
        ticks, digits = int(digits[:12], 16), digits[12:]
    if len(digits) not in _MESSAGE_HEX_DIGITS:
        raise DecodeError("bad Mode S length", f"{len(digits)} hex digits")
    return RawFrame(message=bytes.fromhex(digits.decode("ascii")), mlat_ticks=ticks)


class AvrStream:
    """Incremental AVR reader: lines split across chunks, CR/LF tolerant."""

    def __init__(self, rejections: Rejections | None = None) -> None:
        self.rejections = rejections if rejections is not None else Rejections()
        self._pending = b""

    def feed(self, data: bytes) -> list[RawFrame]:
        """The frames of the lines completed by ``data`` (rejections counted)."""
        lines = (self._pending + data).replace(b"\r", b"\n").split(b"\n")
        self._pending = lines.pop()
        if len(self._pending) > AVR_MAX_LINE_BYTES:
            self.rejections.add(DecodeError("AVR line too long",
                                            f"{len(self._pending)} bytes"), "avr")
            self._pending = b""
        frames: list[RawFrame] = []
        for line in lines:
            try:
                frame = parse_avr_line(line)
            except DecodeError as error:
                self.rejections.add(error, "avr")
                continue
            if frame is not None:
                frames.append(frame)
        return frames

    def flush(self) -> list[RawFrame]:
        """The frame of a last line that had no line end (end of a file)."""
        return self.feed(b"\n") if self._pending else []


# ---------------------------------------------------------------- files
def replay_beast_file(path: str | Path, chunk_bytes: int = 1024) -> Iterator[bytes]:
    """The bytes of a Beast capture in chunks, as a TCP source would serve them.

    Chunk boundaries fall anywhere, inside frames and between a 0x1a and its
    double, as they do on a real connection.
    """
    if chunk_bytes < 1:
        raise ValueError("chunk_bytes must be >= 1")
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            yield chunk
