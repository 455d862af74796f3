"""Sign-in secrets never in plain files (issue 8): a bearer token given once (``--token`` /
``TRIAGE_TUI_TOKEN``) or an OAuth access token is kept in the encrypted cache only; a token in
``config.toml`` is refused. ``sync --once`` signs in with client credentials like ``open``,
uploads the audit trail as AuditEvents and applies the retention policy."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from triage_tui import locations
from triage_tui.cache import open_store
from triage_tui.cli import main
from triage_tui.config import ConfigError, config_from_dict, load_config
from triage_tui.domain.codes import BusinessStatus, Category, Pool, TaskStatus
from triage_tui.domain.models import Message, Patient, Task, Thread
from triage_tui.server.oauth import OAuthIssuer
from triage_tui.server.runner import ServerThread

TOKEN = "tok-Static-7f3c9a2b41d8e6"
CLIENT, SECRET = "triage-desk", "s3cret-Client-Secret-42"
PW = "token tests passphrase"
USER = "Practitioner/nurse-9"


def _home() -> Path:
    return Path(os.environ["TRIAGE_TUI_HOME"])


def _files_holding(needle: str) -> list[Path]:
    """Every file under TRIAGE_TUI_HOME (cache, WAL, logs, config) containing ``needle``."""
    return [p for p in _home().rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


@pytest.fixture
def server(tmp_path):
    with ServerThread(tmp_path / "fhir.db", TOKEN) as srv:
        yield srv


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("TRIAGE_TUI_PASSPHRASE", PW)
    for name in ("TRIAGE_TUI_SERVER", "TRIAGE_TUI_USER", "TRIAGE_TUI_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _write_config(text: str) -> Path:
    cfg = locations.config_file()
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(text)
    return cfg


def test_config_refuses_a_token_naming_file_and_key():
    with pytest.raises(ConfigError) as err:
        config_from_dict({"server": {"url": "https://x.example.org", "token": TOKEN}},
                         source="/home/n/.config/triage-tui/config.toml")
    msg = str(err.value)
    assert "/home/n/.config/triage-tui/config.toml" in msg and "'server.token'" in msg
    assert "TRIAGE_TUI_TOKEN" in msg and "--token" in msg and "encrypted" in msg
    assert TOKEN not in msg
    cfg = _write_config(f'[server]\ntoken = "{TOKEN}"\n')
    with pytest.raises(ConfigError, match="server.token") as err:
        load_config()
    assert str(cfg) in str(err.value) and TOKEN not in str(err.value)


def test_sync_refuses_a_config_token(server, env, capsys):
    _write_config(f'[server]\nurl = "{server.base_url}"\ntoken = "{TOKEN}"\n')
    assert main(["sync", "--once", "--user", USER]) != 0
    err = capsys.readouterr().err
    assert "server.token" in err and TOKEN not in err and "Traceback" not in err


def test_token_given_once_is_kept_encrypted(server, env, capsys):
    args = ["sync", "--once", "--json", "--server", server.base_url, "--user", USER]
    assert main([*args, "--token", TOKEN]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    # second run: no --token, no TRIAGE_TUI_TOKEN: the token comes from the encrypted cache
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    files = [p for p in _home().rglob("*") if p.is_file()]
    assert any(p.name.startswith("cache-") for p in files)
    assert _files_holding(TOKEN) == []
    # TRIAGE_TUI_TOKEN works the same
    env.setenv("TRIAGE_TUI_TOKEN", TOKEN)
    assert main(args) == 0
    capsys.readouterr()
    assert _files_holding(TOKEN) == []


def test_no_token_anywhere_is_a_clear_error(server, env, capsys):
    assert main(["sync", "--once", "--server", server.base_url, "--user", USER]) == 2
    err = capsys.readouterr().err
    assert "TRIAGE_TUI_TOKEN" in err and "once" in err and "Traceback" not in err


@pytest.fixture
def issuer():
    return OAuthIssuer({CLIENT: SECRET}, lifetime=300)


@pytest.fixture
def oauth_server(tmp_path, issuer):
    with ServerThread(tmp_path / "fhir-oauth.db", "static-admin-token", oauth=issuer) as srv:
        yield srv


def _old_closed_thread(i: int, when: datetime) -> list:
    tid = f"thr-old-{i}"
    return [Thread(tid, "1", "pat-1", "old subject", Category.REFILL, created=when,
                   updated=when),
            Task(f"task-old-{i}", "1", tid, "pat-1", Pool.PHARMACY, TaskStatus.COMPLETED,
                 BusinessStatus.DONE, last_modified=when),
            Message(f"msg-old-{i}", "1", tid, "old text", when, "Patient/pat-1")]


def test_sync_once_with_client_credentials_uploads_audit_and_purges(oauth_server, issuer, env,
                                                                     capsys):
    base = oauth_server.base_url
    _write_config(f'retention_days = 30\n[server]\nurl = "{base}"\nuser = "{USER}"\n'
                  f'client_id = "{CLIENT}"\n')
    env.setenv("TRIAGE_TUI_CLIENT_SECRET", SECRET)
    with httpx.Client(headers={"Authorization": "Bearer static-admin-token"}) as http:
        http.put(f"{base}/Practitioner/nurse-9", json={
            "resourceType": "Practitioner", "id": "nurse-9",
            "name": [{"family": "Nine", "given": ["Nurse"]}]}).raise_for_status()
    store = open_store(base, USER, passphrase=PW)
    old = datetime.now(timezone.utc) - timedelta(days=60)
    store.upsert([Patient("pat-1", "1", "Ana", "Old"), *_old_closed_thread(1, old)])
    store.audit("view", user=USER, entity="analytics")
    store.close()

    assert main(["sync", "--once", "--json"]) == 0  # server, user, client id from config.toml
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["purged"] == 1 and out["pushed"] == 2, out
    assert issuer.issued == 1  # discovered via .well-known/smart-configuration
    with httpx.Client(headers={"Authorization": "Bearer static-admin-token"}) as http:
        events = [e["resource"] for e in
                  http.get(f"{base}/AuditEvent", params={"_count": 50}).json()["entry"]]
    subtypes = sorted(e["subtype"][-1]["code"] for e in events)
    assert subtypes == ["purge", "view"]  # the view, and this run's purge: in the same pass
    view = next(e for e in events if e["subtype"][-1]["code"] == "view")
    assert view["entity"] == [{"what": {"display": "analytics"}}]
    # the access token lives in the encrypted cache only: the next run reuses it
    store = open_store(base, USER, passphrase=PW)
    raw = store.get_meta(f"auth.access_token:{CLIENT}")
    store.close()
    access = json.loads(raw)["token"]
    assert main(["sync", "--once", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True and issuer.issued == 1
    assert _files_holding(access) == [] and _files_holding(SECRET) == []
    # a refused secret is exit code 4, the secret never printed
    issuer.revoke_all()
    env.setenv("TRIAGE_TUI_CLIENT_SECRET", "not-the-secret-1")
    assert main(["sync", "--once"]) == 4
    err = capsys.readouterr().err
    assert "not-the-secret-1" not in err and "Traceback" not in err
