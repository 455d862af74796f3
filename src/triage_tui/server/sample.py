"""A tiny, hand-built synthetic practice (deterministic ids) for tests.

``small_practice()`` returns FHIR resource dicts in dependency order, shaped like the
generator's output (shared/DESIGN.md mapping): 3 patients, 2 practitioners, ``n_threads``
threads (header Communication + 1-3 messages + one Task). All names are obviously fake.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage_tui.domain.codes import (
    BUSINESS_STATUS_SYSTEM, CATEGORY_SYSTEM, DEFAULT_POOL, MRN_SYSTEM, POOL_SYSTEM,
    STAFF_ID_SYSTEM, Category, Priority,
)

_CATS = [Category.REFILL, Category.APPOINTMENT, Category.RESULTS, Category.CLINICAL, Category.ADMIN]
_PRIOS = [Priority.ROUTINE, Priority.ROUTINE, Priority.URGENT, Priority.ROUTINE, Priority.ASAP]


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def small_practice(n_threads: int = 6, now: datetime | None = None) -> list[dict]:
    now = now or datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
    out: list[dict] = []
    for i in range(1, 4):
        out.append({
            "resourceType": "Patient", "id": f"pat-{i}",
            "identifier": [{"system": MRN_SYSTEM, "value": f"MRN{i:05d}"}],
            "name": [{"family": f"Testperson{i}", "given": [f"Sample{i}"]}],
            "birthDate": f"19{60 + i}-0{i}-1{i}",
            "gender": ["female", "male", "other"][i - 1],
            "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47",
                                                        "code": "es" if i == 3 else "en"}]}}],
        })
    for i in range(1, 3):
        out.append({
            "resourceType": "Practitioner", "id": f"prac-{i}",
            "identifier": [{"system": STAFF_ID_SYSTEM, "value": f"S{i:03d}"}],
            "name": [{"family": f"Clinician{i}", "given": [f"Demo{i}"]}],
        })
    headers, messages, tasks = [], [], []
    for t in range(1, n_threads + 1):
        cat = _CATS[(t - 1) % len(_CATS)]
        prio = _PRIOS[(t - 1) % len(_PRIOS)]
        pat = f"pat-{(t - 1) % 3 + 1}"
        sent = now - timedelta(hours=3 * (n_threads - t + 1))
        hid = f"th-{t}"
        headers.append({
            "resourceType": "Communication", "id": hid, "status": "in-progress",
            "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": cat.value}]}],
            "priority": prio.value, "subject": {"reference": f"Patient/{pat}"},
            "topic": {"text": f"Sample {cat.value} question {t}"}, "sent": _ts(sent),
        })
        for m in range(1, (t % 3) + 2):
            from_patient = m % 2 == 1
            msg = {
                "resourceType": "Communication", "id": f"msg-{t}-{m}",
                "partOf": [{"reference": f"Communication/{hid}"}], "status": "completed",
                "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": cat.value}]}],
                "subject": {"reference": f"Patient/{pat}"},
                "sent": _ts(sent + timedelta(minutes=20 * m)),
                "sender": {"reference": f"Patient/{pat}" if from_patient else "Practitioner/prac-1"},
                "recipient": [{"reference": "Practitioner/prac-1" if from_patient else f"Patient/{pat}"}],
                "payload": [{"contentString": f"Sample message {m} of thread {t}."}],
            }
            if m > 1:
                msg["inResponseTo"] = [{"reference": f"Communication/msg-{t}-{m - 1}"}]
            messages.append(msg)
        pool = DEFAULT_POOL[cat]
        tasks.append({
            "resourceType": "Task", "id": f"task-{t}", "status": "requested", "intent": "order",
            "priority": prio.value,
            "businessStatus": {"coding": [{"system": BUSINESS_STATUS_SYSTEM, "code": "unassigned"}]},
            "focus": {"reference": f"Communication/{hid}"}, "for": {"reference": f"Patient/{pat}"},
            "authoredOn": _ts(sent), "performerType": [{"coding": [{"system": POOL_SYSTEM,
                                                                     "code": pool.value}]}],
            "restriction": {"period": {"end": _ts(sent + timedelta(hours=48))}},
        })
    return out + headers + messages + tasks
