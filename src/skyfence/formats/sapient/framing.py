"""SAPIENT framing over TCP: each message is a 4-byte little-endian unsigned length,
then that many bytes of a serialised ``SapientMessage`` (BSI Flex 335 v2.0).

:class:`FrameReader` keeps its state across TCP chunks (a frame may arrive in
pieces, several frames in one chunk). A length above ``max_message_bytes``
raises :class:`DecodeError` ``"message too large"``: the stream cannot be
resynchronised after that, so the server closes the connection.
:func:`parse` turns a frame's payload into a ``SapientMessage``.
"""

from __future__ import annotations

import struct

from google.protobuf.message import DecodeError as ProtobufDecodeError

from skyfence.formats.errors import DecodeError
from skyfence.formats.sapient.proto.sapient_msg.bsi_flex_335_v2_0.sapient_message_pb2 import (
    SapientMessage,
)

HEADER = struct.Struct("<I")
MAX_MESSAGE_BYTES = 1 << 20
"""Default largest accepted message (1 MiB): SAPIENT reports are a few hundred bytes;
a Registration with a full taxonomy a few tens of kilobytes."""

TOO_LARGE = "message too large"
NOT_SAPIENT = "not a SapientMessage"


def frame(payload: bytes | SapientMessage) -> bytes:
    """One message framed for the wire."""
    data = payload.SerializeToString() if isinstance(payload, SapientMessage) else payload
    return HEADER.pack(len(data)) + data


class FrameReader:
    """Frames out of a byte stream, chunk by chunk (module doc)."""

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self.broken = False  # a bad length was read: nothing more can be framed

    def feed(self, chunk: bytes) -> list[bytes]:
        """The payloads completed by ``chunk`` (raises DecodeError ``message too large``)."""
        if self.broken:
            raise DecodeError(TOO_LARGE, "stream already out of step")
        buf = self._buffer
        buf += chunk
        out: list[bytes] = []
        start = 0
        while len(buf) - start >= HEADER.size:
            (length,) = HEADER.unpack_from(buf, start)
            if length > self.max_message_bytes:
                self.broken = True
                del buf[:]
                raise DecodeError(TOO_LARGE, f"{length} bytes > {self.max_message_bytes}")
            end = start + HEADER.size + length
            if end > len(buf):
                break
            out.append(bytes(buf[start + HEADER.size:end]))
            start = end
        del buf[:start]
        return out

    @property
    def pending(self) -> int:
        """Bytes held for an incomplete frame."""
        return len(self._buffer)


def parse(payload: bytes) -> SapientMessage:
    """A frame's payload as a SapientMessage (raises DecodeError ``not a SapientMessage``)."""
    msg = SapientMessage()
    try:
        msg.ParseFromString(payload)
    except ProtobufDecodeError as exc:
        raise DecodeError(NOT_SAPIENT, str(exc)[:80]) from None
    return msg
