"""The encrypted local store: implements :class:`triage_tui.cache.api.CacheAPI`.

Open it with :func:`triage_tui.cache.open_store`. One SQLite connection (WAL,
``synchronous=FULL``) behind one re-entrant lock; every method is thread-safe and blocking.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from triage_tui.cache import keyslots, search
from triage_tui.cache.api import (
    AuditRecord,
    Draft,
    OutboxItem,
    OutboxKind,
    OutboxState,
    PatientContext,
    QueueRow,
    Record,
    ThreadDisplay,
)
from triage_tui.cache.crypto import DecryptError, FieldCipher, field_key
from triage_tui.cache.errors import CacheError, CacheLocked, WrongPassphrase
from triage_tui.cache.records import BY_TABLE, SPECS, TableSpec, tables_for
from triage_tui.cache.rules_worker import (
    load_store_rules,
    read_rules_texts,
    rules_codes,
    store_rules_fingerprint,
)
from triage_tui.domain.models import (
    Appointment,
    Medication,
    Message,
    Observation,
    Patient,
    Practitioner,
    Task,
    Thread,
)
from triage_tui.domain.triage import Rules

log = logging.getLogger(__name__)

CHUNK = 500  # ids per IN (json_each) query
_ROWS_PER_INSERT = 250  # rows per INSERT statement (fewer if the build's variable limit says so)
PREVIEW_CHARS = 80

# Encrypted columns of each table: (primary key, columns).
ENCRYPTED: dict[str, tuple[str, tuple[str, ...]]] = {
    **{s.table: ("id", ("phi",)) for s in SPECS.values() if s.phi},
    "outbox": ("id", ("payload", "last_error")),
    "drafts": ("thread_id", ("phi",)),
    "meta": ("key", ("value",)),
    "audit": ("seq", ("detail",)),
}
SMALL_TABLES = ("outbox", "drafts", "meta")  # verified at every open
GENESIS = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """A row that failed authentication and was moved out of its table.

    No PHI: the table, the row's id (a server resource id, outbox id, thread id...) and why.
    """

    table: str
    row_id: str
    column: str
    reason: str
    detected: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    user: str
    action: str
    entity: str | None
    detail: dict[str, Any] | None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(d: datetime | None) -> str | None:
    return None if d is None else d.isoformat()


def _dt(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)


def _chunks(seq: Sequence[Any], n: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _json_ids(ids: Sequence[str]) -> str:
    """A JSON array of ids for ``json_each(?)`` (the write path binds one per statement, ~1000
    ids each): orjson's compact form, 20x faster than json.dumps; json_each reads the same
    values from both. Whatever orjson refuses (a lone surrogate) is written by json.dumps,
    as before."""
    try:
        return orjson.dumps(ids).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(ids)


def _preview(text: str) -> str:
    words = " ".join(text.split())
    if len(words) <= PREVIEW_CHARS:
        return words
    cut = words[:PREVIEW_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


_QUEUE_SQL = (
    "SELECT id, patient_id, category, priority, status, created, last_message_at, "
    "last_from_patient, message_count, task_id, pool, owner_ref, business_status, due, "
    "rules_priority, rules_category FROM threads"
)


def _queue_rows(conn: sqlite3.Connection) -> list[QueueRow]:
    fromiso = datetime.fromisoformat
    return [
        QueueRow(
            r[0], r[1], r[2], r[3], r[4],
            fromiso(r[5]) if r[5] else None,
            fromiso(r[6]) if r[6] else None,
            bool(r[7]), r[8], r[9], r[10], r[11], r[12],
            fromiso(r[13]) if r[13] else None,
            False, r[14], r[15],
        )
        for r in conn.execute(_QUEUE_SQL)
    ]


class QueuePrefetch:
    """Reads the queue's plain metadata in a thread while the KEK is derived (scrypt releases
    the GIL): ``open_store`` + ``queue()`` then cost max(KDF, read) instead of their sum. The
    rows are handed out only after a successful unlock and only if nothing was written since
    ``data_version`` was taken on the store's own connection (before the read started)."""

    def __init__(self, path: Path, data_version: int) -> None:
        self.data_version = data_version
        self._rows: list[QueueRow] | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True,
                                        name="triage-tui-queue-prefetch")
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                self._rows = _queue_rows(conn)
            finally:
                conn.close()
        except (sqlite3.Error, ValueError):
            self._rows = None  # queue() reads again

    def result(self) -> list[QueueRow] | None:
        self._thread.join()
        return self._rows


