"""``triage-tui sync --once``: headless, JSON summary, exit codes, clear errors (no traceback)."""

from __future__ import annotations

import json

import pytest

from triage_tui.cli import main

from .conftest import PASSPHRASE, TOKEN


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIAGE_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRIAGE_TUI_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("TRIAGE_TUI_TOKEN", TOKEN)
    monkeypatch.delenv("TRIAGE_TUI_SERVER", raising=False)
    return monkeypatch


def test_sync_once_json(server, env, capsys):
    env.setenv("TRIAGE_TUI_SERVER", server.base_url)
    assert main(["sync", "--once", "--json", "--user", "support"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["threads"] == 40 and out["pulled"] > 0 and out["outbox_pending"] == 0
    assert out["pushed"] == 0 and out["ok"] is True
    assert main(["sync", "--once", "--json", "--user", "support"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["pulled"] == 0 and again["threads"] == 40


def test_sync_once_server_down(server, env, capsys):
    url = server.base_url
    server.stop()
    assert main(["sync", "--once", "--server", url, "--user", "support"]) == 1
    err = capsys.readouterr().err
    assert "unreachable" in err and "Traceback" not in err


def test_sync_once_bad_token(server, env, capsys):
    env.setenv("TRIAGE_TUI_TOKEN", "wrong")
    assert main(["sync", "--once", "--json", "--server", server.base_url, "--user", "u"]) == 4
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ok"] is False
    assert "token" in captured.err and "Traceback" not in captured.err


def test_sync_once_wrong_passphrase(server, env, capsys):
    assert main(["sync", "--once", "--server", server.base_url, "--user", "u"]) == 0
    env.setenv("TRIAGE_TUI_PASSPHRASE", "not the passphrase at all")
    assert main(["sync", "--once", "--server", server.base_url, "--user", "u"]) == 3
    err = capsys.readouterr().err
    assert "passphrase" in err and "Traceback" not in err


def test_plain_http_refused_off_loopback(env, capsys):
    assert main(["sync", "--once", "--server", "http://fhir.example.org/fhir"]) == 2
    assert "https" in capsys.readouterr().err
