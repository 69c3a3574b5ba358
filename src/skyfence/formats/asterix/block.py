"""ASTERIX framing: data blocks, records, FSPEC and a table-driven item reader.

A UDP datagram carries one or more data blocks, back to back::

    octet 1      CAT   category (48 = monoradar target reports, 34 = service messages, ...)
    octets 2-3   LEN   block length in octets, big-endian, including these 3 octets
    octets 4-LEN       records of that category, back to back (no per-record length)

A record starts with its FSPEC (field specification)::

    each FSPEC octet: bits 8..2 say "item with FRN 7k+1 .. 7k+7 present", bit 1 (FX) says
    "another FSPEC octet follows"; FRN = field reference number, the item's place in the
    category's UAP (user application profile)

then the present items follow in FRN order. An item's length is not written anywhere:
the reader must know its structure. The five kinds (``Fixed`` .. ``Compound`` below):

    fixed        n octets
    extended     a first part, then further parts while the last octet's bit 1 (FX) is 1
                 (also "repetitive fx": a list whose elements carry FX)
    repetitive   REP (1 octet, count), then REP elements of n octets
    explicit     LEN (1 octet, including itself), then LEN-1 octets (SP, RE fields)
    compound     a primary subfield (FX-extended presence bits, 7 per octet, like the
                 FSPEC), then the present subfields in order, each with its own kind

Because records have no length of their own, an item the reader cannot size (an FRN
beyond its UAP, a spare FRN, a subfield of a newer edition) makes the rest of the
block unreadable: :func:`read_records` raises, and the caller skips to the next block
by LEN and counts the block (``unknown item I048/FRN29``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from skyfence.formats.errors import DecodeError

BLOCK_HEADER_OCTETS = 3


@dataclass(frozen=True, slots=True)
class Fixed:
    """An item of ``octets`` octets."""

    octets: int


@dataclass(frozen=True, slots=True)
class Extended:
    """A first part of ``first`` octets, then parts of ``each`` octets while FX is set."""

    first: int = 1
    each: int = 1


@dataclass(frozen=True, slots=True)
class Repetitive:
    """A 1-octet count REP, then REP elements of ``octets`` octets."""

    octets: int


@dataclass(frozen=True, slots=True)
class Explicit:
    """A 1-octet length (counting itself), then the data (SP and RE fields)."""


@dataclass(frozen=True, slots=True)
class Compound:
    """FX-extended presence bits, then the present subfields in order (None = spare slot)."""

    subfields: tuple[ItemSpec | None, ...]


ItemSpec = Fixed | Extended | Repetitive | Explicit | Compound


@dataclass(frozen=True, slots=True)
class Uap:
    """A category's user application profile: item names (``"040"``) and kinds by FRN.

    ``items[frn - 1]`` is ``(name, spec)``, or None for a spare FRN.
    """

    category: int
    items: tuple[tuple[str, ItemSpec] | None, ...]

    def label(self, name: str) -> str:
        """``I048/040``: the item as the specifications write it."""
        return f"I{self.category:03d}/{name}"


Items = dict[str, bytes]
"""The items of one record: name → the item's octets (structure still encoded)."""


def source_fields(items: Items, category: int) -> dict[str, object]:
    """``{"sac", "sic"}`` from a record's I0xx/010 (data source identifier), the item
    every category here requires: DecodeError ("missing item I048/010") without it."""
    source = items.get("010")
    if source is None:
        raise DecodeError(f"missing item I{category:03d}/010")
    return {"sac": source[0], "sic": source[1]}


