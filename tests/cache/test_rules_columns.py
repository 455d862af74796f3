"""The triage rules run when the cache stores a thread's messages: plain rules_priority and
rules_category columns (codes, no PHI) on the threads table, and the format 1 -> 2 migration
that adds and backfills them."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from triage_tui.cache import cache_path, open_store, schema
from triage_tui.cache.api import OutboxItem, OutboxKind
from triage_tui.domain.codes import Category, Priority
from triage_tui.domain.models import Message, Thread

from .conftest import PW, SERVER, T0, USER, sample_records

LIPS = "my lips are swelling since the new pill"


def _thread(tid="thr-r", subject="Refill request", category=Category.REFILL):
    return Thread(tid, "1", "pat-0", subject, category, Priority.ROUTINE, created=T0)


def _msg(mid, text, minutes, *, staff=False, tid="thr-r", version="1"):
    sender = "Practitioner/prac-1" if staff else "Patient/pat-0"
    return Message(mid, version, tid, text, T0 + timedelta(minutes=minutes), sender)


def _row(store, tid="thr-r"):
    return next(r for r in store.queue() if r.thread_id == tid)


def test_urgent_patient_message_sets_rules_priority(store):
    store.upsert([_thread(), _msg("m1", LIPS, 1)])
    row = _row(store)
    assert row.priority == "routine"  # the server's
    assert row.rules_priority == "stat" and row.rules_category == "refill"
    assert store.thread_rules("thr-r") == ("stat", "refill")


def test_negated_symptom_stays_routine(store):
    store.upsert([_thread(), _msg("m1", "No chest pain, just out of pills. Please refill.", 1)])
    assert _row(store).rules_priority == "routine"


def test_message_arriving_in_a_later_batch_reclassifies(store):
    store.upsert([_thread(), _msg("m1", "please refill my lisinopril", 1)])
    assert _row(store).rules_priority == "routine"
    store.upsert([_msg("m2", "Sudden worst headache of my life and my vision is double", 2)])
    assert _row(store).rules_priority == "stat"


def test_staff_text_is_never_classified(store):
    store.upsert([_thread(), _msg("m1", "please refill my lisinopril", 1),
                  _msg("m2", "If you get chest pain or your lips are swelling, call 911.", 2,
                       staff=True)])
    assert _row(store).rules_priority == "routine"


def test_latest_patient_turn_decides(store):
    """A staff reply alone keeps the flag (it may be an acknowledgement); a patient follow-up
    after the reply is what is classified: routine then lowers it."""
    store.upsert([_thread(), _msg("m1", LIPS, 1)])
    store.upsert([_msg("m2", "Please go to the emergency department now.", 2, staff=True)])
    assert _row(store).rules_priority == "stat"
    store.upsert([_msg("m3", "Thanks, I went and I am fine now. Can you refill my pills?", 3)])
    assert _row(store).rules_priority == "routine"
    store.upsert([_msg("m4", LIPS, 4)])  # and it flags again
    assert _row(store).rules_priority == "stat"


def test_deleting_the_urgent_message_reclassifies(store):
    store.upsert([_thread(), _msg("m1", "please refill my lisinopril", 1), _msg("m2", LIPS, 2)])
    assert _row(store).rules_priority == "stat"
    store.delete("Communication", ["m2"])
    assert _row(store).rules_priority == "routine"


def test_classified_once_per_thread_per_batch(store, monkeypatch):
    import triage_tui.cache.rules_worker as rules_mod

    calls = []
    real = rules_mod.classify

    def counting(*a, **kw):
        calls.append(a[1])
        return real(*a, **kw)

    monkeypatch.setattr(rules_mod, "classify", counting)
    recs: list = []
    for i in range(5):
        recs.append(_thread(f"t{i}"))
        recs += [_msg(f"m{i}-{j}", "please refill", j, tid=f"t{i}") for j in range(4)]
    store.upsert(recs)
    assert len(calls) == 5


def test_new_rows_have_no_phi_in_rules_columns(store):
    store.upsert([_thread(subject="Rash after ozempicqz"), _msg("m1", LIPS, 1)])
    vals = store._conn.execute("SELECT rules_priority, rules_category FROM threads").fetchall()
    for p, c in vals:
        assert p in {x.value for x in Priority}
        assert c is None or c in {x.value for x in Category}


def _downgrade_to_v1(path):
    """Make a current cache look like format 1 (no rules columns)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("ALTER TABLE threads DROP COLUMN rules_priority")
    conn.execute("ALTER TABLE threads DROP COLUMN rules_category")
    conn.execute("UPDATE format SET v = '1' WHERE k = 'format_version'")
    conn.close()


