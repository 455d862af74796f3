"""A small synthetic practice (fake data only) for the sync tests, independent of server.synth."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from triage_tui.domain.codes import (
    BUSINESS_STATUS_SYSTEM,
    CATEGORY_SYSTEM,
    MRN_SYSTEM,
    POOL_SYSTEM,
    DEFAULT_POOL,
    Category,
)


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def practice(seed: int, n_threads: int, *, msgs_per_thread: int = 2) -> list[dict]:
    rng = random.Random(seed)
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    out: list[dict] = []
    for i in range(3):
        out.append({"resourceType": "Practitioner", "id": f"pr{i}",
                    "name": [{"given": [f"Staff{i}"], "family": "Example"}]})
        out.append({"resourceType": "PractitionerRole", "id": f"role{i}",
                    "practitioner": {"reference": f"Practitioner/pr{i}"},
                    "code": [{"coding": [{"system": POOL_SYSTEM, "code": "nursing"}]}]})
    n_pat = max(1, n_threads // 2)
    for i in range(n_pat):
        out.append({"resourceType": "Patient", "id": f"pat{i}",
                    "identifier": [{"system": MRN_SYSTEM, "value": f"M{i:06d}"}],
                    "name": [{"given": [f"Given{i}"], "family": f"Family{i}"}],
                    "birthDate": "1970-01-01"})
    cats = list(Category)
    for t in range(n_threads):
        pid = f"pat{rng.randrange(n_pat)}"
        cat = rng.choice(cats)
        sent = now - timedelta(minutes=rng.randrange(10_000))
        out.append({"resourceType": "Communication", "id": f"th{t}", "status": "in-progress",
                    "subject": {"reference": f"Patient/{pid}"}, "topic": {"text": f"Subject {t}"},
                    "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": str(cat)}]}],
                    "priority": "routine", "sent": _ts(sent)})
        prev = None
        for m in range(msgs_per_thread):
            mid = f"m{t}x{m}"
            msg = {"resourceType": "Communication", "id": mid, "status": "completed",
                   "partOf": [{"reference": f"Communication/th{t}"}],
                   "subject": {"reference": f"Patient/{pid}"},
                   "sender": {"reference": f"Patient/{pid}"},
                   "payload": [{"contentString": f"synthetic message {t}.{m}"}],
                   "sent": _ts(sent + timedelta(minutes=m))}
            if prev:
                msg["inResponseTo"] = [{"reference": f"Communication/{prev}"}]
            out.append(msg)
            prev = mid
        out.append({"resourceType": "Task", "id": f"task{t}", "status": "requested",
                    "intent": "order", "priority": "routine",
                    "focus": {"reference": f"Communication/th{t}"},
                    "for": {"reference": f"Patient/{pid}"},
                    "performerType": [{"coding": [{"system": POOL_SYSTEM,
                                                   "code": str(DEFAULT_POOL[cat])}]}],
                    "businessStatus": {"coding": [{"system": BUSINESS_STATUS_SYSTEM,
                                                   "code": "unassigned"}]},
                    "authoredOn": _ts(sent)})
    return out
