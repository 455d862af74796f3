"""workflows.tasks: N marked threads -> ONE outbox transaction (items and audit rows)."""

from __future__ import annotations

import pytest

from app_fake_store import FakeStore
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
def test_change_tasks_is_one_transaction(verb, pool, changes) -> None:
    store = FakeStore(20)
    ids = [r.thread_id for r in store.queue()][:12] + ["nope"]
    out = change_tasks(store, ids, verb, user_ref=USER, pool=pool)
    assert store.enqueues == 1
    assert out.skipped == ["nope"] and len(out.queued) == 12
    assert [i.thread_id for i in store.items] == out.queued
    for item, task in zip(store.items, out.tasks, strict=True):
        assert item.kind == OutboxKind.TASK_UPDATE and item.if_match == task.version
        assert item.payload["changes"] == changes
    assert [a for a in store.audits if a[0] == verb] == [
        (verb, USER, f"Task/{t.id}") for t in out.tasks]


def test_nothing_to_change_writes_nothing() -> None:
    store = FakeStore(3)
    assert change_tasks(store, ["nope"], "claim", user_ref=USER).skipped == ["nope"]
    assert store.enqueues == 0


def test_send_replies_is_one_transaction() -> None:
    store = FakeStore(10)
    ids = [r.thread_id for r in store.queue()][:5]
    out = send_replies(store, ids, "Thanks, done.", user_ref=USER)
    assert store.enqueues == 1 and out.queued == ids
    assert {i.kind for i in store.items} == {OutboxKind.REPLY}
    assert len([a for a in store.audits if a[0] == "send"]) == 5
