"""A synthetic practice of refill threads with known answers (tests and bench_templates).

Each refill patient has two active MedicationRequests (so the one to name must come from the
message) at one pharmacy; every third patient prefers Spanish. ``n_urgent`` more refill threads
are urgent (they must stay out of a batch unless added). Names and drugs are made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from triage_tui.domain.codes import (
    LANGUAGE_SYSTEM,
    BusinessStatus,
    Category,
    Pool,
    Priority,
    TaskStatus,
)
from triage_tui.server.synth._common import header, message, ref, task, ts

NOW = datetime(2025, 3, 14, 14, 30, tzinfo=UTC)
GIVEN = ["Ada", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Iris", "Jonas",
         "Keiko", "Luis", "Mara", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tomas"]
FAMILY = ["Quill", "Rowe", "Santos", "Tran", "Umber", "Vance", "Wolfe", "Xu", "Young", "Zeller",
          "Abara", "Bello", "Cruz"]
DRUGS = [("Lisinopril", "10 mg once daily"), ("Metformin", "500 mg twice daily"),
         ("Atorvastatin", "20 mg at bedtime"), ("Levothyroxine", "50 mcg every morning"),
         ("Amlodipine", "5 mg once daily"), ("Sertraline", "50 mg once daily")]
PHARMACIES = ["Corner Pharmacy, 12 Elm St", "Farmacia Central, 40 Main St", "Riverside Drugs"]
NURSE = "nurse1"


@dataclass(frozen=True, slots=True)
class Expected:
    thread_id: str
    patient_id: str
    first_name: str
    medication: str
    dose: str
    pharmacy: str
    language: str
    urgent: bool


def refill_practice(n_refill: int = 30, n_urgent: int = 2, *, now: datetime = NOW,
                    prefix: str = "") -> tuple[list[dict], list[Expected]]:
    res: list[dict] = [{
        "resourceType": "Practitioner", "id": NURSE, "active": True,
        "name": [{"family": "Lee", "given": ["Nurse"]}],
    }]
    expected: list[Expected] = []
    for i in range(n_refill + n_urgent):
        pid = f"{prefix}rp{i}"
        given, family = GIVEN[i % len(GIVEN)], FAMILY[i % len(FAMILY)]
        if i >= len(GIVEN):
            given = f"{given}{chr(ord('a') + i // len(GIVEN))}"
        lang = "es" if i % 3 == 2 else "en"
        name = f"{given} {family}"
        res.append({
            "resourceType": "Patient", "id": pid, "active": True,
            "name": [{"use": "official", "family": family, "given": [given]}],
            "communication": [{"language": {"coding": [{"system": LANGUAGE_SYSTEM,
                                                        "code": lang}]}, "preferred": True}],
        })
        a, b = DRUGS[i % len(DRUGS)], DRUGS[(i + 1) % len(DRUGS)]
        pharmacy = PHARMACIES[i % len(PHARMACIES)]
        for k, (drug, dose) in enumerate((a, b)):
            res.append({
                "resourceType": "MedicationRequest", "id": f"{pid}-med{k}", "status": "active",
                "intent": "order", "medicationCodeableConcept": {"text": drug},
                "subject": ref("Patient", pid, name), "authoredOn": ts(now - timedelta(days=90)),
                "dosageInstruction": [{"text": dose}],
                "dispenseRequest": {"numberOfRepeatsAllowed": 2,
                                    "performer": {"display": pharmacy}},
            })
        urgent = i >= n_refill
        prio = Priority.URGENT if urgent else Priority.ROUTINE
        hid = f"{prefix}rt{i}"
        sent = now - timedelta(minutes=30 + i)
        text = (f"Hola, necesito un resurtido de mi {a[0].lower()}, ya casi no me queda."
                if lang == "es" else f"Hi, can I get a refill of my {a[0].lower()}? Almost out.")
        if urgent:
            text += " Also my chest hurts since this morning."
        res.append(header(hid, patient_id=pid, patient_name=name, subject_line="Refill request",
                          category=Category.REFILL, priority=prio, sent=sent, closed=False))
        res.append(message(f"{hid}-m1", header_id=hid, patient_id=pid, patient_name=name,
                           category=Category.REFILL, text=text,
                           sender=ref("Patient", pid, name), recipient=None, sent=sent))
        res.append(task(f"{prefix}task-{i}", header_id=hid, patient_id=pid, patient_name=name,
                        pool=Pool.PROVIDER if urgent else Pool.PHARMACY,
                        status=TaskStatus.REQUESTED, business_status=BusinessStatus.UNASSIGNED,
                        priority=prio, authored=sent, last_modified=sent,
                        due=sent + timedelta(hours=2 if urgent else 48)))
        expected.append(Expected(hid, pid, given, a[0], a[1], pharmacy, lang, urgent))
    return res, expected
