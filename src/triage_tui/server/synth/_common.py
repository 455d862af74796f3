"""Building blocks shared by the practice generator and the live simulator.

Everything here is pure: ids come from a caller-supplied seeded ``random.Random`` and times
from a caller-supplied ``now``, so the output is a function of (seed, arguments, now).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from triage_tui.domain.codes import (
    BUSINESS_STATUS_SYSTEM,
    CATEGORY_SYSTEM,
    DEFAULT_POOL,
    POOL_SYSTEM,
    BusinessStatus,
    Category,
    Pool,
    Priority,
    TaskStatus,
)

CATEGORY_DISPLAY = {
    Category.REFILL: "Medication refill",
    Category.APPOINTMENT: "Appointment",
    Category.RESULTS: "Test results",
    Category.CLINICAL: "Clinical question",
    Category.ADMIN: "Administrative",
}
POOL_DISPLAY = {
    Pool.PHARMACY: "Pharmacy",
    Pool.SCHEDULING: "Scheduling",
    Pool.NURSING: "Nursing",
    Pool.PROVIDER: "Provider",
    Pool.FRONT_DESK: "Front desk",
}
BUSINESS_STATUS_DISPLAY = {
    BusinessStatus.UNASSIGNED: "Unassigned",
    BusinessStatus.CLAIMED: "Claimed",
    BusinessStatus.ESCALATED: "Escalated",
    BusinessStatus.DONE: "Done",
}
# The typical mix of incoming messages (DESIGN.md), in per cent.
CATEGORY_MIX: dict[Category, int] = {
    Category.REFILL: 32,
    Category.APPOINTMENT: 24,
    Category.RESULTS: 18,
    Category.CLINICAL: 15,
    Category.ADMIN: 11,
}
# Response-time commitment per kind (hours); non-routine priority overrides.
SLA_HOURS: dict[Category, float] = {
    Category.REFILL: 48,
    Category.APPOINTMENT: 24,
    Category.RESULTS: 72,
    Category.CLINICAL: 24,
    Category.ADMIN: 72,
}
URGENT_SLA_HOURS = 2.0


@dataclass(frozen=True, slots=True)
class ThreadTruth:
    """Ground truth about one generated thread; never written into the FHIR resources."""

    thread_id: str
    task_id: str
    patient_id: str
    category: Category
    intents: tuple[Category, ...]  # every intent of the first message, primary first
    language: str  # "en" or "es"
    urgent: bool  # truly urgent (needs a provider now), whatever the server priority says
    urgent_kind: str | None  # chest_pain, breathing, anaphylaxis, suicidal, stroke, infant_fever
    urgent_keyword: bool  # the obvious keyword is present (False: only described)
    negated: bool  # contains a negated alarm ("no chest pain, just ...")
    history: bool  # mentions a past alarm ("had chest pain last year")
    caregiver: bool  # written by someone for the patient
    priority: Priority  # what the server says
    closed: bool
    hostile: bool  # at least one message carries a hostile text
    typo: bool  # the first message went through the typo function
    message_ids: tuple[str, ...] = ()
    medication_id: str | None = None
    appointment_id: str | None = None
    observation_ids: tuple[str, ...] = ()


def new_id(rng: random.Random) -> str:
    """An opaque uuid4-shaped id from a seeded generator."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def default_now() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def as_utc(now: datetime | None) -> datetime:
    if now is None:
        return default_now()
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def ts(dt: datetime) -> str:
    """FHIR instant/dateTime with seconds, in UTC."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ref(resource_type: str, rid: str, display: str | None = None) -> dict:
    out = {"reference": f"{resource_type}/{rid}"}
    if display:
        out["display"] = display
    return out


def category_cc(category: Category) -> list[dict]:
    return [
        {
            "coding": [
                {
                    "system": CATEGORY_SYSTEM,
                    "code": category.value,
                    "display": CATEGORY_DISPLAY[category],
                }
            ]
        }
    ]


def pool_coding(pool: Pool) -> dict:
    return {"system": POOL_SYSTEM, "code": pool.value, "display": POOL_DISPLAY[pool]}


def pool_for(category: Category, priority: Priority) -> Pool:
    """Category -> pool by DEFAULT_POOL; anything the server already flags goes to a provider."""
    return Pool.PROVIDER if priority is not Priority.ROUTINE else DEFAULT_POOL[category]


def sla_hours(category: Category, priority: Priority) -> float:
    """The response-time commitment in hours (non-routine priority: URGENT_SLA_HOURS)."""
    return URGENT_SLA_HOURS if priority is not Priority.ROUTINE else SLA_HOURS[category]


def due_for(sent: datetime, category: Category, priority: Priority) -> datetime:
    return sent + timedelta(hours=sla_hours(category, priority))


def header(
    rid: str,
    *,
    patient_id: str,
    patient_name: str,
    subject_line: str,
    category: Category,
    priority: Priority,
    sent: datetime,
    closed: bool,
    recipient: dict | None = None,
) -> dict:
    res: dict = {
        "resourceType": "Communication",
        "id": rid,
        "status": "completed" if closed else "in-progress",
        "category": category_cc(category),
        "priority": priority.value,
        "subject": ref("Patient", patient_id, patient_name),
        "topic": {"text": subject_line},
        "sent": ts(sent),
    }
    if recipient:
        res["recipient"] = [recipient]
    return res


def message(
    rid: str,
    *,
    header_id: str,
    patient_id: str,
    patient_name: str,
    category: Category,
    text: str,
    sender: dict,
    recipient: dict | None,
    sent: datetime,
    in_response_to: str | None = None,
) -> dict:
    res: dict = {
        "resourceType": "Communication",
        "id": rid,
        "partOf": [ref("Communication", header_id)],
        "status": "completed",
        "category": category_cc(category),
        "subject": ref("Patient", patient_id, patient_name),
        "sent": ts(sent),
        "sender": sender,
    }
    if recipient:
        res["recipient"] = [recipient]
    if in_response_to:
        res["inResponseTo"] = [ref("Communication", in_response_to)]
    res["payload"] = [{"contentString": text}]
    return res


def task(
    rid: str,
    *,
    header_id: str,
    patient_id: str,
    patient_name: str,
    pool: Pool,
    status: TaskStatus,
    business_status: BusinessStatus,
    priority: Priority,
    authored: datetime,
    last_modified: datetime,
    due: datetime,
    owner: dict | None = None,
    description: str | None = None,
) -> dict:
    res: dict = {
        "resourceType": "Task",
        "id": rid,
        "status": status.value,
        "businessStatus": {
            "coding": [
                {
                    "system": BUSINESS_STATUS_SYSTEM,
                    "code": business_status.value,
                    "display": BUSINESS_STATUS_DISPLAY[business_status],
                }
            ]
        },
        "intent": "order",
        "priority": priority.value,
        "focus": ref("Communication", header_id),
        "for": ref("Patient", patient_id, patient_name),
        "authoredOn": ts(authored),
        "lastModified": ts(last_modified),
        "performerType": [{"coding": [pool_coding(pool)]}],
        "restriction": {"period": {"end": ts(due)}},
    }
    if description:
        res["description"] = description
    if owner:
        res["owner"] = owner
    return res


def weighted_counts(total: int, weights: dict) -> dict:
    """Split ``total`` by ``weights`` exactly (largest remainder), keys in their given order."""
    s = sum(weights.values())
    raw = {k: total * w / s for k, w in weights.items()}
    counts = {k: int(v) for k, v in raw.items()}
    rest = total - sum(counts.values())
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[:rest]:
        counts[k] += 1
    return counts
