"""A page with a lone surrogate escape in a message (valid JSON syntax, not valid Unicode) is
stored with U+FFFD in its place: one hostile message must not stop every later sync."""

from __future__ import annotations

import json

from triage_tui.sync.client import _decode
from triage_tui.sync.pull import Puller


def test_lone_surrogates_become_replacement_characters():
    body = (b'{"a": "x\\ud800y", "\\udfffk": ["\\ud83d\\ude00 ok", {"b": "\\udc00"}], '
            b'"n": NaN}')
    got = _decode(body)
    assert got["a"] == "x\ufffdy" and got["\ufffdk"][0] == "\U0001f600 ok"
    assert got["\ufffdk"][1] == {"b": "\ufffd"}
    assert got["n"] != got["n"]  # NaN, as the standard parser reads it


async def test_a_message_with_a_lone_surrogate_is_stored(server, store, client):
    """(The reference server refuses to hold such text, so the page is handed to the pull as
    the client decoded it.)"""
    await Puller(client, store).pull()
    page = _decode(
        b'{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": '
        b'{"resourceType": "Communication", "id": "sur1", "status": "completed", '
        b'"meta": {"versionId": "1", "lastUpdated": "2026-11-20T10:00:00Z"}, '
        b'"subject": {"reference": "Patient/pat1"}, "sender": {"reference": "Patient/pat1"}, '
        b'"payload": [{"contentString": "chest pain \\ud800 since this morning"}]}}]}')
    p = Puller(client, store)
    res = await p._apply("Communication", [e["resource"] for e in page["entry"]], set())
    assert res.changed >= 1 and res.skipped == 0
    [msg] = store.messages("sur1")
    assert msg.text == "chest pain \ufffd since this morning"
    assert (await Puller(client, store).pull()).complete  # and the sync goes on


def _comm(rid: str, **kw) -> dict:
    res = {"resourceType": "Communication", "id": rid, "status": "completed",
           "meta": {"versionId": "1", "lastUpdated": "2026-11-20T10:00:00Z"},
           "partOf": [{"reference": "Communication/thr-h"}],
           "sender": {"reference": "Patient/pat1"}, "sent": "2026-11-20T10:00:00Z",
           "payload": [{"contentString": f"message {rid}"}]}
    res.update(kw)
    return res


async def test_resources_of_odd_shapes_are_skipped_not_fatal(server, store, client):
    """Each of these used to raise out of the pull (IndexError, AttributeError, TypeError), so
    its page could never be stored and every later sync stopped there. Now each is a skipped
    malformed resource and the rest of the page is stored."""
    odd = [
        _comm("h1", meta="x"),                                   # meta not an object
        _comm("h2", status=["entered-in-error"]),                # status a list
        _comm("h3", partOf=[{"reference": "Communication/"}]),    # a reference without an id
        _comm("h4", sender={"reference": "/"}),
        _comm("h5", payload="chest pain"),                       # payload a string
        {"resourceType": "Communication", "id": "h6", "status": "completed",
         "meta": {"versionId": "1"}, "subject": {"reference": "Patient/"}},  # header, no patient id
    ]
    good = [_comm("ok1"), _comm("ok2", sender={"reference": "Practitioner/pr1"})]
    res = await Puller(client, store)._apply("Communication", [*odd[:3], good[0], *odd[3:], good[1]],
                                             set())
    # h1 and h2 map leniently (no version: "0"; the status as text); the others are skipped
    assert res.skipped == 4
    assert sorted(m.id for m in store.messages("thr-h")) == ["h1", "h2", "ok1", "ok2"]

    roles = [{"resourceType": "PractitionerRole", "id": "r1", "meta": {"versionId": "1"},
              "practitioner": {"reference": "Practitioner/"}},
             {"resourceType": "PractitionerRole", "id": "r2", "meta": {"versionId": "1"},
              "practitioner": ["Practitioner/pr1"]}]
    assert (await Puller(client, store)._apply("PractitionerRole", roles, set())).skipped == 2
    pracs = [{"resourceType": "Practitioner", "id": "pr9", "meta": {"versionId": "1"},
              "name": [{"prefix": 5, "family": "Synthetic"}]}]
    assert (await Puller(client, store)._apply("Practitioner", pracs, set())).skipped == 1
    assert (await Puller(client, store).pull()).complete  # and the sync goes on


def test_an_entry_whose_search_is_not_an_object_is_read_as_a_match():
    """It used to raise AttributeError out of _open_page: the page could never be stored."""
    from triage_tui.sync.pull import _open_page

    res = _comm("s1")
    body = (b'{"resourceType": "Bundle", "type": "searchset", "entry": ['
            b'{"resource": %s, "search": "x"}, {"resource": %s, "search": {"mode": "include"}},'
            b'{"resource": %s, "search": null}]}') % tuple(
                json.dumps(r).encode() for r in (res, _comm("s2"), _comm("s3")))
    page = _open_page("Communication", body)
    assert [r["id"] for r in page.resources] == ["s1", "s3"]
