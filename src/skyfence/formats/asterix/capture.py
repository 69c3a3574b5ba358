"""ASTERIX recordings: UDP payloads out of pcap / pcapng captures, blocks out of raw files.

A capture yields ``(receive UTC seconds, UDP payload)`` per packet: Ethernet (with VLAN
tags), Linux cooked (SLL, SLL2), BSD loopback and raw IPv4/IPv6 link types. Packets that
are not UDP are passed over silently (a capture often holds other traffic); UDP packets
that cannot be read (truncated headers, IP fragments: ASTERIX datagrams fit one frame)
are counted. A raw file is data blocks back to back (the ``.raw`` / ``.ast`` files of
the asterix tools): each block is yielded as one "datagram" without a receive time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from typing import BinaryIO

import dpkt  # type: ignore[import-untyped, unused-ignore]

from skyfence.formats.errors import DecodeError, Rejections

PCAP_MAGICS = (b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

_ETHERNET, _LOOPBACK_NULL, _LOOPBACK_OPENBSD = 1, 0, 108
_RAW_IP = (12, 14, 101)
_IPV4, _IPV6, _SLL, _SLL2 = 228, 229, 113, 276


def is_capture(path: str | Path) -> bool:
    """Whether the file starts like a pcap or pcapng capture."""
    with open(path, "rb") as stream:
        magic = stream.read(4)
    return magic in PCAP_MAGICS or magic == PCAPNG_MAGIC


def udp_payloads(path: str | Path, rejections: Rejections | None = None,
                 ports: Collection[int] | None = None) -> Iterator[tuple[float, bytes]]:
    """(receive UTC seconds, UDP payload) of each UDP packet, optionally to ``ports`` only."""
    rejections = rejections if rejections is not None else Rejections()
    with open(path, "rb") as stream:
        reader = _reader(stream)
        link = reader.datalink()
        number = 0
        try:
            for ts, frame in reader:
                number += 1
                try:
                    found = _udp(link, bytes(frame))
                except (dpkt.UnpackError, DecodeError, ValueError, IndexError) as exc:
                    error = exc if isinstance(exc, DecodeError) else DecodeError(
                        "unreadable packet", type(exc).__name__)
                    rejections.add(error, f"{path}: packet {number}")
                    continue
                if found is not None and (ports is None or found[0] in ports):
                    yield float(ts), found[1]
        except (dpkt.NeedData, dpkt.UnpackError, ValueError) as exc:
            rejections.add(DecodeError("truncated capture", str(exc)),
                           f"{path}: after packet {number}")


def _reader(stream: BinaryIO) -> dpkt.pcap.Reader | dpkt.pcapng.Reader:
    magic = stream.read(4)
    stream.seek(0)
    try:
        if magic == PCAPNG_MAGIC:
            return dpkt.pcapng.Reader(stream)
        return dpkt.pcap.Reader(stream)
    except (ValueError, dpkt.NeedData, dpkt.UnpackError) as exc:
        raise DecodeError("not a pcap file", str(exc)) from None


def _udp(link: int, frame: bytes) -> tuple[int, bytes] | None:
    """(destination port, payload) of a UDP frame, None for other traffic."""
    ip = _network(link, frame)
    if isinstance(ip, dpkt.ip.IP):
        if ip.p != dpkt.ip.IP_PROTO_UDP:
            return None
        if ip.mf or ip.offset:
            raise DecodeError("IP fragment", f"offset {ip.offset}")
    elif isinstance(ip, dpkt.ip6.IP6):
        if ip.nxt != dpkt.ip.IP_PROTO_UDP:
            return None
    else:
        return None
    udp = ip.data
    if not isinstance(udp, dpkt.udp.UDP):
        raise DecodeError("truncated UDP header")
    payload = bytes(udp.data)
    if udp.ulen and udp.ulen - 8 < len(payload):
        payload = payload[: max(0, udp.ulen - 8)]  # Ethernet padding
    return int(udp.dport), payload


def _network(link: int, frame: bytes) -> object:
    if link == _ETHERNET:
        return dpkt.ethernet.Ethernet(frame).data
    if link in (_LOOPBACK_NULL, _LOOPBACK_OPENBSD):
        return dpkt.loopback.Loopback(frame).data
    if link == _SLL:
        return dpkt.sll.SLL(frame).data
    if link == _SLL2:
        return dpkt.sll2.SLL2(frame).data
    if link in _RAW_IP or link in (_IPV4, _IPV6):
        if not frame:
            return None
        return dpkt.ip6.IP6(frame) if frame[0] >> 4 == 6 else dpkt.ip.IP(frame)
    raise DecodeError("unsupported link type", f"DLT {link}")


def raw_blocks(path: str | Path, rejections: Rejections | None = None) -> Iterator[bytes]:
    """Each data block of a raw ASTERIX file (blocks back to back), read as a stream."""
    rejections = rejections if rejections is not None else Rejections()
    with open(path, "rb") as stream:
        offset = 0
        while header := stream.read(3):
            length = (header[1] << 8) | header[2] if len(header) == 3 else 0
            body = stream.read(length - 3) if length > 3 else b""
            if len(header) < 3 or length < 3 or len(body) < length - 3:
                short = len(header) == 3 and length < 3
                reason = "bad block length" if short else "truncated block"
                rejections.add(DecodeError(reason, f"offset {offset}"), str(path))
                return  # no way to find the next block
            yield header + body
            offset += length
