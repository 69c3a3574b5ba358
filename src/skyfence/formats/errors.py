"""The error family of every wire-format decoder, and the counted rejections.

A decoder raises :class:`DecodeError` (a ``ValueError``) with a short ``reason``
— a fixed phrase such as ``"bad CRC"`` or ``"truncated item I048/040"``,
the same for every input rejected for that cause, so rejections can be
counted by reason — and optional ``detail`` about this input (the offending
value, an offset). A live source or an ``ingest`` run catches it, adds it to a
:class:`Rejections`, logs the first few, and goes on.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class DecodeError(ValueError):
    """An input a decoder cannot read: ``reason`` (countable), ``detail`` (this one)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass
class Rejections:
    """Rejected inputs counted by reason, with the first few examples kept."""

    by_reason: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    keep_examples: int = 10
    log_first: int = 5

    def add(self, error: DecodeError, where: str = "") -> None:
        """Count one rejected input (``where``: file:offset, peer address, …)."""
        self.by_reason[error.reason] += 1
        text = f"{where}: {error}" if where else str(error)
        if len(self.examples) < self.keep_examples:
            self.examples.append(text)
        if self.total <= self.log_first:
            log.warning("rejected %s", text)

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())

    def summary(self) -> dict[str, object]:
        return {"rejected": self.total, "by_reason": dict(self.by_reason),
                "examples": list(self.examples)}
