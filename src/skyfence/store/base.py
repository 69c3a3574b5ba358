"""The event store's interface: what the live engine writes and what replay,
reports and the API read back.

Writes are batched: :meth:`EventStore.write_tick` only buffers; the buffered
ticks reach the database in one transaction per :meth:`EventStore.flush`,
called by the store's own writer thread every ``flush_interval_s`` (default
0.5 s) or, with ``flush_interval_s=None``, by the caller at least once a
second. So a crash of the process loses at most the ticks of the last
interval. Acknowledgements are not batched: :meth:`EventStore.record_ack`
commits its own transaction, synchronously to disk, before it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from skyfence.errors import UserError
from skyfence.live.hub import Record, Snapshot


class StoreError(UserError):
    """A store that cannot be used (corrupt file, unknown schema version, bad URL)."""


class EventStore(Protocol):
    """An append-mostly log of the live picture (module doc)."""

    def write_tick(self, snapshot: Snapshot, measurements: Sequence[Record] = ()) -> None:
        """Buffer one output tick and the measurements that arrived since the last."""

    def flush(self) -> None:
        """Write every buffered tick in one transaction."""

    def record_ack(self, alert_id: str, operator: str, t_ack: float) -> None:
        """Append an acknowledgement; durable once this returns."""

    def last_tick_t(self) -> float | None:
        """The time of the newest stored tick (where a restarted engine carries on)."""

    def tracks_at(self, t: float) -> list[Record]:
        """The track records of the newest stored tick at or before ``t``."""

    def track_history(self, track_id: int, t_from: float, t_to: float) -> list[Record]:
        """One track's records with ``t_from <= t <= t_to``, oldest first."""

    def swarms_at(self, t: float) -> list[Record]:
        """The swarm records of the newest stored tick at or before ``t``."""

    def health_at(self, t: float) -> list[Record]:
        """The sensor-health records of the newest stored tick at or before ``t``."""

    def alerts(self, t_from: float | None = None, t_to: float | None = None,
               active_only: bool = False) -> list[Record]:
        """Alerts (latest version of each) that were active some time in
        ``[t_from, t_to]``; ``active_only``: only those not yet ended."""

    def acks(self, alert_id: str | None = None) -> list[Record]:
        """Acknowledgements (``alert_id, operator, t_ack, recorded_at``) in the
        order they were recorded."""

    def measurements(self, t_from: float, t_to: float) -> list[Record]:
        """The raw measurements with ``t_from <= t <= t_to`` in time order (for replay)."""

    def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` in the meta table (the site's YAML under
        ``site_yaml``, the admin's config under ``config_json``); committed at once."""

    def get_meta(self, key: str) -> str | None:
        """The meta value under ``key``, or None."""

    def max_track_id(self) -> int:
        """The largest track id ever stored (pruned ones included); 0: none."""

    def track_ids(self, t_from: float, t_to: float) -> list[int]:
        """The ids of the tracks stored some time in ``[t_from, t_to]``, in order."""

    def alert_ids(self) -> list[str]:
        """Every stored alert id."""

    def track_states(self, t_from: float, t_to: float) -> list[Record]:
        """Every track record with ``t_from <= t <= t_to``, by time then track id."""

    def track_positions(self, t_from: float, t_to: float) -> list[tuple[float, int, float,
                                                                      float, float]]:
        """``(t, track_id, e, n, u)`` of the same records, read without decoding them."""

    def prune(self, before_t: float) -> int:
        """Delete ticks, track states, swarms, health and measurements before
        ``before_t`` (alerts and acks are kept forever); the rows deleted."""

    def forget_after(self, t: float) -> int:
        """Delete tick rows and measurements after ``t`` (a restart carrying on after
        its last stored tick ``t``); the rows deleted."""

    def snapshot_at(self, t: float) -> Snapshot | None:
        """The whole picture at the newest stored tick at or before ``t``."""

    def close(self) -> None:
        """Flush what is buffered, stop the writer thread, close connections."""

    # -- read-only queries for reports and exports (skyfence.report) -----------------
    def tick_span(self) -> tuple[float, float] | None:
        """The first and the last stored tick times; None when no tick is stored."""

    def tick_times(self, t_from: float, t_to: float) -> list[float]:
        """The stored tick times with ``t_from <= t <= t_to``, oldest first."""

    def health_history(self, t_from: float, t_to: float) -> list[Record]:
        """Every sensor-health record with ``t_from <= t <= t_to``, by time then
        sensor, each with its tick time added under ``t``."""


