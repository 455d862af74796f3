"""A page with a lone surrogate escape in a message (valid JSON syntax, not valid Unicode) is
stored with U+FFFD in its place: one hostile message must not stop every later sync."""

from __future__ import annotations

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
