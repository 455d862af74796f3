"""workflows.tasks: N marked threads -> ONE outbox transaction (items and audit rows)."""

from __future__ import annotations

import pytest

from app_store_data import audit_rows
from triage_tui.cache.api import OutboxKind
from triage_tui.domain.codes import Pool
from triage_tui.workflows.tasks import change_tasks, send_replies

USER = "Practitioner/nurse1"


@pytest.mark.parametrize("verb, pool, changes", [
    ("claim", None, {"owner_ref": USER, "status": "accepted", "business_status": "claimed"}),
    ("route", Pool.PHARMACY, {"pool": "pharmacy", "owner_ref": None, "status": "requested",
                              "business_status": "unassigned"}),
    ("escalate", None, {"pool": "provider", "owner_ref": None, "status": "requested",
                        "business_status": "escalated"}),
    ("close", None, {"status": "completed", "business_status": "done"}),
])
def test_change_tasks_is_one_transaction(make_store, verb, pool, changes) -> None:
    store = make_store(20)
    ids = [r.thread_id for r in store.queue()][:12] + ["nope"]
    commits = store._writes  # the real store counts its committed transactions
    out = change_tasks(store, ids, verb, user_ref=USER, pool=pool)
    assert store._writes - commits == 1
    assert out.skipped == ["nope"] and len(out.queued) == 12
    assert [i.thread_id for i in store.outbox()] == out.queued
    for item, task in zip(store.outbox(), out.tasks, strict=True):
        assert item.kind == OutboxKind.TASK_UPDATE and item.if_match == task.version
        assert item.payload["changes"] == changes
    assert [a for a in audit_rows(store) if a[0] == verb] == [
        (verb, USER, f"Task/{t.id}") for t in out.tasks]


def test_nothing_to_change_writes_nothing(make_store) -> None:
    store = make_store(3)
    commits = store._writes
    assert change_tasks(store, ["nope"], "claim", user_ref=USER).skipped == ["nope"]
    assert store._writes == commits


def test_send_replies_is_one_transaction(make_store) -> None:
    store = make_store(10)
    ids = [r.thread_id for r in store.queue()][:5]
    commits = store._writes
    out = send_replies(store, ids, "Thanks, done.", user_ref=USER)
    assert store._writes - commits == 1 and out.queued == ids
    assert {i.kind for i in store.outbox()} == {OutboxKind.REPLY}
    assert len([a for a in audit_rows(store) if a[0] == "send"]) == 5
