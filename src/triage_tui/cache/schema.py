"""The cache's on-disk layout and its migrations.

``format`` (plain key/value) holds ``format_version``, ``cache_id`` and the audit head;
``keyslots`` the wrapped data key. These two tables never change shape, so that any version can
read the version number and unlock before migrating: a wrong passphrase changes nothing.

Migrations run after a successful unlock, in one transaction each (SQLite DDL is
transactional): a failed migration leaves the file as it was. Never drop outbox rows.
A step whose data must be decrypted (format 2: the triage rules' columns of each thread) runs
its SQL here and its data part through ``migrate(..., backfill=...)``, in the same transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

FORMAT_VERSION = 3

BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS format (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keyslots (
    name TEXT PRIMARY KEY,      -- 'passphrase' | 'keyring'
    kdf TEXT NOT NULL,          -- 'scrypt' | 'keyring'
    params TEXT NOT NULL,       -- JSON
    salt BLOB,
    wrapped BLOB NOT NULL       -- 0x01 | nonce | AES-GCM(KEK, DEK, aad=cache id + slot)
);
"""

SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB);
CREATE TABLE cursors (resource_type TEXT PRIMARY KEY, value TEXT);
CREATE TABLE patients (id TEXT PRIMARY KEY, version TEXT, phi BLOB);
CREATE TABLE practitioners (id TEXT PRIMARY KEY, version TEXT, pool TEXT, phi BLOB);
CREATE TABLE threads (
    id TEXT PRIMARY KEY, version TEXT, patient_id TEXT, category TEXT, priority TEXT,
    status TEXT, created TEXT, updated TEXT, has_header INTEGER, phi BLOB,
    -- denormalised for queue(): refreshed whenever messages or tasks of the thread change
    last_message_at TEXT, message_count INTEGER NOT NULL DEFAULT 0,
    last_from_patient INTEGER NOT NULL DEFAULT 0,
    task_id TEXT, pool TEXT, owner_ref TEXT, business_status TEXT, due TEXT
);
CREATE INDEX threads_patient ON threads(patient_id);
CREATE TABLE messages (
    id TEXT PRIMARY KEY, version TEXT, thread_id TEXT, sent TEXT, sender_ref TEXT,
    in_response_to TEXT, status TEXT, sent_ts REAL, from_patient INTEGER, phi BLOB
);
CREATE INDEX messages_thread ON messages(thread_id, sent_ts);
CREATE TABLE tasks (
    id TEXT PRIMARY KEY, version TEXT, thread_id TEXT, patient_id TEXT, pool TEXT, status TEXT,
    business_status TEXT, priority TEXT, owner_ref TEXT, due TEXT, last_modified TEXT, phi BLOB
);
CREATE INDEX tasks_thread ON tasks(thread_id);
CREATE TABLE medications (
    id TEXT PRIMARY KEY, version TEXT, patient_id TEXT, status TEXT, authored TEXT, phi BLOB
);
CREATE INDEX medications_patient ON medications(patient_id);
CREATE TABLE appointments (
    id TEXT PRIMARY KEY, version TEXT, patient_id TEXT, start TEXT, status TEXT, phi BLOB
);
CREATE INDEX appointments_patient ON appointments(patient_id);
CREATE TABLE observations (
    id TEXT PRIMARY KEY, version TEXT, patient_id TEXT, effective TEXT, phi BLOB
);
CREATE INDEX observations_patient ON observations(patient_id);
CREATE TABLE outbox (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, resource_type TEXT NOT NULL, thread_id TEXT,
    if_match TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT, server_version TEXT, created TEXT, updated TEXT, user TEXT,
    payload BLOB NOT NULL, last_error BLOB
);
CREATE INDEX outbox_state ON outbox(state);
CREATE TABLE drafts (thread_id TEXT PRIMARY KEY, template_id TEXT, updated TEXT, phi BLOB);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
    entity TEXT, detail BLOB, mac BLOB NOT NULL
);
CREATE TABLE quarantine (
    qid INTEGER PRIMARY KEY, tbl TEXT NOT NULL, row_id TEXT NOT NULL, col TEXT NOT NULL,
    reason TEXT NOT NULL, detected TEXT NOT NULL, data BLOB
);
"""

# Layout of format 0 (the pre-release cache): no audit chain, no quarantine, drafts and outbox
# without the user / server_version columns. Kept to test and run the 0 -> 1 migration.
SCHEMA_V0 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB);
CREATE TABLE cursors (resource_type TEXT PRIMARY KEY, value TEXT);
CREATE TABLE outbox (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, resource_type TEXT NOT NULL, thread_id TEXT,
    if_match TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT, created TEXT, updated TEXT, payload BLOB NOT NULL, last_error BLOB
);
CREATE TABLE drafts (thread_id TEXT PRIMARY KEY, updated TEXT, phi BLOB);
"""


