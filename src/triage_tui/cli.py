"""Command-line entry point.

Each subcommand lives in its own module under :mod:`triage_tui.commands` and is
discovered at start-up, so a subcommand appears in ``--help`` only once its module
exists. A command module defines::

    NAME = "server"                 # the subcommand word
    HELP = "one line for --help"
    def configure(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...   # the exit code

Modules are imported lazily-light: keep heavy imports (textual, uvicorn) inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from triage_tui import __version__, commands
from triage_tui.errors import UserError


def _command_modules() -> list[ModuleType]:
    mods = []
    for info in pkgutil.iter_modules(commands.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(mod, "NAME") and hasattr(mod, "run"):
            mods.append(mod)
    return sorted(mods, key=lambda m: getattr(m, "ORDER", 50))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage-tui",
        description="Keyboard-driven triage of secure patient messages from a FHIR R4 server.",
    )
    parser.add_argument("--version", action="version", version=f"triage-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP))
        if hasattr(mod, "configure"):
            mod.configure(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # First: before any command module (or Textual) is imported, clear TEXTUAL_LOG,
    # TEXTUAL_SCREENSHOT, TEXTUAL_PRESS... and route logs/crashes to PHI-safe files (issue 8).
    from triage_tui.security.startup import harden

    harden()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except UserError as exc:
        print(f"triage-tui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("triage-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of stdout went away (`triage-tui classify < big.jsonl | head`): stop quietly,
        # like any filter, with the shell's exit status for SIGPIPE; stdout now points nowhere, so
        # the interpreter's last flush of it cannot fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
