"""``triage-tui report``: headless figures from a real encrypted cache; clear errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from analytics_dataset import NOW, RULES, facts, records

from triage_tui.cache import open_store
from triage_tui.cli import main
from triage_tui.domain import analytics as an

SERVER = "https://fhir.test.invalid/R4"
USER = "Practitioner/a"
PW = "report passphrase"
RULES_TOML = """
[calendar]
timezone = "UTC"
holidays = []
[calendar.hours]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]
sat = []
sun = []
[response_time.default]
routine = 16
urgent = 4
asap = 1
stat = "15m"
[response_time.refill]
routine = 16
[response_time.appointment]
routine = 8
[response_time.results]
routine = 24
[response_time.clinical]
routine = 8
[response_time.admin]
routine = 24
"""


@pytest.fixture
def cache(monkeypatch, tmp_path):
    s = open_store(SERVER, USER, passphrase=PW)
    s.upsert(records())
    s.close()
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES_TOML, encoding="utf-8")
    monkeypatch.setenv("TRIAGE_TUI_PASSPHRASE", PW)
    return rules


def report(rules, *extra: str) -> list[str]:
    return ["report", "--server", SERVER, "--user", USER, "--rules", str(rules),
            "--now", NOW.isoformat(), *extra]


def test_json_matches_the_domain(cache, capsys):
    assert main(report(cache, "--since", "7d", "--format", "json")) == 0
    got = json.loads(capsys.readouterr().out)
    want = an.report_json(an.compute(facts(), now=NOW, days=7, rules=RULES,
                                     staff_names={"Practitioner/a": "Alex Rivera",
                                                  "Practitioner/b": "Bea Okafor"}))
    assert got == json.loads(json.dumps(want))
    assert got["response"]["refill"]["p90_business_hours"] == 17.0
    assert got["replies"]["Practitioner/b"]["name"] == "Bea Okafor"


def test_csv_rows(cache, capsys):
    assert main(report(cache, "--since", "30")) == 0  # csv is the default; "30" = "30d"
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert tuple(rows[0]) == an.ROW_FIELDS
    vol = [r for r in rows if r["figure"] == "volume" and r["group"] == "all"]
    assert len(vol) == 30 and sum(int(r["value"]) for r in vol) == 13
    med = [r for r in rows if r["figure"] == "response_median" and r["key"] == "results"]
    assert med[0]["value"] == "2.0" and med[0]["unit"] == "business hours"
    assert any(r["figure"] == "replies" and r["key"] == "Alex Rivera" for r in rows)


def test_audited(cache, capsys):
    assert main(report(cache, "--format", "json")) == 0
    s = open_store(SERVER, USER, passphrase=PW)
    try:
        last = s.audit_log(1)[0]
    finally:
        s.close()
    assert (last.action, last.entity, last.detail) == ("export", "report",
                                                       {"days": 30, "format": "json"})


@pytest.mark.parametrize("since", ["0d", "x", "400d", "-3d"])
def test_bad_since(cache, capsys, since):
    with pytest.raises(SystemExit) as exc:
        main(report(cache, f"--since={since}"))
    assert exc.value.code == 2
    assert "expected a number of days" in capsys.readouterr().err


def test_no_cache(monkeypatch, capsys):
    monkeypatch.setenv("TRIAGE_TUI_PASSPHRASE", PW)
    assert main(["report", "--server", SERVER, "--user", "Practitioner/nobody"]) == 2
    err = capsys.readouterr().err
    assert "no cache at" in err and "sync --once" in err and "Traceback" not in err


def test_wrong_passphrase(cache, monkeypatch, capsys):
    monkeypatch.setenv("TRIAGE_TUI_PASSPHRASE", "not it")
    assert main(report(cache)) == 3
    assert "does not unlock" in capsys.readouterr().err


def test_no_passphrase(cache, monkeypatch, capsys):
    monkeypatch.delenv("TRIAGE_TUI_PASSPHRASE")
    assert main(report(cache)) == 3
    assert "TRIAGE_TUI_PASSPHRASE" in capsys.readouterr().err


def test_no_server(capsys):
    assert main(["report"]) == 2
    assert "no server" in capsys.readouterr().err


def test_listed_in_help():
    out = subprocess.run([sys.executable, "-m", "triage_tui", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "report" in out
