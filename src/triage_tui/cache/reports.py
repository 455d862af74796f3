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
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Any

from triage_tui.cache.errors import CacheCorrupt, CacheLocked
from triage_tui.domain.analytics import CLOSED_TASK, MessageFact, ThreadFact, paused_gc

__all__ = ["load_facts", "staff_names"]

_THREADS_SQL = """
SELECT th.id, th.category, th.pool, coalesce(th.priority, 'routine'),
       (julianday(th.created) - 2440587.5) * 86400.0, coalesce(th.status, 'in-progress'),
       tk.status, th.business_status, th.owner_ref, (julianday(th.due) - 2440587.5) * 86400.0
FROM threads th LEFT JOIN tasks tk ON tk.id = th.task_id
"""

_MESSAGES_SQL = """
SELECT sent_ts, from_patient, sender_ref, thread_id FROM messages
WHERE sent_ts IS NOT NULL AND thread_id IN (
    SELECT thread_id FROM messages WHERE sent_ts >= :since
    UNION SELECT value FROM json_each(:open))
ORDER BY thread_id, sent_ts
"""

_ALL_MESSAGES_SQL = """
SELECT sent_ts, from_patient, sender_ref, thread_id FROM messages
WHERE sent_ts IS NOT NULL ORDER BY thread_id, sent_ts
"""


def facts_from_conn(conn: sqlite3.Connection, since: float | None = None) -> list[ThreadFact]:
    """The facts read on ``conn`` (any connection to a cache file)."""
    with paused_gc():
        return _facts(conn, since)


def _facts(conn: sqlite3.Connection, since: float | None) -> list[ThreadFact]:
    heads = conn.execute(_THREADS_SQL).fetchall()
    open_ids: list[str] = []
    if since is not None:
        for r in heads:  # open, or maybe open (no task: depends on the last message)
            if r[6] is None and r[7] is None:
                if r[5] == "in-progress":
                    open_ids.append(r[0])
            elif r[6] not in CLOSED_TASK and r[7] != "done":
                open_ids.append(r[0])
        rows = conn.execute(_MESSAGES_SQL, {"since": since, "open": json.dumps(open_ids)})
    else:
        rows = conn.execute(_ALL_MESSAGES_SQL)
    # Rows are (sent, from_patient, sender, thread_id): MessageFact's fields, so tuple.__new__
    # makes them without a Python call per row; grouped by thread (the ORDER BY).
    make = partial(tuple.__new__, MessageFact)
    by_thread = {tid: tuple(g) for tid, g in groupby(map(make, rows), key=itemgetter(3))}
    open_set = set(open_ids)
    out = []
    new = tuple.__new__
    for h in heads:
        msgs = by_thread.get(h[0])
        if msgs is None:
            if since is not None and h[0] not in open_set:
                continue  # nothing in the window and not open: no figure can use it
            msgs = ()
        out.append(new(ThreadFact, (*h, msgs)))
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
        msgs = sorted(
            MessageFact(m.sent.timestamp(), m.from_patient, m.sender_ref, q.thread_id)
            for m in store.messages(q.thread_id) if m.sent is not None
        )
        task = store.task_for_thread(q.thread_id) if q.task_id else None
        out.append(ThreadFact(
            q.thread_id, q.category, q.pool, priority=q.priority or "routine",
            created=q.created.timestamp() if q.created else None,
            status=q.status or "in-progress", task_status=str(task.status) if task else None,
            business_status=q.business_status, owner=q.owner_ref,
            due=q.due.timestamp() if q.due else None, messages=tuple(msgs)))
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
