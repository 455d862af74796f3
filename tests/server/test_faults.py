"""Test-only fault switch, request statistics, restart."""

from __future__ import annotations

import time

import httpx
import pytest
from server_builders import patient

from triage_tui.server.runner import ServerThread


def test_faults_off_by_default(tmp_path):
    with ServerThread(tmp_path / "f.db", "tok") as s:
        assert httpx.post(f"{s.root_url}/_test/faults", json={"mode": "error500"}).status_code == 404
        assert httpx.get(f"{s.root_url}/_test/stats").status_code == 404


def test_error500_and_listing(fhir_server, fhir_client, fault):
    fault("error500", count=2, method="GET", path_contains="Patient")
    rules = httpx.get(f"{fhir_server.root_url}/_test/faults").json()
    assert rules[0]["mode"] == "error500" and rules[0]["count"] == 2
    assert fhir_client.get("/Practitioner").status_code == 200  # does not match
    assert fhir_client.get("/Patient").status_code == 500
    r = fhir_client.post("/Patient", json=patient("a"))
    assert r.status_code == 201  # method does not match
    assert fhir_client.get("/Patient").status_code == 500
    assert fhir_client.get("/Patient").status_code == 200
    assert httpx.get(f"{fhir_server.root_url}/_test/faults").json() == []
    assert httpx.post(f"{fhir_server.root_url}/_test/faults", json={"mode": "nope"}).status_code == 400


def test_error500_performs_nothing(fhir_client, fault, fhir_server):
    fault("error500", method="POST")
    assert fhir_client.post("/Patient", json=patient("b")).status_code == 500
    assert fhir_server.storage.count("Patient") == 0


def test_rate429_retry_after(fhir_client, fault):
    fault("rate429", count=1, retry_after=3)
    r = fhir_client.get("/Patient")
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    assert r.json()["issue"][0]["code"] == "throttled"
    assert fhir_client.get("/Patient").status_code == 200


def test_ratelimit429_ietf_header(fhir_client, fault):
    fault("ratelimit429", retry_after=7)
    r = fhir_client.get("/Patient")
    assert r.status_code == 429
    assert r.headers["ratelimit"] == '"default";r=0;t=7'
    assert "retry-after" not in r.headers


def test_drop_after_commit(fhir_client, fault, fhir_server):
    fault("drop_after_commit", method="PUT", path_contains="Patient")
    res = dict(patient("c"), id="dropped-1")
    with pytest.raises(httpx.TransportError):
        fhir_client.put("/Patient/dropped-1", json=res)
    # the write was committed: the retry finds it (same version: idempotent update)
    r = fhir_client.put("/Patient/dropped-1", json=res)
    assert r.status_code == 200 and r.json()["meta"]["versionId"] == "1"


def test_slow(fhir_client, fault):
    fault("slow", delay=0.3)
    t0 = time.perf_counter()
    assert fhir_client.get("/Patient").status_code == 200
    assert time.perf_counter() - t0 >= 0.3


def test_stats(fhir_server, fhir_client, server_stats):
    httpx.delete(f"{fhir_server.root_url}/_test/stats")
    fhir_client.get("/Patient")
    fhir_client.get("/Communication", params={"_count": 1})
    fhir_client.post("/Patient", json=patient("d"))
    fhir_client.post("/Communication/_search", data={"status": "completed"})
    httpx.get(f"{fhir_server.base_url}/Patient")  # 401 counts too
    st = server_stats()
    assert st["requests"] == {"GET Patient": 2, "GET Communication": 1, "POST Patient": 1,
                              "POST Communication": 1}
    assert st["total"] == 5 and st["by_status"]["401"] == 1
    httpx.delete(f"{fhir_server.root_url}/_test/stats")
    assert server_stats()["total"] == 0


def test_restart_same_port_same_data(fhir_server, fhir_client):
    port = fhir_server.port
    r = fhir_client.post("/Patient", json=patient("e"))
    pid, lu = r.json()["id"], r.json()["meta"]["lastUpdated"]
    fhir_server.restart()
    assert fhir_server.port == port
    r = fhir_client.get(f"/Patient/{pid}")  # same client: the old connection is gone, a new one is made
    assert r.status_code == 200
    r2 = fhir_client.post("/Patient", json=patient("f"))
    assert r2.json()["meta"]["lastUpdated"] > lu


def test_stopped_server_refuses_connections(fhir_server, fhir_client):
    fhir_server.stop()
    with pytest.raises(httpx.ConnectError):
        fhir_client.get("/metadata")
    fhir_server.start()
    assert fhir_client.get("/metadata").status_code == 200
