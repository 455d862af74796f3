"""Optimistic queue rows: what the user just did shows at once, before the server confirms it.

A claim, route, escalate or close is an outbox item (``task-update``) with the changed Task
fields in ``payload["changes"]``. While such an item is queued or in flight, the thread's queue
row shows those fields, marked ``pending``. Once the item is acked the sync engine has written
the server's Task to the cache (the row is the server's truth again, no longer pending); if it
ends in needs_review (someone else changed the Task: a conflict) the overlay stops and the row
shows the server's Task, which the engine also wrote to the cache.

Nothing is kept in memory: the overlay is recomputed from the outbox on every queue load, so it
also survives a restart while offline. No Textual here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from triage_tui.cache.api import CacheAPI, OutboxItem, OutboxKind, OutboxState, QueueRow

PENDING_STATES = frozenset({OutboxState.QUEUED, OutboxState.IN_FLIGHT})
# QueueRow.status is the thread header's (Communication) status, not the Task's: a close shows
# through business_status "done" (row_is_open), the header is left as the server has it.
_FIELDS = ("owner_ref", "pool", "business_status")


def pending_changes(items: Iterable[OutboxItem]) -> dict[str, dict[str, object]]:
    """Thread id -> the Task fields its unconfirmed changes set (later changes win)."""
    out: dict[str, dict[str, object]] = {}
    live = [i for i in items if i.kind == OutboxKind.TASK_UPDATE and i.state in PENDING_STATES
            and i.thread_id]
    live.sort(key=lambda i: (i.created is None, i.created or 0, i.id))  # type: ignore[operator]
    for item in live:
        changes = item.payload.get("changes") or {}
        merged = out.setdefault(item.thread_id, {})  # type: ignore[arg-type]
        merged.update({k: changes[k] for k in _FIELDS if k in changes})
    return out


def overlay_pending(rows: Sequence[QueueRow], items: Iterable[OutboxItem]) -> list[QueueRow]:
    """``rows`` with each thread's unconfirmed Task changes applied and ``pending`` set."""
    changes = pending_changes(items)
    if not changes:
        return list(rows)
    out = []
    for row in rows:
        ch = changes.get(row.thread_id)
        if ch and row.task_id:
            out.append(dataclasses.replace(row, pending=True, **ch))  # type: ignore[arg-type]
        else:
            out.append(row)
    return out


def queue_with_pending(store: CacheAPI) -> list[QueueRow]:
    """The queue as the user should see it: the cache's rows plus their own queued changes."""
    rows = store.queue()
    return overlay_pending(rows, store.outbox(PENDING_STATES))
