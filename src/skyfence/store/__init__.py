"""The event store: the live picture, measurements and acknowledgements, kept.

:func:`open_store` picks the backend from a URL:

- ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or a bare
  file path: the embedded SQLite store (WAL), the default;
- ``postgresql://user[:password]@host[:port]/database``: PostgreSQL.

See docs/store.md for the schema, batching and durability.
"""

from __future__ import annotations

from pathlib import Path

from skyfence.store.base import EventStore, StoreError
from skyfence.store.schema import SCHEMA_VERSION
from skyfence.store.sql import SqlStore

__all__ = ["SCHEMA_VERSION", "EventStore", "SqlStore", "StoreError", "open_store"]


def open_store(url: str | Path, flush_interval_s: float | None = 0.5,
               migrate_to: int = SCHEMA_VERSION, retain_s: float | None = None) -> SqlStore:
    """The event store at ``url`` (module doc); migrated to the latest schema.

    ``flush_interval_s``: how often the writer thread flushes buffered ticks;
    ``None`` runs no thread and leaves :meth:`~SqlStore.flush` to the caller
    (at least once a second to keep the one-second loss bound). ``migrate_to``:
    stop migrating at this schema version (for testing migrations). ``retain_s``: keep
    only the last this many seconds (scenario time) of ticks, track states, swarms,
    health and measurements, pruned after a flush at most once a minute (alerts and
    acks are kept); None keeps everything."""
    if retain_s is not None and not retain_s > 0:
        raise StoreError(f"retain_s must be positive, not {retain_s!r}")
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        from skyfence.store.postgres import PostgresStore

        return PostgresStore(text, flush_interval_s, migrate_to, retain_s)
    from skyfence.store.sqlite import SqliteStore

    if text.startswith("sqlite:///"):
        return SqliteStore(text[len("sqlite:///"):], flush_interval_s, migrate_to, retain_s)
    if "://" in text or text.startswith("sqlite:"):
        raise StoreError(f"unknown store URL {text!r}: use sqlite:///PATH or "
                         "postgresql://USER@HOST:PORT/DB")
    return SqliteStore(text, flush_interval_s, migrate_to, retain_s)
