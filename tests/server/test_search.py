"""Search: parameters, _lastUpdated windows, sorting, includes, totals, paging under change."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from server_builders import header, message, patient, task

from triage_tui.server.runner import ServerThread


def _create(client, res) -> dict:
    r = client.post(f"/{res['resourceType']}", json=res)
    assert r.status_code == 201, r.text
    return r.json()


def _ids(bundle: dict, mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def _next(bundle: dict) -> str | None:
    return next((lk["url"] for lk in bundle["link"] if lk["relation"] == "next"), None)


@pytest.fixture
def thread(client, uid):
    pid = _create(client, patient(uid))["id"]
    hid = _create(client, header(pid))["id"]
    msgs = [_create(client, message(pid, hid, f"m{i}", sent=f"2025-01-0{3 - i}T10:00:00Z"))["id"]
            for i in range(3)]
    tid = _create(client, task(pid, hid, owner={"reference": f"Patient/{pid}"}))["id"]
    return {"pid": pid, "hid": hid, "msgs": msgs, "tid": tid, "uid": uid}


def test_search_bundle_shape(client, thread):
    r = client.get("/Communication", params={"part-of": f"Communication/{thread['hid']}"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/fhir+json")
    b = r.json()
    assert b["resourceType"] == "Bundle" and b["type"] == "searchset"
    assert "total" not in b
    assert b["link"][0]["relation"] == "self"
    assert sorted(_ids(b)) == sorted(thread["msgs"])
    e = b["entry"][0]
    assert e["fullUrl"].endswith(f"/fhir/Communication/{e['resource']['id']}")


def test_reference_token_and_missing_params(client, thread):
    hid, pid = thread["hid"], thread["pid"]
    get = lambda **p: _ids(client.get("/Communication", params=p).json())  # noqa: E731
    assert sorted(get(**{"part-of": hid})) == sorted(thread["msgs"])
    assert sorted(get(subject=f"Patient/{pid}", **{"part-of:missing": "false"})) == sorted(thread["msgs"])
    assert get(subject=f"Patient/{pid}", **{"part-of:missing": "true"}) == [hid]
    assert get(patient=pid, status="in-progress") == [hid]
    assert sorted(get(patient=pid, status="in-progress,completed")) == sorted([hid, *thread["msgs"]])
    assert get(patient=pid, category="urn:test:cat|refill") == [hid]
    assert get(patient=pid, category="urn:other|refill") == []
    assert get(**{"subject:Patient": pid, "_id": hid}) == [hid]
    assert get(patient=pid, **{"status:not": "completed"}) == [hid]
    tasks = client.get("/Task", params={"focus": f"Communication/{hid}"}).json()
    assert _ids(tasks) == [thread["tid"]]
    assert _ids(client.get("/Task", params={"owner": f"Patient/{pid}"}).json()) == [thread["tid"]]
    assert _ids(client.get("/Task", params={"patient": pid, "status": "requested"}).json()) == [thread["tid"]]
    pats = client.get("/Patient", params={"identifier": f"urn:test:mrn|{thread['uid']}"}).json()
    assert _ids(pats) == [pid]
    assert _ids(client.get("/Patient", params={"identifier": thread["uid"]}).json()) == [pid]


def test_sent_date_search_and_sort(client, thread):
    b = client.get("/Communication", params={"part-of": thread["hid"], "_sort": "sent"}).json()
    assert _ids(b) == list(reversed(thread["msgs"]))
    b = client.get("/Communication", params={"part-of": thread["hid"], "_sort": "-sent"}).json()
    assert _ids(b) == thread["msgs"]
    b = client.get("/Communication", params={"part-of": thread["hid"], "sent": "ge2025-01-02"}).json()
    assert sorted(_ids(b)) == sorted(thread["msgs"][:2])
    b = client.get("/Communication", params=[("part-of", thread["hid"]), ("sent", "ge2025-01-02"),
                                               ("sent", "lt2025-01-03")]).json()
    assert _ids(b) == [thread["msgs"][1]]


def test_last_updated_windows(client, thread):
    b = client.get("/Communication", params={"part-of": thread["hid"], "_sort": "_lastUpdated"}).json()
    stamps = [e["resource"]["meta"]["lastUpdated"] for e in b["entry"]]
    assert stamps == sorted(stamps)
    ids = _ids(b)
    q = lambda *p: _ids(client.get("/Communication", params=[("part-of", thread["hid"]), *p]).json())  # noqa: E731
    assert q(("_lastUpdated", f"gt{stamps[0]}"), ("_sort", "_lastUpdated")) == ids[1:]
    assert q(("_lastUpdated", f"ge{stamps[1]}"), ("_sort", "_lastUpdated")) == ids[1:]
    assert q(("_lastUpdated", f"lt{stamps[1]}")) == ids[:1]
    assert q(("_lastUpdated", f"le{stamps[1]}"), ("_sort", "_lastUpdated")) == ids[:2]
    assert q(("_lastUpdated", f"eq{stamps[2]}")) == ids[2:]
    assert q(("_lastUpdated", stamps[2])) == ids[2:]
    assert q(("_lastUpdated", f"gt{stamps[0]}"), ("_lastUpdated", f"lt{stamps[2]}")) == ids[1:2]
    assert q(("_lastUpdated", "gt2000-01-01")) != []
    # the Z form and a plus sign that arrived unencoded (a space) both parse
    z = stamps[0].replace("+00:00", "Z")
    assert q(("_lastUpdated", f"gt{z}"), ("_sort", "_lastUpdated")) == ids[1:]
    raw = client.get(f"/Communication?part-of={thread['hid']}&_sort=_lastUpdated&_lastUpdated=gt{stamps[0]}")
    assert _ids(raw.json()) == ids[1:]
    r = client.get("/Communication", params={"_lastUpdated": "gtnot-a-date"})
    assert r.status_code == 400


def test_include_and_revinclude(client, thread):
    b = client.get("/Communication", params=[("part-of", thread["hid"]),
                                              ("_include", "Communication:subject"),
                                              ("_include", "Communication:part-of")]).json()
    assert sorted(_ids(b)) == sorted(thread["msgs"])
    assert sorted(_ids(b, "include")) == sorted([thread["pid"], thread["hid"]])
    b = client.get("/Task", params=[("_id", thread["tid"]), ("_include", "Task:focus"),
                                     ("_include", "Task:patient")]).json()
    assert sorted(_ids(b, "include")) == sorted([thread["hid"], thread["pid"]])
    b = client.get("/Communication", params=[("_id", thread["hid"]),
                                              ("_revinclude", "Communication:part-of"),
                                              ("_revinclude", "Task:focus")]).json()
    assert sorted(_ids(b, "include")) == sorted([*thread["msgs"], thread["tid"]])


def test_total_count_elements_summary(client, thread):
    b = client.get("/Communication", params={"part-of": thread["hid"], "_total": "accurate",
                                             "_count": 2}).json()
    assert b["total"] == 3 and len(b["entry"]) == 2 and _next(b)
    b = client.get("/Communication", params={"part-of": thread["hid"], "_summary": "count"}).json()
    assert b["total"] == 3 and "entry" not in b
    b = client.get("/Communication", params={"part-of": thread["hid"], "_elements": "status"}).json()
    res = b["entry"][0]["resource"]
    assert set(res) == {"resourceType", "id", "meta", "status"}
    assert res["meta"]["tag"][0]["code"] == "SUBSETTED"


def test_post_search(client, thread):
    r = client.post("/Communication/_search", data={"part-of": thread["hid"], "_count": "2"})
    assert r.status_code == 200
    b = r.json()
    assert len(_ids(b)) == 2
    b2 = client.get(_next(b)).json()
    assert sorted(_ids(b) + _ids(b2)) == sorted(thread["msgs"])


@pytest.mark.parametrize("params", [
    {"bogus": "1"}, {"priority": "urgent"}, {"topic": "x"}, {"subject.name": "x"},
    {"_sort": "topic"}, {"_count": "ten"}, {"_include": "Communication:status"},
    {"_include": "Task:focus"}, {"status:fuzzy": "x"}, {"_cursor": "garbage"},
    {"part-of:missing": "maybe"}, {"_total": "lots"},
])
def test_unsupported_params_are_400(client, params):
    r = client.get("/Communication", params=params)
    assert r.status_code == 400, r.text
    oo = r.json()
    assert oo["resourceType"] == "OperationOutcome" and oo["issue"][0]["diagnostics"]


def test_tolerated_params(client):
    assert client.get("/Communication", params={"_format": "json", "_pretty": "true"}).status_code == 200


def test_count_cap_and_default(client, uid):
    b = client.get("/Patient", params={"_count": "5000"}).json()
    assert len(b.get("entry", [])) <= 1000


def _pages(client, url, params) -> list[list[str]]:
    pages = []
    b = client.get(url, params=params).json()
    while True:
        pages.append(_ids(b))
        nxt = _next(b)
        if not nxt:
            return pages
        b = client.get(nxt).json()


@pytest.mark.parametrize("sort", [None, "_lastUpdated", "-_lastUpdated", "sent", "-sent"])
def test_paging_while_data_changes(tmp_path, sort):
    with ServerThread(tmp_path / "p.db", "tok") as s, \
            httpx.Client(base_url=s.base_url, headers={"Authorization": "Bearer tok"}) as c:
        pid = _create(c, patient("pg"))["id"]
        hid = _create(c, header(pid))["id"]
        created = [_create(c, message(pid, hid, f"m{i}", sent=f"2025-02-{1 + i % 27:02d}T10:00:{i % 60:02d}Z"))
                   for i in range(60)]
        params = {"part-of": hid, "_count": 7}
        if sort:
            params["_sort"] = sort
        b = c.get("/Communication", params=params).json()
        seen: list[str] = []
        changed: set[str] = set()
        page_no = 0
        while True:
            seen += _ids(b)
            nxt = _next(b)
            if not nxt:
                break
            # between page fetches: update resources already seen and not yet seen, add new ones
            for res in (created[page_no], created[-1 - page_no]):
                cur = c.get(f"/Communication/{res['id']}").json()
                r = c.put(f"/Communication/{res['id']}", json=dict(cur, status="entered-in-error"
                                                                    if cur["status"] == "completed" else "completed"))
                assert r.status_code == 200
                changed.add(res["id"])
            changed.add(_create(c, message(pid, hid, f"new{page_no}", sent="2025-02-15T00:00:00Z"))["id"])
            page_no += 1
            assert "_cursor" in parse_qs(urlsplit(nxt).query)
            b = c.get(nxt).json()
        stable = [m["id"] for m in created if m["id"] not in changed]
        for rid in stable:
            assert seen.count(rid) == 1, (rid, sort)
        assert len(stable) > 30


def test_paging_in_last_updated_order_sees_updates_again(client, uid):
    pid = _create(client, patient(uid))["id"]
    hid = _create(client, header(pid))["id"]
    ms = [_create(client, message(pid, hid, f"m{i}")) for i in range(6)]
    b = client.get("/Communication", params={"part-of": hid, "_count": 3, "_sort": "_lastUpdated"}).json()
    first = _ids(b)
    client.put(f"/Communication/{ms[0]['id']}", json=dict(ms[0], status="entered-in-error"))
    rest = []
    while _next(b):
        b = client.get(_next(b)).json()
        rest += _ids(b)
    assert first == [m["id"] for m in ms[:3]]
    assert rest == [m["id"] for m in ms[3:]] + [ms[0]["id"]]  # the update shows up at the end


def test_cursor_bound_to_query(client, thread):
    b = client.get("/Communication", params={"part-of": thread["hid"], "_count": 1}).json()
    cursor = parse_qs(urlsplit(_next(b)).query)["_cursor"][0]
    r = client.get("/Communication", params={"status": "completed", "_cursor": cursor})
    assert r.status_code == 400


def test_seeded_server_is_searchable(seeded_client, seeded_server):
    b = seeded_client.get("/Communication", params={"part-of:missing": "true", "_total": "accurate",
                                                    "_include": "Communication:subject"}).json()
    assert b["total"] > 0
    assert _ids(b, "include")
    t = seeded_client.get("/Task", params={"_count": 1000}).json()
    assert len(t["entry"]) >= 1
