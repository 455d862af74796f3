"""`triage-tui classify` over stdin/stdout, with bad lines."""

from __future__ import annotations

import io
import json
import sys

from triage_tui.cli import main


def run(monkeypatch, capsys, stdin: str, *args: str):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main(["classify", "--no-user-rules", *args])
    out, err = capsys.readouterr()
    return rc, [json.loads(line) for line in out.splitlines()], err


def test_classify_lines(monkeypatch, capsys):
    stdin = (
        json.dumps({"id": "a", "subject": "Refill", "text": "no chest pain, just need my refill"}) + "\n"
        + json.dumps({"id": 7, "subject": "", "text": "my lips are swelling since the new pill"}) + "\n"
    )
    rc, out, err = run(monkeypatch, capsys, stdin)
    assert rc == 0 and err == ""
    assert [o["id"] for o in out] == ["a", 7]
    assert out[0]["category"] == "refill" and out[0]["urgent"] is False and out[0]["priority"] == "routine"
    neg = [m for m in out[0]["matches"] if m["kind"] == "urgent"]
    assert neg and neg[0]["negated_by"] == "no"
    assert out[1]["urgent"] is True and out[1]["priority"] == "stat"
    assert set(out[1]) == {"id", "category", "urgent", "priority", "matches"}


def test_bad_lines_reported_and_skipped(monkeypatch, capsys):
    stdin = "\n".join(
        [
            json.dumps({"id": "ok1", "text": "need my refill"}),
            "{not json",
            json.dumps({"id": "x"}),
            json.dumps([1, 2]),
            "",
            json.dumps({"id": "ok2", "text": "reschedule my appointment", "subject": None}),
        ]
    )
    rc, out, err = run(monkeypatch, capsys, stdin)
    assert rc == 1
    assert [o["id"] for o in out] == ["ok1", "ok2"]
    assert "line 2: not valid JSON" in err
    assert 'line 3: missing or invalid "text"' in err
    assert "line 4: expected a JSON object" in err
    assert "3 bad line(s)" in err


def test_explain_and_server_category(monkeypatch, capsys):
    stdin = json.dumps({"id": "a", "subject": "", "text": "need my refill", "category": "admin"}) + "\n"
    rc, out, _ = run(monkeypatch, capsys, stdin, "--explain")
    assert rc == 0
    assert out[0]["category"] == "admin" and out[0]["rules_category"] == "refill"
    assert any("disagree" in line for line in out[0]["explanation"])


def test_bad_rules_file_is_a_user_error(monkeypatch, capsys, tmp_path):
    p = tmp_path / "r.toml"
    p.write_text('[routing]\nrefill = "nope"\n')
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    rc = main(["classify", "--rules", str(p)])
    err = capsys.readouterr().err
    assert rc == 2 and "routing.refill" in err and str(p) in err
