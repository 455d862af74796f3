"""The thread actions as outbox items, for N threads at once (no Textual).

Each item is built and made durable by :mod:`triage_tui.sync.outbox` (the payload format is the
sync engine's); this module only maps a verb onto it and walks the selected threads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from triage_tui.cache.api import CacheAPI
from triage_tui.domain.codes import Pool
from triage_tui.sync import outbox

VERBS = ("claim", "route", "escalate", "close")


@dataclass
class Outcome:
    queued: list[str] = field(default_factory=list)  # thread ids with an item queued
    skipped: list[str] = field(default_factory=list)  # no Task (or thread) in the cache


def change_tasks(store: CacheAPI, thread_ids: Iterable[str], verb: str, *, user_ref: str,
                 pool: Pool | None = None) -> Outcome:
    """Queue ``verb`` (claim, route, escalate, close) for each thread's Task."""
    out = Outcome()
    for tid in thread_ids:
        task = store.task_for_thread(tid)
        if task is None:
            out.skipped.append(tid)
            continue
        if verb == "claim":
            outbox.claim(store, task, user=user_ref, user_ref=user_ref)
        elif verb == "route":
            assert pool is not None
            outbox.route(store, task, pool, user=user_ref)
        elif verb == "escalate":
            outbox.route(store, task, Pool.PROVIDER, user=user_ref, escalate=True)
        elif verb == "close":
            outbox.close(store, task, user=user_ref)
        else:
            raise ValueError(f"unknown verb {verb!r}")
        store.audit(verb, user=user_ref, entity=f"Task/{task.id}")
        out.queued.append(tid)
    return out


def send_replies(store: CacheAPI, thread_ids: Iterable[str], text: str, *, user_ref: str,
                 now: datetime | None = None) -> Outcome:
    """Queue the same reply on each thread, answering its last patient message."""
    out = Outcome()
    for tid in thread_ids:
        thread = store.thread(tid)
        if thread is None:
            out.skipped.append(tid)
            continue
        last = next((m for m in reversed(store.messages(tid)) if m.from_patient), None)
        item = outbox.queue_reply(store, thread=thread, text=text, sender_ref=user_ref,
                                  user=user_ref, in_response_to=last, now=now)
        store.audit("send", user=user_ref, entity=f"Communication/{item.id}")
        out.queued.append(tid)
    return out
