"""ULIDs (https://github.com/ulid/spec): 128 bits as 26 Crockford base32 characters,
a 48-bit millisecond UTC timestamp then 80 random bits.

SAPIENT (BSI Flex 335 v2.0) names reports, objects, tasks and alerts with ULIDs.
:class:`UlidGenerator` is monotonic: within one millisecond (or if the clock
steps back) the random part of the previous ULID is incremented, so ULIDs
from one generator sort in the order they were made. Seed it for tests.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_RANDOM_BITS = 80
_MAX_MS = (1 << 48) - 1


def encode(value: int) -> str:
    """A 128-bit integer as 26 Crockford base32 characters."""
    if not 0 <= value < 1 << 128:
        raise ValueError("a ULID is 128 bits")
    chars = []
    for _ in range(26):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode(text: str) -> int:
    """The 128-bit value of a ULID (case-insensitive); ValueError if it is not one."""
    if not is_ulid(text):
        raise ValueError(f"not a ULID: {text!r}")
    value = 0
    for c in text.upper():
        value = value << 5 | _VALUE[c]
    return value


_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", re.IGNORECASE)


def is_ulid(text: str) -> bool:
    """26 Crockford base32 characters, the first at most '7' (128 bits)."""
    return _ULID.fullmatch(text) is not None


def timestamp_ms(text: str) -> int:
    """The millisecond timestamp a ULID carries."""
    return decode(text) >> _RANDOM_BITS


class UlidGenerator:
    """Monotonic ULIDs; ``seed`` makes the random parts repeatable, ``clock``
    (seconds since the Unix epoch) the timestamps."""

    def __init__(self, seed: int | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._random = random.Random(seed)
        self._clock = clock
        self._last_ms = -1
        self._last_random = 0

    def new(self) -> str:
        t_ms = min(max(int(self._clock() * 1000), 0), _MAX_MS)
        if t_ms <= self._last_ms:  # same millisecond (or the clock stepped back)
            t_ms = self._last_ms
            self._last_random += 1
            if self._last_random >> _RANDOM_BITS:  # 2^80 in one ms: move to the next
                t_ms, self._last_random = t_ms + 1, 0
        else:
            self._last_random = self._random.getrandbits(_RANDOM_BITS)
        self._last_ms = t_ms
        return encode(t_ms << _RANDOM_BITS | self._last_random)
