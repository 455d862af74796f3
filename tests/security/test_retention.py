"""Retention (issue 8, part 7): old closed threads leave the cache with their free pages;
open, recent and unsent work stays; the purge is audited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sec_canary import CANARY

from triage_tui.cache import open_store
from triage_tui.cache.api import Draft, OutboxItem, OutboxKind, OutboxState
from triage_tui.cache.retention import purge_closed_threads
from triage_tui.domain.codes import BusinessStatus, Category, Pool, TaskStatus
from triage_tui.domain.models import Message, Patient, Task, Thread

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=200)
USER = "Practitioner/nurse-7"


def _thread(i: int, *, closed: bool, when: datetime, n_msgs: int = 3) -> list:
    tid, pid = f"thr-{i}", "pat-1"
    status = TaskStatus.COMPLETED if closed else TaskStatus.REQUESTED
    bs = BusinessStatus.DONE if closed else BusinessStatus.UNASSIGNED
    out: list = [Thread(tid, "1", pid, f"{CANARY['subject']} {i}", Category.REFILL,
                        created=when, updated=when),
                 Task(f"task-{i}", "1", tid, pid, Pool.PHARMACY, status, bs, last_modified=when)]
    for m in range(n_msgs):
        out.append(Message(f"msg-{i}-{m}", "1", tid, CANARY["text"] + " " + "x" * 3000,
                           when + timedelta(minutes=m), f"Patient/{pid}"))
    return out


@pytest.fixture
def store(tmp_path):
    s = open_store("https://fhir.example.org/r4", USER, passphrase="pw", data_dir=tmp_path)
    recs: list = [Patient("pat-1", "1", CANARY["given"], CANARY["family"], mrn=CANARY["mrn"])]
    for i in range(40):
        recs += _thread(i, closed=True, when=OLD)  # purge these
    recs += _thread(100, closed=False, when=OLD)  # open: stays
    recs += _thread(101, closed=True, when=NOW - timedelta(days=5))  # recent: stays
    recs += _thread(102, closed=True, when=OLD)  # closed but a reply is queued: stays
    recs += _thread(103, closed=True, when=OLD)  # closed but a draft: stays
    s.upsert(recs)
    s.enqueue([OutboxItem("reply-1", OutboxKind.REPLY, "Communication", {"x": 1},
                          thread_id="thr-102")])
    s.enqueue([OutboxItem("reply-0", OutboxKind.REPLY, "Communication", {"x": 2},
                          thread_id="thr-0", state=OutboxState.ACKED)])
    s.save_draft(Draft("thr-103", "draft text"))
    yield s
    s.close()


def test_purge_old_closed_threads(store):
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size_before = store.path.stat().st_size
    report = purge_closed_threads(store, older_than_days=90, user=USER, now=NOW)
    assert report.threads == 40 and report.messages == 120 and report.tasks == 40
    assert report.outbox == 1  # the acked reply of thr-0 held reply text
    left = {r.thread_id for r in store.queue()}
    assert left == {"thr-100", "thr-101", "thr-102", "thr-103"}
    assert store.messages("thr-0") == [] and store.thread("thr-0") is None
    assert store.patient("pat-1") is not None
    assert [i.id for i in store.outbox()] == ["reply-1"]
    assert report.pages_after < report.pages_before
    assert store.path.stat().st_size < size_before
    conn = store._conn
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
    last = store.audit_log()[-1]
    assert last.action == "purge" and last.user == USER and last.detail["threads"] == 40
    assert store.verify_audit() == []
    # idempotent
    again = purge_closed_threads(store, older_than_days=90, user=USER, now=NOW)
    assert again.threads == 0


def test_purge_refuses_zero_days(store):
    with pytest.raises(ValueError):
        purge_closed_threads(store, older_than_days=0, user=USER)


def test_search_forgets_purged_threads(store):
    assert "thr-0" in store.search("zorbaxamine")
    purge_closed_threads(store, older_than_days=90, user=USER, now=NOW)
    assert "thr-0" not in store.search("zorbaxamine")


def test_purge_cli_and_config(store, monkeypatch, capsys, tmp_path):
    import json

    from triage_tui.cli import main
    from triage_tui.config import ConfigError, config_from_dict

    assert config_from_dict({}).retention_days == 90
    assert config_from_dict({}).idle_lock_minutes == 5
    with pytest.raises(ConfigError, match="retention_days"):
        config_from_dict({"retention_days": -1})
    # a real cache under TRIAGE_TUI_HOME, opened non-interactively
    home_store = open_store("https://fhir.example.org/r4", USER, passphrase="pw")
    home_store.upsert(_thread(1, closed=True, when=datetime.now(timezone.utc)
                              - timedelta(days=40)))
    home_store.close()
    monkeypatch.setenv("TRIAGE_TUI_PASSPHRASE", "pw")
    args = ["purge", "--server", "https://fhir.example.org/r4", "--user", USER, "--json"]
    assert main([*args, "--days", "60"]) == 0
    assert json.loads(capsys.readouterr().out)["threads"] == 0
    assert main([*args, "--days", "30"]) == 0
    assert json.loads(capsys.readouterr().out)["threads"] == 1
