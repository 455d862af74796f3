"""Key sources: passphrase (argument, environment, file), keyring (safe backends only, with a
timeout), passphrase change, per-user keys."""

from __future__ import annotations

import hashlib
import shutil
import time

import keyring
import pytest
from keyring.backends import chainer, fail

from triage_tui.cache import (
    KeyUnavailable,
    NeedsPassphrase,
    PassphraseFileError,
    WrongCache,
    WrongPassphrase,
    cache_path,
    cache_status,
    crypto,
    keys,
    open_store,
)
from triage_tui.errors import UserError

from .conftest import PW, SERVER, USER, MemoryKeyring, sample_records


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_wrong_passphrase_is_clear_and_changes_nothing(store, data_dir):
    store.upsert(sample_records())
    store.close()
    path = cache_path(SERVER, USER, data_dir=data_dir)
    before = _digest(path)
    with pytest.raises(WrongPassphrase) as err:
        open_store(SERVER, USER, passphrase="not it", data_dir=data_dir)
    assert isinstance(err.value, UserError) and err.value.exit_code != 0
    assert "passphrase does not unlock" in str(err.value)
    assert _digest(path) == before
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert len(s.queue()) == 3
    s.close()


def test_passphrase_from_environment_and_file(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv(keys.ENV_PASSPHRASE, PW)
    s = open_store(SERVER, USER, data_dir=data_dir)
    s.upsert(sample_records())
    s.close()
    monkeypatch.delenv(keys.ENV_PASSPHRASE)
    f = tmp_path / "pw.txt"
    f.write_text(PW + "\n")
    monkeypatch.setenv(keys.ENV_PASSPHRASE_FILE, str(f))
    s = open_store(SERVER, USER, data_dir=data_dir)
    assert s.unlocked_by == "passphrase" and len(s.queue()) == 3
    s.close()
    monkeypatch.setenv(keys.ENV_PASSPHRASE_FILE, str(tmp_path / "missing"))
    with pytest.raises(PassphraseFileError, match="no such file"):
        open_store(SERVER, USER, data_dir=data_dir)


def test_no_passphrase_and_no_keyring_asks(data_dir):
    with pytest.raises(NeedsPassphrase) as err:
        open_store(SERVER, USER, data_dir=data_dir)
    assert err.value.creating and "TRIAGE_TUI_PASSPHRASE" in str(err.value)
    assert not cache_path(SERVER, USER, data_dir=data_dir).exists()  # nothing half-made
    open_store(SERVER, USER, passphrase=PW, data_dir=data_dir).close()
    with pytest.raises(NeedsPassphrase) as err:
        open_store(SERVER, USER, data_dir=data_dir)
    assert not err.value.creating


def test_change_passphrase_rewraps_without_rewriting_rows(store, data_dir):
    store.upsert(sample_records())
    rows_before = store._conn.execute("SELECT id, phi FROM messages ORDER BY id").fetchall()
    with pytest.raises(WrongPassphrase):
        store.change_passphrase("wrong", "new one")
    store.change_passphrase(PW, "new passphrase 2")
    assert store._conn.execute("SELECT id, phi FROM messages ORDER BY id").fetchall() == rows_before
    store.close()
    with pytest.raises(WrongPassphrase):
        open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    s = open_store(SERVER, USER, passphrase="new passphrase 2", data_dir=data_dir)
    assert s.search("zebulon") == {"thr-0"}
    s.close()


def test_two_users_have_different_keys_and_cannot_open_each_other(tmp_path):
    a_dir, b_dir = tmp_path / "alice", tmp_path / "bob"
    a = open_store(SERVER, "alice", passphrase=PW, data_dir=a_dir)
    b = open_store(SERVER, "bob", passphrase=PW, data_dir=b_dir)  # even the same passphrase
    assert bytes(a._dek) != bytes(b._dek)
    a.upsert(sample_records())
    a.close()
    b.close()
    a_file = cache_path(SERVER, "alice", data_dir=a_dir)
    assert a_file != cache_path(SERVER, "bob", data_dir=b_dir)
    # bob copies alice's file over his own: refused (the file is bound to server + user)
    shutil.copy(a_file, cache_path(SERVER, "bob", data_dir=b_dir))
    with pytest.raises(WrongCache):
        open_store(SERVER, "bob", passphrase=PW, data_dir=b_dir)
    with pytest.raises(WrongPassphrase):
        open_store(SERVER, "alice", passphrase="bob's passphrase", data_dir=a_dir)


def test_keyring_path_without_passphrase(mem_keyring, data_dir):
    s = open_store(SERVER, USER, data_dir=data_dir)
    assert s.unlocked_by == "keyring"
    s.upsert(sample_records())
    s.close()
    assert len(mem_keyring.store) == 1
    [(service, account)] = mem_keyring.store
    assert service == "triage-tui" and USER not in account and "fhir" not in account
    st = cache_status(SERVER, USER, data_dir=data_dir)
    assert st.exists and st.has_keyring_slot and not st.needs_passphrase
    s = open_store(SERVER, USER, data_dir=data_dir)
    assert len(s.queue()) == 3
    # add a passphrase slot (recovery / SSH use), then lose the keyring
    s.change_passphrase(None, "fallback pw")
    s.close()
    mem_keyring.store.clear()
    with pytest.raises(NeedsPassphrase):
        open_store(SERVER, USER, data_dir=data_dir)
    s = open_store(SERVER, USER, passphrase="fallback pw", data_dir=data_dir)
    assert len(s.queue()) == 3
    s.close()


def test_keyring_only_cache_without_keyring_is_a_clear_error(mem_keyring, data_dir):
    open_store(SERVER, USER, data_dir=data_dir).close()
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(KeyUnavailable, match="system keyring"):
        open_store(SERVER, USER, data_dir=data_dir)


class _AltLikeKeyring(MemoryKeyring):
    pass


_AltLikeKeyring.__module__ = "keyrings.alt.file"


def _chain(*members):
    cls = type("Chain", (chainer.ChainerBackend,), {"backends": list(members)})
    return cls()


def test_unsafe_backends_are_refused(data_dir):
    for backend in (fail.Keyring(), _AltLikeKeyring()):
        keyring.set_keyring(backend)
        assert not keys.keyring_available()
        with pytest.raises(NeedsPassphrase):
            open_store(SERVER, USER, data_dir=data_dir)
    keyring.set_keyring(_chain(_AltLikeKeyring(), fail.Keyring()))
    assert not keys.keyring_available()
    assert not cache_path(SERVER, USER, data_dir=data_dir).exists()


def test_chainer_uses_its_safe_member_only(mem_keyring, monkeypatch):
    alt = _AltLikeKeyring()
    keyring.set_keyring(_chain(alt, mem_keyring))
    keys.set_kek("acct", b"k" * 32)
    assert alt.store == {} and len(mem_keyring.store) == 1


def test_hanging_keyring_falls_back_to_passphrase(hanging_keyring, data_dir):
    t0 = time.monotonic()
    with pytest.raises(NeedsPassphrase) as err:
        open_store(SERVER, USER, data_dir=data_dir)
    assert "timed out" in err.value.reason
    assert time.monotonic() - t0 < 3
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    assert s.unlocked_by == "passphrase"
    s.close()


def test_cache_status_for_the_unlock_screen(data_dir, monkeypatch):
    st = cache_status(SERVER, USER, data_dir=data_dir)
    assert not st.exists and st.creating and st.needs_passphrase and st.problem is None
    open_store(SERVER, USER, passphrase=PW, data_dir=data_dir).close()
    st = cache_status(SERVER, USER, data_dir=data_dir)
    assert st.exists and st.has_passphrase_slot and st.needs_passphrase
    monkeypatch.setenv(keys.ENV_PASSPHRASE, PW)
    st = cache_status(SERVER, USER, data_dir=data_dir)
    assert not st.needs_passphrase and st.passphrase_source == "env"


def test_real_scrypt_parameters_are_stored_and_used(data_dir):
    real = crypto.ScryptParams()
    assert (real.n, real.r, real.p) == (2**17, 8, 1)
    crypto.DEFAULT_SCRYPT = real  # restored by the autouse fixture's monkeypatch
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    s.close()
    import sqlite3

    conn = sqlite3.connect(cache_path(SERVER, USER, data_dir=data_dir))
    kdf, params, salt = conn.execute(
        "SELECT kdf, params, salt FROM keyslots WHERE name = 'passphrase'").fetchone()
    conn.close()
    assert kdf == "scrypt" and '"n":131072' in params.replace(" ", "") and len(salt) == 16
    crypto.DEFAULT_SCRYPT = crypto.ScryptParams(n=2**10)  # stored params win at unlock
    t0 = time.perf_counter()
    open_store(SERVER, USER, passphrase=PW, data_dir=data_dir).close()
    assert time.perf_counter() - t0 > 0.05


def test_empty_passphrase_refused(data_dir):
    with pytest.raises(UserError, match="must not be empty"):
        open_store(SERVER, USER, passphrase="", data_dir=data_dir)