def test_migration_1_to_2_backfills_and_keeps_outbox(data_dir):
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    s.upsert(sample_records() + [_thread(), _msg("m1", LIPS, 1)])
    s.enqueue([OutboxItem(f"out-{i}", OutboxKind.REPLY, "Communication", {"n": i},
                          thread_id="thr-r") for i in range(3)])
    s.close()
    path = cache_path(SERVER, USER, data_dir=data_dir)
    _downgrade_to_v1(path)
    before = path.read_bytes()
    try:
        open_store(SERVER, USER, passphrase="wrong", data_dir=data_dir)
    except Exception:
        pass
    assert path.read_bytes() == before  # nothing migrated before a successful unlock

    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert s._conn.execute("SELECT v FROM format WHERE k='format_version'").fetchone()[0] == (
        str(schema.FORMAT_VERSION))
    assert [(i.id, i.payload) for i in s.outbox()] == [(f"out-{i}", {"n": i}) for i in range(3)]
    rows = {r.thread_id: r for r in s.queue()}
    assert len(rows) == 4
    assert all(r.rules_priority is not None for r in rows.values())
    assert rows["thr-r"].rules_priority == "stat"
    assert s.verify() == []
    s.close()
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)  # opens as version 2
    assert len(s.outbox()) == 3 and _row(s).rules_priority == "stat"
    s.close()


def test_failed_backfill_leaves_the_file_as_it_was(data_dir, monkeypatch):
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    s.upsert([_thread(), _msg("m1", LIPS, 1)])
    s.enqueue([OutboxItem("out-0", OutboxKind.REPLY, "Communication", {"n": 0})])
    s.close()
    path = cache_path(SERVER, USER, data_dir=data_dir)
    _downgrade_to_v1(path)
    import triage_tui.cache.rules_worker as rules_mod

    def boom(*a, **kw):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(rules_mod, "classify", boom)
    try:
        open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    except Exception as exc:
        assert "migration failed" in str(exc)
    else:
        raise AssertionError("expected the migration to fail")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT v FROM format WHERE k='format_version'").fetchone()[0] == "1"
    assert "rules_priority" not in {r[1] for r in conn.execute("PRAGMA table_info(threads)")}
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    conn.close()


# --- deferred classification (a pull pass): durable pending marks -------------------------------


def _pending(store) -> set[str]:
    return {r[0] for r in store._conn.execute("SELECT thread_id FROM rules_pending")}


def test_deferred_upsert_marks_pending_in_its_transaction(store):
    store.upsert([_thread(), _msg("m1", LIPS, 1)], defer_rules=True)
    assert _pending(store) == {"thr-r"}
    assert _row(store).rules_priority is None  # not classified yet
    assert store.classify_pending() == 1
    assert _pending(store) == set()
    assert (_row(store).rules_priority, _row(store).rules_category) == ("stat", "refill")


def test_pending_marks_survive_a_crash(data_dir):
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    s.upsert([_thread(), _msg("m1", LIPS, 1)], defer_rules=True)
    s.close()  # the pass never got to classify_pending
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert _pending(s) == {"thr-r"}
    assert s.classify_pending() == 1
    assert _row(s).rules_priority == "stat"
    s.close()


def test_a_result_read_before_a_change_is_not_written(store):
    store.upsert([_thread(), _msg("m1", "please refill my lisinopril", 1)], defer_rules=True)
    (tid, gen, subject, text), = store.rules_pending()
    assert (tid, subject, text) == ("thr-r", "Refill request", "please refill my lisinopril")
    # the thread changes while that text is being classified elsewhere
    store.upsert([_msg("m2", LIPS, 2)], defer_rules=True)
    assert store.apply_rules([(tid, gen, "routine", "refill")]) == 0
    assert _pending(store) == {"thr-r"}
    assert store.classify_pending() == 1
    assert _row(store).rules_priority == "stat"


