"""Validation: OperationOutcome with diagnostics, and nothing half-written."""

from __future__ import annotations

import pytest
from server_builders import header, message, patient, task


def _diag(r) -> str:
    oo = r.json()
    assert oo["resourceType"] == "OperationOutcome"
    return oo["issue"][0]["diagnostics"]


def test_malformed_json(client):
    r = client.post("/Patient", content=b"{not json", headers={"Content-Type": "application/fhir+json"})
    assert r.status_code == 400 and "JSON" in _diag(r)
    r = client.post("/Patient", content=b"", headers={"Content-Type": "application/fhir+json"})
    assert r.status_code == 400
    r = client.post("/Patient", json=[1, 2])
    assert r.status_code == 400


def test_resource_type_and_id_checks(client, uid):
    assert client.post("/Patient", json={"name": []}).status_code == 400
    r = client.post("/Patient", json={"resourceType": "Practitioner"})
    assert r.status_code == 400 and "does not match" in _diag(r)
    r = client.put(f"/Patient/a-{uid}", json=dict(patient(uid), id=f"b-{uid}"))
    assert r.status_code == 400 and "does not match" in _diag(r)
    r = client.put(f"/Patient/a-{uid}", json=patient(uid))
    assert r.status_code == 400 and "id" in _diag(r)
    r = client.put("/Patient/" + "x" * 65, json=dict(patient(uid), id="x" * 65))
    assert r.status_code == 400
    assert client.get(f"/Patient/a-{uid}").status_code == 404


@pytest.mark.parametrize("res,needle", [
    ({"resourceType": "Communication", "status": "sent"}, "Communication.status"),
    ({"resourceType": "Communication"}, "Communication.status is required"),
    ({"resourceType": "Communication", "status": "completed", "priority": "high"}, "priority"),
    ({"resourceType": "Communication", "status": "completed", "payload": [{"x": 1}]}, "content[x]"),
    ({"resourceType": "Communication", "status": "completed", "sent": "yesterday"}, "sent"),
    ({"resourceType": "Task", "status": "done", "intent": "order"}, "Task.status"),
    ({"resourceType": "Task", "status": "requested", "intent": "please"}, "Task.intent"),
    ({"resourceType": "Task", "status": "requested"}, "Task.intent is required"),
    ({"resourceType": "Task", "status": "requested", "intent": "order", "priority": "high"}, "priority"),
    ({"resourceType": "Patient", "gender": "f"}, "gender"),
    ({"resourceType": "Patient", "birthDate": "1990-13-45"}, "birthDate"),
    ({"resourceType": "MedicationRequest", "status": "active", "intent": "order"}, "medication[x]"),
    ({"resourceType": "Appointment", "status": "booked"}, "participant"),
    ({"resourceType": "Observation", "status": "final"}, "code"),
    ({"resourceType": "AuditEvent", "type": {"code": "rest"}}, "recorded"),
    ({"resourceType": "Communication", "status": "completed", "subject": {"reference": "Patient"}},
     "Type/id"),
    ({"resourceType": "Communication", "status": "completed", "subject": {"reference": "patient/1"}},
     "Type/id"),
    ({"resourceType": "Communication", "status": "completed",
      "subject": {"reference": "urn:uuid:0e1b5a4c-0000-4000-8000-000000000000"}}, "Type/id"),
])
def test_invalid_content_is_422(client, res, needle):
    r = client.post(f"/{res['resourceType']}", json=res)
    assert r.status_code == 422, r.text
    assert needle in _diag(r)


def test_unknown_reference_target(client, uid):
    r = client.post("/Communication", json=header(f"ghost-{uid}"))
    assert r.status_code == 422 and f"Patient/ghost-{uid}" in _diag(r)
    pid = client.post("/Patient", json=patient(uid)).json()["id"]
    hid = client.post("/Communication", json=header(pid)).json()["id"]
    client.delete(f"/Patient/{pid}")
    r = client.post("/Communication", json=message(pid, hid))
    assert r.status_code == 422 and "deleted" in _diag(r)


def test_valid_resources_of_every_type(client, uid):
    pid = client.post("/Patient", json=patient(uid)).json()["id"]
    prac = client.post("/Practitioner", json={"resourceType": "Practitioner", "name": [{"family": "Doc"}]})
    assert prac.status_code == 201
    prid = prac.json()["id"]
    hid = client.post("/Communication", json=header(pid, priority="urgent")).json()["id"]
    resources = [
        {"resourceType": "PractitionerRole", "practitioner": {"reference": f"Practitioner/{prid}"},
         "code": [{"coding": [{"system": "urn:test:pool", "code": "nursing"}]}]},
        task(pid, hid, priority="stat", owner={"reference": f"Practitioner/{prid}"}),
        {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
         "medicationCodeableConcept": {"text": "Testamine 10 mg"}, "subject": {"reference": f"Patient/{pid}"}},
        {"resourceType": "Appointment", "status": "booked", "start": "2025-05-01T09:00:00Z",
         "participant": [{"actor": {"reference": f"Patient/{pid}"}, "status": "accepted"}]},
        {"resourceType": "Observation", "status": "final", "code": {"text": "Test panel"},
         "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2025-04-01"},
        {"resourceType": "AuditEvent", "type": {"system": "http://dicom.nema.org/resources/ontology/DCM",
                                                "code": "110110"}, "action": "R",
         "recorded": "2025-04-01T10:00:00.000+00:00",
         "agent": [{"who": {"reference": f"Practitioner/{prid}"}, "requestor": True}],
         "source": {"observer": {"display": "triage-tui"}},
         "entity": [{"what": {"reference": f"Communication/{hid}"}}]},
    ]
    for res in resources:
        r = client.post(f"/{res['resourceType']}", json=res)
        assert r.status_code == 201, r.text
    b = client.get("/AuditEvent", params={"entity": f"Communication/{hid}"}).json()
    assert len(b["entry"]) == 1
    b = client.get("/Appointment", params={"patient": pid, "date": "ge2025-05-01"}).json()
    assert len(b["entry"]) == 1