# --------------------------------------------------------------------- blocks
def split_blocks(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(category, record octets) of each data block in ``data``, in order.

    Raises :class:`DecodeError` at the first block whose LEN is impossible (below 3 or
    past the end of ``data``): the rest of the datagram cannot be framed.
    """
    offset = 0
    size = len(data)
    while offset < size:
        if size - offset < BLOCK_HEADER_OCTETS:
            raise DecodeError("truncated block header", f"offset {offset}")
        length = (data[offset + 1] << 8) | data[offset + 2]
        if length < BLOCK_HEADER_OCTETS:
            raise DecodeError("bad block length", f"LEN {length} at offset {offset}")
        if offset + length > size:
            raise DecodeError("truncated block",
                              f"LEN {length} at offset {offset}, {size - offset} left")
        yield data[offset], data[offset + BLOCK_HEADER_OCTETS: offset + length]
        offset += length


def frame_block(category: int, records: bytes) -> bytes:
    """One data block: CAT, LEN, records (for encoders and tests)."""
    length = BLOCK_HEADER_OCTETS + len(records)
    if not 0 <= category <= 255 or length > 0xFFFF:
        raise ValueError(f"cannot frame CAT{category} block of {length} octets")
    return bytes((category, length >> 8, length & 0xFF)) + records


# -------------------------------------------------------------------- records
def read_fspec(data: bytes, offset: int) -> tuple[list[int], int]:
    """The FRNs present (ascending) and the offset after the FSPEC."""
    frns: list[int] = []
    base = 0
    size = len(data)
    while True:
        if offset >= size:
            raise DecodeError("truncated FSPEC", f"offset {offset}")
        octet = data[offset]
        offset += 1
        for bit in range(7):
            if octet & (0x80 >> bit):
                frns.append(base + bit + 1)
        if not octet & 1:
            return frns, offset
        base += 7


def item_end(spec: ItemSpec, data: bytes, offset: int) -> int:
    """Offset just past an item of kind ``spec`` starting at ``offset``.

    May return an offset beyond ``len(data)``; the caller checks (one check per item).
    """
    if isinstance(spec, Fixed):
        return offset + spec.octets
    if isinstance(spec, Extended):
        end = offset + spec.first
        size = len(data)
        while end <= size and data[end - 1] & 1:
            end += spec.each
        return end
    if isinstance(spec, Repetitive):
        if offset >= len(data):
            return offset + 1
        return offset + 1 + data[offset] * spec.octets
    if isinstance(spec, Explicit):
        if offset >= len(data):
            return offset + 1
        length = data[offset]
        if length == 0:
            raise DecodeError("bad explicit item length", f"LEN 0 at offset {offset}")
        return offset + length
    return _compound_end(spec, data, offset)


def _compound_end(spec: Compound, data: bytes, offset: int) -> int:
    present, end = read_fspec(data, offset)
    for number in present:
        sub = spec.subfields[number - 1] if number <= len(spec.subfields) else None
        if sub is None:
            raise DecodeError("unknown compound subfield", f"subfield {number}")
        end = item_end(sub, data, end)
        if end > len(data):
            return end
    return end


def compound_parts(spec: Compound, item: bytes) -> dict[int, bytes]:
    """Subfield number (1-based) → its octets, for a compound item read whole."""
    present, end = read_fspec(item, 0)
    parts: dict[int, bytes] = {}
    for number in present:
        sub = spec.subfields[number - 1] if number <= len(spec.subfields) else None
        if sub is None:
            raise DecodeError("unknown compound subfield", f"subfield {number}")
        start, end = end, item_end(sub, item, end)
        parts[number] = item[start:end]
    return parts


def read_record(uap: Uap, data: bytes, offset: int) -> tuple[Items, int]:
    """The items of the record at ``offset`` and the offset of the next record."""
    frns, offset = read_fspec(data, offset)
    if not frns:
        raise DecodeError("empty record", f"I{uap.category:03d} offset {offset}")
    items: Items = {}
    table = uap.items
    size = len(data)
    for frn in frns:
        entry = table[frn - 1] if frn <= len(table) else None
        if entry is None:
            raise DecodeError(f"unknown item I{uap.category:03d}/FRN{frn}", f"offset {offset}")
        name, spec = entry
        try:
            end = item_end(spec, data, offset)
        except DecodeError as exc:
            raise DecodeError(f"{exc.reason} in {uap.label(name)}", exc.detail) from None
        if end > size:
            raise DecodeError(f"truncated item {uap.label(name)}",
                              f"needs {end - offset} octets at {offset}, {size - offset} left")
        items[name] = data[offset:end]
        offset = end
    return items, offset


def read_records(uap: Uap, records: bytes) -> Iterator[Items]:
    """The items of each record of one block, in order (raises at the first bad record)."""
    offset = 0
    size = len(records)
    while offset < size:
        items, offset = read_record(uap, records, offset)
        yield items


# ----------------------------------------------------------------- encoding
def fspec(frns: list[int]) -> bytes:
    """The FSPEC octets for the present FRNs (ascending or not)."""
    if not frns:
        raise ValueError("a record needs at least one item")
    octets = bytearray((max(frns) + 6) // 7)
    for frn in frns:
        octets[(frn - 1) // 7] |= 0x80 >> ((frn - 1) % 7)
    for index in range(len(octets) - 1):
        octets[index] |= 1
    return bytes(octets)