def _migrate_0_to_1(conn: sqlite3.Connection) -> None:
    # Keep outbox, drafts, meta and cursors (unsent work and sync position); the record
    # tables are created empty: they are a copy of the server and the next sync refills them.
    cols = {r[1] for r in conn.execute("PRAGMA table_info(outbox)")}
    for name in ("server_version", "user"):
        if name not in cols:
            conn.execute(f"ALTER TABLE outbox ADD COLUMN {name} TEXT")
    dcols = {r[1] for r in conn.execute("PRAGMA table_info(drafts)")}
    if "template_id" not in dcols:
        conn.execute("ALTER TABLE drafts ADD COLUMN template_id TEXT")
    existing = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for stmt in statements(SCHEMA_V1):
        words = stmt.split()
        name = words[2] if words[1] == "TABLE" else None
        if name in existing:
            continue
        if words[1] == "INDEX":
            stmt = stmt.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1)
        conn.execute(stmt)


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    # The client's triage rules, computed when a thread's messages are stored: plain codes
    # (routine|urgent|asap|stat, a category), no PHI. Filled by the backfill step (decrypts).
    cols = {r[1] for r in conn.execute("PRAGMA table_info(threads)")}
    for name in ("rules_priority", "rules_category"):
        if name not in cols:
            conn.execute(f"ALTER TABLE threads ADD COLUMN {name} TEXT")


def _migrate_2_to_3(conn: sqlite3.Connection) -> None:
    # Threads a pull pass stored but has not classified yet (plain ids, no PHI): written in the
    # transaction of the rows that made them stale, emptied when the pass classifies them, so
    # a pass interrupted at any point leaves the work for the next one (Store.classify_pending).
    conn.execute("CREATE TABLE IF NOT EXISTS rules_pending (thread_id TEXT PRIMARY KEY) "
                 "WITHOUT ROWID")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    0: _migrate_0_to_1,
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
}
BACKFILLS = frozenset({2})
"""Versions whose migration needs the unlocked store's ``backfill`` (decrypt + classify)."""


def statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def create(conn: sqlite3.Connection) -> None:
    """Create the current tables (inside the caller's transaction)."""
    for stmt in statements(SCHEMA_V1):
        conn.execute(stmt)
    _migrate_1_to_2(conn)
    _migrate_2_to_3(conn)


def migrate(conn: sqlite3.Connection, found: int,
            backfill: Callable[[int], None] | None = None) -> list[int]:
    """Bring a cache of version ``found`` to :data:`FORMAT_VERSION`; returns the steps run.

    The caller holds a transaction; each step must not commit. ``backfill(v)`` is called after
    the SQL of each step ``v`` in :data:`BACKFILLS` (the store fills computed columns).
    """
    steps = []
    v = found
    while v < FORMAT_VERSION:
        MIGRATIONS[v](conn)
        v += 1
        if v in BACKFILLS and backfill is not None:
            backfill(v)
        conn.execute("UPDATE format SET v = ? WHERE k = 'format_version'", (str(v),))
        steps.append(v)
    return steps
