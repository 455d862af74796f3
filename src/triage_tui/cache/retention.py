"""Retention: closed threads older than N days leave the cache, and so do their free pages.

A thread is *closed* when its header is ``completed`` or its Task is ``done``/``completed``;
its age is its last activity (last message, else last update, else creation). A closed thread
is kept while anything of it is still pending locally (a queued/in-flight/needs-review outbox
item or a draft): unsent work is never purged.

What goes: the thread header, its messages, its Tasks and the *acknowledged* outbox rows of the
thread (they hold reply text). Patients and their context stay (other threads need them, and
the cache is a copy of the server: a purged thread that changes on the server comes back).

Freed pages are zeroed (``secure_delete``) and returned to the filesystem: with
``auto_vacuum=INCREMENTAL`` by ``incremental_vacuum``, else by ``VACUUM``; the WAL is then
truncated. The purge is audited (action ``purge``, counts only).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from triage_tui.cache.store import Store

log = logging.getLogger(__name__)

DEFAULT_DAYS = 90

_CANDIDATES = """
SELECT t.id FROM threads t
 WHERE (t.status IN ('completed', 'entered-in-error')
        OR t.business_status = 'done'
        OR EXISTS (SELECT 1 FROM tasks k WHERE k.thread_id = t.id AND k.status = 'completed'))
   AND coalesce(t.last_message_at, t.updated, t.created) < ?
   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.thread_id = t.id AND o.state != 'acked')
   AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.thread_id = t.id)
"""


@dataclass(frozen=True, slots=True)
class PurgeReport:
    threads: int
    messages: int
    tasks: int
    outbox: int
    pages_before: int
    pages_after: int
    cutoff: datetime

    def as_dict(self) -> dict:
        return {"threads": self.threads, "messages": self.messages, "tasks": self.tasks,
                "outbox": self.outbox, "pages_before": self.pages_before,
                "pages_after": self.pages_after, "cutoff": self.cutoff.isoformat()}


def purge_closed_threads(store: Store, *, older_than_days: int, user: str,
                         now: datetime | None = None, vacuum: bool = True,
                         keep: Iterable[str] = (), audit_empty: bool = True) -> PurgeReport:
    """Delete closed threads idle for more than ``older_than_days`` days (0 = never purge).

    ``keep``: thread ids left alone whatever their age (e.g. open on screen). ``audit_empty``:
    audit a purge that removed nothing (the command does; the app's daily run does not, to keep
    the trail meaningful). The audit row is written before the store's lock is released, so a
    lock (``Store.lock()``) cannot drop the key between the delete and its audit row."""
    if older_than_days <= 0:
        raise ValueError("older_than_days must be 1 or more")
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=older_than_days)
    conn = store._conn  # same package: the retention job is part of the cache
    with store._lock:
        store._c  # noqa: B018 - raises CacheLocked: never purge (unaudited) while locked
        pages_before = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute("PRAGMA secure_delete=ON")
        try:
            with store._tx() as tx:
                kept = set(keep)
                ids = [r[0] for r in tx.execute(_CANDIDATES, (cutoff.isoformat(),))
                       if r[0] not in kept]
                js = json.dumps(ids)
                sub = "(SELECT value FROM json_each(?))"
                messages = tx.execute(f"DELETE FROM messages WHERE thread_id IN {sub}",
                                      (js,)).rowcount
                tasks = tx.execute(f"DELETE FROM tasks WHERE thread_id IN {sub}", (js,)).rowcount
                outbox = tx.execute(f"DELETE FROM outbox WHERE state = 'acked' AND thread_id IN "
                                    f"{sub}", (js,)).rowcount
                threads = tx.execute(f"DELETE FROM threads WHERE id IN {sub}", (js,)).rowcount
        finally:
            conn.execute("PRAGMA secure_delete=OFF")
        if store._tracking and ids:
            store._dirty |= set(ids)
        if vacuum and ids:
            mode = conn.execute("PRAGMA auto_vacuum").fetchone()[0]
            if mode == 2:
                conn.execute("PRAGMA incremental_vacuum")
            else:
                conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages_after = conn.execute("PRAGMA page_count").fetchone()[0]
        report = PurgeReport(threads, messages, tasks, outbox, pages_before, pages_after, cutoff)
        if audit_empty or threads:
            store.audit("purge", user=user, detail={"older_than_days": older_than_days,
                                                    **report.as_dict()})
    log.info("retention: purged %d threads (%d messages), %d -> %d pages", threads, messages,
             pages_before, pages_after)
    return report
