"""The event store in PostgreSQL, through pg8000 (pure Python, BSD-3 licence).

Same tables, queries and batching as the SQLite store (one implementation,
:class:`skyfence.store.sql.SqlStore`). Durability follows the server: every
flush and every ack is a committed transaction, and with the server's default
``synchronous_commit=on`` a commit is on disk before it returns -- a crash of
the engine loses only the unflushed buffer (at most ``flush_interval_s``);
acks are never lost once :meth:`record_ack` returned. Batched rows go as
one typed array per column, ``INSERT ... SELECT * FROM unnest(...)``: one
statement and one round trip per table per flush (ten times faster than
multi-row ``VALUES`` with one parameter per value, which PostgreSQL must
parse and plan afresh).

Install the driver with the ``postgres`` extra: ``pip install 'skyfence[postgres]'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from skyfence.store.base import StoreError
from skyfence.store.schema import SCHEMA_VERSION
from skyfence.store.sql import Row, SqlStore

try:
    import pg8000.dbapi as pg  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - the extra is not installed
    pg = None


def _errors() -> tuple[type[BaseException], ...]:
    if pg is None:  # pragma: no cover
        return (OSError,)
    return (pg.Error, pg.InterfaceError, OSError)


class PostgresStore(SqlStore):
    """The event store in the PostgreSQL database at ``url``
    (``postgresql://user[:password]@host[:port]/database``)."""

    dialect: ClassVar[str] = "postgresql"
    placeholder: ClassVar[str] = "%s"
    db_errors: ClassVar[tuple[type[BaseException], ...]] = _errors()

    def __init__(self, url: str, flush_interval_s: float | None = 0.5,
                 migrate_to: int = SCHEMA_VERSION, retain_s: float | None = None) -> None:
        if pg is None:
            raise StoreError("PostgreSQL store needs the pg8000 driver: "
                             "pip install 'skyfence[postgres]'")
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
            raise StoreError(f"not a PostgreSQL URL (postgresql://user@host:port/db): {url!r}")
        try:
            port = parts.port or 5432
        except ValueError as exc:
            raise StoreError(f"bad port in PostgreSQL URL {url!r}: {exc}") from exc
        self._params: dict[str, Any] = {
            "user": unquote(parts.username or "postgres"),
            "password": None if parts.password is None else unquote(parts.password),
            "host": parts.hostname or "127.0.0.1", "port": port,
            "database": unquote(parts.path.strip("/")),
            "application_name": "skyfence"}
        p = self._params
        super().__init__(f"postgresql://{p['user']}@{p['host']}:{port}/{p['database']}",
                         flush_interval_s, migrate_to, retain_s)

    def _insert(self, cur: Any, head: str, types: Sequence[str], rows: Sequence[Row],
                tail: str = "") -> None:
        if not rows:
            return
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        columns = [list(c) for c in zip(*rows, strict=True)]
        cur.execute(f"{head} SELECT * FROM unnest({arrays}) {tail}", columns)

    def _connect(self) -> Any:
        return pg.connect(**self._params)

    def _connect_ack(self) -> Any:
        conn = pg.connect(**self._params)
        # Whatever the server default, an ack's commit waits for its WAL flush.
        cur = conn.cursor()
        cur.execute("SET synchronous_commit TO on")
        conn.commit()
        return conn

    def _table_names(self, cur: Any) -> set[str]:
        cur.execute("SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = current_schema()")
        return {str(r[0]) for r in cur.fetchall()}
