"""Read, vread, create, update, delete, history, ETags, If-Match, conditional create, auth."""

from __future__ import annotations

import threading

import httpx

from server_builders import header, message, patient


def _create(client, res) -> dict:
    r = client.post(f"/{res['resourceType']}", json=res)
    assert r.status_code == 201, r.text
    return r.json()


def test_metadata_without_auth(srv):
    r = httpx.get(f"{srv.base_url}/metadata")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/fhir+json")
    cs = r.json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    types = {res["type"]: res for res in cs["rest"][0]["resource"]}
    assert {"Patient", "Communication", "Task", "AuditEvent", "MedicationRequest"} <= set(types)
    comm = {p["name"] for p in types["Communication"]["searchParam"]}
    assert {"part-of", "subject", "patient", "status", "category", "_lastUpdated"} <= comm
    assert "priority" not in comm  # not core R4: clients must filter client-side
    assert {"code": "transaction"} in cs["rest"][0]["interaction"]


def test_401_without_or_with_wrong_token(srv):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dG9r"}):
        r = httpx.get(f"{srv.base_url}/Patient", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["resourceType"] == "OperationOutcome"
    r = httpx.post(f"{srv.base_url}/Patient", json=patient("x"))
    assert r.status_code == 401


def test_create_read_vread_update_delete_history(client, uid):
    r = client.post("/Patient", json=patient(uid))
    assert r.status_code == 201
    p = r.json()
    pid = p["id"]
    assert p["meta"]["versionId"] == "1"
    assert r.headers["etag"] == 'W/"1"'
    assert r.headers["location"].endswith(f"/fhir/Patient/{pid}/_history/1")
    lu = p["meta"]["lastUpdated"]
    assert lu.endswith("+00:00") and len(lu.split(".")[1]) == 3 + 6  # ms + zone

    r = client.get(f"/Patient/{pid}")
    assert r.status_code == 200 and r.json() == p and r.headers["etag"] == 'W/"1"'

    p2 = dict(p, gender="female")
    r = client.put(f"/Patient/{pid}", json=p2, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["versionId"] == "2" and r.headers["etag"] == 'W/"2"'
    assert r.json()["meta"]["lastUpdated"] > lu

    # stale If-Match -> 412, nothing written
    r = client.put(f"/Patient/{pid}", json=dict(p, gender="male"), headers={"If-Match": 'W/"1"'})
    assert r.status_code == 412
    assert "version" in r.json()["issue"][0]["diagnostics"].lower()
    assert client.get(f"/Patient/{pid}").json()["gender"] == "female"

    assert client.get(f"/Patient/{pid}/_history/1").json()["meta"]["versionId"] == "1"
    assert "gender" not in client.get(f"/Patient/{pid}/_history/1").json()
    assert client.get(f"/Patient/{pid}/_history/9").status_code == 404

    r = client.delete(f"/Patient/{pid}", headers={"If-Match": 'W/"1"'})
    assert r.status_code == 412
    r = client.delete(f"/Patient/{pid}")
    assert r.status_code == 200
    r = client.get(f"/Patient/{pid}")
    assert r.status_code == 410 and r.json()["resourceType"] == "OperationOutcome"
    assert client.get("/Patient", params={"identifier": f"urn:test:mrn|{uid}"}).json().get("entry") is None

    h = client.get(f"/Patient/{pid}/_history").json()
    assert h["type"] == "history"
    assert [e["request"]["method"] for e in h["entry"]] == ["DELETE", "PUT", "POST"]
    assert "resource" not in h["entry"][0]
    assert client.get(f"/Patient/{pid}/_history/3").status_code == 410


def test_update_as_create_and_noop_update(client, uid):
    res = dict(patient(uid), id=f"client-{uid}")
    r = client.put(f"/Patient/client-{uid}", json=res)
    assert r.status_code == 201 and r.json()["id"] == f"client-{uid}"
    assert r.headers["location"].endswith(f"Patient/client-{uid}/_history/1")
    # the same PUT again (idempotent retry): no new version
    r = client.put(f"/Patient/client-{uid}", json=res)
    assert r.status_code == 200 and r.json()["meta"]["versionId"] == "1"
    # If-Match on a resource that does not exist
    r = client.put(f"/Patient/none-{uid}", json=dict(res, id=f"none-{uid}"), headers={"If-Match": 'W/"1"'})
    assert r.status_code == 412


def test_prefer_return(client, uid):
    r = client.post("/Patient", json=patient(uid), headers={"Prefer": "return=minimal"})
    assert r.status_code == 201 and r.content == b"" and "location" in r.headers and r.headers["etag"]
    r = client.post("/Patient", json=patient(uid + "b"), headers={"Prefer": "return=representation"})
    assert r.json()["resourceType"] == "Patient"
    r = client.post("/Patient", json=patient(uid + "c"), headers={"Prefer": "return=OperationOutcome"})
    assert r.json()["resourceType"] == "OperationOutcome"


def test_accepts_json_content_types(client, uid):
    import json

    for ctype in ("application/fhir+json", "application/json", "application/fhir+json; charset=utf-8"):
        r = client.post("/Patient", content=json.dumps(patient(uid + ctype[-4:])),
                        headers={"Content-Type": ctype})
        assert r.status_code == 201, (ctype, r.text)
    r = client.post("/Patient", content="<Patient/>", headers={"Content-Type": "application/fhir+xml"})
    assert r.status_code == 415


def test_conditional_create(client, uid):
    hdr = {"If-None-Exist": f"identifier=urn:test:mrn|{uid}"}
    r1 = client.post("/Patient", json=patient(uid), headers=hdr)
    assert r1.status_code == 201
    r2 = client.post("/Patient", json=patient(uid), headers=hdr)
    assert r2.status_code == 200 and r2.json()["id"] == r1.json()["id"]


def test_concurrent_conditional_creates_make_one_resource(srv, uid):
    results: list[int] = []
    barrier = threading.Barrier(20)

    def worker() -> None:
        with httpx.Client(base_url=srv.base_url, headers={"Authorization": "Bearer tok"}) as c:
            barrier.wait()
            r = c.post("/Patient", json=patient(uid),
                       headers={"If-None-Exist": f"identifier=urn:test:mrn|{uid}"})
            results.append(r.status_code)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] * 19 + [201]
    with httpx.Client(base_url=srv.base_url, headers={"Authorization": "Bearer tok"}) as c:
        b = c.get("/Patient", params={"identifier": f"urn:test:mrn|{uid}", "_total": "accurate"}).json()
    assert b["total"] == 1


def test_unknown_ids_and_types(client, uid):
    assert client.get(f"/Patient/nope-{uid}").status_code == 404
    assert client.delete(f"/Patient/nope-{uid}").status_code == 404
    assert client.get(f"/Patient/nope-{uid}/_history").status_code == 404
    r = client.get("/Unicorn")
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    assert client.get("/Patient/bad id!").status_code == 400


def test_strictly_increasing_last_updated(client, uid):
    pid = _create(client, patient(uid))["id"]
    hid = _create(client, header(pid))["id"]
    stamps = [_create(client, message(pid, hid, f"m{i}"))["meta"]["lastUpdated"] for i in range(30)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 30


def test_etag_compared_as_string(client, uid):
    p = _create(client, patient(uid))
    for tag in ('W/"1"', '"1"', "1"):
        r = client.put(f"/Patient/{p['id']}", json=dict(p, gender="other"), headers={"If-Match": tag})
        assert r.status_code in (200, 412)
        if r.status_code == 200:
            break
    assert r.status_code == 200