class Store:
    """The unlocked cache. Construct with :func:`triage_tui.cache.open_store`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, cipher: FieldCipher, dek: bytearray,
                 cache_id: str, *, unlocked_by: str, keyring_ok: bool = True,
                 rules: Rules | None = None) -> None:
        self.path = path
        self.cache_id = cache_id
        self.unlocked_by = unlocked_by  # "passphrase" | "keyring"
        self._conn = conn
        self.db = sqlite_utils.Database(conn)
        self._cipher: FieldCipher | None = cipher
        self._dek: bytearray | None = dek
        self._keyring_ok = keyring_ok
        self._lock = threading.RLock()
        # search corpus (RAM only)
        self._corpus: dict[str, str] | None = None
        self._dirty: set[str] = set()
        self._tracking = False
        self._build_lock = threading.Lock()
        self._data_version = self._pragma_data_version()
        self.search_build_s: float | None = None
        self._writes = 0
        self._prefetch: QueuePrefetch | None = None
        self._rules = rules
        self._rules_given = rules is not None
        self._rules_seq = 0  # see _stale_rules
        self._rules_gen: dict[str, int] = {}  # pending thread -> seq of its last change
        self._max_vars = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._lock_hooks: list[Callable[[], None]] = []  # see on_lock

    # --- plumbing ----------------------------------------------------------------------------
    @property
    def _c(self) -> FieldCipher:
        c = self._cipher
        if c is None:
            raise CacheLocked()
        return c

    @contextmanager
    def _tx(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction. ``durable=False``: commit without waiting for the disk
        (``synchronous=NORMAL``) for copies of server data, which the next pull fetches again
        if a power cut loses the last commits (WAL: the file stays consistent, and what is lost
        is a suffix: a page with its cursor). The outbox, drafts and audit stay ``FULL``."""
        with self._lock:
            self._c  # noqa: B018 - refuse writes when locked
            if not durable:
                self._conn.execute("PRAGMA synchronous=NORMAL")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            finally:
                if not durable:
                    self._conn.execute("PRAGMA synchronous=FULL")
            self._writes += 1
            self._data_version = self._pragma_data_version()

    def _pragma_data_version(self) -> int:
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            self._c  # noqa: B018
            return self._conn.execute(sql, params).fetchall()

    def _enc_json(self, table: str, row_id: str, col: str, obj: Any) -> bytes:
        data = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return self._c.encrypt(table, row_id, col, data)

    # --- lifecycle ---------------------------------------------------------------------------
    def lock(self) -> None:
        """Forget the data key and every decrypted search text; further calls raise CacheLocked.
        Whoever was given the fields' key (:meth:`rules_source`) is told first (:meth:`on_lock`)."""
        with self._lock:
            hooks, self._lock_hooks = self._lock_hooks, []
            for hook in hooks:
                try:
                    hook()
                except Exception:  # noqa: BLE001 - locking must not fail
                    log.warning("a lock hook failed", exc_info=True)
            if self._cipher is not None:
                self._cipher.drop()
            self._cipher = None
            if self._dek is not None:
                for i in range(len(self._dek)):
                    self._dek[i] = 0
            self._dek = None
            self._corpus = None
            self._dirty = set()
            self._tracking = False

    @property
    def locked(self) -> bool:
        return self._cipher is None

    def unlock(self, passphrase: str | None = None) -> None:
        """Unlock again after :meth:`lock` (passphrase or keyring, as at open)."""
        with self._lock:
            if self._cipher is not None:
                return
            dek, how = keyslots.unlock(self._conn, self.path, self.cache_id, passphrase,
                                       self._keyring_ok)
            self._dek = dek
            self._cipher = FieldCipher(bytes(dek))
            self.unlocked_by = how

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self.lock()
            self._conn.close()
            self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def change_passphrase(self, old: str | None, new: str) -> None:
        """Re-wrap the data key under ``new``; rows are not rewritten.

        ``old`` must unlock the current passphrase slot (``WrongPassphrase`` otherwise); it may
        be None only when the cache has no passphrase slot yet (keyring-only), which adds one.
        The old slot is overwritten (secure_delete) and the WAL truncated.
        """
        with self._lock:
            dek = self._dek
            if dek is None:
                raise CacheLocked()
            slots = keyslots.read_slots(self._conn)
            if keyslots.PASSPHRASE in slots:
                if old is None:
                    raise WrongPassphrase(self.path)
                keyslots.unwrap_passphrase_slot(slots[keyslots.PASSPHRASE], self.path,
                                                self.cache_id, old)
            self._conn.execute("PRAGMA secure_delete=ON")
            try:
                with self._tx() as conn:
                    keyslots.write_passphrase_slot(conn, self.cache_id, dek, new)
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._conn.execute("PRAGMA secure_delete=OFF")

    # --- records -----------------------------------------------------------------------------
    def upsert(self, records: Sequence[Record], *, defer_rules: bool = False,
               cursor: tuple[str, str] | None = None,
               meta: Mapping[str, str] | None = None) -> int:
        """Insert or replace records (same id + version: no change); returns the count changed.

        Threads whose subject or messages changed are classified by the triage rules in the
        same transaction; with ``defer_rules`` (a pull pass) they are only marked pending, in
        that transaction, and :meth:`classify_pending` classifies each once at the end.
        ``cursor``: ``(resource type, value)`` set in the same transaction (a pull's checkpoint
        after the page it covers); ``meta``: entries (:meth:`set_meta`) set in it too.
        Not ``synchronous=FULL``: see :meth:`_tx`."""
        by_type: dict[type, dict[str, Any]] = {}  # keyed by class: hashing a spec costs more
        for rec in records:
            group = by_type.get(type(rec))
            if group is None:
                if type(rec) not in SPECS:
                    raise TypeError(f"cannot store {type(rec).__name__}")
                group = by_type[type(rec)] = {}
            group[rec.id] = rec  # the last of duplicate ids wins
        changed = 0
        touched: set[str] = set()  # threads whose message columns need recomputing
        task_touched: set[str] = set()  # ... whose task columns do
        dirty: set[str] = set()
        patients: list[str] = []
        plain: dict[tuple[str, str], str] = {}  # (table, id) -> text of this batch: no decrypt
        with self._tx(durable=False) as conn:
            if cursor is not None:
                conn.execute("INSERT OR REPLACE INTO cursors (resource_type, value) VALUES (?, ?)",
                             cursor)
            for key, value in (meta or {}).items():
                self._put_meta(conn, key, value)
            for cls, by_id in by_type.items():
                spec = SPECS[cls]
                recs, new = self._changed(conn, spec, by_id)
                if not recs:
                    continue
                changed += len(recs)
                self._write(conn, spec, recs)
                if spec.table == "messages":
                    ids = {r.thread_id for r in recs}
                    touched |= ids
                    dirty |= ids
                    if not defer_rules:
                        plain.update((("messages", r.id), r.text) for r in recs)
                elif spec.table == "threads":
                    dirty |= {r.id for r in recs}
                    # a stored thread keeps its message/task columns; a new one has none yet,
                    # unless its messages or task came first
                    early = self._with_children(conn, new)
                    touched |= early
                    task_touched |= early
                    if not defer_rules:
                        plain.update((("threads", r.id), r.subject) for r in recs)
                elif spec.table == "tasks":
                    task_touched |= {r.thread_id for r in recs}
                elif spec.table == "patients":
                    patients = [r.id for r in recs]
            both = touched & task_touched
            if both:
                self._refresh_threads(conn, sorted(both))
            if touched - both:
                self._refresh_threads(conn, sorted(touched - both), tasks=False)
            if task_touched - both:
                self._refresh_threads(conn, sorted(task_touched - both), messages=False)
            if dirty and defer_rules:
                conn.execute("INSERT OR IGNORE INTO rules_pending (thread_id) "
                             "SELECT value FROM json_each(?)", (_json_ids(list(dirty)),))
                self._stale_rules(dirty)
            elif dirty:
                self._classify_threads(conn, sorted(dirty), plain)
            if self._tracking and patients:
                for chunk in _chunks(patients):
                    dirty |= {r[0] for r in conn.execute(
                        "SELECT id FROM threads WHERE patient_id IN (SELECT value FROM json_each(?))",
                        (_json_ids(list(chunk)),))}
            if self._tracking:
                self._dirty |= dirty
        return changed

    def _changed(self, conn: sqlite3.Connection, spec: TableSpec, by_id: dict[str, Any]
                 ) -> tuple[list, list[str]]:
        """The records that are new or of another version, and the ids of the new ones."""
        ids = list(by_id)
        have: dict[str, str] = {}
        for chunk in _chunks(ids):
            have.update(conn.execute(
                f"SELECT id, version FROM {spec.table} WHERE id IN (SELECT value FROM json_each(?))",
                (_json_ids(list(chunk)),)).fetchall())
        return ([r for i, r in by_id.items() if i not in have or have[i] != r.version],
                [i for i in ids if i not in have])

    @staticmethod
    def _with_children(conn: sqlite3.Connection, thread_ids: list[str]) -> set[str]:
        """The threads among ``thread_ids`` that have a message or a task stored."""
        out: set[str] = set()
        for chunk in _chunks(thread_ids):
            js = _json_ids(list(chunk))
            out.update(r[0] for r in conn.execute(
                "SELECT DISTINCT thread_id FROM messages WHERE thread_id IN "
                "(SELECT value FROM json_each(?)) UNION SELECT DISTINCT thread_id FROM tasks "
                "WHERE thread_id IN (SELECT value FROM json_each(?))", (js, js)))
        return out

    def _write(self, conn: sqlite3.Connection, spec: TableSpec, recs: list) -> None:
        cols = spec.columns
        if spec.phi:
            phis = self._c.encrypt_many(spec.table, "phi", [(r.id, spec.phi_bytes(r)) for r in recs])
        else:
            phis = [None] * len(recs)
        rows = spec.rows(recs, phis)  # type: ignore[attr-defined]
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
        # Many rows per statement: one sqlite3_step (the GIL let go once) writes them all, so
        # the event loop and the server run meanwhile; executemany lets it go per row, and the
        # writer then waits for the GIL after every row.
        per = max(1, min(_ROWS_PER_INSERT, self._max_vars // len(cols)))
        one = "(" + ",".join("?" * len(cols)) + ")"
        head = f"INSERT INTO {spec.table} ({', '.join(cols)}) VALUES "
        tail = f" ON CONFLICT(id) DO UPDATE SET {sets}"
        for i in range(0, len(rows), per):
            part = rows[i:i + per]
            conn.execute(head + ",".join([one] * len(part)) + tail, list(chain.from_iterable(part)))

    def _refresh_threads(self, conn: sqlite3.Connection, thread_ids: Sequence[str], *,
                         messages: bool = True, tasks: bool = True) -> None:
        """Recompute the threads' columns derived from their messages and/or their task."""
        for chunk in _chunks(thread_ids, 5000):
            ids = _json_ids(list(chunk))
            if messages:
                conn.execute(
                    """UPDATE threads SET
                        message_count = (SELECT count(*) FROM messages m
                                         WHERE m.thread_id = threads.id),
                        last_message_at = (SELECT m.sent FROM messages m
                                           WHERE m.thread_id = threads.id
                                           ORDER BY m.sent_ts DESC, m.id DESC LIMIT 1),
                        last_from_patient = coalesce((SELECT m.from_patient FROM messages m
                                           WHERE m.thread_id = threads.id
                                           ORDER BY m.sent_ts DESC, m.id DESC LIMIT 1), 0)
                       WHERE id IN (SELECT value FROM json_each(?))""",
                    (ids,),
                )
            if not tasks:
                continue
            # The latest task's columns in one statement (one lookup and sort per thread; three
            # statements cost twice as much); a thread without a task gets NULL in all five.
            conn.execute(
                """UPDATE threads SET (task_id, pool, owner_ref, business_status, due) =
                       (SELECT t.id, t.pool, t.owner_ref, t.business_status, t.due FROM tasks t
                        WHERE t.thread_id = threads.id
                        ORDER BY t.last_modified DESC, t.id DESC LIMIT 1)
                   WHERE id IN (SELECT value FROM json_each(?))""",
                (ids,),
            )

    # --- triage rules at write time --------------------------------------------------------
    @property
    def rules(self) -> Rules:
        """The rules threads are classified with (loaded once per store)."""
        if self._rules is None:
            self._rules = load_store_rules()
        return self._rules

    @property
    def rules_shareable(self) -> bool:
        """True when this store's rules are the ones any process loads (defaults + the user's
        file), so a helper process (:class:`~triage_tui.cache.rules_worker.RulesWorker`)
        classifies exactly as :meth:`classify_pending` would here."""
        return not self._rules_given

    def rules_source(self) -> tuple[Path, bytes]:
        """What a helper process needs to read the texts the rules classify itself
        (:class:`~triage_tui.cache.rules_worker.RulesWorker`): this cache's file and the key
        of its PHI fields (:func:`~triage_tui.cache.crypto.field_key`). Raises CacheLocked.
        Whoever gets it must stop using it when the cache locks (:meth:`on_lock`)."""
        with self._lock:
            if self._dek is None:
                raise CacheLocked()
            return self.path, field_key(bytes(self._dek))

    def on_lock(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (once, from the locking thread) when this cache locks or closes;
        returns a function that cancels that."""
        with self._lock:
            self._lock_hooks.append(callback)

        def cancel() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._lock_hooks.remove(callback)

        return cancel

    def _rules_texts(self, conn: sqlite3.Connection, thread_ids: Sequence[str],
                     plain: dict[tuple[str, str], str], *, need_messages: bool = False
                     ) -> list[tuple[str, str, str]]:
        """:func:`~triage_tui.cache.rules_worker.read_rules_texts` of this cache."""
        return read_rules_texts(conn, self._c.phi_text, thread_ids, plain,
                                need_messages=need_messages)

    def _classify_threads(self, conn: sqlite3.Connection, thread_ids: Sequence[str],
                          plain: dict[tuple[str, str], str]) -> None:
        """Set ``rules_priority`` / ``rules_category`` of threads now (see :meth:`_rules_texts`):
        one classification each. A pending thread's result still being computed elsewhere
        (:meth:`rules_pending`) is made stale: :meth:`apply_rules` will not write it."""
        texts = self._rules_texts(conn, thread_ids, plain)
        if not texts:
            return
        rules = self.rules  # loaded on the first thread that exists
        self._stale_rules(t for t, _, _ in texts if t in self._rules_gen)
        conn.executemany(
            "UPDATE threads SET rules_priority = ?, rules_category = ? WHERE id = ?",
            [(*rules_codes(rules, subject, text), tid) for tid, subject, text in texts])

    def _stale_rules(self, thread_ids: Iterable[str]) -> None:
        """Threads changed: a classification read before this moment must not be written."""
        self._rules_seq += 1
        gen, seq = self._rules_gen, self._rules_seq
        for t in thread_ids:
            gen[t] = seq

    def rules_pending_ids(self, thread_ids: Sequence[str] | None = None, *,
                          need_messages: bool = False, skip: Mapping[str, int] | None = None,
                          ) -> list[tuple[str, int]]:
        """What :meth:`apply_rules` needs classified: ``(thread id, generation)`` of the
        pending threads (among ``thread_ids``; default all) that are stored (with
        ``need_messages``: and hold a message), except those whose generation is the one in
        ``skip`` (handed out already and unchanged since: not read again). Pass the
        generation back with the codes."""
        with self._lock:
            self._c  # noqa: B018
            return self._pending_ids(self._conn, thread_ids, need_messages, skip)

    def _pending_ids(self, conn: sqlite3.Connection, thread_ids: Sequence[str] | None,
                     need_messages: bool, skip: Mapping[str, int] | None
                     ) -> list[tuple[str, int]]:
        if thread_ids is None:
            ids = [r[0] for r in conn.execute(
                "SELECT thread_id FROM rules_pending WHERE thread_id IN (SELECT id FROM threads"
                + (" WHERE message_count > 0)" if need_messages else ")"))]
        else:
            ids = []
            for chunk in _chunks(list(thread_ids)):
                ids += [r[0] for r in conn.execute(
                    "SELECT t.id FROM threads t JOIN rules_pending p ON p.thread_id = t.id "
                    "WHERE t.id IN (SELECT value FROM json_each(?))"
                    + (" AND t.message_count > 0" if need_messages else ""),
                    (_json_ids(list(chunk)),))]
        gen = self._rules_gen
        if skip:
            ids = [t for t in ids if t not in skip or skip[t] != gen.get(t, 0)]
        # setdefault: a thread handed out is tracked until its result is written, so that
        # a change in between (even one classified at once) makes that result stale
        return [(tid, gen.setdefault(tid, 0)) for tid in ids]

    def rules_pending(self, thread_ids: Sequence[str] | None = None, *,
                      need_messages: bool = False, skip: Mapping[str, int] | None = None,
                      ) -> list[tuple[str, int, str, str]]:
        """:meth:`rules_pending_ids` with the texts to classify: ``(thread id, generation,
        subject, text)``."""
        with self._lock:
            self._c  # noqa: B018
            todo = dict(self._pending_ids(self._conn, thread_ids, need_messages, skip))
            return [(tid, todo[tid], subject, text) for tid, subject, text
                    in self._rules_texts(self._conn, list(todo), {})]

    def apply_rules(self, results: Sequence[tuple[str, int, str, str | None]]) -> int:
        """Write ``(thread id, generation, rules_priority, rules_category)`` computed from
        :meth:`rules_pending` and clear those threads' pending marks, in one transaction.
        A result whose thread changed since it was read is dropped (the thread stays pending).
        Returns the number written."""
        with self._tx(durable=False) as conn:
            gen = self._rules_gen
            fresh = [(tid, p, c) for tid, g, p, c in results if gen.get(tid, 0) == g]
            if not fresh:
                return 0
            js = json.dumps(fresh)  # codes and ids only: two statements, not one per thread
            conn.execute(
                "UPDATE threads SET rules_priority = json_extract(j.value, '$[1]'), "
                "rules_category = json_extract(j.value, '$[2]') FROM json_each(?) AS j "
                "WHERE threads.id = json_extract(j.value, '$[0]')", (js,))
            conn.execute("DELETE FROM rules_pending WHERE thread_id IN "
                         "(SELECT json_extract(value, '$[0]') FROM json_each(?))", (js,))
            for tid, _, _ in fresh:
                gen.pop(tid, None)
            return len(fresh)

    def mark_stale_rules(self) -> int:
        """When the rules changed since this cache's threads were classified (the user's
        ``rules.toml`` was edited, or a new version brought new rules, a new model or a new
        engine: :attr:`Rules.fingerprint`), mark every thread to be classified again (the next
        :meth:`classify_pending` or sync pass does it). Returns how many were marked."""
        fp = self._rules.fingerprint if self._rules_given else store_rules_fingerprint()
        if not fp or self.get_meta("rules_fingerprint") == fp:
            return 0
        with self._tx() as conn:
            n = conn.execute("INSERT OR IGNORE INTO rules_pending (thread_id) "
                             "SELECT id FROM threads").rowcount
            self._put_meta(conn, "rules_fingerprint", fp)
        if n:
            log.info("triage rules changed: %d threads to classify again", n)
        return n

    def classify_pending(self, chunk: int = 2000) -> int:
        """Classify here the threads :meth:`upsert` (``defer_rules``) left pending, once each,
        in transactions of ``chunk`` threads (UI reads wait for one chunk at most). Pending
        marks are durable: what an interrupted pass left is done by the next call. Marks of
        threads not stored (messages whose header has not come) are dropped: storing the header
        marks the thread again. Returns the number of threads classified."""
        with self._lock:
            self._c  # noqa: B018
            ids = [r[0] for r in self._conn.execute("SELECT thread_id FROM rules_pending")]
        done = 0
        for part in _chunks(ids, chunk):
            todo = self.rules_pending(part)
            rules = self.rules if todo else None
            done += self.apply_rules([(tid, g, *rules_codes(rules, subject, text))
                                      for tid, g, subject, text in todo])
            have = {t[0] for t in todo}
            orphans = [t for t in part if t not in have]
            if orphans:
                with self._tx() as conn:
                    conn.execute(
                        "DELETE FROM rules_pending WHERE thread_id IN "
                        "(SELECT value FROM json_each(?)) AND thread_id NOT IN "
                        "(SELECT id FROM threads)", (json.dumps(orphans),))
        return done

    def reclassify(self, thread_ids: Sequence[str] | None = None, *,
                   conn: sqlite3.Connection | None = None) -> int:
        """Classify threads again (all by default): after a rules change, or the format-2
        migration's backfill (``conn``: inside the caller's transaction). Returns the count."""
        if conn is not None:
            ids = list(thread_ids) if thread_ids is not None else [
                r[0] for r in conn.execute("SELECT id FROM threads")]
            self._classify_threads(conn, ids, {})
            return len(ids)
        with self._tx() as c:
            return self.reclassify(thread_ids, conn=c)

    def thread_rules(self, thread_id: str) -> tuple[str | None, str | None]:
        """(rules_priority, rules_category) stored for a thread; (None, None) if unknown."""
        row = self._q("SELECT rules_priority, rules_category FROM threads WHERE id = ?",
                      (thread_id,))
        return (row[0][0], row[0][1]) if row else (None, None)

    def delete(self, resource_type: str, ids: Iterable[str]) -> int:
        ids = list(ids)
        specs = tables_for(resource_type)
        if not specs:
            raise ValueError(f"unknown resource type {resource_type!r}")
        n = 0
        touched: set[str] = set()
        with self._tx() as conn:
            for spec in specs:
                for chunk in _chunks(ids):
                    js = json.dumps(list(chunk))
                    if spec.table in ("messages", "tasks"):
                        touched |= {r[0] for r in conn.execute(
                            f"SELECT thread_id FROM {spec.table} "
                            "WHERE id IN (SELECT value FROM json_each(?))", (js,))}
                    n += conn.execute(
                        f"DELETE FROM {spec.table} WHERE id IN (SELECT value FROM json_each(?))",
                        (js,)).rowcount
                if spec.table == "threads":
                    self._dirty |= set(ids) if self._tracking else set()
            if touched:
                self._refresh_threads(conn, sorted(touched))
                self._classify_threads(conn, sorted(touched), {})
                if self._tracking:
                    self._dirty |= touched
        return n

    def stored(self, resource_type: str, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        out: set[str] = set()
        for spec in tables_for(resource_type):
            for chunk in _chunks(ids):
                out.update(r[0] for r in self._q(
                    f"SELECT id FROM {spec.table} WHERE id IN (SELECT value FROM json_each(?))",
                    (_json_ids(list(chunk)),)))
        return out

    def threads_of(self, resource_type: str, ids: Iterable[str]) -> dict[str, str]:
        """The thread of each stored Communication (a thread header is its own thread) or
        Task among ``ids``; other types and ids not stored are left out."""
        sql = {"Communication": ("SELECT id, id FROM threads WHERE id IN ({0}) UNION ALL "
                                 "SELECT id, thread_id FROM messages WHERE id IN ({0})"),
               "Task": "SELECT id, thread_id FROM tasks WHERE id IN ({0})"}.get(resource_type)
        out: dict[str, str] = {}
        if sql is None:
            return out
        sql = sql.format("SELECT value FROM json_each(?1)")
        for chunk in _chunks(list(ids)):
            out.update((i, t) for i, t in self._q(sql, (_json_ids(list(chunk)),)) if t)
        return out

    def version_of(self, resource_type: str, id: str) -> str | None:
        # "Communication": a message's version first (flat threads share the message's id).
        for spec in sorted(tables_for(resource_type), key=lambda s: s.table != "messages"):
            row = self._q(f"SELECT version FROM {spec.table} WHERE id = ?", (id,))
            if row:
                return row[0][0]
        return None

    # --- cursors and meta --------------------------------------------------------------------
    def get_cursor(self, resource_type: str) -> str | None:
        row = self._q("SELECT value FROM cursors WHERE resource_type = ?", (resource_type,))
        return row[0][0] if row else None

    def set_cursor(self, resource_type: str, value: str) -> None:
        with self._tx(durable=False) as conn:
            conn.execute("INSERT OR REPLACE INTO cursors (resource_type, value) VALUES (?, ?)",
                         (resource_type, value))

    def clear_cursor(self, resource_type: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM cursors WHERE resource_type = ?", (resource_type,))

    def get_meta(self, key: str) -> str | None:
        row = self._q("SELECT value FROM meta WHERE key = ?", (key,))
        if not row:
            return None
        try:
            return self._c.decrypt("meta", key, "value", row[0][0]).decode("utf-8")
        except DecryptError as exc:
            self._quarantine([("meta", key, "value", str(exc))])
            return None

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as conn:
            self._put_meta(conn, key, value)

    def _put_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (key, self._c.encrypt("meta", key, "value", value.encode("utf-8"))))

    # --- reading records ---------------------------------------------------------------------
    def _load(self, spec: TableSpec, where: str, params: Sequence[Any],
              order: str = "") -> list[Any]:
        cols = ", ".join((*spec.plain, "phi"))
        rows = self._q(f"SELECT {cols} FROM {spec.table} WHERE {where} {order}", params)
        out, bad = [], []
        c = self._c
        for row in rows:
            plain, blob = row[:-1], row[-1]
            if spec.phi:
                try:
                    phi = spec.phi_fields(c.decrypt(spec.table, plain[0], "phi", blob))
                except (DecryptError, ValueError, UnicodeDecodeError) as exc:
                    bad.append((spec.table, plain[0], "phi", str(exc) or type(exc).__name__))
                    continue
            else:
                phi = {}
            out.append(spec.build(plain, phi))
        if bad:
            self._quarantine(bad)
        return out

    def _one(self, cls: type, id: str) -> Any:
        got = self._load(SPECS[cls], "id = ?", (id,))
        return got[0] if got else None

    def thread(self, thread_id: str) -> Thread | None:
        return self._one(Thread, thread_id)

    def messages(self, thread_id: str) -> list[Message]:
        return self._load(SPECS[Message], "thread_id = ?", (thread_id,), "ORDER BY sent_ts, id")

    def task_for_thread(self, thread_id: str) -> Task | None:
        got = self._load(SPECS[Task], "thread_id = ?", (thread_id,),
                         "ORDER BY last_modified DESC, id DESC LIMIT 1")
        return got[0] if got else None

    def patient(self, patient_id: str) -> Patient | None:
        return self._one(Patient, patient_id)

    def practitioner(self, practitioner_id: str) -> Practitioner | None:
        return self._one(Practitioner, practitioner_id)

    def patient_context(self, patient_id: str) -> PatientContext:
        return PatientContext(
            patient=self.patient(patient_id),
            medications=self._load(SPECS[Medication], "patient_id = ?", (patient_id,),
                                   "ORDER BY authored DESC"),
            appointments=self._load(SPECS[Appointment], "patient_id = ?", (patient_id,),
                                    "ORDER BY start"),
            observations=self._load(SPECS[Observation], "patient_id = ?", (patient_id,),
                                    "ORDER BY effective DESC"),
        )

    # --- queue -------------------------------------------------------------------------------
    def queue(self) -> list[QueueRow]:
        pre = self._take_prefetch()
        if pre is not None:
            return pre
        with self._lock:
            self._c  # noqa: B018
            return _queue_rows(self._conn)

    def _take_prefetch(self) -> list[QueueRow] | None:
        """The rows read while the key was being derived, if nothing was written since."""
        with self._lock:
            pre, self._prefetch = self._prefetch, None
            if pre is None:
                return None
            self._c  # noqa: B018
            if self._writes or self._pragma_data_version() != pre.data_version:
                return None
            return pre.result()

    def thread_display(self, thread_ids: Sequence[str]) -> dict[str, ThreadDisplay]:
        ids = list(dict.fromkeys(thread_ids))
        c = self._c
        bad: list[tuple[str, str, str, str]] = []
        out: dict[str, ThreadDisplay] = {}
        with self._lock:
            threads = []
            for chunk in _chunks(ids):
                threads += self._conn.execute(
                    "SELECT id, patient_id, phi FROM threads "
                    "WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(chunk)),)
                ).fetchall()
            pids = sorted({t[1] for t in threads if t[1]})
            names: dict[str, str] = {}
            for chunk in _chunks(pids):
                for pid, blob in self._conn.execute(
                    "SELECT id, phi FROM patients WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(list(chunk)),)
                ):
                    try:
                        f = SPECS[Patient].phi_fields(c.decrypt("patients", pid, "phi", blob))
                        names[pid] = f"{f['given'] or ''} {f['family'] or ''}".strip()
                    except (DecryptError, ValueError) as exc:
                        bad.append(("patients", pid, "phi", str(exc)))
            for tid, pid, blob in threads:
                try:
                    subject = c.decrypt("threads", tid, "phi", blob).decode("utf-8")
                except (DecryptError, UnicodeDecodeError) as exc:
                    bad.append(("threads", tid, "phi", str(exc)))
                    continue
                preview = ""
                last = self._conn.execute(
                    "SELECT id, phi FROM messages WHERE thread_id = ? AND from_patient = 1 "
                    "ORDER BY sent_ts DESC, id DESC LIMIT 1", (tid,)
                ).fetchone()
                if last:
                    try:
                        preview = _preview(c.decrypt("messages", last[0], "phi", last[1])
                                           .decode("utf-8"))
                    except (DecryptError, UnicodeDecodeError) as exc:
                        bad.append(("messages", last[0], "phi", str(exc)))
                out[tid] = ThreadDisplay(tid, names.get(pid, ""), subject, preview)
        if bad:
            self._quarantine(bad)
        return out

    # --- search ------------------------------------------------------------------------------
    def search(self, text: str) -> set[str]:
        """Thread ids whose patient name, subject or messages contain every word of ``text``.

        Case- and accent-insensitive substring match. The first call builds the in-memory
        corpus (see :meth:`warm_search`); later calls scan RAM only.
        """
        words = search.query_words(text)
        if not words:
            return set()
        corpus = self._ensure_corpus()
        return search.match(corpus, words)

    def warm_search(self) -> float:
        """Build the search corpus now (call from a worker thread after unlock); seconds taken."""
        t0 = time.perf_counter()
        self._ensure_corpus()
        return time.perf_counter() - t0

    def _ensure_corpus(self) -> dict[str, str]:
        with self._build_lock:
            with self._lock:
                if self._corpus is not None and self._pragma_data_version() != self._data_version:
                    self._corpus = None  # another process wrote: rebuild
                    self._data_version = self._pragma_data_version()
                corpus = self._corpus
            if corpus is None:
                corpus = self._build_corpus()
            with self._lock:
                dirty, self._dirty = self._dirty, set()
                if dirty:
                    self._refresh_corpus(corpus, sorted(dirty))
                self._corpus = corpus
                return corpus

    def _build_corpus(self) -> dict[str, str]:
        t0 = time.perf_counter()
        c = self._c
        with self._lock:
            self._tracking = True
            self._dirty = set()
        # A second connection: the build reads a snapshot without holding the store's lock.
        rconn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        bad: list[tuple[str, str, str, str]] = []
        try:
            rconn.execute("BEGIN")
            names: dict[str, str] = {}
            pspec = SPECS[Patient]
            for pid, blob in rconn.execute("SELECT id, phi FROM patients"):
                try:
                    f = pspec.phi_fields(c.decrypt("patients", pid, "phi", blob))
                    names[pid] = f"{f['given'] or ''} {f['family'] or ''}"
                except (DecryptError, ValueError) as exc:
                    bad.append(("patients", pid, "phi", str(exc)))
            parts: dict[str, list[str]] = {}
            dec = c.decrypt
            for tid, pid, blob in rconn.execute("SELECT id, patient_id, phi FROM threads"):
                try:
                    parts[tid] = [names.get(pid, ""), dec("threads", tid, "phi", blob).decode()]
                except (DecryptError, UnicodeDecodeError) as exc:
                    bad.append(("threads", tid, "phi", str(exc)))
            for mid, tid, blob in rconn.execute("SELECT id, thread_id, phi FROM messages"):
                p = parts.get(tid)
                if p is None:
                    continue
                try:
                    p.append(dec("messages", mid, "phi", blob).decode())
                except (DecryptError, UnicodeDecodeError) as exc:
                    bad.append(("messages", mid, "phi", str(exc)))
            rconn.execute("COMMIT")
        finally:
            rconn.close()
        norm, sep = search.normalize, search.SEP
        corpus = {tid: norm(sep.join(p)) for tid, p in parts.items()}
        if bad:
            self._quarantine(bad)
        self.search_build_s = time.perf_counter() - t0
        log.info("search corpus: %d threads in %.2fs", len(corpus), self.search_build_s)
        return corpus

    def _refresh_corpus(self, corpus: dict[str, str], thread_ids: list[str]) -> None:
        c = self._c
        for tid in thread_ids:
            row = self._conn.execute("SELECT patient_id, phi FROM threads WHERE id = ?",
                                     (tid,)).fetchone()
            if row is None:
                corpus.pop(tid, None)
                continue
            try:
                parts = [c.decrypt("threads", tid, "phi", row[1]).decode()]
            except (DecryptError, UnicodeDecodeError):
                corpus.pop(tid, None)
                continue
            p = self._conn.execute("SELECT phi FROM patients WHERE id = ?", (row[0],)).fetchone()
            if p:
                try:
                    f = SPECS[Patient].phi_fields(c.decrypt("patients", row[0], "phi", p[0]))
                    parts.insert(0, f"{f['given'] or ''} {f['family'] or ''}")
                except (DecryptError, ValueError):
                    pass
            for mid, blob in self._conn.execute(
                "SELECT id, phi FROM messages WHERE thread_id = ?", (tid,)
            ):
                try:
                    parts.append(c.decrypt("messages", mid, "phi", blob).decode())
                except (DecryptError, UnicodeDecodeError):
                    pass
            corpus[tid] = search.normalize(search.SEP.join(parts))

    # --- outbox and drafts -------------------------------------------------------------------
    def _outbox_row(self, item: OutboxItem, now: datetime) -> dict[str, Any]:
        return {
            "id": item.id,
            "kind": OutboxKind(item.kind).value,
            "resource_type": item.resource_type,
            "thread_id": item.thread_id,
            "if_match": item.if_match,
            "state": OutboxState(item.state).value,
            "attempts": item.attempts,
            "next_attempt_at": _iso(item.next_attempt_at),
            "server_version": item.server_version,
            "created": _iso(item.created or now),
            "updated": _iso(item.updated or now),
            "user": item.user,
            "payload": self._enc_json("outbox", item.id, "payload", item.payload),
            "last_error": None if item.last_error is None else self._c.encrypt(
                "outbox", item.id, "last_error", item.last_error.encode("utf-8")),
        }

    def enqueue(self, items: Sequence[OutboxItem], *, clear_drafts: Sequence[str] = (),
                audit: Sequence[AuditRecord] = ()) -> None:
        """Queue items, drop drafts and append audit rows in ONE durable transaction
        (synchronous=FULL).

        Idempotent on the item id: an id already in the outbox is left as it is (never reset
        to queued, so an in-flight reply is not sent twice).
        """
        now = _now()
        rows = [self._outbox_row(i, now) for i in items]
        with self._tx() as conn:
            if rows:
                cols = list(rows[0])
                conn.executemany(
                    f"INSERT INTO outbox ({', '.join(cols)}) VALUES "
                    f"({', '.join(':' + c for c in cols)}) ON CONFLICT(id) DO NOTHING",
                    rows,
                )
            for tid in clear_drafts:
                conn.execute("DELETE FROM drafts WHERE thread_id = ?", (tid,))
            for a in audit:
                self._audit_row(conn, a.action, a.user, a.entity, a.detail)

    def update_outbox(self, item: OutboxItem) -> None:
        row = self._outbox_row(item, _now())
        row["updated"] = _iso(_now())
        row.pop("created")
        with self._tx() as conn:
            sets = ", ".join(f"{c} = :{c}" for c in row if c != "id")
            if conn.execute(f"UPDATE outbox SET {sets} WHERE id = :id", row).rowcount == 0:
                raise KeyError(item.id)

    def outbox(self, states: Iterable[OutboxState] | None = None) -> list[OutboxItem]:
        cols = ("id, kind, resource_type, thread_id, if_match, state, attempts, next_attempt_at, "
                "server_version, created, updated, user, payload, last_error")
        if states is None:
            rows = self._q(f"SELECT {cols} FROM outbox ORDER BY created, rowid")
        else:
            st = json.dumps([OutboxState(s).value for s in states])
            rows = self._q(f"SELECT {cols} FROM outbox WHERE state IN "
                           "(SELECT value FROM json_each(?)) ORDER BY created, rowid", (st,))
        out, bad = [], []
        c = self._c
        for r in rows:
            try:
                payload = json.loads(c.decrypt("outbox", r[0], "payload", r[12]))
                err = None if r[13] is None else c.decrypt("outbox", r[0], "last_error",
                                                            r[13]).decode("utf-8")
            except (DecryptError, ValueError) as exc:
                bad.append(("outbox", r[0], "payload", str(exc)))
                continue
            out.append(OutboxItem(
                id=r[0], kind=OutboxKind(r[1]), resource_type=r[2], payload=payload,
                thread_id=r[3], if_match=r[4], state=OutboxState(r[5]), attempts=r[6],
                next_attempt_at=_dt(r[7]), last_error=err, server_version=r[8],
                created=_dt(r[9]), updated=_dt(r[10]), user=r[11],
            ))
        if bad:
            self._quarantine(bad)
        return out

    def outbox_counts(self) -> dict[OutboxState, int]:
        counts = {s: 0 for s in OutboxState}
        for state, n in self._q("SELECT state, count(*) FROM outbox GROUP BY state"):
            counts[OutboxState(state)] = n
        return counts

    def save_draft(self, draft: Draft) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO drafts (thread_id, template_id, updated, phi) "
                "VALUES (?, ?, ?, ?)",
                (draft.thread_id, draft.template_id, _iso(draft.updated or _now()),
                 self._c.encrypt("drafts", draft.thread_id, "phi", draft.text.encode("utf-8"))),
            )

    def draft(self, thread_id: str) -> Draft | None:
        row = self._q("SELECT template_id, updated, phi FROM drafts WHERE thread_id = ?",
                      (thread_id,))
        if not row:
            return None
        try:
            text = self._c.decrypt("drafts", thread_id, "phi", row[0][2]).decode("utf-8")
        except (DecryptError, UnicodeDecodeError) as exc:
            self._quarantine([("drafts", thread_id, "phi", str(exc))])
            return None
        return Draft(thread_id, text, row[0][0], _dt(row[0][1]))

    def delete_draft(self, thread_id: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM drafts WHERE thread_id = ?", (thread_id,))

    # --- audit -------------------------------------------------------------------------------
    @staticmethod
    def _audit_canon(seq: int, at: str, user: str, action: str, entity: str | None,
                     detail: bytes | None) -> bytes:
        return json.dumps([seq, at, user, action, entity, detail.hex() if detail else None],
                          separators=(",", ":")).encode("utf-8")

    def _audit_head(self, seq: int, mac: bytes) -> str:
        return self._c.mac(b"head|" + str(seq).encode() + b"|" + mac).hex()

    def audit(self, action: str, *, user: str, entity: str | None = None,
              detail: dict[str, Any] | None = None) -> None:
        """Append an audit row (durable on return). ``detail`` is encrypted; each row's MAC
        chains the previous one, so an edited, removed or reordered row is detected by
        :meth:`verify_audit`."""
        with self._tx() as conn:
            self._audit_row(conn, action, user, entity, detail)

    def _audit_row(self, conn: sqlite3.Connection, action: str, user: str, entity: str | None,
                   detail: dict[str, Any] | None) -> None:
        last = conn.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = _iso(_now())
        blob = None if detail is None else self._enc_json("audit", str(seq), "detail", detail)
        mac = self._c.mac(prev + self._audit_canon(seq, at, user, action, entity, blob))
        conn.execute(
            "INSERT INTO audit (seq, at, user, action, entity, detail, mac) "
            "VALUES (?,?,?,?,?,?,?)", (seq, at, user, action, entity, blob, mac))
        conn.execute("INSERT OR REPLACE INTO format (k, v) VALUES ('audit_head', ?)",
                     (f"{seq}:{self._audit_head(seq, mac)}",))

    def verify_audit(self) -> list[str]:
        """Problems found in the audit chain (empty when intact). No PHI in the messages."""
        problems: list[str] = []
        prev, expect = GENESIS, 1
        rows = self._q("SELECT seq, at, user, action, entity, detail, mac FROM audit ORDER BY seq")
        for seq, at, user, action, entity, blob, mac in rows:
            if seq != expect:
                problems.append(f"audit rows {expect}..{seq - 1} are missing")
            want = self._c.mac(prev + self._audit_canon(seq, at, user, action, entity, blob))
            if want != mac:
                problems.append(f"audit row {seq} was altered")
            if blob is not None:
                try:
                    self._c.decrypt("audit", str(seq), "detail", blob)
                except DecryptError:
                    problems.append(f"audit row {seq}: detail does not decrypt")
            prev, expect = mac, seq + 1
        head = self._q("SELECT v FROM format WHERE k = 'audit_head'")
        if head:
            hseq, _, hmac_ = head[0][0].partition(":")
            if int(hseq) != expect - 1 or (rows and hmac_ != self._audit_head(expect - 1, prev)):
                problems.append(f"the audit log ends at row {expect - 1}, its head says {hseq}: "
                                "rows were removed from the end")
        elif rows:
            problems.append("the audit head is missing")
        return problems

    def audit_log(self, limit: int | None = None) -> list[AuditEntry]:
        sql = "SELECT seq, at, user, action, entity, detail FROM audit ORDER BY seq DESC"
        rows = self._q(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ())
        out = []
        for seq, at, user, action, entity, blob in reversed(rows):
            detail = None
            if blob is not None:
                try:
                    detail = json.loads(self._c.decrypt("audit", str(seq), "detail", blob))
                except DecryptError:
                    detail = {"error": "detail does not decrypt"}
            out.append(AuditEntry(seq, datetime.fromisoformat(at), user, action, entity, detail))
        return out

    # --- integrity ---------------------------------------------------------------------------
    def _quarantine(self, bad: list[tuple[str, str, str, str]]) -> None:
        """Move rows that failed authentication out of their table (audit rows stay: the log is
        append-only; they are reported). Server records get re-pulled: their cursor is reset."""
        now = _iso(_now())
        threads: set[str] = set()
        with self._tx() as conn:
            for table, row_id, col, reason in bad:
                pk = ENCRYPTED[table][0]
                row = conn.execute(f"SELECT {col} FROM {table} WHERE {pk} = ?", (row_id,)).fetchone()
                if row is None or conn.execute(
                    "SELECT 1 FROM quarantine WHERE tbl = ? AND row_id = ? AND col = ? "
                    "AND data IS ?", (table, str(row_id), col, row[0])).fetchone():
                    continue
                conn.execute(
                    "INSERT INTO quarantine (tbl, row_id, col, reason, detected, data) "
                    "VALUES (?,?,?,?,?,?)", (table, str(row_id), col, reason, now, row[0]))
                if table == "audit":
                    continue
                if table == "messages":
                    t = conn.execute("SELECT thread_id FROM messages WHERE id = ?",
                                     (row_id,)).fetchone()
                    if t:
                        threads.add(t[0])
                conn.execute(f"DELETE FROM {table} WHERE {pk} = ?", (row_id,))
                spec = BY_TABLE.get(table)
                if spec is not None:
                    for rt in spec.resource_types:
                        conn.execute("DELETE FROM cursors WHERE resource_type = ?", (rt,))
                if table == "threads":
                    threads.discard(row_id)
                    if self._tracking:
                        self._dirty.add(row_id)
                log.warning("quarantined %s row %s (%s)", table, row_id, reason)
            if threads:
                self._refresh_threads(conn, sorted(threads))
                if self._tracking:
                    self._dirty |= threads

    def quarantined(self) -> list[QuarantineEntry]:
        """Every row quarantined so far (oldest first): show these to the user."""
        rows = self._q("SELECT tbl, row_id, col, reason, detected FROM quarantine ORDER BY qid")
        return [QuarantineEntry(t, r, c, why, datetime.fromisoformat(d))
                for t, r, c, why, d in rows]

    def verify(self, tables: Iterable[str] | None = None) -> list[QuarantineEntry]:
        """Decrypt every encrypted cell (of ``tables``, default all); quarantine the failures.

        Returns the entries added. Cost: one decryption per cell (~0.3 s per 100k messages).
        """
        before = len(self.quarantined())
        bad: list[tuple[str, str, str, str]] = []
        c = self._c
        for table in (tables or ENCRYPTED):
            pk, cols = ENCRYPTED[table]
            for col in cols:
                for row_id, blob in self._q(f"SELECT {pk}, {col} FROM {table} "
                                            f"WHERE {col} IS NOT NULL"):
                    try:
                        c.decrypt(table, str(row_id), col, blob)
                    except DecryptError as exc:
                        bad.append((table, str(row_id), col, str(exc)))
        if bad:
            self._quarantine(bad)
        return self.quarantined()[before:]


__all__ = ["AuditEntry", "QuarantineEntry", "Store", "CacheError"]
