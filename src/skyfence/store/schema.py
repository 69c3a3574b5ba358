"""The event store's tables and the migrations that build them.

One schema for both backends (SQLite and PostgreSQL); JSON records are kept
as text exactly as the engine published them, with the columns queries need
copied out beside them:

=============  ==============================================================
table          columns
=============  ==============================================================
meta           key (``schema_version``), value
ticks          t (primary key), n_tracks -- one row per stored output tick
measurements   t, sensor, kind, line (the raw JSON line)
track_states   t, track_id, class, cooperative_id (v2), record (JSON)
swarms         t, swarm_id, record
alerts         alert_id (primary key), kind, severity, t_start, t_end, record
               -- upserted as the alert changes
acks           alert_id, operator, t_ack, recorded_at -- append-only
health         t, sensor, record
=============  ==============================================================

Migrations are an ordered list; migration ``n`` takes a store from version
``n - 1`` to ``n``. :func:`skyfence.store.sql.SqlStore` applies every step
from the stored version to :data:`SCHEMA_VERSION` in one transaction, so a
store is always at exactly one version. A step is SQL text, or a mapping from
dialect (``"sqlite"``, ``"postgresql"``) to SQL text where the two differ.
Never edit a released migration: add a new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Step = str | Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Migration:
    """The steps that take the schema from ``version - 1`` to ``version``."""

    version: int
    summary: str
    steps: Sequence[Step]

    def sql(self, dialect: str) -> list[str]:
        """This migration's statements for ``dialect``."""
        return [s if isinstance(s, str) else s[dialect] for s in self.steps]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial tables", (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE ticks (t DOUBLE PRECISION PRIMARY KEY, n_tracks INTEGER NOT NULL)",
        "CREATE TABLE measurements (t DOUBLE PRECISION NOT NULL, sensor TEXT, kind TEXT,"
        " line TEXT NOT NULL)",
        "CREATE INDEX ix_measurements_t ON measurements (t)",
        "CREATE TABLE track_states (t DOUBLE PRECISION NOT NULL, track_id BIGINT NOT NULL,"
        " class TEXT, record TEXT NOT NULL, PRIMARY KEY (t, track_id))",
        "CREATE INDEX ix_track_states_track ON track_states (track_id, t)",
        "CREATE INDEX ix_track_states_class ON track_states (class, t)",
        "CREATE TABLE swarms (t DOUBLE PRECISION NOT NULL, swarm_id BIGINT NOT NULL,"
        " record TEXT NOT NULL, PRIMARY KEY (t, swarm_id))",
        "CREATE TABLE alerts (alert_id TEXT PRIMARY KEY, kind TEXT, severity TEXT,"
        " t_start DOUBLE PRECISION, t_end DOUBLE PRECISION, record TEXT NOT NULL)",
        "CREATE INDEX ix_alerts_t ON alerts (t_start, t_end)",
        "CREATE TABLE acks (alert_id TEXT NOT NULL, operator TEXT NOT NULL,"
        " t_ack DOUBLE PRECISION NOT NULL, recorded_at DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX ix_acks_alert ON acks (alert_id)",
        "CREATE TABLE health (t DOUBLE PRECISION NOT NULL, sensor TEXT NOT NULL,"
        " record TEXT NOT NULL, PRIMARY KEY (t, sensor))",
    )),
    Migration(2, "track_states.cooperative_id: indexed, backfilled from the record", (
        "ALTER TABLE track_states ADD COLUMN cooperative_id TEXT",
        {"sqlite": "UPDATE track_states SET cooperative_id ="
                   " json_extract(record, '$.cooperative_id')",
         "postgresql": "UPDATE track_states SET cooperative_id ="
                       " (record::json ->> 'cooperative_id')"},
        "CREATE INDEX ix_track_states_coop ON track_states (cooperative_id, t)",
    )),
)

SCHEMA_VERSION = MIGRATIONS[-1].version


def pending(stored: int, target: int = SCHEMA_VERSION) -> list[Migration]:
    """The migrations that take a store from version ``stored`` to ``target``."""
    return [m for m in MIGRATIONS if stored < m.version <= target]
