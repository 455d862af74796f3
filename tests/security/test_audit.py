"""Audit trail (issue 8, part 3): HMAC chain reused, AuditEvents through the outbox to the real
server (valid R4, no PHI), export as JSON lines / CSV, tampering detected."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from sec_canary import CANARY, CANARY_NEEDLES

from triage_tui.cache import open_store
from triage_tui.cache.api import OutboxKind, OutboxState
from triage_tui.cli import main
from triage_tui.security.audit import (
    audit_event,
    engine_with_audit,
    export_rows,
    queue_audit_events,
    render_export,
)
from triage_tui.sync.client import FhirClient
from triage_tui.sync.outbox import Pusher

PW = "audit passphrase"
USER = "Practitioner/nurse-7"


def _trail(store) -> None:
    store.audit("unlock", user=USER, detail={"how": "passphrase"})
    store.audit("view", user=USER, entity="Communication/thr-1",
                detail={"subject": CANARY["subject"]})  # PHI in the encrypted detail only
    store.audit("claim", user=USER, entity="Task/task-1")
    store.audit("send", user=USER, entity=f"Communication/{REPLY_ID}")
    store.audit("route", user=USER, entity="Task/task-1", detail={"pool": "pharmacy"})
    store.audit("close", user=USER, entity="Task/task-1")
    store.audit("lock", user=USER)


REPLY_ID = "5f0e8d1c-1111-4c2b-9d3a-000000000001"


def _seed_server(client) -> None:
    """The resources the AuditEvents refer to (the server checks references)."""
    for res in (
        {"resourceType": "Practitioner", "id": "nurse-7", "name": [{"family": "Seven"}]},
        {"resourceType": "Patient", "id": "p1", "name": [{"family": CANARY["family"]}]},
        {"resourceType": "Communication", "id": "thr-1", "status": "in-progress",
         "subject": {"reference": "Patient/p1"}},
        {"resourceType": "Communication", "id": "thr-2", "status": "in-progress",
         "subject": {"reference": "Patient/p1"}},
        {"resourceType": "Communication", "id": REPLY_ID, "status": "completed",
         "subject": {"reference": "Patient/p1"}, "partOf": [{"reference": "Communication/thr-1"}],
         "payload": [{"contentString": CANARY["text"]}]},
        {"resourceType": "Task", "id": "task-1", "status": "requested", "intent": "order",
         "focus": {"reference": "Communication/thr-1"}},
    ):
        r = client.put(f"/{res['resourceType']}/{res['id']}", json=res,
                       headers={"Content-Type": "application/fhir+json"})
        assert r.status_code in (200, 201), r.text


@pytest.fixture
def store(fhir_server, fhir_client, tmp_path):
    _seed_server(fhir_client)
    s = open_store(fhir_server.base_url, USER, passphrase=PW)
    _trail(s)
    yield s
    s.close()


def test_audit_event_shape(store):
    entries = store.audit_log()
    ev = audit_event(entries[1], event_id="abc-1")
    assert ev["resourceType"] == "AuditEvent" and ev["action"] == "R"
    assert ev["type"]["code"] == "rest" and ev["subtype"][0]["code"] == "read"
    assert ev["agent"] == [{"who": {"reference": USER}, "requestor": True}]
    assert ev["entity"] == [{"what": {"reference": "Communication/thr-1"}}]
    assert ev["recorded"].endswith("Z") and ev["source"]["observer"]["display"]
    login = audit_event(entries[0], event_id="abc-0")
    assert login["type"]["code"] == "110114" and login["subtype"][0]["code"] == "110122"
    assert "entity" not in login


async def test_audit_events_reach_the_server_once(store, fhir_server, fhir_client):
    assert queue_audit_events(store) == 7
    assert queue_audit_events(store) == 0  # nothing new
    items = [i for i in store.outbox() if i.kind == OutboxKind.AUDIT]
    assert len(items) == 7 and all(i.user == USER for i in items)
    client = FhirClient(fhir_server.base_url, fhir_server.token)
    try:
        result = await Pusher(client, store).push()
    finally:
        await client.aclose()
    assert result.acked == 7 and result.needs_review == 0
    bundle = fhir_client.get("/AuditEvent", params={"_count": 50}).json()
    events = [e["resource"] for e in bundle["entry"]]
    assert len(events) == 7
    assert json.dumps(events).count(CANARY["family"]) == 0
    assert {e["agent"][0]["who"]["reference"] for e in events} == {USER}
    assert sorted(e["action"] for e in events) == sorted("ERUCUUE")
    text = json.dumps(bundle)
    assert not [n for n in CANARY_NEEDLES if n in text]
    # search by entity works on the server
    by_task = fhir_client.get("/AuditEvent", params={"entity": "Task/task-1"}).json()
    assert len(by_task["entry"]) == 3
    # a second push sends nothing again
    store.audit("view", user=USER, entity="Communication/thr-2")
    client = FhirClient(fhir_server.base_url, fhir_server.token)
    try:
        engine = engine_with_audit(client, store, USER)
        summary = await engine.sync_once(pull=False)
    finally:
        await client.aclose()
    assert summary.ok and summary.pushed == 1
    assert len(fhir_client.get("/AuditEvent", params={"_count": 50}).json()["entry"]) == 8
    assert store.outbox_counts()[OutboxState.QUEUED] == 0


def test_export_formats(store):
    rows = export_rows(store.audit_log())
    jl = render_export(rows, "jsonl").splitlines()
    assert [json.loads(x)["action"] for x in jl] == ["unlock", "view", "claim", "send", "route",
                                                     "close", "lock"]
    rows.append({"seq": 99, "recorded": "x", "user": "=HYPERLINK(\"http://evil\")",
                 "action": "view", "entity": ""})
    parsed = list(csv.DictReader(io.StringIO(render_export(rows, "csv"))))
    assert parsed[1]["entity"] == "Communication/thr-1" and parsed[-1]["user"].startswith("'=")
    assert not [n for n in CANARY_NEEDLES if n in render_export(rows, "jsonl")]


def _env(monkeypatch, server):
    monkeypatch.setenv("TRIAGE_TUI_PASSPHRASE", PW)
    monkeypatch.setenv("TRIAGE_TUI_SERVER", server.base_url)


def test_cli_export_and_verify(store, fhir_server, monkeypatch, capsys, tmp_path):
    path = store.path
    store.close()
    _env(monkeypatch, fhir_server)
    out = tmp_path / "audit.csv"
    assert main(["audit", "export", "--user", USER, "--format", "csv", "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 7 and rows[0]["action"] == "unlock"
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    capsys.readouterr()
    assert main(["audit", "export", "--user", USER]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[-1])["action"] == "export"  # the first export was audited
    assert main(["audit", "verify", "--user", USER]) == 0
    assert "intact" in capsys.readouterr().out
    # tamper: edit one row, then delete another
    conn = sqlite3.connect(path)
    conn.execute("UPDATE audit SET action = 'view' WHERE seq = 3")
    conn.commit()
    assert main(["audit", "verify", "--user", USER]) == 5
    assert "row 3 was altered" in capsys.readouterr().err
    conn.execute("UPDATE audit SET action = 'claim' WHERE seq = 3")
    conn.execute("DELETE FROM audit WHERE seq = 4")
    conn.commit()
    conn.close()
    assert main(["audit", "export", "--user", USER]) == 5
    err = capsys.readouterr().err
    assert "missing" in err and "Traceback" not in err


def test_cli_export_without_cache_is_a_clear_error(fhir_server, monkeypatch, capsys):
    _env(monkeypatch, fhir_server)
    assert main(["audit", "export", "--user", "Practitioner/nobody"]) != 0
    assert "no cache" in capsys.readouterr().err
