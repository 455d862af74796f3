"""A small in-memory CacheAPI for app tests (synthetic data only, fixed dates).

Used until, and alongside, the real encrypted store: the app must only rely on CacheAPI.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from triage_tui.cache.api import (
    Draft,
    OutboxItem,
    OutboxState,
    PatientContext,
    QueueRow,
    ThreadDisplay,
)
from triage_tui.domain.codes import BusinessStatus, Category, Pool, Priority, TaskStatus
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

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=timezone.utc)

_GIVEN = ["Ada", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Iris", "Jonas",
          "Keiko", "Luis", "Mara", "Nils", "Olga", "Pablo"]
_FAMILY = ["Quill", "Rowe", "Santos", "Tran", "Umber", "Vance", "Wolfe", "Xu", "Young", "Zeller"]
_SUBJECTS = {
    Category.REFILL: ("Refill lisinopril", "I am out of my lisinopril 10 mg, can you send a refill "
                      "to my pharmacy? Also some chest pain when climbing stairs."),
    Category.APPOINTMENT: ("Reschedule visit", "Could I move my appointment next week to a "
                           "morning slot? Thanks."),
    Category.RESULTS: ("Question about labs", "My potassium came back high, should I worry? "
                       "Feeling a bit dizzy."),
    Category.CLINICAL: ("Rash after new med", "I have a rash and shortness of breath since "
                        "starting the antibiotic yesterday."),
    Category.ADMIN: ("Form for work", "Can you fill the return-to-work form? I can drop it off."),
}


class FakeStore:
    """CacheAPI over dicts. ``n_threads`` threads, categories in a fixed rotation."""

    def __init__(self, n_threads: int = 40, *, now: datetime = NOW) -> None:
        self._lock = threading.Lock()
        self.now = now
        self.patients: dict[str, Patient] = {}
        self.threads: dict[str, Thread] = {}
        self.msgs: dict[str, list[Message]] = {}
        self.tasks: dict[str, Task] = {}
        self.meds: dict[str, list[Medication]] = {}
        self.appts: dict[str, list[Appointment]] = {}
        self.obs: dict[str, list[Observation]] = {}
        self.items: list[OutboxItem] = []
        self.drafts: dict[str, Draft] = {}
        self.audits: list[tuple[str, str, str | None]] = []
        self.enqueues = 0  # store.enqueue calls (transactions)
        self.meta: dict[str, str] = {}
        self.closed = False
        cats = list(Category)
        for i in range(n_threads):
            self.add_thread(i, cats[i % len(cats)])

    # --- data generation ----------------------------------------------------------------------
    def add_thread(self, i: int, category: Category, *, text: str | None = None,
                   minutes_ago: int | None = None) -> str:
        pid = f"p{i % 25}"
        if pid not in self.patients:
            k = int(pid[1:])
            self.patients[pid] = Patient(
                pid, "1", _GIVEN[k % len(_GIVEN)], _FAMILY[k % len(_FAMILY)],
                birth_date=date(1950 + k, 1 + k % 12, 1 + k % 27), mrn=f"MRN{100000 + k}",
                language=("es" if k % 4 == 0 else "en"))
            self.meds[pid] = [
                Medication(f"m{k}a", "1", pid, "Lisinopril", "10 mg daily", refills_remaining=k % 3,
                           pharmacy="Corner Pharmacy, 12 Elm St"),
                Medication(f"m{k}b", "1", pid, "Metformin", "500 mg twice daily",
                           refills_remaining=2, pharmacy="Corner Pharmacy, 12 Elm St"),
            ]
            self.appts[pid] = [Appointment(f"a{k}", "1", pid, self.now + timedelta(days=3 + k),
                                           description="Follow-up", practitioner="Dr. Okafor")]
            self.obs[pid] = [
                Observation(f"o{k}a", "1", pid, "Potassium", "5.9", "mmol/L", 3.5, 5.1, "H",
                            self.now - timedelta(days=2)),
                Observation(f"o{k}b", "1", pid, "HbA1c", "6.1", "%", 4.0, 5.6, "H",
                            self.now - timedelta(days=20)),
            ]
        tid = f"t{i:04d}"
        subject, default_text = _SUBJECTS[category]
        ago = minutes_ago if minutes_ago is not None else 15 + i * 37
        created = self.now - timedelta(minutes=ago)
        priority = Priority.URGENT if i % 7 == 3 else Priority.ROUTINE
        self.threads[tid] = Thread(tid, "1", pid, subject, category, priority, created=created,
                                   updated=created)
        self.msgs[tid] = [Message(f"{tid}-m1", "1", tid, text or default_text, created,
                                  f"Patient/{pid}")]
        if i % 5 == 1:
            self.msgs[tid].append(Message(f"{tid}-m2", "1", tid, "Thanks, we are looking into "
                                          "it and will call you today.",
                                          created + timedelta(minutes=10),
                                          "Practitioner/nurse1", in_response_to=f"{tid}-m1"))
        pool = {Category.REFILL: Pool.PHARMACY, Category.APPOINTMENT: Pool.SCHEDULING,
                Category.ADMIN: Pool.FRONT_DESK}.get(category, Pool.NURSING)
        self.tasks[tid] = Task(
            f"task-{tid}", "1", tid, pid, pool, TaskStatus.REQUESTED, BusinessStatus.UNASSIGNED,
            priority, owner_ref=("Practitioner/nurse1" if i % 6 == 0 else None),
            due=created + timedelta(hours=24 if priority is Priority.ROUTINE else 2))
        return tid

    def add_patient_message(self, tid: str, text: str, *, at: datetime) -> None:
        with self._lock:
            th = self.threads[tid]
            n = len(self.msgs[tid]) + 1
            self.msgs[tid].append(Message(f"{tid}-m{n}", "1", tid, text, at,
                                          f"Patient/{th.patient_id}"))

    # --- CacheAPI -------------------------------------------------------------------------------
    def upsert(self, records: Sequence[Any]) -> int:
        return 0

    def delete(self, resource_type: str, ids: Iterable[str]) -> int:
        return 0

    def version_of(self, resource_type: str, id: str) -> str | None:
        return None

    def get_cursor(self, resource_type: str) -> str | None:
        return None

    def set_cursor(self, resource_type: str, value: str) -> None:
        pass

    def get_meta(self, key: str) -> str | None:
        return self.meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self.meta[key] = value

    def queue(self) -> list[QueueRow]:
        with self._lock:
            rows = []
            for tid, th in self.threads.items():
                msgs = self.msgs[tid]
                task = self.tasks.get(tid)
                rows.append(QueueRow(
                    tid, th.patient_id, th.category.value if th.category else None,
                    th.priority.value, th.status, th.created, msgs[-1].sent,
                    msgs[-1].from_patient, len(msgs), task.id if task else None,
                    task.pool.value if task and task.pool else None,
                    task.owner_ref if task else None,
                    task.business_status.value if task else None, task.due if task else None))
            return rows

    def thread_display(self, thread_ids: Sequence[str]) -> dict[str, ThreadDisplay]:
        out = {}
        for tid in thread_ids:
            th = self.threads.get(tid)
            if th is None:
                continue
            last = [m for m in self.msgs[tid] if m.from_patient][-1:]
            out[tid] = ThreadDisplay(tid, self.patients[th.patient_id].display_name, th.subject,
                                     last[0].text[:80] if last else "")
        return out

    def thread(self, thread_id: str) -> Thread | None:
        return self.threads.get(thread_id)

    def messages(self, thread_id: str) -> list[Message]:
        return list(self.msgs.get(thread_id, []))

    def task_for_thread(self, thread_id: str) -> Task | None:
        return self.tasks.get(thread_id)

    def patient(self, patient_id: str) -> Patient | None:
        return self.patients.get(patient_id)

    def practitioner(self, practitioner_id: str) -> Practitioner | None:
        return Practitioner(practitioner_id, "1", "Nurse Lee") if practitioner_id else None

    def patient_context(self, patient_id: str) -> PatientContext:
        return PatientContext(self.patients.get(patient_id), list(self.meds.get(patient_id, [])),
                              list(self.appts.get(patient_id, [])),
                              list(self.obs.get(patient_id, [])))

    def search(self, text: str) -> set[str]:
        words = text.lower().split()
        out = set()
        for tid, th in self.threads.items():
            hay = " ".join([th.subject, self.patients[th.patient_id].display_name,
                            *(m.text for m in self.msgs[tid])]).lower()
            if all(w in hay for w in words):
                out.add(tid)
        return out

    def enqueue(self, items: Sequence[OutboxItem], *, clear_drafts: Sequence[str] = (),
                audit: Sequence = ()) -> None:
        with self._lock:
            self.enqueues += 1
            for it in items:
                self.items.append(replace(it, created=it.created or self.now))
            for tid in clear_drafts:
                self.drafts.pop(tid, None)
            self.audits.extend((a.action, a.user, a.entity) for a in audit)

    def outbox(self, states: Iterable[OutboxState] | None = None) -> list[OutboxItem]:
        wanted = set(states) if states is not None else None
        return [i for i in self.items if wanted is None or i.state in wanted]

    def update_outbox(self, item: OutboxItem) -> None:
        self.items = [item if i.id == item.id else i for i in self.items]

    def outbox_counts(self) -> dict[OutboxState, int]:
        counts = {s: 0 for s in OutboxState}
        for i in self.items:
            counts[i.state] += 1
        return counts

    def save_draft(self, draft: Draft) -> None:
        self.drafts[draft.thread_id] = draft

    def draft(self, thread_id: str) -> Draft | None:
        return self.drafts.get(thread_id)

    def delete_draft(self, thread_id: str) -> None:
        self.drafts.pop(thread_id, None)

    def audit(self, action: str, *, user: str, entity: str | None = None,
              detail: dict[str, Any] | None = None) -> None:
        self.audits.append((action, user, entity))

    def close(self) -> None:
        self.closed = True
