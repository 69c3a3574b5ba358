"""The embedded event store: one SQLite file in WAL mode (stdlib ``sqlite3``).

Durability:

- Ticks go through a connection with ``synchronous=NORMAL``: in WAL mode a
  commit is appended to the write-ahead log without an fsync, so a *process*
  crash (``kill -9``, an exception, OOM) loses nothing committed -- the log
  is in the operating system's cache and the next open replays it -- while a
  *power loss or kernel crash* can lose the last transactions since the last
  checkpoint. What is buffered and not yet flushed (at most
  ``flush_interval_s``, default 0.5 s) is lost on any crash.
- Acknowledgements go through a second connection with ``synchronous=FULL``:
  every ack commit fsyncs the log before :meth:`record_ack` returns, so an
  acknowledged alert survives power loss too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, ClassVar

from skyfence.store.schema import SCHEMA_VERSION
from skyfence.store.sql import SqlStore

BUSY_TIMEOUT_S = 30.0


class SqliteStore(SqlStore):
    """The event store in the SQLite file ``path`` (created if missing)."""

    dialect: ClassVar[str] = "sqlite"
    placeholder: ClassVar[str] = "?"
    db_errors: ClassVar[tuple[type[BaseException], ...]] = (sqlite3.Error,)

    def __init__(self, path: str | Path, flush_interval_s: float | None = 0.5,
                 migrate_to: int = SCHEMA_VERSION, retain_s: float | None = None) -> None:
        self.path = Path(path)
        super().__init__(str(self.path), flush_interval_s, migrate_to, retain_s)

    def _open(self, synchronous: str) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; _begin issues BEGIN itself,
        # so migrations (DDL) run in the same kind of transaction as the writes.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise sqlite3.OperationalError(f"cannot switch to WAL (journal mode {mode})")
            conn.execute(f"PRAGMA synchronous={synchronous}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _connect(self) -> Any:
        return self._open("NORMAL")

    def _connect_ack(self) -> Any:
        return self._open("FULL")

    def _begin(self, conn: Any) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def _table_names(self, cur: Any) -> set[str]:
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(r[0]) for r in cur.fetchall() if not str(r[0]).startswith("sqlite_")}
