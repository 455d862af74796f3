"""domain.fhir: each element of a resource lands in its own field, with the field's type (the
parsers build records positionally, so a slip in the order would show here)."""

from __future__ import annotations

import typing
from datetime import UTC, datetime

from triage_tui.domain import fhir, models
from triage_tui.server.synth.practice import generate_practice

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
META = {"versionId": "2", "lastUpdated": "2025-03-01T12:00:00.123+00:00"}


def _ref(res, key):
    ref = res.get(key)
    return ref["reference"].split("/", 1)[1] if isinstance(ref, dict) else None


def test_fields_have_their_types_and_their_elements():
    seen: dict[str, int] = {}
    resolve = {}.get
    for res in generate_practice(5, 60, NOW):
        res = {**res, "meta": dict(META)}
        try:
            recs = fhir.parse_records(res, resolve)
        except fhir.MalformedResource:
            continue
        for rec in recs:
            hints = typing.get_type_hints(type(rec))
            for name, hint in hints.items():
                assert isinstance(getattr(rec, name), hint), (type(rec).__name__, name, rec)
            assert rec.id == res["id"] and rec.version == res["meta"]["versionId"]
            kind = type(rec).__name__
            seen[kind] = seen.get(kind, 0) + 1
            if isinstance(rec, models.Message):
                assert rec.text == res["payload"][0]["contentString"]
                assert rec.sender_ref == res["sender"]["reference"]
                assert rec.sent == fhir.parse_instant(res.get("sent"))
                assert rec.status == res["status"]
                if res.get("partOf"):
                    assert rec.thread_id == res["partOf"][0]["reference"].split("/")[1]
                irt = res.get("inResponseTo")
                assert rec.in_response_to == (irt[0]["reference"].split("/")[1] if irt else None)
            elif isinstance(rec, models.Thread):
                assert rec.patient_id == _ref(res, "subject")
                assert rec.priority == res.get("priority", "routine")
                assert rec.updated == fhir.parse_instant(res["meta"]["lastUpdated"])
                assert rec.created == (fhir.parse_instant(res.get("sent")) or rec.updated)
                assert rec.has_header is (not res.get("payload"))
            elif isinstance(rec, models.Task):
                assert rec.thread_id == _ref(res, "focus")
                assert rec.patient_id == (_ref(res, "for") or "")
                assert rec.status == res["status"] and rec.priority == res.get("priority", "routine")
                assert rec.owner_ref == (res.get("owner") or {}).get("reference")
                assert rec.due == fhir.parse_instant(res.get("restriction", {}).get("period", {}).get("end"))
                assert rec.last_modified == fhir.parse_instant(res["lastModified"])
            elif isinstance(rec, models.Patient):
                assert rec.family == res["name"][0]["family"]
                assert rec.given == " ".join(res["name"][0]["given"])
                assert str(rec.birth_date) == res.get("birthDate", "None")
            elif isinstance(rec, models.Medication):
                assert rec.patient_id == _ref(res, "subject") and rec.status == res["status"]
                assert rec.authored == fhir.parse_instant(res.get("authoredOn"))
                assert rec.refills_remaining == res.get("dispenseRequest", {}).get(
                    "numberOfRepeatsAllowed")
            elif isinstance(rec, models.Appointment):
                assert rec.start == fhir.parse_instant(res.get("start"))
                assert rec.status == res["status"] and rec.description == res["description"]
            elif isinstance(rec, models.Observation):
                assert rec.patient_id == _ref(res, "subject") and rec.name == res["code"]["text"]
                assert rec.effective == fhir.parse_instant(res.get("effectiveDateTime"))
    assert set(seen) >= {"Message", "Thread", "Task", "Patient", "Medication", "Appointment",
                         "Observation"}
