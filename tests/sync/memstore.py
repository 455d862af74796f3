"""An in-memory CacheAPI test double (plaintext, not durable): for fast unit tests of sync/.

The integration tests use the real encrypted Store; this double only exists so that pull/push
logic can be tested in isolation (and simulates a crash by deep-copying its state).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from triage_tui.cache.api import (
    Draft,
    OutboxItem,
    OutboxState,
    PatientContext,
    QueueRow,
    Record,
)
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

_TYPE = {Patient: "Patient", Practitioner: "Practitioner", Thread: "Communication",
         Message: "Communication", Task: "Task", Medication: "MedicationRequest",
         Appointment: "Appointment", Observation: "Observation"}


class MemStore:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], Record] = {}
        self.cursors: dict[str, str] = {}
        self.meta: dict[str, str] = {}
        self.items: dict[str, OutboxItem] = {}
        self.drafts: dict[str, Draft] = {}
        self.audits: list[tuple[str, str]] = []
        self.lock = threading.RLock()
        self.upserts = 0

    def upsert(self, records: Sequence[Record]) -> int:
        n = 0
        with self.lock:
            for r in records:
                key = (_TYPE[type(r)], r.id)
                old = self.records.get(key)
                if old is not None and old.version == r.version and type(old) is type(r):
                    continue
                if isinstance(r, Thread) and isinstance(old, Message):
                    # flat model: keep both under distinct keys
                    self.records[("Thread", r.id)] = r
                    n += 1
                    continue
                if isinstance(r, Message) and isinstance(old, Thread):
                    self.records[("Thread", r.id)] = old
                self.records[key] = r
                n += 1
            self.upserts += n
        return n

    def delete(self, resource_type: str, ids: Iterable[str]) -> int:
        n = 0
        with self.lock:
            for i in ids:
                for key in ((resource_type, i), ("Thread", i)):
                    if self.records.pop(key, None) is not None:
                        n += 1
        return n

    def version_of(self, resource_type: str, id: str) -> str | None:
        r = self.records.get((resource_type, id))
        return r.version if r else None

    def get_cursor(self, resource_type: str) -> str | None:
        return self.cursors.get(resource_type)

    def set_cursor(self, resource_type: str, value: str) -> None:
        self.cursors[resource_type] = value

    def get_meta(self, key: str) -> str | None:
        return self.meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self.meta[key] = value

    def _all(self, cls: type) -> list[Any]:
        return [r for r in list(self.records.values()) if isinstance(r, cls)]

    def queue(self) -> list[QueueRow]:
        rows = []
        for t in self._all(Thread):
            msgs = self.messages(t.id)
            rows.append(QueueRow(
                thread_id=t.id, patient_id=t.patient_id, category=t.category,
                priority=t.priority, status=t.status, created=t.created,
                last_message_at=msgs[-1].sent if msgs else None,
                last_from_patient=msgs[-1].from_patient if msgs else True,
                message_count=len(msgs)))
        return rows

    def thread_display(self, thread_ids):  # pragma: no cover - not used by sync
        return {}

    def thread(self, thread_id: str) -> Thread | None:
        r = self.records.get(("Thread", thread_id)) or self.records.get(
            ("Communication", thread_id))
        return r if isinstance(r, Thread) else None

    def messages(self, thread_id: str) -> list[Message]:
        ms = [m for m in self._all(Message) if m.thread_id == thread_id]
        return sorted(ms, key=lambda m: (m.sent or datetime.min.replace(tzinfo=UTC), m.id))

    def task_for_thread(self, thread_id: str) -> Task | None:
        return next((t for t in self._all(Task) if t.thread_id == thread_id), None)

    def patient(self, patient_id: str) -> Patient | None:
        r = self.records.get(("Patient", patient_id))
        return r if isinstance(r, Patient) else None

    def practitioner(self, practitioner_id: str) -> Practitioner | None:
        r = self.records.get(("Practitioner", practitioner_id))
        return r if isinstance(r, Practitioner) else None

    def patient_context(self, patient_id: str) -> PatientContext:
        return PatientContext(self.patient(patient_id))

    def search(self, text: str) -> set[str]:  # pragma: no cover
        return set()

    def enqueue(self, items: Sequence[OutboxItem], *, clear_drafts: Sequence[str] = (),
                audit: Sequence = ()) -> None:
        with self.lock:
            for it in items:
                self.items[it.id] = copy.deepcopy(it)
            for t in clear_drafts:
                self.drafts.pop(t, None)
            self.audits.extend((a.action, a.user) for a in audit)

    def outbox(self, states: Iterable[OutboxState] | None = None) -> list[OutboxItem]:
        st = set(states) if states is not None else None
        with self.lock:
            return [copy.deepcopy(i) for i in self.items.values() if st is None or i.state in st]

    def update_outbox(self, item: OutboxItem) -> None:
        with self.lock:
            self.items[item.id] = copy.deepcopy(item)

    def outbox_counts(self) -> dict[OutboxState, int]:
        out: dict[OutboxState, int] = {}
        for i in self.items.values():
            out[i.state] = out.get(i.state, 0) + 1
        return out

    def save_draft(self, draft: Draft) -> None:
        self.drafts[draft.thread_id] = draft

    def draft(self, thread_id: str) -> Draft | None:
        return self.drafts.get(thread_id)

    def delete_draft(self, thread_id: str) -> None:
        self.drafts.pop(thread_id, None)

    def audit(self, action: str, *, user: str, entity: str | None = None,
              detail: dict[str, Any] | None = None) -> None:
        self.audits.append((action, user))

    def close(self) -> None:
        pass

    def crash_copy(self) -> MemStore:
        """What a crashed process would find on disk (everything: the double is 'durable')."""
        with self.lock:
            return copy.deepcopy(self)
