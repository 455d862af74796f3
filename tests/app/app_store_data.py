"""The app tests' synthetic practice (fixed dates) in the REAL encrypted Store.

The records are domain models ``store.upsert``-ed into a Store on a SQLite file in the test's
tmp_path (fast scrypt parameters: see :func:`open_practice_store`). ``n_threads`` threads,
categories in a fixed rotation; 25 patients, each with medications, an appointment and labs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from triage_tui.cache import crypto, open_store
from triage_tui.cache.store import Store
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
SERVER = "http://fhir.test/r4"
PASSPHRASE = "app tests only: not a secret"
FAST_SCRYPT = crypto.ScryptParams(n=2**10, r=8, p=1)  # as tests/cache: the KDF in ms

NURSE = Practitioner("nurse1", "1", "Nurse Lee")  # owner and sender of the staff replies

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


def patient_records(k: int, *, now: datetime = NOW) -> list:
    """Patient ``p{k}`` with two medications, an appointment and two (high) lab results."""
    pid = f"p{k}"
    return [
        Patient(pid, "1", _GIVEN[k % len(_GIVEN)], _FAMILY[k % len(_FAMILY)],
                birth_date=date(1950 + k, 1 + k % 12, 1 + k % 27), mrn=f"MRN{100000 + k}",
                language=("es" if k % 4 == 0 else "en")),
        Medication(f"m{k}a", "1", pid, "Lisinopril", "10 mg daily", refills_remaining=k % 3,
                   pharmacy="Corner Pharmacy, 12 Elm St"),
        Medication(f"m{k}b", "1", pid, "Metformin", "500 mg twice daily",
                   refills_remaining=2, pharmacy="Corner Pharmacy, 12 Elm St"),
        Appointment(f"a{k}", "1", pid, now + timedelta(days=3 + k),
                    description="Follow-up", practitioner="Dr. Okafor"),
        Observation(f"o{k}a", "1", pid, "Potassium", "5.9", "mmol/L", 3.5, 5.1, "H",
                    now - timedelta(days=2)),
        Observation(f"o{k}b", "1", pid, "HbA1c", "6.1", "%", 4.0, 5.6, "H",
                    now - timedelta(days=20)),
    ]


def thread_records(i: int, category: Category, *, text: str | None = None,
                   minutes_ago: int | None = None, now: datetime = NOW) -> list:
    """Thread ``t{i:04d}`` of patient ``p{i % 25}``: its header, one patient message (and a
    staff reply when ``i % 5 == 1``) and its Task (urgent when ``i % 7 == 3``)."""
    pid = f"p{i % 25}"
    tid = f"t{i:04d}"
    subject, default_text = _SUBJECTS[category]
    ago = minutes_ago if minutes_ago is not None else 15 + i * 37
    created = now - timedelta(minutes=ago)
    priority = Priority.URGENT if i % 7 == 3 else Priority.ROUTINE
    out: list = [
        Thread(tid, "1", pid, subject, category, priority, created=created, updated=created),
        Message(f"{tid}-m1", "1", tid, text or default_text, created, f"Patient/{pid}"),
    ]
    if i % 5 == 1:
        out.append(Message(f"{tid}-m2", "1", tid, "Thanks, we are looking into it and will "
                           "call you today.", created + timedelta(minutes=10),
                           "Practitioner/nurse1", in_response_to=f"{tid}-m1"))
    pool = {Category.REFILL: Pool.PHARMACY, Category.APPOINTMENT: Pool.SCHEDULING,
            Category.ADMIN: Pool.FRONT_DESK}.get(category, Pool.NURSING)
    out.append(Task(
        f"task-{tid}", "1", tid, pid, pool, TaskStatus.REQUESTED, BusinessStatus.UNASSIGNED,
        priority, owner_ref=("Practitioner/nurse1" if i % 6 == 0 else None),
        due=created + timedelta(hours=24 if priority is Priority.ROUTINE else 2)))
    return out


def practice_records(n_threads: int = 40, *, now: datetime = NOW) -> list:
    cats = list(Category)
    out: list = [NURSE]
    for k in range(min(n_threads, 25)):
        out += patient_records(k, now=now)
    for i in range(n_threads):
        out += thread_records(i, cats[i % len(cats)], now=now)
    return out


def open_practice_store(data_dir: Path, n_threads: int = 40, *, now: datetime = NOW) -> Store:
    """A new real Store in ``data_dir`` holding :func:`practice_records`. Call it with
    ``crypto.DEFAULT_SCRYPT`` patched to :data:`FAST_SCRYPT` (the ``store`` fixtures do)."""
    store = open_store(SERVER, NURSE.id, passphrase=PASSPHRASE, data_dir=data_dir,
                       keyring_ok=False)
    store.upsert(practice_records(n_threads, now=now))
    return store


# --- changes a test makes while the app runs (what a sync would write) --------------------------
def add_thread(store: Store, i: int, category: Category, *, text: str | None = None,
               minutes_ago: int | None = None) -> str:
    """A new thread (its patient is ``p{i % 25}``, already in the practice); its id."""
    records = thread_records(i, category, text=text, minutes_ago=minutes_ago)
    store.upsert(patient_records(i % 25) + records)
    return records[0].id


def add_patient_message(store: Store, tid: str, text: str, *, at: datetime) -> None:
    th = store.thread(tid)
    assert th is not None, tid
    n = len(store.messages(tid)) + 1
    store.upsert([Message(f"{tid}-m{n}", "1", tid, text, at, f"Patient/{th.patient_id}")])


def audit_rows(store: Store) -> list[tuple[str, str, str | None]]:
    """The audit log as (action, user, entity), oldest first."""
    return [(e.action, e.user, e.entity) for e in store.audit_log()]
