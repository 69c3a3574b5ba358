"""Datagrams → typed ASTERIX records: the category dispatch and the live decoder.

:func:`decode_datagram` is the strict pure decoder (any problem raises
:class:`DecodeError`). :class:`AsterixDecoder` is the live one: it keeps every record it
can read, counts what it cannot in a :class:`Rejections`, and stamps each record with
absolute UTC (:class:`~skyfence.formats.asterix.clock.DayClock`).

What a problem costs (records carry no length, so a record the reader cannot size ends
its block; its block's LEN still frames the next block):

    block LEN impossible              the rest of the datagram   "bad block length", ...
    unsupported category (CAT136)     that block                 "unsupported category"
    FSPEC/item cannot be sized        the rest of that block     "unknown item I048/FRN29",
                                                                 "truncated item I048/040"
    a record without I0xx/010         that record                "missing item I048/010"
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from skyfence.formats.asterix import cat015, cat034, cat048, cat062
from skyfence.formats.asterix.block import Items, Uap, read_record, split_blocks
from skyfence.formats.asterix.clock import DayClock
from skyfence.formats.errors import DecodeError, Rejections

AsterixRecord = (cat048.Cat048Report | cat034.Cat034Message | cat062.Cat062Track
                 | cat015.Cat015Report)

CATEGORIES: dict[int, tuple[Uap, Callable[[Items], AsterixRecord]]] = {
    48: (cat048.UAP, cat048.decode),
    34: (cat034.UAP, cat034.decode),
    62: (cat062.UAP, cat062.decode),
    15: (cat015.UAP, cat015.decode),
}
"""Category → (UAP, items → typed record): the dispatch table."""

EDITIONS = {48: cat048.EDITION, 34: cat034.EDITION, 62: cat062.EDITION, 15: cat015.EDITION}


def _category(category: int) -> tuple[Uap, Callable[[Items], AsterixRecord]]:
    entry = CATEGORIES.get(category)
    if entry is None:
        raise DecodeError("unsupported category", f"CAT{category:03d}")
    return entry


def decode_block(category: int, records: bytes) -> Iterator[AsterixRecord]:
    """The records of one block's record octets, in order (raises at the first problem)."""
    uap, decode = _category(category)
    offset = 0
    size = len(records)
    while offset < size:
        items, offset = read_record(uap, records, offset)
        yield decode(items)


def decode_datagram(data: bytes) -> list[AsterixRecord]:
    """Every record of every block of one datagram; raises :class:`DecodeError` at any problem."""
    out: list[AsterixRecord] = []
    for category, records in split_blocks(data):
        out.extend(decode_block(category, records))
    return out


def time_of_day_s(record: AsterixRecord) -> float | None:
    """The record's own time stamp (I048/140, I034/030, I062/070, I015/145)."""
    return record.time_of_day_s


@dataclass(frozen=True, slots=True)
class Stamped:
    """A record with its absolute time: ``utc_s`` from its time of day (None if it has
    none), ``rx_utc_s`` the receive time given to :meth:`AsterixDecoder.feed`."""

    record: AsterixRecord
    utc_s: float | None
    rx_utc_s: float | None


class AsterixDecoder:
    """Live decoder: one UDP datagram per :meth:`feed`; bad parts are counted, not raised."""

    def __init__(self, rejections: Rejections | None = None, first_day_utc_s: float = 0.0,
                 categories: frozenset[int] | None = None) -> None:
        self.rejections = rejections if rejections is not None else Rejections()
        self.clock = DayClock(first_day_utc_s)
        self.categories = categories
        self.records: Counter[int] = Counter()
        self.datagrams = 0

    def feed(self, data: bytes, rx_utc_s: float | None = None) -> list[Stamped]:
        """The records of one datagram that could be read, stamped with UTC."""
        self.datagrams += 1
        out: list[Stamped] = []
        try:
            for category, records in split_blocks(data):
                if self.categories is None or category in self.categories:
                    self._block(category, records, rx_utc_s, out)
        except DecodeError as exc:
            self.rejections.add(exc, f"datagram {self.datagrams}")
        return out

    def _block(self, category: int, records: bytes, rx_utc_s: float | None,
               out: list[Stamped]) -> None:
        try:
            uap, decode = _category(category)
        except DecodeError as exc:
            self.rejections.add(exc, f"datagram {self.datagrams}")
            return
        offset = 0
        size = len(records)
        while offset < size:
            try:
                items, offset = read_record(uap, records, offset)
            except DecodeError as exc:  # cannot size: the rest of the block is lost
                self.rejections.add(exc, f"datagram {self.datagrams} CAT{category:03d}")
                return
            try:
                record = decode(items)
            except DecodeError as exc:  # this record only
                self.rejections.add(exc, f"datagram {self.datagrams} CAT{category:03d}")
                continue
            self.records[category] += 1
            tod = record.time_of_day_s
            utc_s = None if tod is None else self.clock.resolve(tod, rx_utc_s)
            out.append(Stamped(record, utc_s, rx_utc_s))
