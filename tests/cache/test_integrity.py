"""Bad input: tampered rows (quarantined, the rest opens), corrupt files, versions, migration,
network filesystems."""

from __future__ import annotations

import os
import sqlite3

import pytest

from triage_tui.cache import (
    CacheCorrupt,
    CacheVersionError,
    UnsupportedFilesystem,
    cache_id,
    cache_path,
    fs,
    open_store,
    schema,
)
from triage_tui.cache.api import OutboxItem, OutboxKind
from triage_tui.cache.crypto import FieldCipher
from triage_tui.cache.keyslots import write_passphrase_slot
from triage_tui.domain.models import Message

from .conftest import PW, SERVER, T0, USER, sample_records


def _filled(data_dir):
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    s.upsert(sample_records())
    s.set_cursor("Communication", "2025-03-05T00:00:00Z")
    s.enqueue([OutboxItem(f"out-{i}", OutboxKind.REPLY, "Communication", {"n": i})
               for i in range(3)])
    s.close()  # checkpoints: everything is in the main file
    return cache_path(SERVER, USER, data_dir=data_dir)


def _blob(path, sql, *params):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


def _sql(path, sql, *params):
    conn = sqlite3.connect(path)
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_flipped_byte_in_the_file_quarantines_that_row_only(data_dir):
    path = _filled(data_dir)
    blob = _blob(path, "SELECT phi FROM messages WHERE id = 'msg-1-a'")
    raw = bytearray(path.read_bytes())
    at = raw.find(blob)
    assert at > 0 and raw.find(blob, at + 1) == -1
    raw[at + 20] ^= 0x01  # inside the ciphertext
    path.write_bytes(bytes(raw))
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert s.messages("thr-1") == []  # the tampered message is not shown...
    assert [m.id for m in s.messages("thr-0")] == ["msg-0-a", "msg-0-b"]  # ...the rest is
    [q] = s.quarantined()
    assert (q.table, q.row_id, q.column) == ("messages", "msg-1-a", "phi")
    assert {r.thread_id: r for r in s.queue()}["thr-1"].message_count == 0
    assert s.get_cursor("Communication") is None  # the next sync pulls it again
    s.upsert([Message("msg-1-a", "1", "thr-1", "restored by sync", T0, "Patient/pat-1")])
    assert [m.text for m in s.messages("thr-1")] == ["restored by sync"]
    s.close()


def test_swapped_ciphertexts_fail_and_are_both_quarantined(data_dir):
    path = _filled(data_dir)
    a = _blob(path, "SELECT phi FROM threads WHERE id = 'thr-0'")
    b = _blob(path, "SELECT phi FROM threads WHERE id = 'thr-2'")
    _sql(path, "UPDATE threads SET phi = ? WHERE id = 'thr-0'", b)
    _sql(path, "UPDATE threads SET phi = ? WHERE id = 'thr-2'", a)
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert set(s.thread_display(["thr-0", "thr-1", "thr-2"])) == {"thr-1"}
    assert {(q.table, q.row_id) for q in s.quarantined()} == {("threads", "thr-0"),
                                                              ("threads", "thr-2")}
    assert [r.thread_id for r in s.queue()] == ["thr-1"]
    s.close()


def test_verify_scans_everything_and_search_skips_bad_rows(data_dir):
    path = _filled(data_dir)
    blob = bytearray(_blob(path, "SELECT phi FROM patients WHERE id = 'pat-2'"))
    blob[-1] ^= 0x80  # the tag
    _sql(path, "UPDATE patients SET phi = ? WHERE id = 'pat-2'", bytes(blob))
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert s.search("lisinoprilxq") == {"thr-0"}
    assert s.search("glucosaxz") == {"thr-2"}  # thread still there, name unknown
    assert [(q.table, q.row_id) for q in s.quarantined()] == [("patients", "pat-2")]
    assert s.verify() == []  # nothing more
    s.close()


def test_tampered_outbox_row_is_quarantined_at_open(data_dir):
    path = _filled(data_dir)
    blob = bytearray(_blob(path, "SELECT payload FROM outbox WHERE id = 'out-1'"))
    blob[15] ^= 0xFF
    _sql(path, "UPDATE outbox SET payload = ? WHERE id = 'out-1'", bytes(blob))
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert [q.row_id for q in s.quarantined()] == ["out-1"]  # reported before anything is sent
    assert [i.id for i in s.outbox()] == ["out-0", "out-2"]
    s.close()


