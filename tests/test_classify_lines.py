"""``triage-tui classify`` on every core: the pooled output is the one-process output, bad
lines keep their line numbers, a dead worker loses nothing, and the command line agrees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage_tui.domain.triage import default_rules
from triage_tui.workflows import classify_lines as cl

DATA = Path(__file__).parent / "data"


def _input() -> list[str]:
    """Every corpus message once, with hostile and bad lines among them."""
    lines = []
    for i, row in enumerate(
        json.loads(x) for x in (DATA / "triage_corpus.jsonl").read_text(encoding="utf-8").splitlines()
    ):
        lines.append(json.dumps({"id": i, "subject": row["subject"], "text": row["text"]}, ensure_ascii=False) + "\n")
        if i % 37 == 5:
            lines.append("{not json\n")
        if i % 53 == 7:
            lines.append(json.dumps({"id": f"x{i}"}) + "\n")
        if i % 41 == 3:
            lines.append("\n")
        if i % 29 == 1:
            lines.append(json.dumps({"id": f"h{i}", "text": "\x1b[2J\x1b]0;pwned\x07 chest pain \u202e", "category": "admin"}) + "\n")
    return lines


def _collect(rendered) -> tuple[str, list[str]]:
    out, errors = [], []
    for r in rendered:
        out.append(r.out)
        errors += r.errors
    return "".join(out), errors


@pytest.fixture(scope="module")
def serial():
    lines = _input()
    return lines, _collect(cl.classify_lines(default_rules(), lines, jobs=1, explain=True))


def test_pooled_output_is_the_one_process_output(serial):
    lines, (out1, err1) = serial
    # small chunks: many trips through the pool, and out-of-order completion is likely
    out2, err2 = _collect(cl.classify_lines(default_rules(), lines, jobs=2, explain=True, chunk=17, parallel_min=0))
    assert out2 == out1
    assert err2 == err1
    assert len(err1) > 10 and any(e.startswith("line 9: not valid JSON") for e in err1)
    ids = [json.loads(x)["id"] for x in out1.splitlines()]
    assert len(ids) == len(set(ids)) == sum(1 for x in lines if x.strip()) - len(err1)


def test_a_dead_worker_loses_nothing(serial, monkeypatch):
    lines, (out1, err1) = serial
    parent = os.getpid()
    real = cl.render_chunk

    def dies_in_a_worker(rules, first, part, explain=False):
        if os.getpid() != parent and first > 100:
            os._exit(9)  # killed mid-chunk (OOM killer, kill -9)
        return real(rules, first, part, explain)

    monkeypatch.setattr(cl, "render_chunk", dies_in_a_worker)
    out2, err2 = _collect(cl.classify_lines(default_rules(), lines, jobs=2, explain=True, chunk=23, parallel_min=0))
    assert out2 == out1
    assert err2 == err1


def test_small_inputs_and_one_job_stay_in_process(monkeypatch):
    monkeypatch.setattr(cl, "_pooled", lambda *a, **k: pytest.fail("pool started for a small input"))
    line = json.dumps({"id": 1, "text": "need my refill"}) + "\n"
    assert _collect(cl.classify_lines(default_rules(), [line] * 10))[0].count("\n") == 10
    assert _collect(cl.classify_lines(default_rules(), [line] * 50, jobs=1, parallel_min=0))[0].count("\n") == 50


def test_command_line_pooled_equals_one_job(tmp_path):
    lines = _input() * 12  # above PARALLEL_MIN: the command forks its workers
    assert len(lines) > cl.PARALLEL_MIN
    src = tmp_path / "in.jsonl"
    src.write_text("".join(lines), encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}

    def run(*extra: str) -> subprocess.CompletedProcess:
        with src.open("rb") as stdin:
            return subprocess.run(
                [sys.executable, "-m", "triage_tui", "classify", "--no-user-rules", *extra],
                stdin=stdin, capture_output=True, env=env, timeout=120,
            )

    one, pooled = run("--jobs", "1"), run()
    assert one.returncode == pooled.returncode == 1  # the bad lines
    assert pooled.stdout == one.stdout and pooled.stderr == one.stderr
    assert one.stdout.count(b"\n") > cl.PARALLEL_MIN // 2
    assert b"bad line(s) skipped" in pooled.stderr
    bad = run("--jobs", "-1")
    assert bad.returncode == 2 and b"--jobs" in bad.stderr


def test_one_job_answers_a_stream_line_by_line():
    """``tail -f msgs | triage-tui classify --jobs 1``: each answer comes before the next line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage_tui", "classify", "--no-user-rules", "--jobs", "1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        for i, text in enumerate(["need my refill", "my lips are swelling since the new pill"]):
            proc.stdin.write((json.dumps({"id": i, "text": text}) + "\n").encode())
            proc.stdin.flush()
            answer = json.loads(proc.stdout.readline())  # stdin still open: no EOF yet
            assert answer["id"] == i
        assert answer["urgent"] is True
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


@pytest.mark.parametrize("jobs", ["0", "1"])
def test_a_reader_that_goes_away_stops_it_quietly(tmp_path, jobs):
    """``triage-tui classify < big.jsonl | head``: exit status 141 (SIGPIPE), no crash report."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(_input() * 12), encoding="utf-8")
    with src.open("rb") as stdin:
        proc = subprocess.Popen(
            [sys.executable, "-m", "triage_tui", "classify", "--no-user-rules", "--jobs", jobs],
            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        try:
            assert proc.stdout.read(100).startswith(b'{"id": 0')
            proc.stdout.close()
            assert proc.wait(timeout=60) == 141
            err = proc.stderr.read()
            assert b"internal error" not in err and b"Traceback" not in err
        finally:
            proc.kill()
