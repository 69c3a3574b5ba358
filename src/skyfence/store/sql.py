"""The event store over any DB-API connection: one implementation, two dialects.

:class:`SqlStore` holds everything the backends share -- migrations, the write
buffer and its writer thread, the batched inserts, the queries -- and a
backend (:mod:`skyfence.store.sqlite`, :mod:`skyfence.store.postgres`) only
opens its connections and says how a transaction starts. The SQL is written
once with ``?`` placeholders and the common subset both databases speak
(``ON CONFLICT`` upserts, ``DOUBLE PRECISION``, ``BIGINT``, ``TEXT``).

Threads: the tick connection is used by the writer thread (flushes) and by the
caller (queries) under one lock; acknowledgements go through a second
connection with its own lock, so an ack never waits behind a buffered batch
being built, only (briefly) behind the database's own write lock.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import msgspec

from skyfence.live.hub import Record, Snapshot
from skyfence.store.base import StoreError
from skyfence.store.schema import SCHEMA_VERSION, pending

Row = tuple[Any, ...]


def _enc_hook(obj: Any) -> Any:
    """JSON for what msgspec does not know: NumPy scalars and arrays, else text."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.json.Decoder()


def dumps(record: Any) -> str:
    return _encoder.encode(record).decode()


def loads(text: str) -> Any:
    return _decoder.decode(text)


