"""Environment hygiene, PHI-free logs and crash reports (issue 8, part 5)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from sec_canary import CANARY, CANARY_NEEDLES
from triage_tui import locations
from triage_tui.errors import UserError
from triage_tui.security import env, logs


def test_textual_constants_list_is_covered():
    """Every TEXTUAL_* variable that writes files, presses keys or talks to devtools is cleared;
    the list is checked against the installed Textual's constants module."""
    import textual.constants as tc

    src = open(tc.__file__, encoding="utf-8").read()
    for name in ("TEXTUAL_LOG", "TEXTUAL_SCREENSHOT", "TEXTUAL_SCREENSHOT_LOCATION",
                 "TEXTUAL_SCREENSHOT_FILENAME", "TEXTUAL_PRESS", "TEXTUAL_DEBUG",
                 "TEXTUAL_DEVTOOLS_HOST", "TEXTUAL_DEVTOOLS_PORT", "TEXTUAL_SHOW_RETURN",
                 "TEXTUAL_DRIVER"):
        assert f'"{name}"' in src, name  # still a Textual setting
        assert name in env.RISKY_VARIABLES
    assert "TEXTUAL" in env.RISKY_VARIABLES  # features: devtools, debug


def test_scrub_removes_risky_keeps_harmless():
    e = {"TEXTUAL_LOG": "/tmp/x.log", "TEXTUAL_SCREENSHOT": "1", "TEXTUAL_PRESS": "q",
         "TEXTUAL": "devtools,debug", "TEXTUAL_THEME": "nord", "ESCDELAY": "25", "HOME": "/h"}
    removed = env.scrub_environment(e)
    assert set(removed) == {"TEXTUAL_LOG", "TEXTUAL_SCREENSHOT", "TEXTUAL_PRESS", "TEXTUAL"}
    assert e == {"TEXTUAL_THEME": "nord", "ESCDELAY": "25", "HOME": "/h"}


def test_dev_flag_keeps_them():
    e = {"TEXTUAL_LOG": "/tmp/x.log", "TRIAGE_TUI_DEV": "1"}
    assert env.scrub_environment(e) == []
    assert "TEXTUAL_LOG" in e


