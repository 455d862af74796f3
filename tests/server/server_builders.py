"""Resource builders shared by the server tests (imported as a plain module)."""

from __future__ import annotations


def patient(uid: str, **kw) -> dict:
    return {"resourceType": "Patient",
            "identifier": [{"system": "urn:test:mrn", "value": uid}],
            "name": [{"family": "Testfamily", "given": ["Tess"]}], **kw}


def header(pid: str, **kw) -> dict:
    return {"resourceType": "Communication", "status": "in-progress",
            "subject": {"reference": f"Patient/{pid}"},
            "category": [{"coding": [{"system": "urn:test:cat", "code": "refill"}]}],
            "topic": {"text": "Refill"}, **kw}


def message(pid: str, hid: str, text: str = "hello", **kw) -> dict:
    return {"resourceType": "Communication", "status": "completed",
            "partOf": [{"reference": f"Communication/{hid}"}],
            "subject": {"reference": f"Patient/{pid}"},
            "sender": {"reference": f"Patient/{pid}"},
            "sent": "2025-01-01T10:00:00Z",
            "payload": [{"contentString": text}], **kw}


def task(pid: str, hid: str, **kw) -> dict:
    return {"resourceType": "Task", "status": "requested", "intent": "order",
            "focus": {"reference": f"Communication/{hid}"}, "for": {"reference": f"Patient/{pid}"},
            **kw}
