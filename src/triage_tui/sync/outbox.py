"""Outbox: durable replies and Task changes, pushed exactly once.

Queueing (synchronous, called by the UI when the user confirms): :func:`queue_reply` and
:func:`queue_task_change` write one :class:`OutboxItem` through ``store.enqueue`` (one
transaction with the draft removal, ``synchronous=FULL``): when they return, the item survives
a crash, and the UI may say "queued". For many threads at once, :func:`reply_item`,
:func:`task_change_item` and :func:`task_verb_items` build the items without writing them, and
the caller makes them durable together in ONE ``store.enqueue``.

Pushing (:class:`Pusher`): items go ``queued -> in_flight`` (persisted *before* the request)
``-> acked | needs_review | failed``.

* Replies carry a client-assigned id (the outbox id) and are sent as ``PUT Communication/{id}``
  (update-as-create). Any earlier attempt whose outcome is unknown (crash, timeout, dropped
  response) is settled by ``GET Communication/{id}`` first: 200 = acked, 404 = send. A new id is
  never made up. Servers that refuse update-as-create get ``POST`` with
  ``If-None-Exist: identifier=urn:triage-tui:client-message-id|{id}``, and the outcome is checked
  by searching that identifier (conditional create is not atomic on real servers).
* Task changes store the *changes* (``payload["changes"]``) and the version the user saw
  (``if_match``). At send time the Task is read fresh; if its version is not the one the user saw
  (nor one our own earlier change produced) that is a conflict: the item goes to needs_review
  with a description of who/what changed, ``on_conflict`` is called, later replies of the same
  thread are held back (their text restored as the draft) and nothing is overwritten. Otherwise
  the changes are applied to the fresh JSON and sent with ``If-Match``; 412/409 is a conflict.
* Transient failures (network, 408/429/5xx) go back to queued with capped full-jitter backoff,
  at least the server's Retry-After / RateLimit reset; other 4xx go to needs_review with the
  server's text; ``max_attempts`` transient failures make an item failed (kept, retryable).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from triage_tui.cache.api import CacheAPI, Draft, OutboxItem, OutboxKind, OutboxState
from triage_tui.domain.codes import CLIENT_MESSAGE_ID_SYSTEM, BusinessStatus, Pool, TaskStatus
from triage_tui.domain.fhir import (
    MalformedResource,
    parse_records,
    parse_task,
    reply_communication,
    task_changes_applied,
    task_update,
)
from triage_tui.domain.models import Message, Task, Thread
from triage_tui.sync.backoff import full_jitter
from triage_tui.sync.client import FhirClient, FhirResponse
from triage_tui.sync.errors import (
    AuthError,
    ConflictError,
    FhirHTTPError,
    OfflineError,
    SyncError,
)

_UNSET: Any = object()


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_client_id() -> str:
    """A FHIR-valid id (letters, digits, '-') that no other client will choose."""
    return str(uuid.uuid4())


# --- queueing (UI side, synchronous) ---------------------------------------------------------


def reply_item(
    *, thread: Thread, text: str, sender_ref: str, user: str,
    in_response_to: Message | None = None, now: datetime | None = None,
    client_id: str | None = None,
) -> OutboxItem:
    """The outbox item of a reply, not written anywhere yet (see :func:`queue_reply`)."""
    now = now or now_utc()
    cid = client_id or new_client_id()
    payload = reply_communication(cid, thread, in_response_to, text, sender_ref, now)
    return OutboxItem(id=cid, kind=OutboxKind.REPLY, resource_type="Communication",
                      payload=payload, thread_id=thread.id, created=now, updated=now, user=user)


def queue_reply(
    store: CacheAPI, *, thread: Thread, text: str, sender_ref: str, user: str,
    in_response_to: Message | None = None, now: datetime | None = None,
    client_id: str | None = None,
) -> OutboxItem:
    """Make the reply durable (and drop the thread's draft) in one transaction."""
    item = reply_item(thread=thread, text=text, sender_ref=sender_ref, user=user,
                      in_response_to=in_response_to, now=now, client_id=client_id)
    store.enqueue([item], clear_drafts=[thread.id])
    return item


def task_change_item(
    task: Task, *, user: str, owner_ref: str | None = _UNSET,
    pool: Pool | str | None = _UNSET, status: TaskStatus | str = _UNSET,
    business_status: BusinessStatus | str = _UNSET, now: datetime | None = None,
) -> OutboxItem:
    """The outbox item of a Task change against the version the user saw (``task.version``),
    not written anywhere yet: give many of them to ONE ``store.enqueue``."""
    changes: dict[str, Any] = {}
    if owner_ref is not _UNSET:
        changes["owner_ref"] = owner_ref
    if pool is not _UNSET:
        changes["pool"] = None if pool is None else str(pool)
    if status is not _UNSET:
        changes["status"] = str(status)
    if business_status is not _UNSET:
        changes["business_status"] = str(business_status)
    if not changes:
        raise ValueError("no change")
    now = now or now_utc()
    return OutboxItem(
        id=new_client_id(), kind=OutboxKind.TASK_UPDATE, resource_type="Task",
        payload={"resourceType": "Task", "id": task.id, "changes": changes},
        thread_id=task.thread_id, if_match=task.version, created=now, updated=now, user=user)


def queue_task_change(
    store: CacheAPI, task: Task, *, user: str, owner_ref: str | None = _UNSET,
    pool: Pool | str | None = _UNSET, status: TaskStatus | str = _UNSET,
    business_status: BusinessStatus | str = _UNSET, now: datetime | None = None,
    clear_drafts: Sequence[str] = (),
) -> OutboxItem:
    """Queue a Task change against the version the user saw (``task.version``)."""
    item = task_change_item(task, user=user, owner_ref=owner_ref, pool=pool, status=status,
                            business_status=business_status, now=now)
    store.enqueue([item], clear_drafts=clear_drafts)
    return item


TASK_VERBS = ("claim", "release", "route", "escalate", "close")


def task_verb_changes(verb: str, *, user_ref: str | None = None,
                      pool: Pool | None = None) -> dict[str, Any]:
    """The Task fields a verb sets (``owner_ref``, ``pool``, ``status``, ``business_status``)."""
    if verb == "claim":
        if not user_ref:
            raise ValueError("claim needs user_ref")
        return {"owner_ref": user_ref, "status": TaskStatus.ACCEPTED,
                "business_status": BusinessStatus.CLAIMED}
    if verb == "release":
        return {"owner_ref": None, "status": TaskStatus.REQUESTED,
                "business_status": BusinessStatus.UNASSIGNED}
    if verb in ("route", "escalate"):
        if verb == "route" and pool is None:
            raise ValueError("route needs a pool")
        return {"pool": Pool.PROVIDER if verb == "escalate" else pool, "owner_ref": None,
                "status": TaskStatus.REQUESTED,
                "business_status": (BusinessStatus.ESCALATED if verb == "escalate"
                                    else BusinessStatus.UNASSIGNED)}
    if verb == "close":
        return {"status": TaskStatus.COMPLETED, "business_status": BusinessStatus.DONE}
    raise ValueError(f"unknown verb {verb!r}")


def task_verb_items(tasks: Sequence[Task], verb: str, *, user: str,
                    user_ref: str | None = None, pool: Pool | None = None,
                    now: datetime | None = None) -> list[OutboxItem]:
    """One outbox item per Task for ``verb`` (claim, release, route, escalate, close), none
    written yet: the caller makes them durable together with ONE ``store.enqueue``."""
    changes = task_verb_changes(verb, user_ref=user_ref, pool=pool)
    now = now or now_utc()
    return [task_change_item(t, user=user, now=now, **changes) for t in tasks]


def claim(store: CacheAPI, task: Task, *, user: str, user_ref: str) -> OutboxItem:
    return queue_task_change(store, task, user=user,
                             **task_verb_changes("claim", user_ref=user_ref))


def release(store: CacheAPI, task: Task, *, user: str) -> OutboxItem:
    return queue_task_change(store, task, user=user, **task_verb_changes("release"))


def route(store: CacheAPI, task: Task, pool: Pool, *, user: str,
          escalate: bool = False) -> OutboxItem:
    if escalate:
        return queue_task_change(store, task, user=user,
                                 **{**task_verb_changes("escalate"), "pool": pool})
    return queue_task_change(store, task, user=user, **task_verb_changes("route", pool=pool))


def close(store: CacheAPI, task: Task, *, user: str) -> OutboxItem:
    return queue_task_change(store, task, user=user, **task_verb_changes("close"))


def requeue(store: CacheAPI, item: OutboxItem) -> None:
    """The user chose to send a needs_review/failed item again (same id: still idempotent)."""
    item.state = OutboxState.QUEUED
    item.next_attempt_at = None
    item.last_error = None
    item.updated = now_utc()
    store.update_outbox(item)


# --- pushing -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Conflict:
    """Someone else changed the Task: shown to the user; their work is kept, nothing sent."""

    item_id: str
    thread_id: str | None
    task_id: str
    seen_version: str | None
    server_version: str | None
    server_task: Task | None
    message: str  # who/what changed, for the user (staff names only, no patient data)


@dataclass(slots=True)
class PushResult:
    attempted: int = 0
    acked: int = 0
    needs_review: int = 0
    failed: int = 0
    retry_later: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    thread_ids: set[str] = field(default_factory=set)
    auth_error: str | None = None


class Pusher:
    def __init__(
        self, client: FhirClient, store: CacheAPI, *, max_attempts: int = 12,
        backoff_base: float = 1.0, backoff_cap: float = 300.0,
        clock: Callable[[], datetime] = now_utc, rng: random.Random | None = None,
        on_conflict: Callable[[Conflict], None] | None = None, create_mode: str = "put",
    ) -> None:
        self.client = client
        self.store = store
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.clock = clock
        self.rng = rng or random.Random()
        self.on_conflict = on_conflict
        self.create_mode = create_mode  # "put" (update-as-create) or "conditional"

    async def _db(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kw)

    # --- reconcile ----------------------------------------------------------------------------

    async def reconcile(self) -> PushResult:
        """Settle items left in_flight by a crash: ask the server before any resend."""
        result = PushResult()
        items = await self._db(self.store.outbox, [OutboxState.IN_FLIGHT])
        for item in sorted(items, key=_order):
            if item.kind == OutboxKind.TASK_UPDATE:
                await self._reconcile_task(item, result)
            else:
                found = await self._find_created(item)
                if found is not None:
                    await self._acked(item, found, result)
                else:
                    self._set(item, OutboxState.QUEUED, next_at=None)
                    await self._db(self.store.update_outbox, item)
        return result

    async def _reconcile_task(self, item: OutboxItem, result: PushResult) -> None:
        resp = await self.client.read("Task", item.payload["id"])
        if resp is None:
            await self._review(item, "The task no longer exists on the server.", result)
            return
        if resp.version == item.if_match or self._ours(item, resp.version):
            self._set(item, OutboxState.QUEUED, next_at=None)  # our change never landed
            await self._db(self.store.update_outbox, item)
        elif task_changes_applied(resp.body, item.payload.get("changes") or {}):
            await self._acked(item, resp, result)
        else:
            await self._conflict(item, resp, result)

    # --- push -----------------------------------------------------------------------------------

    async def push(self, *, limit: int | None = None) -> PushResult:
        """Send every due queued item, oldest first. Raises OfflineError when the server is down
        (the item in hand is back in queued, with its attempt counted)."""
        result = PushResult()
        now = self.clock()
        items = await self._db(self.store.outbox, [OutboxState.QUEUED])
        held_threads: set[str] = set()
        for item in sorted(items, key=_order):
            if limit is not None and result.attempted >= limit:
                break
            if item.thread_id in held_threads:
                await self._hold(item, result)
                continue
            if item.next_attempt_at is not None and _aware(item.next_attempt_at) > now:
                if item.thread_id:
                    held_threads.add(item.thread_id)  # keep per-thread order
                result.retry_later += 1
                continue
            result.attempted += 1
            uncertain = item.attempts > 0  # an earlier attempt may have reached the server
            item.attempts += 1
            self._set(item, OutboxState.IN_FLIGHT)
            await self._db(self.store.update_outbox, item)
            try:
                if item.kind == OutboxKind.TASK_UPDATE:
                    await self._send_task(item, result)
                else:
                    await self._send_create(item, uncertain, result)
            except OfflineError as exc:
                await self._retry(item, str(exc), None, result)
                raise
            except AuthError as exc:
                item.attempts -= 1  # not the item's fault
                self._set(item, OutboxState.QUEUED, error=f"{exc.status}: {exc.text}")
                await self._db(self.store.update_outbox, item)
                result.auth_error = exc.text or f"HTTP {exc.status}"
                break
            except FhirHTTPError as exc:
                if exc.transient:
                    await self._retry(item, str(exc), exc.retry_after, result)
                else:
                    await self._review(item, exc.text or str(exc), result)
            except SyncError as exc:
                await self._review(item, str(exc), result)
            if item.state == OutboxState.NEEDS_REVIEW and item.thread_id and (
                    item.kind == OutboxKind.TASK_UPDATE):
                held_threads.add(item.thread_id)
            elif item.state == OutboxState.QUEUED and item.thread_id:
                held_threads.add(item.thread_id)
        return result

    async def _send_create(self, item: OutboxItem, uncertain: bool, result: PushResult) -> None:
        if uncertain:
            found = await self._find_created(item)
            if found is not None:
                await self._acked(item, found, result)
                return
        if self.create_mode == "put":
            try:
                resp = await self.client.update(item.payload)
            except FhirHTTPError as exc:
                if exc.status not in (405, 501):
                    raise
                self.create_mode = "conditional"  # server refuses update-as-create
            else:
                await self._acked(item, resp, result)
                return
        resp = await self.client.create(
            item.payload, if_none_exist=f"identifier={CLIENT_MESSAGE_ID_SYSTEM}|{item.id}")
        found = await self._find_created(item)  # check the outcome: conditional create races
        await self._acked(item, found or resp, result)

    async def _find_created(self, item: OutboxItem) -> FhirResponse | None:
        rtype = item.resource_type
        resp = await self.client.read(rtype, item.id)
        if resp is not None:
            return resp
        if self.create_mode == "put":
            return None
        bundle = await self.client.search(
            rtype, {"identifier": f"{CLIENT_MESSAGE_ID_SYSTEM}|{item.id}"})
        for e in bundle.get("entry") or ():
            res = e.get("resource") if isinstance(e, dict) else None
            if isinstance(res, dict) and res.get("resourceType") == rtype:
                return FhirResponse(200, res, resp.headers if resp else _NO_HEADERS)
        return None

    async def _send_task(self, item: OutboxItem, result: PushResult) -> None:
        task_id = item.payload["id"]
        current = await self.client.read("Task", task_id)
        if current is None:
            await self._review(item, "The task no longer exists on the server.", result)
            return
        version = current.version
        if version != item.if_match and not self._ours(item, version):
            await self._conflict(item, current, result)
            return
        body = task_update(current.body, now=self.clock(), **_change_kwargs(item.payload))
        try:
            resp = await self.client.update(body, if_match=version)
        except ConflictError:
            fresh = await self.client.read("Task", task_id)
            await self._conflict(item, fresh, result)
            return
        await self._acked(item, resp, result)

    def _ours(self, item: OutboxItem, version: str | None) -> bool:
        """Is ``version`` the result of one of our own earlier, acked changes of this task?"""
        if version is None:
            return False
        for other in self.store.outbox([OutboxState.ACKED]):
            if (other.kind == OutboxKind.TASK_UPDATE and other.id != item.id
                    and other.payload.get("id") == item.payload.get("id")
                    and other.server_version == version):
                return True
        return False

    # --- outcomes ---------------------------------------------------------------------------------

    def _set(self, item: OutboxItem, state: OutboxState, *, error: str | None = _UNSET,
             next_at: datetime | None = _UNSET) -> None:
        item.state = state
        item.updated = self.clock()
        if error is not _UNSET:
            item.last_error = error
        if next_at is not _UNSET:
            item.next_attempt_at = next_at

    async def _acked(self, item: OutboxItem, resp: FhirResponse, result: PushResult) -> None:
        item.server_version = resp.version
        self._set(item, OutboxState.ACKED, error=None, next_at=None)
        await self._db(self.store.update_outbox, item)
        result.acked += 1
        if item.thread_id:
            result.thread_ids.add(item.thread_id)
        body = resp.body
        if isinstance(body, dict) and body.get("resourceType") == item.resource_type:
            try:
                records = parse_records(body)
            except MalformedResource:
                records = []
            if records:
                await self._db(self.store.upsert, records)

    async def _retry(self, item: OutboxItem, error: str, retry_after: float | None,
                     result: PushResult) -> None:
        if item.attempts >= self.max_attempts:
            self._set(item, OutboxState.FAILED, error=f"gave up after {item.attempts} "
                      f"attempts: {error}", next_at=None)
            result.failed += 1
        else:
            delay = full_jitter(item.attempts - 1, base=self.backoff_base, cap=self.backoff_cap,
                                rng=self.rng)
            if retry_after is not None:
                delay = max(delay, retry_after)
            self._set(item, OutboxState.QUEUED, error=error,
                      next_at=self.clock() + timedelta(seconds=delay))
            result.retry_later += 1
        await self._db(self.store.update_outbox, item)

    async def _review(self, item: OutboxItem, message: str, result: PushResult) -> None:
        self._set(item, OutboxState.NEEDS_REVIEW, error=message, next_at=None)
        await self._db(self.store.update_outbox, item)
        result.needs_review += 1
        if item.thread_id:
            result.thread_ids.add(item.thread_id)

    async def _conflict(self, item: OutboxItem, resp: FhirResponse | None,
                        result: PushResult) -> None:
        task = None
        if resp is not None and isinstance(resp.body, dict):
            try:
                task = parse_task(resp.body)
            except MalformedResource:
                task = None
            if task is not None:
                await self._db(self.store.upsert, [task])  # show the user the current state
        message = self._describe(task, resp.body if resp is not None else None)
        await self._review(item, message, result)
        conflict = Conflict(item_id=item.id, thread_id=item.thread_id,
                            task_id=item.payload.get("id", ""), seen_version=item.if_match,
                            server_version=resp.version if resp else None, server_task=task,
                            message=message)
        result.conflicts.append(conflict)
        if self.on_conflict is not None:
            self.on_conflict(conflict)

    def _describe(self, task: Task | None, body: Any) -> str:  # noqa: ARG002
        if task is None:
            return "Someone else changed this task; nothing was overwritten."
        who = "nobody"
        if task.owner_ref:
            who = task.owner_ref
            if task.owner_ref.startswith("Practitioner/"):
                p = self.store.practitioner(task.owner_ref.split("/", 1)[1])
                if p is not None and p.name:
                    who = p.name
        parts = [f"Someone else changed this task: now {task.business_status} "
                 f"({task.status}), owner {who}"]
        if task.pool:
            parts.append(f"pool {task.pool}")
        if task.last_modified:
            parts.append(f"at {task.last_modified:%Y-%m-%d %H:%M} UTC")
        return ", ".join(parts) + ". Your change was not sent; nothing was overwritten."

    async def _hold(self, item: OutboxItem, result: PushResult) -> None:
        """A later item of a thread whose earlier item is waiting or in conflict: keep order.

        If the earlier one is a conflict (needs_review), a held reply goes to needs_review too,
        and its text comes back as the draft unless the user has started another one.
        """
        blocking = [o for o in self.store.outbox([OutboxState.NEEDS_REVIEW])
                    if o.thread_id == item.thread_id and o.kind == OutboxKind.TASK_UPDATE
                    and _order(o) < _order(item)]
        if not blocking:
            result.retry_later += 1
            return
        if item.kind == OutboxKind.REPLY and item.thread_id:
            text = _reply_text(item.payload)
            if text and self.store.draft(item.thread_id) is None:
                await self._db(self.store.save_draft,
                               Draft(thread_id=item.thread_id, text=text, updated=self.clock()))
        await self._review(item, "Held back: someone else changed this thread's task. "
                           "Review the conversation, then send again.", result)


_NO_HEADERS: Any = {}


def _order(item: OutboxItem) -> tuple[datetime, str]:
    return (_aware(item.created) if item.created else datetime.min.replace(tzinfo=UTC), item.id)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _reply_text(payload: dict[str, Any]) -> str | None:
    for p in payload.get("payload") or ():
        if isinstance(p, dict) and isinstance(p.get("contentString"), str):
            return p["contentString"]
    return None


def _change_kwargs(payload: dict[str, Any]) -> dict[str, Any]:
    changes = payload.get("changes") or {}
    kw: dict[str, Any] = {}
    for key in ("owner_ref", "pool", "status", "business_status"):
        if key in changes:
            kw[key] = changes[key]
    return kw
