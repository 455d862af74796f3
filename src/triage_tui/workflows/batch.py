"""Batch replies without a screen: one template applied to many threads, then queued at once.

:func:`thread_context` reads one thread's template variables from the cache,
:func:`prepare_batch` renders a template for each thread (urgent ones start left out),
:func:`queue_batch` writes every sendable reply (and, optionally, a "claim and close" of each
thread's Task) and its audit row to the outbox in ONE ``store.enqueue`` transaction, and
:func:`reply_states` follows them (queued -> sent). The review screen
(:mod:`triage_tui.screens.batch_review`), the benchmark and the tests call these.

Cache, domain and sync only: no Textual here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from triage_tui.cache.api import AuditRecord, CacheAPI, OutboxItem, OutboxKind, OutboxState
from triage_tui.domain.codes import BusinessStatus, Priority, TaskStatus
from triage_tui.domain.models import Message, Patient, Task, Thread
from triage_tui.domain.templates import (
    Practice,
    Rendered,
    TemplateContext,
    TemplateGroup,
    build_context,
    unfilled,
)
from triage_tui.sync import outbox

__all__ = ["Batch", "BatchReply", "QueueOutcome", "ThreadInfo", "prepare_batch", "queue_batch",
           "reply_states", "thread_context"]


@dataclass(slots=True)
class ThreadInfo:
    thread: Thread
    patient: Patient | None
    messages: list[Message]
    task: Task | None
    context: TemplateContext

    @property
    def last_patient_message(self) -> Message | None:
        return next((m for m in reversed(self.messages) if m.from_patient), None)

    @property
    def urgent(self) -> bool:
        return self.thread.priority != Priority.ROUTINE


def thread_context(store: CacheAPI, thread_id: str, practice: Practice, now: datetime
                   ) -> ThreadInfo | None:
    """Everything a reply to ``thread_id`` needs, from the cache (None: not in the cache)."""
    thread = store.thread(thread_id)
    if thread is None:
        return None
    patient = store.patient(thread.patient_id)
    msgs = store.messages(thread_id)
    pc = store.patient_context(thread.patient_id)
    ctx = build_context(patient, messages=msgs, medications=pc.medications,
                        appointments=pc.appointments, observations=pc.observations,
                        practice=practice, now=now, subject=thread.subject)
    return ThreadInfo(thread, patient, msgs, store.task_for_thread(thread_id), ctx)


@dataclass(slots=True)
class BatchReply:
    """One row of a batch: a rendered reply, maybe edited, maybe left out."""

    thread_id: str
    info: ThreadInfo | None
    rendered: Rendered | None
    text: str
    included: bool
    edited: bool = False
    item_id: str | None = None  # the outbox id once queued
    state: OutboxState | None = None
    error: str | None = None

    @property
    def patient_name(self) -> str:
        return self.info.context.patient_name if self.info else ""

    @property
    def urgent(self) -> bool:
        return bool(self.info and self.info.urgent)

    @property
    def blanks(self) -> list[str]:
        """Values still missing: the ``[[blanks]]`` in the text (after any edit)."""
        return unfilled(self.text)

    def problems(self) -> list[str]:
        """Why this reply cannot be sent (empty: it can)."""
        if self.info is None:
            return ["the thread is not in the cache"]
        out = []
        reasons = {m.name.removeprefix("fill."): m.reason
                   for m in (self.rendered.missing if self.rendered else ())}
        for b in self.blanks:
            why = reasons.get(b)
            out.append(f"missing {b}" + (f": {why}" if why else ""))
        if not self.text.strip():
            out.append("the reply is empty")
        return out

    @property
    def sendable(self) -> bool:
        return not self.problems()


@dataclass(slots=True)
class Batch:
    group: TemplateGroup
    replies: list[BatchReply]

    def counts(self) -> dict[str, int]:
        c = Counter()
        for r in self.replies:
            if not r.included:
                c["left_out"] += 1
                if r.urgent:
                    c["urgent_left_out"] += 1
            elif r.sendable:
                c["ready"] += 1
            else:
                c["blocked"] += 1
        return {k: c.get(k, 0) for k in ("ready", "blocked", "left_out", "urgent_left_out")}

    def to_send(self) -> list[BatchReply]:
        return [r for r in self.replies if r.included and r.sendable]

    @property
    def language_fallbacks(self) -> int:
        return sum(1 for r in self.replies if r.rendered is not None and r.rendered.fallback)


def prepare_batch(store: CacheAPI, thread_ids: Iterable[str], group: TemplateGroup, *,
                  practice: Practice, now: datetime) -> Batch:
    """Render ``group`` for each thread, in the patient's language. Urgent threads start
    left out; the user adds them on purpose."""
    replies = []
    for tid in dict.fromkeys(thread_ids):
        info = thread_context(store, tid, practice, now)
        if info is None:
            replies.append(BatchReply(tid, None, None, "", included=False))
            continue
        rendered = group.render(info.context)
        replies.append(BatchReply(tid, info, rendered, rendered.text, included=not info.urgent))
    replies.sort(key=lambda r: (r.patient_name.casefold(), r.thread_id))  # one row per patient
    return Batch(group, replies)


@dataclass(slots=True)
class QueueOutcome:
    queued: list[str] = field(default_factory=list)  # thread ids
    item_ids: dict[str, str] = field(default_factory=dict)  # thread id -> reply item id
    closed: list[str] = field(default_factory=list)
    not_sent: dict[str, list[str]] = field(default_factory=dict)  # thread id -> problems


def queue_batch(store: CacheAPI, replies: Sequence[BatchReply], *, user_ref: str,
                now: datetime, close: bool = False, template_id: str | None = None
                ) -> QueueOutcome:
    """Queue every included, sendable reply (re-checked here) in ONE transaction, with the
    drafts of those threads removed; ``close`` also claims and closes each thread's Task
    (queued just after its reply, so the reply goes first)."""
    out = QueueOutcome()
    items: list[OutboxItem] = []
    after = now + timedelta(milliseconds=1)
    for r in replies:
        if not r.included:
            continue
        problems = r.problems()
        if problems:
            out.not_sent[r.thread_id] = problems
            continue
        info = r.info
        assert info is not None
        item = outbox.reply_item(thread=info.thread, text=r.text, sender_ref=user_ref,
                                 user=user_ref, in_response_to=info.last_patient_message,
                                 now=now)
        items.append(item)
        out.queued.append(r.thread_id)
        out.item_ids[r.thread_id] = item.id
        if close and info.task is not None and info.task.business_status != BusinessStatus.DONE:
            items.append(outbox.task_change_item(
                info.task, user=user_ref, owner_ref=user_ref, status=TaskStatus.COMPLETED,
                business_status=BusinessStatus.DONE, now=after))
            out.closed.append(r.thread_id)
    if items:
        store.enqueue(items, clear_drafts=out.queued, audit=[AuditRecord(
            "send", user=user_ref, entity=None, detail={
                "communications": [f"Communication/{i}" for i in out.item_ids.values()],
                "template": template_id, "closed": len(out.closed)})])
        for r in replies:
            if r.thread_id in out.item_ids:
                r.item_id = out.item_ids[r.thread_id]
                r.state = OutboxState.QUEUED
    return out


def reply_states(store: CacheAPI, item_ids: Iterable[str]) -> dict[str, tuple[OutboxState,
                                                                               str | None]]:
    """The outbox state (and error) of the given reply items."""
    wanted = set(item_ids)
    return {i.id: (i.state, i.last_error) for i in store.outbox() if i.id in wanted
            and i.kind == OutboxKind.REPLY}
