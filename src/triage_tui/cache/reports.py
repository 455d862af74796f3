"""Read-only queries for the analytics (``domain.analytics``): plain metadata, no decryption.

Two queries over the existing schema, on a separate read-only connection to the cache file (a
consistent snapshot, without holding the store's lock while the UI or sync write):

1. every thread's plain columns and its current task's status;
2. the send time, direction and sender of the messages of the threads that matter for a
   window starting at ``since``: threads with a message at or after ``since`` (their whole
   history: the first patient message decides which window a response time belongs to) and
   open threads (the backlog's age).

Only staff display names are decrypted, through :meth:`Store.practitioner`, for the few staff
members a report shows (:func:`staff_names`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from triage_tui.cache.errors import CacheCorrupt, CacheLocked
from triage_tui.domain.analytics import CLOSED_TASK, MessageFact, ThreadFact

__all__ = ["load_facts", "staff_names"]

_THREADS_SQL = """
SELECT th.id, th.category, th.pool, th.priority, th.created, th.status,
       tk.status, th.business_status, th.owner_ref, th.due
FROM threads th LEFT JOIN tasks tk ON tk.id = th.task_id
"""

_MESSAGES_SQL = """
WITH wanted(id) AS (
    SELECT thread_id FROM messages WHERE sent_ts >= :since
    UNION SELECT value FROM json_each(:open)
)
SELECT m.thread_id, m.sent_ts, m.from_patient, m.sender_ref
FROM messages m JOIN wanted w ON w.id = m.thread_id
WHERE m.sent_ts IS NOT NULL
ORDER BY m.thread_id, m.sent_ts, m.id
"""

_ALL_MESSAGES_SQL = """
SELECT thread_id, sent_ts, from_patient, sender_ref FROM messages
WHERE sent_ts IS NOT NULL ORDER BY thread_id, sent_ts, id
"""


def _ts(iso: str | None) -> float | None:
    if not iso:
        return None
    d = datetime.fromisoformat(iso)
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.timestamp()


def facts_from_conn(conn: sqlite3.Connection, since: float | None = None) -> list[ThreadFact]:
    """The facts read on ``conn`` (any connection to a cache file)."""

    heads = conn.execute(_THREADS_SQL).fetchall()
    open_ids: list[str] = []
    if since is not None:
        for r in heads:  # open, or maybe open (no task: depends on the last message)
            if r[6] is None and r[7] is None:
                if (r[5] or "in-progress") == "in-progress":
                    open_ids.append(r[0])
            elif r[6] not in CLOSED_TASK and r[7] != "done":
                open_ids.append(r[0])
        rows = conn.execute(_MESSAGES_SQL, {"since": since, "open": json.dumps(open_ids)})
    else:
        rows = conn.execute(_ALL_MESSAGES_SQL)
    by_thread: dict[str, list[MessageFact]] = {}
    cur_id, cur = None, None
    for tid, ts, fp, sender in rows:
        if tid != cur_id:
            cur_id, cur = tid, by_thread.setdefault(tid, [])
        cur.append(MessageFact(ts, bool(fp), sender))  # type: ignore[union-attr]
    open_set = set(open_ids)
    out = []
    for tid, cat, pool, prio, created, status, tstatus, bstatus, owner, due in heads:
        msgs = by_thread.get(tid)
        if since is not None and msgs is None and tid not in open_set:
            continue  # nothing in the window and not open: no figure can use it
        out.append(ThreadFact(tid, cat, pool, prio or "routine", _ts(created),
                              tuple(msgs or ()), status or "in-progress", tstatus, bstatus,
                              owner, _ts(due)))
    return out


def load_facts(store: Any, since: float | None = None) -> list[ThreadFact]:
    """The :class:`ThreadFact` of every thread that a report from ``since`` (epoch seconds)
    on can use; all threads when ``since`` is None. Blocking: call it from a worker thread.

    ``store`` is an unlocked :class:`~triage_tui.cache.Store` (read through a second,
    read-only connection to its file). Any other :class:`~triage_tui.cache.api.CacheAPI`
    (test fakes) is read through ``queue()`` and ``messages()``, which decrypt.
    Raises ``CacheLocked`` when the store is locked, ``CacheCorrupt`` when the file cannot be
    read.
    """
    if getattr(store, "locked", False):
        raise CacheLocked()
    path = getattr(store, "path", None)
    if path is None:
        return _facts_from_api(store, since)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        try:
            conn.execute("BEGIN")  # one snapshot for both queries
            return facts_from_conn(conn, since)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise CacheCorrupt(path, f"cannot read the cache for the report: {exc}") from None


def _facts_from_api(store: Any, since: float | None) -> list[ThreadFact]:
    out = []
    for q in store.queue():
        msgs = tuple(
            MessageFact(m.sent.timestamp(), m.from_patient,
                        m.sender_ref)
            for m in store.messages(q.thread_id) if m.sent is not None
        )
        task = store.task_for_thread(q.thread_id) if q.task_id else None
        out.append(ThreadFact(
            q.thread_id, q.category, q.pool, q.priority or "routine",
            q.created.timestamp() if q.created else None, msgs, q.status or "in-progress",
            str(task.status) if task else None, q.business_status, q.owner_ref,
            q.due.timestamp() if q.due else None))
    return out


def staff_names(store: Any, refs: Iterable[str]) -> dict[str, str]:
    """Display names of ``Practitioner/ID`` references from the cached Practitioners (only
    these few rows are decrypted). Unknown ones are left out: show the reference."""
    out: dict[str, str] = {}
    for ref in refs:
        kind, _, pid = ref.partition("/")
        if kind != "Practitioner" or not pid:
            continue
        p = store.practitioner(pid)
        if p is not None and p.name:
            out[ref] = p.name
    return out
