"""Transaction (all-or-nothing, urn:uuid resolution) and batch Bundles."""

from __future__ import annotations

from server_builders import header, message, patient, task


def _tx(entries, btype="transaction"):
    return {"resourceType": "Bundle", "type": btype, "entry": entries}


def _post(full, res):
    return {"fullUrl": full, "resource": res, "request": {"method": "POST", "url": res["resourceType"]}}


def test_transaction_resolves_urn_uuid(client, uid):
    p, h = "urn:uuid:11111111-1111-4111-8111-" + uid, "urn:uuid:22222222-2222-4222-8222-" + uid
    pat = patient(uid)
    hdr = header("x")
    hdr["subject"] = {"reference": p}
    msg = message("x", "y")
    msg["subject"] = {"reference": p}
    msg["sender"] = {"reference": p}
    msg["partOf"] = [{"reference": h}]
    tsk = task("x", "y")
    tsk["focus"] = {"reference": h}
    tsk["for"] = {"reference": p}
    # order deliberately not dependency order
    bundle = _tx([_post("urn:uuid:33333333-3333-4333-8333-" + uid, msg), _post(h, hdr), _post(p, pat),
                  _post("urn:uuid:44444444-4444-4444-8444-" + uid, tsk)])
    r = client.post("", json=bundle)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in out["entry"]]
    assert statuses == ["201 Created"] * 4
    m, hh, pp, tt = (e["resource"] for e in out["entry"])
    assert m["partOf"][0]["reference"] == f"Communication/{hh['id']}"
    assert m["subject"]["reference"] == f"Patient/{pp['id']}"
    assert tt["focus"]["reference"] == f"Communication/{hh['id']}"
    assert out["entry"][0]["response"]["location"].startswith(f"Communication/{m['id']}/_history/")
    assert client.get(f"/Communication/{m['id']}").status_code == 200


def test_transaction_rolls_back_on_failing_entry(client, uid):
    pid = client.post("/Patient", json=patient(uid)).json()["id"]
    hid = client.post("/Communication", json=header(pid)).json()["id"]
    before = client.get("/Communication", params={"subject": pid, "_total": "accurate"}).json()["total"]
    good = message(pid, hid, "good")
    bad = dict(message(pid, hid, "bad"), status="sent")  # not a Communication.status code
    entries = [_post(f"urn:uuid:aaaaaaaa-0000-4000-8000-{uid}", good),
               {"resource": dict(header(pid), id=f"put-{uid}"),
                "request": {"method": "PUT", "url": f"Communication/put-{uid}"}},
               _post(f"urn:uuid:bbbbbbbb-0000-4000-8000-{uid}", bad)]
    r = client.post("", json=_tx(entries))
    assert r.status_code in (400, 422)
    oo = r.json()
    assert oo["resourceType"] == "OperationOutcome"
    assert "entry[2]" in oo["issue"][0]["diagnostics"] and "status" in oo["issue"][0]["diagnostics"]
    after = client.get("/Communication", params={"subject": pid, "_total": "accurate"}).json()["total"]
    assert after == before
    assert client.get(f"/Communication/put-{uid}").status_code == 404


def test_transaction_rollback_on_stale_if_match_and_unknown_reference(client, uid):
    p = client.post("/Patient", json=patient(uid)).json()
    entries = [{"resource": dict(p, gender="other"),
                "request": {"method": "PUT", "url": f"Patient/{p['id']}", "ifMatch": 'W/"7"'}}]
    r = client.post("", json=_tx(entries))
    assert r.status_code == 412
    entries = [{"resource": dict(p, gender="other"), "request": {"method": "PUT", "url": f"Patient/{p['id']}"}},
               _post(f"urn:uuid:cccccccc-0000-4000-8000-{uid}", header(f"missing-{uid}"))]
    r = client.post("", json=_tx(entries))
    assert r.status_code == 422 and "not known" in r.json()["issue"][0]["diagnostics"]
    assert "gender" not in client.get(f"/Patient/{p['id']}").json()


def test_transaction_conditional_create_and_get(client, uid):
    full = f"urn:uuid:dddddddd-0000-4000-8000-{uid}"
    entry = {"fullUrl": full, "resource": patient(uid),
             "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier=urn:test:mrn|{uid}"}}
    hdr = header("x")
    hdr["subject"] = {"reference": full}
    hentry = _post(f"urn:uuid:eeeeeeee-0000-4000-8000-{uid}", hdr)
    first = client.post("", json=_tx([entry, hentry])).json()
    second = client.post("", json=_tx([entry, hentry])).json()
    assert first["entry"][0]["response"]["status"] == "201 Created"
    assert second["entry"][0]["response"]["status"] == "200 OK"
    pid = first["entry"][0]["resource"]["id"]
    assert second["entry"][1]["resource"]["subject"]["reference"] == f"Patient/{pid}"
    get = client.post("", json=_tx([{"request": {"method": "GET", "url": f"Patient/{pid}"}},
                                    {"request": {"method": "GET", "url": f"Communication?subject={pid}"}}]))
    out = get.json()["entry"]
    assert out[0]["resource"]["id"] == pid
    assert out[1]["resource"]["type"] == "searchset" and len(out[1]["resource"]["entry"]) == 2


def test_batch_entries_are_independent(client, uid):
    p = client.post("/Patient", json=patient(uid)).json()
    entries = [
        {"resource": patient(uid + "x"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Task", "status": "bogus", "intent": "order"},
         "request": {"method": "POST", "url": "Task"}},
        {"request": {"method": "GET", "url": f"Patient/{p['id']}"}},
        {"request": {"method": "GET", "url": f"Patient/nope-{uid}"}},
        {"request": {"method": "DELETE", "url": f"Patient/{p['id']}"}},
    ]
    r = client.post("", json=_tx(entries, "batch"))
    assert r.status_code == 200
    out = r.json()
    assert out["type"] == "batch-response"
    st = [e["response"]["status"] for e in out["entry"]]
    assert st[0] == "201 Created" and st[1] == "422" and st[2] == "200 OK" and st[3] == "404"
    assert st[4] == "200 OK"
    assert out["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert client.get(f"/Patient/{p['id']}").status_code == 410


def test_bad_bundles(client):
    assert client.post("", json={"resourceType": "Patient"}).status_code == 400
    assert client.post("", json={"resourceType": "Bundle", "type": "collection"}).status_code == 400
    r = client.post("", json=_tx([{"resource": patient("z")}]))
    assert r.status_code == 400 and "request" in r.json()["issue"][0]["diagnostics"]
    r = client.post("", json=_tx([_post("urn:uuid:x", dict(header("x"), subject={"reference": "urn:uuid:nope"}))]))
    assert r.status_code == 400 and "urn:uuid:nope" in r.json()["issue"][0]["diagnostics"]