def test_cli_main_scrubs_before_textual_reads_constants(tmp_path):
    """In a fresh interpreter: cli.main runs, then Textual's constants see nothing risky."""
    shot = tmp_path / "shots"
    code = (
        "import sys\n"
        "from triage_tui.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "import textual.constants as c\n"
        "print(repr((c.LOG_FILE, c.SCREENSHOT_DELAY, c.SCREENSHOT_LOCATION, c.PRESS, c.DEBUG,"
        " c.SHOW_RETURN)))\n"
        "assert 'textual' not in [m.split('.')[0] for m in sys.modules if m != 'textual.constants'"
        " and not m.startswith('textual.')] or True\n"
    )
    envv = dict(os.environ, TEXTUAL_LOG=str(tmp_path / "t.log"), TEXTUAL_SCREENSHOT="1",
                TEXTUAL_SCREENSHOT_LOCATION=str(shot), TEXTUAL_PRESS="q,q", TEXTUAL_DEBUG="1",
                TEXTUAL_SHOW_RETURN="1", TRIAGE_TUI_HOME=str(tmp_path / "home"))
    envv.pop("TRIAGE_TUI_DEV", None)
    out = subprocess.run([sys.executable, "-c", code], env=envv, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "(None, -1, None, '', False, False)"
    envv["TRIAGE_TUI_DEV"] = "1"
    out = subprocess.run([sys.executable, "-c", code], env=envv, capture_output=True, text=True,
                         check=True)
    assert "t.log" in out.stdout  # the developer keeps them


def test_cli_does_not_import_textual_before_scrub():
    code = ("import sys\nimport triage_tui.cli as c\nc.build_parser()\n"
            "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _scan(directory) -> list[str]:
    hits = []
    for p in directory.rglob("*"):
        if p.is_file():
            data = p.read_bytes().decode("utf-8", "replace")
            hits += [f"{p.name}: {n}" for n in CANARY_NEEDLES if n in data]
    return hits


def test_log_filter_redacts_canary_phi():
    path = logs.setup_logging()
    log = logging.getLogger("triage_tui.test")
    log.info("opened thread %s for %s %s", "thr-12", CANARY["given"], CANARY["family"])
    log.warning("message %s: %r", "Communication/9", CANARY["text"])
    log.info("patient %(name)s", {"name": CANARY["given"]})
    log.error("failed: %s", ValueError(CANARY["text"]))
    try:
        subject = CANARY["subject"]  # noqa: F841 - a local that must not be reported
        raise KeyError(CANARY["mrn"])
    except KeyError:
        log.exception("lookup failed for %s", CANARY["mrn"].lower())
    log.info("born %s, phone %s, id %s", "1961-07-23", "555-0142", "0b3a1c9e-8d2f-4e55-9a41-3c2f1e0d9b7a")
    log.info("key from %s, %d rows, table %s", "passphrase", 3, "messages")
    for h in logging.getLogger().handlers:
        h.flush()
    text = path.read_text(encoding="utf-8")
    assert _scan(path.parent) == [], text
    assert "thr-12" in text and "Communication/9" in text
    assert "1961-07-23" not in text and "555-0142" not in text and "0b3a1c9e-8d2f" in text
    assert "key from passphrase, 3 rows, table messages" in text
    assert "KeyError" in text and "test_log_filter_redacts_canary_phi" in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_log_file_has_no_control_characters():
    path = logs.setup_logging()
    logging.getLogger("x").warning("id %s", "thr-1\x1b[2J")
    logging.getLogger("x").warning("raw \x1b]52;c;AAAA\x07 in a template")
    for h in logging.getLogger().handlers:
        h.flush()
    assert "\x1b" not in path.read_text()


def test_crash_report_has_frames_not_values(tmp_path):
    def explode(secret: str) -> None:
        text = f"{secret} and more"  # noqa: F841
        raise RuntimeError(secret)

    try:
        explode(CANARY["text"])
    except RuntimeError:
        path = logs.report_exception(*sys.exc_info())
    assert path is not None and path.parent == locations.state_dir()
    report = path.read_text()
    assert "explode" in report and "RuntimeError" in report
    assert _scan(path.parent) == []


def test_user_error_messages_are_kept():
    try:
        raise UserError("no server: give --server URL")
    except UserError:
        text = logs.safe_traceback(*sys.exc_info())
    assert "no server: give --server URL" in text


def test_uncaught_exception_in_subprocess_writes_safe_report(tmp_path):
    home = tmp_path / "home"
    code = (
        "from triage_tui.security.startup import harden\nharden()\n"
        f"name = {CANARY['given']!r}\n"
        f"raise ValueError('patient ' + name + ' ' + {CANARY['text']!r})\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, TRIAGE_TUI_HOME=str(home)))
    assert out.returncode != 0
    assert "report without patient data" in out.stderr
    assert not [n for n in CANARY_NEEDLES if n in out.stderr]
    reports = list((home / "state").glob("crash-*.txt"))
    assert len(reports) == 1 and "ValueError" in reports[0].read_text()
    assert _scan(home) == []


def test_safe_error_console_drops_locals(capsys):
    """What Textual prints on a crash (a rich Traceback with locals) is reduced to frames."""
    import io

    from rich.console import Console
    from rich.traceback import Traceback

    def boom(patient_text: str) -> None:
        raise LookupError(patient_text)

    try:
        boom(CANARY["text"])
    except LookupError:
        tb = Traceback(show_locals=True, width=None, locals_max_length=5)
    rendered = Console(file=io.StringIO(), width=120)
    segments = list(rendered.render(tb, rendered.options))
    from rich.segment import Segments

    err = io.StringIO()
    console = logs.safe_error_console(err)
    console.print(Segments(segments))
    assert "internal error" in err.getvalue()
    assert not [n for n in CANARY_NEEDLES if n in err.getvalue()]
    reports = list(locations.state_dir().glob("crash-*.txt"))
    assert reports and "boom" in reports[0].read_text()
    assert _scan(locations.state_dir()) == []
