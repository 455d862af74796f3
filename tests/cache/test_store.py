"""The CacheAPI behaviour of the encrypted store (real SQLite files, real encryption)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest

from triage_tui.cache import CacheLocked, open_store
from triage_tui.cache.api import CacheAPI, Draft, OutboxItem, OutboxKind, OutboxState
from triage_tui.domain.codes import BusinessStatus, Pool, TaskStatus
from triage_tui.domain.codes import Priority
from triage_tui.domain.models import Message, Patient, Task, Thread

from .conftest import PHI, PW, SERVER, T0, USER, sample_records


def test_store_implements_the_contract(store):
    assert isinstance(store, CacheAPI)


def test_upsert_is_idempotent_on_id_and_version(store):
    recs = sample_records()
    assert store.upsert(recs) == len(recs)
    assert store.upsert(recs) == 0
    p = store.patient("pat-0")
    assert store.upsert([replace(p, version="2", phone="+1-555-0000")]) == 1
    assert store.patient("pat-0").phone == "+1-555-0000"
    assert store.version_of("Patient", "pat-0") == "2"
    assert store.version_of("Communication", "msg-0-a") == "1"
    assert store.version_of("Communication", "thr-1") == "1"
    assert store.version_of("Task", "nope") is None
    assert store.stored("Communication", ["msg-0-a", "thr-1", "nope"]) == {"msg-0-a", "thr-1"}
    assert store.stored("Patient", (f"pat-{i}" for i in range(1200))) == {
        f"pat-{i}" for i in range(1200) if store.version_of("Patient", f"pat-{i}")}
    assert store.stored("Task", []) == set()


@pytest.mark.parametrize("max_vars", [999, 25])
def test_many_rows_per_insert_statement(store, max_vars):
    """Rows go in several per INSERT statement, as many as the SQLite build's variable limit
    allows (999 on older builds; 25 here: two rows of a thread or message at a time), with the
    same result as one statement per row: new rows, changed ones, unchanged ones."""
    store._max_vars = max_vars
    pats = [Patient(f"p{i}", "1", f"Given{i}", "Fam", None, None, "en", None) for i in range(700)]
    threads = [Thread(f"t{i}", "1", f"p{i % 700}", f"Subject {i}", None, Priority.ROUTINE,
                      created=T0 + timedelta(minutes=i)) for i in range(601)]
    msgs = [Message(f"m{i}", "1", f"t{i % 601}", f"text {i}", T0 + timedelta(minutes=i),
                    f"Patient/p{i % 700}") for i in range(1203)]
    inserts: list[str] = []
    store._conn.set_trace_callback(lambda sql: inserts.append(sql)
                                   if sql.startswith("INSERT INTO patients") else None)
    assert store.upsert([*pats, *threads, *msgs]) == 700 + 601 + 1203
    store._conn.set_trace_callback(None)
    per = min(250, max_vars // 3)  # patients: id, version, phi
    assert len(inserts) == -(-700 // per)  # whole statements of many rows each
    changed = [replace(m, version="2", text=m.text + " (edited)") for m in msgs[::7]]
    assert store.upsert([*changed, *msgs[1::7]]) == len(changed)
    assert store.patient("p699").given == "Given699"
    got = {m.id: m for t in ("t0", "t600") for m in store.messages(t)}
    assert set(got) == {"m0", "m601", "m1202", "m600", "m1201"}
    assert got["m0"].text == "text 0 (edited)" and got["m601"].text == "text 601"
    assert got["m1202"].text == "text 1202" and got["m1201"].text == "text 1201"
    counts = {r.thread_id: r.message_count for r in store.queue()}
    assert len(counts) == 601 and counts["t0"] == 3 and counts["t600"] == 2


def test_round_trip_of_every_record(store):
    recs = sample_records()
    store.upsert(recs)
    by_id = {r.id: r for r in recs}
    assert store.patient("pat-2") == by_id["pat-2"]
    assert store.practitioner("prac-1") == by_id["prac-1"]
    assert store.thread("thr-0") == by_id["thr-0"]
    assert store.messages("thr-0") == [by_id["msg-0-a"], by_id["msg-0-b"]]
    assert store.task_for_thread("thr-1") == by_id["task-1"]
    ctx = store.patient_context("pat-0")
    assert ctx.patient == by_id["pat-0"] and ctx.medications == [by_id["med-1"]]
    assert store.patient_context("pat-1").appointments == [by_id["app-1"]]
    assert store.patient_context("pat-2").observations == [by_id["obs-1"]]
    assert store.patient("nobody") is None and store.thread("nothing") is None


def test_queue_is_plain_denormalised_metadata(store):
    store.upsert(sample_records())
    rows = {r.thread_id: r for r in store.queue()}
    assert set(rows) == {"thr-0", "thr-1", "thr-2"}
    r0 = rows["thr-0"]
    assert r0.message_count == 2 and r0.last_from_patient is False  # last is the staff reply
    assert r0.last_message_at == T0 + timedelta(hours=2)
    assert (r0.task_id, r0.pool, r0.business_status) == ("task-0", "nursing", "unassigned")
    assert r0.due == T0 + timedelta(days=1)
    assert rows["thr-1"].last_from_patient is True and rows["thr-1"].message_count == 1
    # a task claimed later updates the queue row
    store.upsert([Task("task-1", "2", "thr-1", "pat-1", Pool.PROVIDER, TaskStatus.ACCEPTED,
                       BusinessStatus.CLAIMED, owner_ref="Practitioner/prac-1",
                       last_modified=T0 + timedelta(hours=5))])
    r1 = {r.thread_id: r for r in store.queue()}["thr-1"]
    assert (r1.pool, r1.owner_ref, r1.business_status) == ("provider", "Practitioner/prac-1",
                                                           "claimed")
    # messages arriving before their thread still count once the thread comes
    store.upsert([Message("early", "1", "thr-9", "first", T0, "Patient/pat-0")])
    store.upsert([Thread("thr-9", "1", "pat-0", "later header", None)])
    assert {r.thread_id: r for r in store.queue()}["thr-9"].message_count == 1


def test_queue_task_columns_follow_the_latest_task_of_the_thread(store):
    store.upsert(sample_records())

    def row():
        r = {r.thread_id: r for r in store.queue()}["thr-0"]
        return r.task_id, r.pool, r.owner_ref, r.business_status, r.due

    def task(tid, when, pool, owner=None, due=None):
        return Task(tid, "1", "thr-0", "pat-0", pool, TaskStatus.ACCEPTED,
                    BusinessStatus.CLAIMED if owner else BusinessStatus.UNASSIGNED,
                    owner_ref=owner, due=due, last_modified=when)

    late = T0 + timedelta(days=3)
    store.upsert([task("task-z", late, Pool.PHARMACY, "Practitioner/prac-1", late)])
    assert row() == ("task-z", "pharmacy", "Practitioner/prac-1", "claimed", late)
    # same last_modified: the greater id wins; an older task changes nothing
    store.upsert([task("task-a", late, Pool.PROVIDER), task("task-b", T0, Pool.NURSING)])
    assert row() == ("task-z", "pharmacy", "Practitioner/prac-1", "claimed", late)
    store.delete("Task", ["task-z"])
    assert row() == ("task-a", "provider", None, "unassigned", None)
    store.delete("Task", ["task-a", "task-b", "task-0"])
    assert row() == (None, None, None, None, None)
    # a task stored before its thread shows once the thread comes
    store.upsert([Task("task-9", "1", "thr-9", "pat-0", Pool.SCHEDULING, TaskStatus.REQUESTED,
                       BusinessStatus.UNASSIGNED, due=late, last_modified=T0)])
    store.upsert([Thread("thr-9", "1", "pat-0", "later header", None)])
    r9 = {r.thread_id: r for r in store.queue()}["thr-9"]
    assert (r9.task_id, r9.pool, r9.business_status, r9.due) == (
        "task-9", "scheduling", "unassigned", late)


def test_thread_display_decrypts_only_what_is_asked(store):
    store.upsert(sample_records())
    d = store.thread_display(["thr-0", "thr-2", "missing"])
    assert set(d) == {"thr-0", "thr-2"}
    assert d["thr-0"].patient_name == "Zebulon Thistlewood"
    assert d["thr-0"].subject == PHI["subject"][0]
    assert d["thr-0"].preview.startswith("My lisinoprilxq bottle")  # last PATIENT message
    assert d["thr-2"].patient_name == "Marisol Ñandúbay"


def test_delete_removes_records_and_updates_the_queue(store):
    store.upsert(sample_records())
    assert store.delete("Communication", ["msg-0-b"]) == 1
    assert {r.thread_id: r for r in store.queue()}["thr-0"].message_count == 1
    store.delete("Task", ["task-0"])
    assert {r.thread_id: r for r in store.queue()}["thr-0"].task_id is None
    store.delete("Communication", ["thr-0"])
    assert "thr-0" not in {r.thread_id for r in store.queue()}
    with pytest.raises(ValueError):
        store.delete("Nonsense", ["x"])


def test_search_words_names_prefixes_accents_and_updates(store):
    store.upsert(sample_records())
    assert store.search("lisinoprilxq") == {"thr-0"}
    assert store.search("LISINO walgrobe") == {"thr-0"}  # all words, any field, prefix
    assert store.search("zebulon") == {"thr-0"}  # patient name
    assert store.search("nandubay") == {"thr-2"}  # accents folded
    assert store.search("glucosaxz mareado") == {"thr-2"}
    assert store.search("rash") == {"thr-1"}
    assert store.search("lisinoprilxq ozempicqz") == set()
    assert store.search("   ") == set()
    store.upsert([Message("msg-1-b", "1", "thr-1", "also hiccupsqq now", T0 + timedelta(days=1),
                          "Patient/pat-1")])
    assert store.search("hiccupsqq") == {"thr-1"}
    p = store.patient("pat-1")
    store.upsert([replace(p, version="2", family="Renamedovich")])
    assert store.search("renamedovich") == {"thr-1"}
    assert store.search("abernathy") == set()
    store.delete("Communication", ["thr-1"])
    assert store.search("rash") == set()


def test_search_sees_writes_of_another_process(store, data_dir):
    store.upsert(sample_records())
    assert store.search("newwordqq") == set()
    other = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    other.upsert([Message("m-x", "1", "thr-2", "newwordqq", T0, "Patient/pat-2")])
    other.close()
    assert store.search("newwordqq") == {"thr-2"}


def test_enqueue_and_draft_removal_are_one_transaction(store):
    store.save_draft(Draft("thr-0", PHI["draft"], "refill-sent"))
    assert store.draft("thr-0").text == PHI["draft"]
    item = OutboxItem("client-1", OutboxKind.REPLY, "Communication",
                      {"resourceType": "Communication", "payload": [{"contentString": PHI["reply"]}]},
                      thread_id="thr-0", user=USER)
    # a failure inside the transaction leaves both the outbox and the draft as they were
    bad = OutboxItem("client-2", "not-a-kind", "Communication", {})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.enqueue([item, bad], clear_drafts=["thr-0"])
    assert store.outbox() == [] and store.draft("thr-0") is not None
    store.enqueue([item], clear_drafts=["thr-0"])
    assert store.draft("thr-0") is None
    [got] = store.outbox()
    assert got.payload == item.payload and got.state is OutboxState.QUEUED and got.user == USER
    # enqueue is idempotent on the id: an in-flight item is never reset to queued
    got.state, got.attempts = OutboxState.IN_FLIGHT, 1
    store.update_outbox(got)
    store.enqueue([item])
    assert store.outbox()[0].state is OutboxState.IN_FLIGHT
    got.state, got.last_error, got.server_version = OutboxState.NEEDS_REVIEW, "412 stale", "7"
    store.update_outbox(got)
    [again] = store.outbox([OutboxState.NEEDS_REVIEW])
    assert (again.last_error, again.server_version, again.attempts) == ("412 stale", "7", 1)
    assert store.outbox([OutboxState.QUEUED]) == []
    assert store.outbox_counts()[OutboxState.NEEDS_REVIEW] == 1
    with pytest.raises(KeyError):
        store.update_outbox(OutboxItem("ghost", OutboxKind.REPLY, "Communication", {}))
    store.delete_draft("thr-0")


def test_connection_is_wal_and_synchronous_full(store):
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_cursors_and_meta(store):
    assert store.get_cursor("Communication") is None
    store.set_cursor("Communication", "2025-03-04T10:00:00Z")
    assert store.get_cursor("Communication") == "2025-03-04T10:00:00Z"
    store.set_meta("practitioner", "Practitioner/prac-1")
    assert store.get_meta("practitioner") == "Practitioner/prac-1"
    assert store.get_meta("missing") is None


def test_audit_chain_detects_edits_deletions_and_truncation(store, data_dir):
    for i in range(5):
        store.audit("view", user=USER, entity=f"Communication/thr-{i}", detail={"why": "triage"})
    assert store.verify_audit() == []
    assert store.audit_log()[0].detail == {"why": "triage"}
    conn = sqlite3.connect(store.path)
    conn.execute("UPDATE audit SET action = 'export' WHERE seq = 2")
    conn.commit()
    assert any("row 2 was altered" in p for p in store.verify_audit())
    conn.execute("UPDATE audit SET action = 'view' WHERE seq = 2")
    conn.execute("DELETE FROM audit WHERE seq = 3")
    conn.commit()
    assert any("missing" in p for p in store.verify_audit())
    conn.execute("DELETE FROM audit WHERE seq >= 3")
    conn.commit()
    assert any("removed from the end" in p for p in store.verify_audit())
    conn.close()


def test_lock_forgets_the_key_and_unlock_restores(store):
    store.upsert(sample_records())
    store.search("rash")
    store.lock()
    assert store.locked and store._corpus is None
    with pytest.raises(CacheLocked):
        store.queue()
    with pytest.raises(CacheLocked):
        store.thread_display(["thr-0"])
    store.unlock(PW)
    assert store.thread_display(["thr-0"])["thr-0"].subject == PHI["subject"][0]


def test_unknown_record_type_is_refused(store):
    with pytest.raises(TypeError):
        store.upsert([object()])  # type: ignore[list-item]


def test_patient_fields_round_trip_none(store):
    store.upsert([Patient("p-n", "1", "", "")])
    assert store.patient("p-n") == Patient("p-n", "1", "", "")


def test_queue_prefetched_during_unlock_is_fresh(store, data_dir):
    store.upsert(sample_records())
    store.close()
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert s._prefetch is not None
    assert len(s.queue()) == 3 and s._prefetch is None  # used once
    s.close()
    # written by this store after open: the prefetch is discarded
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    s.upsert([Thread("thr-new", "1", "pat-0", "new", None)])
    assert len(s.queue()) == 4
    s.close()
    # written by another process after open: discarded too
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    other = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    other.upsert([Thread("thr-other", "1", "pat-0", "other", None)])
    other.close()
    assert len(s.queue()) == 5
    s.close()


ODD_IDS = ["plain", "quote\"s", "back\\slash", "tab\tnl\n", "\x01ctl", "é-ü", "漢字",
           "\U0001f600", "\u2028", "x" * 300]


def test_id_lists_reach_sqlite_as_the_same_values():
    """The write path binds id lists as JSON for json_each: every id comes back unchanged,
    and an id orjson refuses (a lone surrogate) is written as json.dumps writes it."""
    from triage_tui.cache.store import _json_ids

    assert _json_ids(["a\ud800b", "plain"]) == json.dumps(["a\ud800b", "plain"])
    conn = sqlite3.connect(":memory:")
    for ids in (ODD_IDS, []):
        js = _json_ids(ids)
        assert json.loads(js) == ids
        got = [r[0] for r in conn.execute("SELECT value FROM json_each(?)", (js,))]
        want = [r[0] for r in conn.execute("SELECT value FROM json_each(?)", (json.dumps(ids),))]
        assert got == want
    assert [r[0] for r in conn.execute("SELECT value FROM json_each(?)",
                                       (_json_ids(ODD_IDS),))] == ODD_IDS


def test_records_with_odd_ids_are_stored_and_found(store):
    recs = [Thread(f"thr-{i}", "1", "pat-0", "s", None) for i in ODD_IDS]
    recs += [Message(f"msg-{i}", "1", f"thr-{i}", "t", T0, "Patient/pat-0") for i in ODD_IDS]
    recs += [Task(f"task-{i}", "1", f"thr-{i}", "pat-0", Pool.NURSING, TaskStatus.REQUESTED,
                  BusinessStatus.UNASSIGNED) for i in ODD_IDS]
    assert store.upsert(recs) == len(recs)
    assert store.upsert(recs) == 0  # found by id: same version, no change
    rows = {r.thread_id: r for r in store.queue()}
    for i in ODD_IDS:
        r = rows[f"thr-{i}"]
        assert (r.message_count, r.task_id) == (1, f"task-{i}")
    with pytest.raises(UnicodeEncodeError):
        store.upsert([Message("msg-\ud800", "1", "thr-plain", "t", T0, "Patient/pat-0")])
    assert rows.keys() == {r.thread_id for r in store.queue()}
