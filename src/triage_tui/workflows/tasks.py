"""The thread actions (claim, route, escalate, close; the same reply to many threads) as
outbox items, for N threads at once, in ONE transaction. No Textual.

:mod:`triage_tui.sync.outbox` builds each item (the payload format is the sync engine's); this
module maps a verb onto the selected threads' Tasks and makes every item and its audit row
durable with a single ``store.enqueue`` (``synchronous=FULL``: one fsync, not N).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from triage_tui.cache.api import AuditRecord, CacheAPI, OutboxItem
from triage_tui.domain.codes import Pool
from triage_tui.domain.models import Task
from triage_tui.sync import outbox
from triage_tui.workflows.pending import PENDING_STATES, pending_changes

VERBS = ("claim", "release", "route", "escalate", "close")


@dataclass
class Outcome:
    queued: list[str] = field(default_factory=list)  # thread ids with an item queued
    skipped: list[str] = field(default_factory=list)  # no Task (or thread) in the cache
    items: list[OutboxItem] = field(default_factory=list)  # what was queued, in order
    tasks: list[Task] = field(default_factory=list)  # the Tasks as the user saw them


def owners(store: CacheAPI, thread_ids: Iterable[str]) -> dict[str, str | None]:
    """Each thread's Task owner as the user sees it: the cache's Task with the user's own
    unsent claim/release/route applied (threads without a Task left out)."""
    mine = pending_changes(store.outbox(PENDING_STATES))
    out: dict[str, str | None] = {}
    for tid in dict.fromkeys(thread_ids):
        task = store.task_for_thread(tid)
        if task is not None:
            out[tid] = mine.get(tid, {}).get("owner_ref", task.owner_ref)  # type: ignore[assignment]
    return out


def change_tasks(store: CacheAPI, thread_ids: Iterable[str], verb: str, *, user_ref: str,
                 pool: Pool | None = None, now: datetime | None = None) -> Outcome:
    """Queue ``verb`` (claim, release, route, escalate, close) for each thread's Task, in one
    transaction with one audit row per Task."""
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}")
    out = Outcome()
    for tid in dict.fromkeys(thread_ids):
        task = store.task_for_thread(tid)
        if task is None:
            out.skipped.append(tid)
            continue
        out.tasks.append(task)
        out.queued.append(tid)
    if not out.tasks:
        return out
    out.items = outbox.task_verb_items(out.tasks, verb, user=user_ref, user_ref=user_ref,
                                       pool=pool, now=now)
    store.enqueue(out.items, audit=[AuditRecord(verb, user=user_ref, entity=f"Task/{t.id}")
                                    for t in out.tasks])
    return out


def send_replies(store: CacheAPI, thread_ids: Iterable[str], text: str, *, user_ref: str,
                 now: datetime | None = None) -> Outcome:
    """Queue the same reply on each thread, answering its last patient message (one
    transaction; the threads' drafts go with it)."""
    out = Outcome()
    audit = []
    for tid in dict.fromkeys(thread_ids):
        thread = store.thread(tid)
        if thread is None:
            out.skipped.append(tid)
            continue
        last = next((m for m in reversed(store.messages(tid)) if m.from_patient), None)
        item = outbox.reply_item(thread=thread, text=text, sender_ref=user_ref, user=user_ref,
                                 in_response_to=last, now=now)
        out.items.append(item)
        audit.append(AuditRecord("send", user=user_ref, entity=f"Communication/{item.id}"))
        out.queued.append(tid)
    if out.items:
        store.enqueue(out.items, clear_drafts=out.queued, audit=audit)
    return out
