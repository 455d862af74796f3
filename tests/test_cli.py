"""The CLI lists only subcommands that exist and turns user errors into clean exits."""

from __future__ import annotations

import subprocess
import sys

from triage_tui import cli
from triage_tui.errors import UserError


def test_help_lists_discovered_subcommands(capsys) -> None:
    parser = cli.build_parser()
    help_text = parser.format_help()
    for mod in cli._command_modules():
        assert mod.NAME in help_text


def test_no_command_prints_help_and_fails(capsys) -> None:
    assert cli.main([]) == 2
    assert "usage" in capsys.readouterr().out


def test_python_dash_m_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "triage_tui", "--help"], capture_output=True, text=True, check=True
    )
    assert "triage-tui" in out.stdout


def test_user_error_is_printed_without_traceback(monkeypatch, capsys) -> None:
    def boom(args):
        raise UserError("the cache is locked")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser.set_defaults(_run=boom)
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "the cache is locked" in err and "Traceback" not in err