def _num(value: Any, default: float | None) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class SqlStore:
    """The :class:`~skyfence.store.base.EventStore` over DB-API connections
    (module doc). Subclasses set the class variables and the ``_connect*``,
    ``_begin`` and ``_table_names`` hooks."""

    dialect: ClassVar[str]
    placeholder: ClassVar[str]
    db_errors: ClassVar[tuple[type[BaseException], ...]]

    def __init__(self, name: str, flush_interval_s: float | None = 0.5,
                 migrate_to: int = SCHEMA_VERSION, retain_s: float | None = None,
                 prune_interval_s: float = 60.0) -> None:
        self.name = name
        self.flush_interval_s = flush_interval_s
        self.retain_s = retain_s  # keep this many seconds of ticks (None: everything)
        self.prune_interval_s = prune_interval_s
        self.pruned_before: float | None = None  # the cut of the last prune
        self._pruned_at = -math.inf  # monotonic time of the last prune
        self.flushed_t: float | None = None
        self._lock = threading.RLock()  # the tick connection
        self._ack_lock = threading.Lock()  # the ack connection
        self._flush_lock = threading.Lock()  # one flush at a time
        self._buf_lock = threading.Lock()  # the buffer
        self._buffer: list[tuple[Snapshot, Sequence[Record]]] = []
        self._error: BaseException | None = None
        self._closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            self._conn = self._connect()
            self._migrate(migrate_to)
            self._ack_conn = self._connect_ack()
            self.flushed_t = self.last_tick_t()
        except self.db_errors as exc:
            raise StoreError(f"{self.name}: cannot open the event store: {exc}") from exc
        if flush_interval_s is not None:
            self._thread = threading.Thread(target=self._writer, name="skyfence-store-writer",
                                            daemon=True)
            self._thread.start()

    # -- backend hooks ----------------------------------------------------------------
    def _connect(self) -> Any:
        raise NotImplementedError

    def _connect_ack(self) -> Any:
        raise NotImplementedError

    def _begin(self, conn: Any) -> None:
        """Start a transaction on ``conn`` (a no-op where the driver starts one)."""

    def _table_names(self, cur: Any) -> set[str]:
        raise NotImplementedError

    # -- plumbing ---------------------------------------------------------------------
    def _sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    @contextlib.contextmanager
    def _transaction(self, conn: Any) -> Iterator[Any]:
        """A cursor inside one transaction: committed on success, rolled back on error."""
        self._begin(conn)
        cur = conn.cursor()
        try:
            yield cur
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            with contextlib.suppress(Exception):
                cur.close()

    def _query(self, text: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock, self._transaction(self._conn) as cur:
            cur.execute(self._sql(text), tuple(params))
            return [tuple(r) for r in cur.fetchall()]

    def _insert(self, cur: Any, head: str, types: Sequence[str], rows: Sequence[Row],
                tail: str = "") -> None:
        """``head VALUES (...) tail`` for every row (``executemany``); ``types``: the
        columns' SQL types, for backends that send columns as typed arrays."""
        if rows:
            one = "(" + ",".join([self.placeholder] * len(types)) + ")"
            cur.executemany(f"{head} VALUES {one} {tail}", rows)

    # -- schema -----------------------------------------------------------------------
    def schema_version(self) -> int:
        """The version the store is at (0: empty database)."""
        with self._lock, self._transaction(self._conn) as cur:
            return self._read_version(cur)

    def _read_version(self, cur: Any) -> int:
        tables = self._table_names(cur)
        if not tables:
            return 0
        if "meta" not in tables:
            raise StoreError(f"{self.name}: not a skyfence event store (it has tables "
                             f"{', '.join(sorted(tables)[:5])} but no meta table)")
        cur.execute(self._sql("SELECT value FROM meta WHERE key = ?"), ("schema_version",))
        row = cur.fetchone()
        try:
            version = int(row[0]) if row is not None else -1
        except (TypeError, ValueError):
            version = -1
        if version < 1:
            raise StoreError(f"{self.name}: unreadable schema version "
                             f"{None if row is None else row[0]!r} in the meta table")
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.name}: schema version {version} is newer than this "
                             f"skyfence understands ({SCHEMA_VERSION}); upgrade skyfence")
        return version

    def _migrate(self, target: int = SCHEMA_VERSION) -> None:
        """Apply every migration from the stored version to ``target``, in one transaction."""
        with self._lock, self._transaction(self._conn) as cur:
            stored = self._read_version(cur)
            steps = pending(stored, target)
            for migration in steps:
                for statement in migration.sql(self.dialect):
                    cur.execute(statement)
            if steps:
                cur.execute(self._sql("DELETE FROM meta WHERE key = ?"), ("schema_version",))
                cur.execute(self._sql("INSERT INTO meta (key, value) VALUES (?, ?)"),
                            ("schema_version", str(steps[-1].version)))

    # -- writing ----------------------------------------------------------------------
    def write_tick(self, snapshot: Snapshot, measurements: Sequence[Record] = ()) -> None:
        self._raise_writer_error()
        if self._closed:
            raise StoreError(f"{self.name}: the event store is closed")
        with self._buf_lock:
            self._buffer.append((snapshot, list(measurements)))

    def flush(self) -> None:
        self._raise_writer_error()
        self._flush()

    def _flush(self) -> None:
        with self._flush_lock:
            with self._buf_lock:
                batch, self._buffer = self._buffer, []
            if not batch:
                return
            try:
                self._write_batch(batch)
            except BaseException:
                with self._buf_lock:  # keep the ticks for the next try
                    self._buffer[:0] = batch
                raise
            self.flushed_t = batch[-1][0].t_s
            self._maybe_prune()

    # -- retention --------------------------------------------------------------------
    _PRUNED = ("ticks", "track_states", "swarms", "health", "measurements")

    def _maybe_prune(self) -> None:
        """After a flush: drop what is older than ``retain_s`` before the newest tick, at
        most every ``prune_interval_s`` (wall clock)."""
        if self.retain_s is None or self.flushed_t is None:
            return
        now = time.monotonic()
        if now - self._pruned_at < self.prune_interval_s:
            return
        self._pruned_at = now
        self.prune(self.flushed_t - self.retain_s)

    def prune(self, before_t: float) -> int:
        """Delete ticks, track states, swarms, health and measurements with ``t <
        before_t`` in one transaction (alerts and acks are kept); the rows deleted.
        The largest track id deleted is kept in meta (``max_track_id``), so a
        restarted engine never reuses one."""
        cut = float(before_t)
        deleted = 0
        with self._lock, self._transaction(self._conn) as cur:
            cur.execute(self._sql("SELECT MAX(track_id) FROM track_states WHERE t < ?"), (cut,))
            row = cur.fetchone()
            if row is not None and row[0] is not None:
                self._put_meta(cur, "max_track_id",
                               str(max(int(row[0]), self._meta_int(cur, "max_track_id"))))
            for table in self._PRUNED:  # fixed names
                cur.execute(self._sql(f"DELETE FROM {table} WHERE t < ?"), (cut,))
                deleted += max(int(cur.rowcount), 0)
        self.pruned_before = cut
        return deleted

    def forget_after(self, t: float) -> int:
        """Delete what is stored after ``t`` in the tick tables and measurements (a
        restarted engine carries on after its last stored tick ``t``: the
        measurements written with that tick, later than it, come again); rows deleted."""
        deleted = 0
        with self._lock, self._transaction(self._conn) as cur:
            for table in self._PRUNED:  # fixed names
                cur.execute(self._sql(f"DELETE FROM {table} WHERE t > ?"), (float(t),))
                deleted += max(int(cur.rowcount), 0)
        return deleted

    # -- meta -------------------------------------------------------------------------
    def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` in the meta table (replacing it), committed now.
        ``schema_version`` is the store's own and cannot be set."""
        if key == "schema_version":
            raise ValueError("schema_version is kept by the store's migrations")
        with self._lock, self._transaction(self._conn) as cur:
            self._put_meta(cur, str(key), str(value))

    def get_meta(self, key: str) -> str | None:
        """The value stored under ``key`` in the meta table, or None."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", (str(key),))
        return None if not rows else str(rows[0][0])

    def _put_meta(self, cur: Any, key: str, value: str) -> None:
        cur.execute(self._sql("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key)"
                              " DO UPDATE SET value = excluded.value"), (key, value))

    def _meta_int(self, cur: Any, key: str) -> int:
        cur.execute(self._sql("SELECT value FROM meta WHERE key = ?"), (key,))
        row = cur.fetchone()
        try:
            return int(row[0]) if row is not None else 0
        except (TypeError, ValueError):
            return 0

    def _write_batch(self, batch: Sequence[tuple[Snapshot, Sequence[Record]]]) -> None:
        ticks: list[Row] = []
        meas: list[Row] = []
        tracks: list[Row] = []
        swarms: list[Row] = []
        health: list[Row] = []
        alerts: dict[str, Row] = {}  # the latest version of each alert in the batch
        for snap, measured in batch:
            t = float(snap.t_s)
            ticks.append((t, len(snap.tracks)))
            for m in measured:
                meas.append((_num(m.get("t"), t), _text(m.get("sensor")),
                             _text(m.get("kind")), dumps(m)))
            for tid, r in snap.tracks.items():
                tracks.append((t, int(tid), _text(r.get("class")),
                               _text(r.get("cooperative_id")), dumps(r)))
            for sid, r in snap.swarms.items():
                swarms.append((t, int(sid), dumps(r)))
            for sensor, r in snap.health.items():
                health.append((t, str(sensor), dumps(r)))
            for aid, r in snap.alerts.items():
                alerts[str(aid)] = (str(aid), _text(r.get("kind")), _text(r.get("severity")),
                                    _num(r.get("t_start"), t), _num(r.get("t_end"), None),
                                    dumps(r))
        skip = "ON CONFLICT DO NOTHING"
        f, i, s = "float8", "int8", "text"
        with self._lock, self._transaction(self._conn) as cur:
            self._insert(cur, "INSERT INTO ticks (t, n_tracks)", (f, i), ticks, skip)
            self._insert(cur, "INSERT INTO measurements (t, sensor, kind, line)",
                         (f, s, s, s), meas)
            self._insert(cur, "INSERT INTO track_states (t, track_id, class, cooperative_id,"
                         " record)", (f, i, s, s, s), tracks, skip)
            self._insert(cur, "INSERT INTO swarms (t, swarm_id, record)", (f, i, s), swarms,
                         skip)
            self._insert(cur, "INSERT INTO health (t, sensor, record)", (f, s, s), health, skip)
            self._insert(cur, "INSERT INTO alerts (alert_id, kind, severity, t_start, t_end,"
                         " record)", (s, s, s, f, f, s), list(alerts.values()),
                         "ON CONFLICT (alert_id) DO UPDATE SET kind = excluded.kind,"
                         " severity = excluded.severity, t_start = excluded.t_start,"
                         " t_end = excluded.t_end, record = excluded.record")

    def record_ack(self, alert_id: str, operator: str, t_ack: float) -> None:
        row = (str(alert_id), str(operator), float(t_ack), time.time())
        try:
            with self._ack_lock, self._transaction(self._ack_conn) as cur:
                cur.execute(self._sql("INSERT INTO acks (alert_id, operator, t_ack,"
                                      " recorded_at) VALUES (?, ?, ?, ?)"), row)
        except self.db_errors as exc:
            raise StoreError(f"{self.name}: acknowledgement of {alert_id!r} not recorded: "
                             f"{exc}") from exc

    def _writer(self) -> None:
        interval = self.flush_interval_s or 0.5
        while not self._stop.wait(interval):
            try:
                self._flush()
            except BaseException as exc:  # reported to the caller on its next call
                self._error = exc

    def _raise_writer_error(self) -> None:
        exc, self._error = self._error, None
        if exc is not None:
            raise StoreError(f"{self.name}: writing buffered ticks failed: {exc}") from exc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self._flush()
            if self.retain_s is not None and self.flushed_t is not None:
                self.prune(self.flushed_t - self.retain_s)  # leave it within the retention
        finally:
            for conn in (self._conn, self._ack_conn):
                with contextlib.suppress(Exception):
                    conn.close()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------
    def last_tick_t(self) -> float | None:
        rows = self._query("SELECT MAX(t) FROM ticks")
        return None if rows[0][0] is None else float(rows[0][0])

    def _tick_at(self, t: float) -> float | None:
        rows = self._query("SELECT MAX(t) FROM ticks WHERE t <= ?", (float(t),))
        return None if rows[0][0] is None else float(rows[0][0])

    def _records_at(self, table: str, key: str, t: float) -> list[Record]:
        rows = self._query(f"SELECT record FROM {table} WHERE t ="  # table, key: fixed names
                           f" (SELECT MAX(t) FROM ticks WHERE t <= ?) ORDER BY {key}",
                           (float(t),))
        return [loads(r[0]) for r in rows]

    def tracks_at(self, t: float) -> list[Record]:
        return self._records_at("track_states", "track_id", t)

    def swarms_at(self, t: float) -> list[Record]:
        return self._records_at("swarms", "swarm_id", t)

    def health_at(self, t: float) -> list[Record]:
        return self._records_at("health", "sensor", t)

    def track_history(self, track_id: int, t_from: float, t_to: float) -> list[Record]:
        rows = self._query("SELECT record FROM track_states WHERE track_id = ? AND t >= ?"
                           " AND t <= ? ORDER BY t", (int(track_id), float(t_from), float(t_to)))
        return [loads(r[0]) for r in rows]

    def alerts(self, t_from: float | None = None, t_to: float | None = None,
               active_only: bool = False) -> list[Record]:
        where: list[str] = []
        params: list[Any] = []
        if t_to is not None:
            where.append("t_start <= ?")
            params.append(float(t_to))
        if t_from is not None:
            where.append("(t_end IS NULL OR t_end >= ?)")
            params.append(float(t_from))
        if active_only:
            where.append("t_end IS NULL")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        rows = self._query(f"SELECT record FROM alerts{clause} ORDER BY t_start, alert_id",
                           params)
        return [loads(r[0]) for r in rows]

    def acks(self, alert_id: str | None = None) -> list[Record]:
        head = "SELECT alert_id, operator, t_ack, recorded_at FROM acks"
        order = " ORDER BY recorded_at, t_ack"
        rows = (self._query(head + order) if alert_id is None
                else self._query(head + " WHERE alert_id = ?" + order, (str(alert_id),)))
        return [{"alert_id": a, "operator": o, "t_ack": float(t), "recorded_at": float(r)}
                for a, o, t, r in rows]

    def measurements(self, t_from: float, t_to: float) -> list[Record]:
        rows = self._query("SELECT line FROM measurements WHERE t >= ? AND t <= ? ORDER BY t",
                           (float(t_from), float(t_to)))
        return [loads(r[0]) for r in rows]

    def max_track_id(self) -> int:
        """The largest track id the store has ever held (pruned ones included); 0: none."""
        rows = self._query("SELECT MAX(track_id) FROM track_states")
        stored = 0 if rows[0][0] is None else int(rows[0][0])
        with self._lock, self._transaction(self._conn) as cur:
            return max(stored, self._meta_int(cur, "max_track_id"))

    def track_ids(self, t_from: float, t_to: float) -> list[int]:
        """The ids of the tracks stored some time in ``[t_from, t_to]``, in order."""
        rows = self._query("SELECT DISTINCT track_id FROM track_states WHERE t >= ?"
                           " AND t <= ? ORDER BY track_id", (float(t_from), float(t_to)))
        return [int(r[0]) for r in rows]

    def alert_ids(self) -> list[str]:
        """Every stored alert id (ended ones included), in no particular order."""
        return [str(r[0]) for r in self._query("SELECT alert_id FROM alerts")]

    def track_states(self, t_from: float, t_to: float) -> list[Record]:
        """Every track record with ``t_from <= t <= t_to``, by time then track id."""
        rows = self._query("SELECT record FROM track_states WHERE t >= ? AND t <= ?"
                           " ORDER BY t, track_id", (float(t_from), float(t_to)))
        return [loads(r[0]) for r in rows]

    _POSITION_SQL: ClassVar[dict[str, str]] = {
        "sqlite": "json_extract(record, '$.enu_m[0]'), json_extract(record, '$.enu_m[1]'),"
                  " json_extract(record, '$.enu_m[2]')",
        "postgresql": "(record::json->'enu_m'->>0)::float8, (record::json->'enu_m'->>1)::float8,"
                      " (record::json->'enu_m'->>2)::float8",
    }

    def track_positions(self, t_from: float, t_to: float) -> list[tuple[float, int, float,
                                                                      float, float]]:
        """``(t, track_id, e, n, u)`` of every track record with ``t_from <= t <= t_to``,
        by time then track id: the positions alone, read by the database from the
        stored JSON (trails for a replayed picture without decoding whole records)."""
        rows = self._query(f"SELECT t, track_id, {self._POSITION_SQL[self.dialect]}"
                           " FROM track_states WHERE t >= ? AND t <= ? ORDER BY t, track_id",
                           (float(t_from), float(t_to)))
        return [(float(t), int(i), float(e), float(n), float(u)) for t, i, e, n, u in rows]

    def snapshot_at(self, t: float) -> Snapshot | None:
        t0 = self._tick_at(t)
        if t0 is None:
            return None
        active = self.alerts(t_from=t0, t_to=t0)
        return Snapshot(
            t_s=t0,
            tracks={int(r["track_id"]): r for r in self.tracks_at(t0)},
            swarms={int(r["swarm_id"]): r for r in self.swarms_at(t0)},
            alerts={str(r["alert_id"]): r for r in active},
            health={str(r["sensor"]): r for r in self.health_at(t0)})

    # -- read-only queries for reports and exports (skyfence.report) -----------------
    def tick_span(self) -> tuple[float, float] | None:
        rows = self._query("SELECT MIN(t), MAX(t) FROM ticks")
        if rows[0][0] is None:
            return None
        return float(rows[0][0]), float(rows[0][1])

    def tick_times(self, t_from: float, t_to: float) -> list[float]:
        rows = self._query("SELECT t FROM ticks WHERE t >= ? AND t <= ? ORDER BY t",
                           (float(t_from), float(t_to)))
        return [float(r[0]) for r in rows]

    def health_history(self, t_from: float, t_to: float) -> list[Record]:
        rows = self._query("SELECT t, record FROM health WHERE t >= ? AND t <= ?"
                           " ORDER BY t, sensor", (float(t_from), float(t_to)))
        return [{**loads(r[1]), "t": float(r[0])} for r in rows]
