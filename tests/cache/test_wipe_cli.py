"""`triage-tui wipe`, and errors reaching the user through the CLI without a traceback."""

from __future__ import annotations

import io
import subprocess
import sys
import types
from pathlib import Path

import pytest

from triage_tui import cli
from triage_tui.cache import cache_path, keys, open_store
from triage_tui.cache.api import OutboxItem, OutboxKind
from triage_tui.commands import wipe

from .conftest import PW, SERVER, USER, sample_records


def _make(user=USER, **kw):
    s = open_store(SERVER, user, passphrase=kw.pop("passphrase", PW), **kw)
    s.upsert(sample_records())
    s.enqueue([OutboxItem("r1", OutboxKind.REPLY, "Communication", {"x": 1})])
    path = s.path
    s.close()
    return path


def _files(path: Path) -> list[Path]:
    return [p for p in path.parent.iterdir() if p.name.startswith(path.name)]


def test_wipe_yes_removes_db_wal_shm(capsys):
    path = _make()
    s = open_store(SERVER, USER, passphrase=PW)  # leave a -wal and -shm behind
    s.set_cursor("Task", "x")
    assert len(_files(path)) == 3
    assert cli.main(["wipe", "--server", SERVER, "--user", USER, "--yes"]) == 0
    s._conn.close()
    assert _files(path) == []
    out = capsys.readouterr().out
    assert "1 queued reply/update(s) not yet sent" in out


def test_wipe_refuses_without_confirmation_when_not_a_tty(monkeypatch, capsys):
    path = _make()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(["wipe"]) != 0
    assert "not confirmed" in capsys.readouterr().err
    assert path.exists()


def test_wipe_asks_on_a_tty(monkeypatch, capsys):
    path = _make()

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Tty("no\n"))
    assert cli.main(["wipe"]) == 1 and path.exists()
    monkeypatch.setattr(sys, "stdin", Tty("wipe\n"))
    assert cli.main(["wipe"]) == 0 and not path.exists()


def test_wipe_removes_the_keyring_entry(mem_keyring):
    s = open_store(SERVER, USER)  # keyring-protected
    path = s.path
    s.close()
    assert len(mem_keyring.store) == 1
    assert cli.main(["wipe", "--server", SERVER, "--user", USER, "-y"]) == 0
    assert mem_keyring.store == {} and not path.exists()


def test_wipe_needs_both_server_and_user(capsys):
    assert cli.main(["wipe", "--server", SERVER]) != 0
    assert "both --server and --user" in capsys.readouterr().err


def test_nothing_to_wipe(capsys):
    assert cli.main(["wipe", "--yes"]) == 0
    assert "no cache" in capsys.readouterr().out


def _fake_command(monkeypatch):
    """A stand-in for `sync --once`: opens the store non-interactively, as the sync command does."""
    mod = types.SimpleNamespace(
        NAME="opencache", HELP="test", ORDER=1,
        configure=lambda p: None,
        run=lambda args: (open_store(SERVER, USER).close(), 0)[1],
    )
    monkeypatch.setattr(cli, "_command_modules", lambda: [mod, wipe])


def test_wrong_passphrase_through_the_cli_is_a_message_and_exit_code(monkeypatch, capsys):
    path = _make()
    before = path.read_bytes()
    _fake_command(monkeypatch)
    monkeypatch.setenv(keys.ENV_PASSPHRASE, "wrong")
    assert cli.main(["opencache"]) == 3
    err = capsys.readouterr().err
    assert "passphrase does not unlock" in err and "Traceback" not in err
    assert path.read_bytes() == before
    monkeypatch.setenv(keys.ENV_PASSPHRASE, PW)
    assert cli.main(["opencache"]) == 0


def test_missing_passphrase_headless_is_a_message(monkeypatch, capsys):
    _fake_command(monkeypatch)
    assert cli.main(["opencache"]) != 0
    err = capsys.readouterr().err
    assert "TRIAGE_TUI_PASSPHRASE" in err and "Traceback" not in err


def test_cache_layer_imports_neither_textual_nor_httpx():
    code = ("import sys, triage_tui.cache, triage_tui.cache.store, triage_tui.commands.wipe;"
            "bad = [m for m in ('textual', 'httpx') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cache_file_name_reveals_neither_server_nor_user():
    p = cache_path("https://clinic.example/fhir", "jane.doe")
    assert "jane" not in p.name and "clinic" not in p.name
    assert p == cache_path("HTTPS://Clinic.example/fhir/", "jane.doe")
    assert p != cache_path("https://clinic.example/fhir", "john.roe")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_cache_file_and_directory_are_private():
    path = _make()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