def test_classified_at_once_makes_a_handed_out_result_stale(store):
    store.upsert([_thread(), _msg("m1", "please refill my lisinopril", 1)], defer_rules=True)
    (tid, gen, _, _), = store.rules_pending()
    store.upsert([_msg("m2", LIPS, 2)])  # not deferred: classified in its transaction
    assert _row(store).rules_priority == "stat"
    assert store.apply_rules([(tid, gen, "routine", "refill")]) == 0
    assert _row(store).rules_priority == "stat"


def test_pending_messages_without_their_thread(store):
    store.upsert([_msg("m1", LIPS, 1)], defer_rules=True)  # the header comes on a later page
    assert store.rules_pending() == []
    assert store.classify_pending() == 0
    assert _pending(store) == set()  # dropped: storing the header marks the thread again
    store.upsert([_thread()], defer_rules=True)
    assert store.classify_pending() == 1
    assert _row(store).rules_priority == "stat"  # the earlier message counts


def test_rules_pending_need_messages(store):
    store.upsert([_thread("t1"), _thread("t2"), _msg("m1", LIPS, 1, tid="t2")],
                 defer_rules=True)
    assert [t[0] for t in store.rules_pending(need_messages=True)] == ["t2"]
    assert sorted(t[0] for t in store.rules_pending(["t1", "t2", "t3"])) == ["t1", "t2"]


def test_rules_pending_skips_what_was_handed_out_unchanged(store):
    """A thread handed out (its generation in ``skip``) is not read again, until it changes."""
    store.upsert([_thread("t1"), _thread("t2"), _msg("m1", LIPS, 1, tid="t1"),
                  _msg("m2", LIPS, 2, tid="t2")], defer_rules=True)
    handed = {tid: gen for tid, gen, _, _ in store.rules_pending()}
    assert sorted(handed) == ["t1", "t2"]
    assert store.rules_pending(skip=handed) == []
    assert store.rules_pending(["t1"], skip={"t2": handed["t2"]})[0][0] == "t1"
    store.upsert([_msg("m3", "and my lips are worse", 3, tid="t1")], defer_rules=True)
    (tid, gen, _, text), = store.rules_pending(skip=handed)  # t1 changed: read again
    assert tid == "t1" and gen != handed["t1"] and text.endswith("and my lips are worse")


def test_migration_2_to_3_adds_the_pending_table(data_dir):
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    s.upsert([_thread(), _msg("m1", LIPS, 1)])
    s.enqueue([OutboxItem("out-0", OutboxKind.REPLY, "Communication", {"n": 0})])
    s.close()
    path = cache_path(SERVER, USER, data_dir=data_dir)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE rules_pending")
    conn.execute("UPDATE format SET v = '2' WHERE k = 'format_version'")
    conn.close()
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert s._conn.execute("SELECT v FROM format WHERE k='format_version'").fetchone()[0] == (
        str(schema.FORMAT_VERSION))
    assert [i.id for i in s.outbox()] == ["out-0"]
    assert _row(s).rules_priority == "stat"
    s.upsert([_msg("m2", "thanks", 2)], defer_rules=True)
    assert _pending(s) == {"thr-r"}
    s.close()


def test_changed_rules_reclassify_stored_threads(data_dir, tmp_path, monkeypatch):
    """A practice edits rules.toml (or a new version brings new rules, model or engine): the
    threads already in the cache are classified again by the next pass, once."""
    from triage_tui.domain.triage import load_rules, rules_fingerprint
    from triage_tui.domain.triage.rules import rules_from_texts, _default_texts

    text = "the zorblax rash is spreading"
    before = rules_from_texts(_default_texts())
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir, rules=before)
    s.upsert([_thread(), _msg("m1", text, 1)])
    assert s.mark_stale_rules() == 1  # a cache made before fingerprints: classified again once
    s.classify_pending()
    assert s.mark_stale_rules() == 0
    assert _row(s).rules_priority == "routine"
    s.close()

    user = tmp_path / "rules.toml"
    user.write_text('[urgent.zorblax]\npriority = "asap"\ndescription = "test term"\n'
                    'category = "clinical"\nterms.en = ["zorblax rash"]\n')
    after = load_rules(user)
    assert after.fingerprint != before.fingerprint
    assert after.fingerprint == rules_fingerprint(user)  # the files alone give the same digest
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir, rules=after)
    assert _row(s).rules_priority == "routine"  # stale until the next pass
    assert s.mark_stale_rules() == 1
    assert s.classify_pending() == 1
    assert _row(s).rules_priority == "asap"
    assert s.mark_stale_rules() == 0
    s.close()
