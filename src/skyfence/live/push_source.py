"""A live source others push measurements into: the SAPIENT server (and any other
network decoder) hands it measurement records; the engine reads them as batches.

:class:`PushSource` implements the engine's Source protocol (``name`` and
``batches()``). :meth:`PushSource.push` may be called from any thread (an
asyncio server's loop, a socket thread); :meth:`batches` blocks on a
``queue.Queue`` in the engine's worker thread and yields a :class:`Batch` per
pushed group, merging groups already waiting that carry the same ``t``.
:meth:`close` ends the iteration once what was pushed before it is read.

Measurement records are encoded as measurements.jsonl lines (DESIGN.md); the
engine's reader checks them, as it checks a file's lines.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import msgspec

from skyfence.live.sources import Batch


class _End:
    """The close marker in the queue."""


_END = _End()
_Item = tuple[float, list[bytes]] | _End


class PushSource:
    """Measurements pushed from any thread, read as batches (module doc)."""

    def __init__(self, name: str = "push", max_queue: int = 100_000) -> None:
        self.name = name
        self._queue: queue.Queue[_Item] = queue.Queue(max_queue)
        self._encoder = msgspec.json.Encoder()
        self._lock = threading.Lock()
        self._closed = False
        self.lines = 0  # lines pushed
        self.dropped = 0  # lines refused: the queue was full or the source closed

    def push_lines(self, t_s: float, lines: list[bytes]) -> bool:
        """Queue measurement lines of time ``t_s``; False (and counted) if the source
        is closed or ``max_queue`` groups are waiting (the engine is not keeping up)."""
        return not lines or self._put(t_s, lines)

    def heartbeat(self, t_s: float) -> bool:
        """Say "nothing more up to ``t_s``" (an empty batch): the engine then makes the
        ticks the clock says are due even when every sensor is silent. False if closed
        or full (a heartbeat is never needed while data wait)."""
        return self._put(t_s, [])

    def _put(self, t_s: float, lines: list[bytes]) -> bool:
        """Queue one group unless closed or full (its lines counted as pushed or as
        dropped); whether it was queued."""
        with self._lock:
            if not self._closed:
                try:
                    self._queue.put_nowait((t_s, lines))
                except queue.Full:
                    pass
                else:
                    self.lines += len(lines)
                    return True
            self.dropped += len(lines)
            return False

    def push(self, records: Iterable[Mapping[str, Any]]) -> bool:
        """Queue measurement records (each with its ``t``), grouped by ``t``."""
        groups: dict[float, list[bytes]] = {}
        for record in records:
            groups.setdefault(float(record["t"]), []).append(self._encoder.encode(record))
        return all([self.push_lines(t_s, lines) for t_s, lines in groups.items()])

    def close(self) -> None:
        """End :meth:`batches` after what is queued (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._queue.put(_END)  # blocks only if full: the reader is draining it

    @property
    def closed(self) -> bool:
        return self._closed

    def batches(self) -> Iterator[Batch]:
        number = 1
        pending: _Item | None = None
        while True:
            item = pending if pending is not None else self._queue.get()
            pending = None
            if isinstance(item, _End):
                return
            t_s, lines = item[0], list(item[1])
            while lines:  # merge groups already waiting with the same t (not heartbeats)
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if not isinstance(nxt, _End) and nxt[0] == t_s and nxt[1]:
                    lines.extend(nxt[1])
                    continue
                pending = nxt
                break
            yield Batch(t_s, lines, self.name, number)
            number += len(lines)
