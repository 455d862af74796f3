"""``triage-tui doctor`` (issue 8, part 6): useful, and safe to paste (no PHI, no secrets)."""

from __future__ import annotations

import json

import pytest
from sec_canary import CANARY, CANARY_NEEDLES

from triage_tui import locations
from triage_tui.cache import open_store
from triage_tui.cli import main
from triage_tui.domain.models import Patient
from triage_tui.server.oauth import OAuthIssuer
from triage_tui.server.runner import ServerThread

TOKEN = "tok-Very-Secret-0123456789"
PW = "doctor passphrase 1"


@pytest.fixture
def server(tmp_path):
    issuer = OAuthIssuer({"desk": "client-Secret-999"})
    with ServerThread(tmp_path / "fhir.db", TOKEN, oauth=issuer) as srv:
        yield srv


@pytest.fixture
def planted(server, monkeypatch):
    """A cache holding canary PHI, the token in env, a risky variable."""
    store = open_store(server.base_url, "Practitioner/1", passphrase=PW)
    store.upsert([Patient("p1", "1", CANARY["given"], CANARY["family"], mrn=CANARY["mrn"])])
    store.close()
    cfg = locations.config_file()
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f'[server]\nurl = "{server.base_url}"\n')
    monkeypatch.setenv("TRIAGE_TUI_TOKEN", TOKEN)
    monkeypatch.setenv("TRIAGE_TUI_PASSPHRASE", PW)
    monkeypatch.setenv("TRIAGE_TUI_CLIENT_SECRET", "client-Secret-999")
    monkeypatch.setenv("TEXTUAL_SCREENSHOT", "1")
    monkeypatch.setenv("ESCDELAY", "50")
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5 10.0.0.2 22")


def _safe(text: str) -> None:
    for secret in (TOKEN, PW, "client-Secret-999", *CANARY_NEEDLES):
        assert secret not in text, secret


def test_doctor_text_report(server, planted, capsys):
    code = main(["doctor"])
    out = capsys.readouterr()
    _safe(out.out + out.err)
    assert code == 0, out.out
    text = out.out
    assert "metadata: HTTP 200" in text and "FHIR 4.0.1" in text
    assert "clock skew" in text and "TLS" in text
    assert "smart-configuration with a token endpoint" in text
    assert "TRIAGE_TUI_TOKEN: set (value not shown)" in text
    assert "escape delay: 50 ms" in text and "ESCDELAY=250" in text
    assert "TEXTUAL_SCREENSHOT" in text
    assert "keyring" in text and "not trusted" in text
    assert "textual" in text and "httpx" in text


def test_doctor_json(server, planted, capsys):
    assert main(["doctor", "--json", "--server", server.base_url]) == 0
    raw = capsys.readouterr().out
    _safe(raw)
    report = json.loads(raw)
    names = {(c["section"], c["name"]): c for c in report["checks"]}
    assert names[("server", "metadata")]["status"] == "ok"
    assert names[("cache", "filesystem")]["status"] == "ok"
    assert names[("server", "clock skew")]["status"] == "ok"
    assert report["status"] in ("ok", "warn")


def test_doctor_server_down(server, planted, capsys):
    url = server.base_url
    server.stop()
    assert main(["doctor", "--server", url]) == 1
    out = capsys.readouterr().out
    assert "cannot connect" in out
    _safe(out)


def test_doctor_clock_skew_warns():
    import httpx

    from triage_tui.security.doctor import server_checks

    def handler(request):
        return httpx.Response(200, json={"resourceType": "CapabilityStatement",
                                         "fhirVersion": "4.0.1"},
                              headers={"Date": "Mon, 01 Jan 2001 00:00:00 GMT"})

    checks = server_checks("https://fhir.example.org/r4",
                           transport=httpx.MockTransport(handler))
    skew = next(c for c in checks if c.name == "clock skew")
    assert skew.status == "warn" and "synced clock" in skew.detail


def test_doctor_refuses_a_token_in_config_without_showing_it(server, planted, capsys):
    """issue 8: a bearer token in config.toml is an error naming the file and the key."""
    cfg = locations.config_file()
    cfg.write_text(f'[server]\nurl = "{server.base_url}"\ntoken = "{TOKEN}"\n')
    code = main(["doctor", "--server", server.base_url])
    out = capsys.readouterr()
    _safe(out.out + out.err)
    assert code == 1
    assert "[fail] config.toml:" in out.out and str(cfg) in out.out
    assert "'server.token'" in out.out and "TRIAGE_TUI_TOKEN" in out.out
