"""Type-level history over HTTP: GET [base]/[type]/_history (_since, _at, _count, paging)."""

from __future__ import annotations

import threading
import time

import httpx

from server_builders import header, message, patient, task


def _create(client, res) -> dict:
    r = client.post(f"/{res['resourceType']}", json=res)
    assert r.status_code == 201, r.text
    return r.json()


def _now(client) -> str:
    """A server instant before anything written next (the server's own clock)."""
    r = client.get("/Patient/_history", params={"_since": "2999-01-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    return r.json()["meta"]["lastUpdated"]


def _history(client, rtype: str, **params) -> dict:
    r = client.get(f"/{rtype}/_history", params=params)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["resourceType"] == "Bundle" and b["type"] == "history"
    return b


def _all_pages(client, first: dict) -> list[dict]:
    out, b = list(first.get("entry") or ()), first
    while nxt := next((lk["url"] for lk in b["link"] if lk["relation"] == "next"), None):
        b = client.get(nxt).json()
        out.extend(b.get("entry") or ())
    return out


def _key(e: dict) -> tuple[str, str]:
    return e["fullUrl"].rsplit("/", 1)[1], e["response"]["etag"]


def test_creates_updates_deletes_newest_first(client, uid):
    since = _now(client)
    pid = _create(client, patient(uid))["id"]
    h = _create(client, header(pid))
    m = _create(client, message(pid, h["id"], "first"))
    r = client.put(f"/Communication/{h['id']}", json=dict(h, status="completed"))
    assert r.status_code == 200
    assert client.delete(f"/Communication/{m['id']}").status_code == 200

    b = _history(client, "Communication", _since=since)
    entries = b["entry"]
    assert [(e["request"]["method"], e["request"]["url"]) for e in entries] == [
        ("DELETE", f"Communication/{m['id']}"),
        ("PUT", f"Communication/{h['id']}"),
        ("POST", "Communication"),
        ("POST", "Communication"),
    ]
    assert [_key(e) for e in entries] == [(m["id"], 'W/"2"'), (h["id"], 'W/"2"'),
                                          (m["id"], 'W/"1"'), (h["id"], 'W/"1"')]
    assert all(e["fullUrl"].startswith("http") and "/fhir/Communication/" in e["fullUrl"]
               for e in entries)
    assert "resource" not in entries[0]  # a deletion has no content
    assert [e["response"]["status"] for e in entries] == ["200 OK", "200 OK", "201 Created",
                                                          "201 Created"]
    stamps = [e["response"]["lastModified"] for e in entries]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == 4
    assert entries[1]["resource"]["status"] == "completed"
    assert entries[1]["resource"]["meta"] == {"versionId": "2", "lastUpdated": stamps[1]}
    assert entries[3]["resource"]["id"] == h["id"]
    # other types are not mixed in
    assert [e["request"]["method"] for e in _history(client, "Patient", _since=since)["entry"]] \
        == ["POST"]


def test_since_excludes_older_versions(client, uid):
    pid = _create(client, patient(uid))["id"]
    older = _create(client, header(pid))
    newer = _create(client, header(pid))
    cut = newer["meta"]["lastUpdated"]
    ids = [_key(e)[0] for e in _history(client, "Communication", _since=cut)["entry"]]
    assert newer["id"] in ids and older["id"] not in ids
    # the '+' of the zone offset unencoded in the URL (arrives as a space): tolerated
    r = client.get(f"/Communication/_history?_since={cut}")
    assert r.status_code == 200 and older["id"] not in [_key(e)[0] for e in r.json()["entry"]]
    # nothing since a future instant: an empty page, no next link
    b = _history(client, "Communication", _since="2999-01-01T00:00:00Z")
    assert "entry" not in b and [lk["relation"] for lk in b["link"]] == ["self"]


def test_at_returns_versions_current_then(client, uid):
    since = _now(client)
    time.sleep(0.01)
    p = _create(client, patient(uid))
    time.sleep(0.01)
    mid = _now(client)
    time.sleep(0.01)
    r = client.put(f"/Patient/{p['id']}", json=dict(p, gender="female"))
    assert r.status_code == 200
    assert client.delete(f"/Patient/{p['id']}").status_code == 200

    def at(value: str) -> list[str]:
        return [e["response"]["etag"] for e in _history(client, "Patient", _at=value,
                                                        _since=since).get("entry", ())]

    assert at(mid) == ['W/"1"']  # version 1 was current at that instant
    assert at(since) == []  # before the resource existed
    assert at("2999-01-01T00:00:00Z") == ['W/"3"']  # the deletion is current now
    assert at("ge" + mid) == ['W/"3"', 'W/"2"', 'W/"1"']


def test_paging_under_concurrent_writes_skips_nothing(client, srv, uid):
    since = _now(client)
    pid = _create(client, patient(uid))["id"]
    hid = _create(client, header(pid))["id"]
    tasks = [_create(client, task(pid, hid, description=f"t{i}")) for i in range(23)]
    for t in tasks[:5]:  # some resources have several versions
        assert client.put(f"/Task/{t['id']}", json=dict(t, status="accepted")).status_code == 200
    expected = {(t["id"], 'W/"1"') for t in tasks} | {(t["id"], 'W/"2"') for t in tasks[:5]}

    stop = threading.Event()
    written: list[str] = []

    def writer() -> None:  # creates, updates and deletes while the pages are fetched
        with httpx.Client(base_url=srv.base_url, headers={"Authorization": "Bearer tok"}) as c:
            i = 0
            while not stop.is_set() or i < 3:
                t = _create(c, task(pid, hid, description=f"new{i}"))
                written.append(t["id"])
                old = tasks[(i * 7) % len(tasks)]
                c.put(f"/Task/{old['id']}", json=dict(old, description=f"edit{i}"))
                if i % 3 == 0:
                    c.delete(f"/Task/{tasks[-1 - (i // 3) % 10]['id']}")
                i += 1

    first = _history(client, "Task", _since=since, _count=4)
    assert len(first["entry"]) == 4
    bg = threading.Thread(target=writer)
    bg.start()
    try:
        entries = list(first["entry"])
        b = first
        pages = 1
        while nxt := next((lk["url"] for lk in b["link"] if lk["relation"] == "next"), None):
            assert "_cursor=" in nxt and "_count=4" in nxt
            # and a deterministic write between every two pages
            _create(client, task(pid, hid, description=f"between{pages}"))
            b = client.get(nxt).json()
            assert b["type"] == "history"
            entries.extend(b.get("entry") or ())
            pages += 1
            time.sleep(0.005)
    finally:
        stop.set()
        bg.join(10)
    keys = [_key(e) for e in entries]
    assert len(keys) == len(set(keys)), "an entry was repeated"
    stamps = [e["response"]["lastModified"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    # exactly what existed when the first page was served: nothing skipped, and nothing
    # written after it leaked into later pages
    assert set(keys) == expected
    assert pages == 7  # 28 versions, 4 a page
    # a later check from the first page's time sees the concurrent writes
    later = _all_pages(client, _history(client, "Task", _since=first["meta"]["lastUpdated"],
                                        _count=50))
    later_ids = {_key(e)[0] for e in later}
    assert set(written) <= later_ids
    assert {"DELETE", "PUT", "POST"} <= {e["request"]["method"] for e in later}


def test_bad_parameters_and_tokens(client):
    assert client.get("/Task/_history", params={"_since": "yesterday"}).status_code == 400
    assert client.get("/Task/_history", params={"_count": "many"}).status_code == 400
    r = client.get("/Task/_history", params={"name": "x"})
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    assert client.get("/Task/_history", params={"_cursor": "garbage!"}).status_code == 400
    assert client.get("/Unicorn/_history").status_code == 404
    # a page token only works for the query it came from
    b = _history(client, "Patient", _count=1)
    nxt = next((lk["url"] for lk in b["link"] if lk["relation"] == "next"), None)
    if nxt:
        token = nxt.split("_cursor=")[1]
        assert client.get("/Task/_history", params={"_count": 1, "_cursor": token}).status_code \
            == 400
        assert client.get(nxt).status_code == 200
    # _count is capped, not refused
    assert client.get("/Patient/_history", params={"_count": 100000}).status_code == 200


def test_capability_statement_lists_history_type(srv):
    cs = httpx.get(f"{srv.base_url}/metadata").json()
    for res in cs["rest"][0]["resource"]:
        codes = {i["code"] for i in res["interaction"]}
        assert {"history-type", "history-instance"} <= codes, res["type"]


def test_type_history_index_keeps_a_quiet_check_cheap(tmp_path):
    """A check with nothing new reads no history rows (the index on lastUpdated)."""
    from triage_tui.server import fhirtime
    from triage_tui.server.storage import Storage

    st = Storage(tmp_path / "h.db")
    try:
        st.bulk_load({"resourceType": "Patient", "id": f"p{i}"} for i in range(2000))
        plan = " ".join(r[-1] for r in st.db.execute(
            "EXPLAIN QUERY PLAN SELECT h.lu FROM hist h INDEXED BY hist_lu "
            "JOIN res r ON r.rid = h.rid WHERE r.type = 'Patient' AND h.lu >= 0 "
            "ORDER BY h.lu DESC, h.rid DESC, h.version DESC LIMIT 5"))
        assert "hist_lu" in plan and "TEMP B-TREE" not in plan
        versions, nxt = st.type_history("Patient", count=10, since_us=fhirtime.now_us() + 10**9)
        assert versions == [] and nxt is None
        versions, nxt = st.type_history("Patient", count=1500)
        assert len(versions) == 1500 and nxt is not None
        rest, nxt2 = st.type_history("Patient", count=1500, after=nxt)
        assert len(rest) == 500 and nxt2 is None
        assert {v.id for v in versions} | {v.id for v in rest} == {f"p{i}" for i in range(2000)}
    finally:
        st.close()
