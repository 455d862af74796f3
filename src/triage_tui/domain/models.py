"""The client's model of the message queue: plain, immutable dataclasses, no I/O.

These are what the cache stores and the UI shows. ``domain.fhir`` maps FHIR R4 resources
onto them (and back, for what the client writes). Ids are FHIR logical ids of the server;
``version`` is the server's ``meta.versionId`` kept as an opaque string (compare, never parse).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from triage_tui.domain.codes import BusinessStatus, Category, Pool, Priority, TaskStatus


@dataclass(frozen=True, slots=True)
class Patient:
    id: str
    version: str
    given: str
    family: str
    birth_date: date | None = None
    mrn: str | None = None
    language: str = "en"  # BCP-47 primary tag of the preferred language
    phone: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given} {self.family}".strip()


@dataclass(frozen=True, slots=True)
class Practitioner:
    id: str
    version: str
    name: str
    pool: Pool | None = None


@dataclass(frozen=True, slots=True)
class Thread:
    """A conversation: the header Communication (or the first message of a flat chain)."""

    id: str
    version: str
    patient_id: str
    subject: str
    category: Category | None
    priority: Priority = Priority.ROUTINE
    status: str = "in-progress"  # Communication.status of the header
    created: datetime | None = None
    updated: datetime | None = None  # meta.lastUpdated of the header
    has_header: bool = True  # False for threads synthesised from flat Communications


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    version: str
    thread_id: str
    text: str
    sent: datetime | None
    sender_ref: str  # "Patient/123" or "Practitioner/45"
    in_response_to: str | None = None
    status: str = "completed"

    @property
    def from_patient(self) -> bool:
        return self.sender_ref.startswith("Patient/") or self.sender_ref.startswith("RelatedPerson/")


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    version: str
    thread_id: str
    patient_id: str
    pool: Pool | None
    status: TaskStatus
    business_status: BusinessStatus
    priority: Priority = Priority.ROUTINE
    owner_ref: str | None = None
    due: datetime | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class Medication:
    """A MedicationRequest, reduced to what a refill reply needs."""

    id: str
    version: str
    patient_id: str
    name: str
    dose: str = ""
    status: str = "active"
    refills_remaining: int | None = None
    pharmacy: str | None = None
    authored: datetime | None = None


@dataclass(frozen=True, slots=True)
class Appointment:
    id: str
    version: str
    patient_id: str
    start: datetime | None
    status: str = "booked"
    description: str = ""
    practitioner: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    id: str
    version: str
    patient_id: str
    name: str
    value: str
    unit: str = ""
    reference_low: float | None = None
    reference_high: float | None = None
    interpretation: str | None = None  # N, H, L, A ...
    effective: datetime | None = None


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    """One row of the queue: what the inbox needs without decrypting whole conversations."""

    thread: Thread
    task: Task | None = None
    patient_name: str = ""
    last_message_at: datetime | None = None
    last_from_patient: bool = True
    message_count: int = 0
    preview: str = ""
    extra: dict[str, object] = field(default_factory=dict)
