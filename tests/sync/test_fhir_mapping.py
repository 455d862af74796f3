"""domain/fhir.py mapping, backoff parsing, client URL rules (no server)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from triage_tui.domain.codes import CLIENT_MESSAGE_ID_SYSTEM, BusinessStatus, Pool
from triage_tui.domain.fhir import (
    MalformedResource,
    is_retracted,
    parse_records,
    parse_resource,
    reply_communication,
    task_update,
)
from triage_tui.domain.models import Message, Task, Thread
from triage_tui.errors import UserError
from triage_tui.sync.backoff import full_jitter, retry_after_seconds
from triage_tui.sync.client import FhirClient, check_server_url, outcome_text

META = {"versionId": "3", "lastUpdated": "2025-01-02T03:04:05.678+00:00"}


def test_header_message_and_flat():
    header = {"resourceType": "Communication", "id": "h1", "meta": META, "status": "in-progress",
              "subject": {"reference": "Patient/p1"}, "topic": {"text": "Refill"}}
    t = parse_resource(header)
    assert isinstance(t, Thread) and t.has_header and t.patient_id == "p1" and t.version == "3"
    msg = {"resourceType": "Communication", "id": "m1", "meta": META, "status": "completed",
           "partOf": [{"reference": "Communication/h1"}], "sender": {"reference": "Patient/p1"},
           "payload": [{"contentString": "hi"}], "sent": "2025-01-02T03:00:00Z"}
    m = parse_resource(msg)
    assert isinstance(m, Message) and m.thread_id == "h1" and m.from_patient
    flat = {"resourceType": "Communication", "id": "f1", "meta": META, "status": "completed",
            "sender": {"reference": "Patient/p2"}, "payload": [{"contentString": "help me"}]}
    th, fm = parse_records(flat)
    assert isinstance(th, Thread) and not th.has_header and fm.thread_id == "f1"
    answer = {**flat, "id": "f2", "sender": {"reference": "Practitioner/x"},
              "inResponseTo": [{"reference": "Communication/f1"}]}
    (am,) = parse_records(answer, {"f1": "f1"}.get)
    assert am.thread_id == "f1" and not am.from_patient
    deeper = {**answer, "id": "f3", "inResponseTo": [{"reference": "Communication/f2"}]}
    (dm,) = parse_records(deeper, {"f1": "f1", "f2": "f1"}.get)
    assert dm.thread_id == "f1"


@pytest.mark.parametrize("res", [
    {"resourceType": "Communication", "meta": META},  # no id
    {"resourceType": "Communication", "id": "x", "partOf": [{"reference": "Communication/h"}],
     "payload": [{"contentString": "t"}]},  # no sender
    {"resourceType": "Task", "id": "t", "status": "requested"},  # no focus
    {"resourceType": "Task", "id": "t", "status": "bogus",
     "focus": {"reference": "Communication/h"}},
    {"resourceType": "Observation", "id": "o", "code": {"text": "x"}},  # no patient
])
def test_malformed_raises_typed_error(res):
    with pytest.raises(MalformedResource):
        parse_records(res)


def test_retracted_and_unknown_types():
    assert is_retracted({"status": "entered-in-error"})
    assert parse_records({"resourceType": "Device", "id": "d"}) == []


def test_reply_and_task_builders():
    thread = Thread(id="h1", version="1", patient_id="p1", subject="s", category=None)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    c = reply_communication("cid-1", thread, None, "Hello", "Practitioner/9", now)
    assert c["id"] == "cid-1" and c["status"] == "completed"
    assert c["partOf"] == [{"reference": "Communication/h1"}]
    assert c["identifier"] == [{"system": CLIENT_MESSAGE_ID_SYSTEM, "value": "cid-1"}]
    assert c["recipient"] == [{"reference": "Patient/p1"}] and c["sent"].endswith("Z")
    with pytest.raises(ValueError):
        reply_communication("x", thread, None, "  ", "Practitioner/9", now)
    raw = {"resourceType": "Task", "id": "t1", "meta": META, "status": "requested",
           "intent": "order", "focus": {"reference": "Communication/h1"},
           "owner": {"reference": "Practitioner/1"}, "extension": [{"url": "keep"}]}
    up = task_update(raw, owner_ref=None, pool=Pool.NURSING,
                     business_status=BusinessStatus.ESCALATED, now=now)
    assert "owner" not in up and "meta" not in up and up["extension"] == [{"url": "keep"}]
    t = parse_resource({**up, "meta": META})
    assert isinstance(t, Task) and t.pool == Pool.NURSING
    assert t.business_status == BusinessStatus.ESCALATED


def test_retry_after_and_ratelimit_fields():
    assert retry_after_seconds({"retry-after": "7"}) == 7
    when = datetime(2025, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "Wed, 01 Jan 2025 00:00:30 GMT"},
                               now=when.replace(second=0)) == 30
    assert retry_after_seconds({"ratelimit": '"default";r=0;t=43'}) == 43
    assert retry_after_seconds({"ratelimit": '"default";r=5;t=43'}) is None
    assert retry_after_seconds({"ratelimit": '"default";r=5;t=43'}, status=429) == 43
    assert retry_after_seconds({"ratelimit-remaining": "0", "ratelimit-reset": "9"}) == 9
    assert all(0 <= full_jitter(a, base=1, cap=5) <= 5 for a in range(40))


def test_urls_tls_and_outcome_text():
    assert check_server_url("http://127.0.0.1:8080/fhir/") == "http://127.0.0.1:8080/fhir"
    assert check_server_url("http://[::1]/fhir")
    with pytest.raises(UserError):
        check_server_url("http://fhir.example.org/fhir")
    assert check_server_url("http://fhir.example.org/fhir", allow_insecure_http=True)
    c = FhirClient("https://fhir.example.org/r4", "tok")
    # next links from behind a proxy are pinned to our host; others refused (token stays home)
    assert c.same_server("http://internal:8080/r4/Patient?_cursor=1") == \
        "https://fhir.example.org/r4/Patient?_cursor=1"
    with pytest.raises(Exception, match="outside"):
        c.same_server("https://evil.example.com/steal")
    oo = {"resourceType": "OperationOutcome",
          "issue": [{"diagnostics": "a"}, {"details": {"text": "b"}}]}
    assert outcome_text(oo) == "a; b"
