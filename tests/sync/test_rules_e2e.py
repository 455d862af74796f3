"""End to end (issue 5): the reference server, a pull, the real encrypted cache, the inbox
model. A refill thread whose patient writes "my lips are swelling since the new pill", with
server priority routine, is flagged by the triage rules at write time and sorts first among
the refills."""

from __future__ import annotations

from triage_tui.domain.codes import CATEGORY_SYSTEM, Priority
from triage_tui.domain.queue_view import QueueView
from triage_tui.sync.pull import Puller


def plain_rows(store, sql: str) -> list[tuple]:
    """Rows of the store's plain (unencrypted) columns, read from its file (read-only)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _refill_thread(tid: str, text: str, sent: str) -> list[dict]:
    return [
        {"resourceType": "Communication", "id": tid, "status": "in-progress",
         "subject": {"reference": "Patient/pat1"}, "topic": {"text": "Refill request"},
         "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "refill"}]}],
         "priority": "routine", "sent": sent},
        {"resourceType": "Communication", "id": f"{tid}-m", "status": "completed",
         "partOf": [{"reference": f"Communication/{tid}"}],
         "subject": {"reference": "Patient/pat1"}, "sender": {"reference": "Patient/pat1"},
         "payload": [{"contentString": text}], "sent": sent},
    ]


async def test_rules_urgent_refill_sorts_first(server, store, client):
    server.storage.bulk_load(
        _refill_thread("lips", "my lips are swelling since the new pill", "2025-03-01T11:00:00Z")
        + _refill_thread("old-refill", "please refill my metformin", "2025-02-01T09:00:00Z")
        + _refill_thread("refill2", "out of lisinopril, CVS on Main", "2025-02-20T09:00:00Z"))
    await Puller(client, store).pull()
    rows = {r.thread_id: r for r in store.queue()}
    lips = rows["lips"]
    assert lips.priority == "routine" and lips.category == "refill"
    assert Priority(lips.rules_priority).rank >= Priority.URGENT.rank
    assert rows["old-refill"].rules_priority == "routine"
    # plain codes on disk, no PHI
    assert plain_rows(store, "SELECT rules_priority, rules_category FROM threads "
                             "WHERE id = 'lips'") == [(lips.rules_priority, lips.rules_category)]
    view = QueueView(rows.values())
    view.set_filter(scope="refill")
    assert view.thread_id(0) == "lips" and view.is_urgent("lips")
    assert view.counts()["refill"].urgent >= 1
