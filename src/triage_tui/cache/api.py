"""The contract of the local cache, as the sync engine and the UI use it.

``cache.store.Store`` implements :class:`CacheAPI`. This file is the agreement between the
layers: the cache may add methods, but must not change these signatures without updating the
callers in ``sync/`` and the app. Everything here is synchronous and thread-safe (sqlite behind
one lock); async callers wrap calls in ``asyncio.to_thread`` when a call may be slow.

PHI fields of the domain models are stored encrypted; every method takes and returns plaintext
domain objects, decrypting on the way out. Methods never log PHI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from triage_tui.domain.models import (
    Appointment,
    Medication,
    Message,
    Observation,
    Patient,
    Practitioner,
    Task,
    Thread,
)

Record = Patient | Practitioner | Thread | Message | Task | Medication | Appointment | Observation


class OutboxState(StrEnum):
    QUEUED = "queued"
    IN_FLIGHT = "in_flight"
    ACKED = "acked"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"


class OutboxKind(StrEnum):
    REPLY = "reply"  # create a Communication (client-assigned id = idempotency key)
    TASK_UPDATE = "task-update"  # update a Task with If-Match (claim, release, route, close...)
    AUDIT = "audit"  # create an AuditEvent


@dataclass(slots=True)
class OutboxItem:
    id: str  # client id: the idempotency key; for replies also the Communication's id
    kind: OutboxKind
    resource_type: str  # "Communication", "Task", "AuditEvent"
    payload: dict[str, Any]  # the FHIR resource to send (encrypted at rest)
    thread_id: str | None = None
    if_match: str | None = None  # ETag version expected on the server (Task updates)
    state: OutboxState = OutboxState.QUEUED
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None  # server's message for needs_review/failed (no PHI added by us)
    server_version: str | None = None  # versionId the server gave when acked
    created: datetime | None = None
    updated: datetime | None = None
    user: str | None = None  # who confirmed it


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit row to write with an :meth:`CacheAPI.enqueue` (same transaction)."""

    action: str
    user: str
    entity: str | None = None  # "Task/17", "Communication/..."
    detail: dict[str, Any] | None = None  # encrypted at rest; never uploaded


@dataclass(slots=True)
class Draft:
    thread_id: str
    text: str
    template_id: str | None = None
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class QueueRow:
    """Plain (unencrypted) metadata of one thread: enough to sort, filter and count the queue.

    Display text (patient name, subject, preview) is fetched for the visible rows only, with
    :meth:`CacheAPI.thread_display`, so that 100k threads load without 100k decryptions.
    """

    thread_id: str
    patient_id: str
    category: str | None
    priority: str
    status: str  # header status: in-progress | completed | ...
    created: datetime | None
    last_message_at: datetime | None
    last_from_patient: bool
    message_count: int
    task_id: str | None = None
    pool: str | None = None
    owner_ref: str | None = None
    business_status: str | None = None
    due: datetime | None = None
    pending: bool = False
    """Task fields changed here and not yet confirmed by the server (a queued claim, route,
    escalate or close); set by :func:`triage_tui.workflows.pending.overlay_pending`."""
    rules_priority: str | None = None
    """What the client's triage rules say of the thread's latest patient messages (routine |
    urgent | asap | stat), computed when the cache stores them; None when not classified."""
    rules_category: str | None = None
    """The rules' category of the same text (None: not classified, or no category term)."""


@dataclass(frozen=True, slots=True)
class ThreadDisplay:
    thread_id: str
    patient_name: str
    subject: str
    preview: str  # first words of the last patient message


@dataclass(slots=True)
class PatientContext:
    patient: Patient | None
    medications: list[Medication] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)


@runtime_checkable
class CacheAPI(Protocol):
    # --- records from the server (idempotent on id + version) -------------------------------
    def upsert(self, records: Sequence[Record], *, defer_rules: bool = False,
               cursor: tuple[str, str] | None = None,
               meta: Mapping[str, str] | None = None) -> int:
        """Insert or replace records; returns how many changed (same id+version = no change).
        ``defer_rules``: mark the threads to classify (durably) instead of classifying them.
        ``cursor``: ``(resource type, value)`` and ``meta`` entries to set in the same
        transaction."""

    def classify_pending(self) -> int:
        """Classify the threads ``upsert(..., defer_rules=True)`` left pending; returns how many."""

    def mark_stale_rules(self) -> int:
        """Mark every thread pending when the triage rules changed since the cache was
        classified (their fingerprint); returns how many were marked."""

    def delete(self, resource_type: str, ids: Iterable[str]) -> int:
        """Remove records deleted or entered-in-error on the server."""

    def version_of(self, resource_type: str, id: str) -> str | None: ...

    def stored(self, resource_type: str, ids: Iterable[str]) -> set[str]:
        """The ids among ``ids`` held in the cache (any version)."""

    def threads_of(self, resource_type: str, ids: Iterable[str]) -> dict[str, str]:
        """Thread id of each stored Communication or Task among ``ids``."""

    # --- sync cursors -------------------------------------------------------------------------
    def get_cursor(self, resource_type: str) -> str | None:
        """The ``_lastUpdated`` high-water mark (server's ISO string) of the last complete pull."""

    def set_cursor(self, resource_type: str, value: str) -> None: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    # --- queue and threads --------------------------------------------------------------------
    def queue(self) -> list[QueueRow]:
        """Every thread's metadata, no decryption. Fast: 100k rows well under a second."""

    def thread_display(self, thread_ids: Sequence[str]) -> dict[str, ThreadDisplay]:
        """Decrypted display text for the given threads (the visible rows)."""

    def thread(self, thread_id: str) -> Thread | None: ...

    def messages(self, thread_id: str) -> list[Message]:
        """The conversation, oldest first."""

    def task_for_thread(self, thread_id: str) -> Task | None: ...

    def patient(self, patient_id: str) -> Patient | None: ...

    def practitioner(self, practitioner_id: str) -> Practitioner | None: ...

    def patient_context(self, patient_id: str) -> PatientContext: ...

    def search(self, text: str) -> set[str]:
        """Thread ids whose messages, subject or patient name match ``text`` (all words)."""

    # --- outbox and drafts (synchronous=FULL: durable when the call returns) -----------------
    def enqueue(self, items: Sequence[OutboxItem], *, clear_drafts: Sequence[str] = (),
                audit: Sequence[AuditRecord] = ()) -> None:
        """Queue items, drop the drafts of ``clear_drafts`` threads and append the ``audit``
        rows in ONE transaction."""

    def outbox(self, states: Iterable[OutboxState] | None = None) -> list[OutboxItem]: ...

    def update_outbox(self, item: OutboxItem) -> None:
        """Persist a state change of an item (state, attempts, next_attempt_at, errors...)."""

    def outbox_counts(self) -> dict[OutboxState, int]: ...

    def save_draft(self, draft: Draft) -> None: ...

    def draft(self, thread_id: str) -> Draft | None: ...

    def delete_draft(self, thread_id: str) -> None: ...

    # --- audit (append-only) ------------------------------------------------------------------
    def audit(self, action: str, *, user: str, entity: str | None = None,
              detail: dict[str, Any] | None = None) -> None: ...

    def close(self) -> None: ...