def test_garbage_file_is_a_clear_error(data_dir):
    path = cache_path(SERVER, USER, data_dir=data_dir)
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(8192))
    with pytest.raises(CacheCorrupt, match="cannot be read"):
        open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)


def test_newer_or_unknown_format_is_refused_untouched(data_dir):
    path = _filled(data_dir)
    _sql(path, "UPDATE format SET v = '7' WHERE k = 'format_version'")
    before = path.read_bytes()
    with pytest.raises(CacheVersionError, match="newer triage-tui"):
        open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert path.read_bytes() == before
    _sql(path, "UPDATE format SET v = 'banana' WHERE k = 'format_version'")
    with pytest.raises(CacheVersionError, match="not a triage-tui cache"):
        open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    other = cache_path(SERVER, "someone", data_dir=data_dir)
    _sql(other, "CREATE TABLE unrelated (x)")
    with pytest.raises(CacheVersionError, match="not a triage-tui cache"):
        open_store(SERVER, "someone", passphrase=PW, data_dir=data_dir)


def _make_v0_cache(path):
    """A cache in the pre-release layout (format 0) with two unsent replies and a draft."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cid = cache_id(SERVER, USER)
    dek = os.urandom(32)
    c = FieldCipher(dek)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for stmt in schema.statements(schema.BOOTSTRAP + schema.SCHEMA_V0):
        conn.execute(stmt)
    conn.executemany("INSERT INTO format VALUES (?, ?)", [("format_version", "0"),
                                                           ("cache_id", cid)])
    write_passphrase_slot(conn, cid, dek, PW)
    for i in range(2):
        conn.execute(
            "INSERT INTO outbox (id, kind, resource_type, thread_id, state, attempts, created, "
            "updated, payload) VALUES (?, 'reply', 'Communication', 'thr-0', ?, ?, ?, ?, ?)",
            (f"old-{i}", "queued" if i == 0 else "in_flight", i, T0.isoformat(), T0.isoformat(),
             c.encrypt("outbox", f"old-{i}", "payload", b'{"text": "unsent reply"}')))
    conn.execute("INSERT INTO drafts (thread_id, updated, phi) VALUES ('thr-1', ?, ?)",
                 (T0.isoformat(), c.encrypt("drafts", "thr-1", "phi", b"half a draft")))
    conn.close()


def test_migration_from_format_0_keeps_outbox_rows(data_dir):
    path = cache_path(SERVER, USER, data_dir=data_dir)
    _make_v0_cache(path)
    before = path.read_bytes()
    with pytest.raises(Exception, match="passphrase does not unlock"):
        open_store(SERVER, USER, passphrase="wrong", data_dir=data_dir)
    assert path.read_bytes() == before  # no migration before a successful unlock
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert [(i.id, i.state.value, i.attempts, i.payload) for i in s.outbox()] == [
        ("old-0", "queued", 0, {"text": "unsent reply"}),
        ("old-1", "in_flight", 1, {"text": "unsent reply"}),
    ]
    assert s.draft("thr-1").text == "half a draft"
    assert s._conn.execute("SELECT v FROM format WHERE k='format_version'").fetchone()[0] == (
        str(schema.FORMAT_VERSION))
    s.upsert(sample_records())
    s.audit("migrated", user=USER)
    assert s.verify_audit() == [] and len(s.queue()) == 3
    s.close()
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)  # opens as the current version
    assert len(s.outbox()) == 2
    s.close()


@pytest.mark.parametrize("fstype", ["nfs", "nfs4", "cifs", "smb3", "fuse.sshfs"])
def test_network_filesystem_is_refused(tmp_path, monkeypatch, fstype):
    mnt = tmp_path / "mnt point"
    mnt.mkdir()
    mounts = tmp_path / "mounts"
    escaped = str(mnt).replace(" ", "\\040")
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\nsrv:/x {escaped} {fstype} rw 0 0\n")
    monkeypatch.setattr(fs, "MOUNTS_FILE", str(mounts))
    with pytest.raises(UnsupportedFilesystem) as err:
        open_store(SERVER, USER, passphrase=PW, data_dir=mnt / "triage" / "data")
    assert fstype in str(err.value) and "WAL" in str(err.value) and err.value.exit_code != 0
    assert not (mnt / "triage").exists()
    open_store(SERVER, USER, passphrase=PW, data_dir=tmp_path / "local").close()


def test_filesystem_probe_reads_this_machine():
    assert fs.filesystem_type(fs.Path("/")) is not None
