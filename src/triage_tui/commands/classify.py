"""``triage-tui classify``: audit the triage rules against a practice's own messages.

Reads JSON lines ``{"id", "subject", "text"}`` (optional ``"category"``: the server's
category, ``"language"``) on stdin and writes JSON lines
``{"id", "category", "urgent", "priority", "matches": [...]}`` on stdout. A bad line gets an
error on stderr naming its line number; the rest are still classified and the exit code is 1.
A big input is classified on every core (:mod:`triage_tui.workflows.classify_lines`).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from pathlib import Path

NAME = "classify"
HELP = "classify JSON-lines messages from stdin with the triage rules (for auditing rules)"
DESCRIPTION = (
    'Reads JSON lines {"id", "subject", "text"} on stdin, writes JSON lines '
    '{"id", "category", "urgent", "priority", "matches"} on stdout. Rules: the shipped '
    "defaults merged with <config dir>/rules.toml, or --rules FILE."
)
ORDER = 60


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", type=Path, default=None, help="rules file to merge over the defaults")
    parser.add_argument("--no-user-rules", action="store_true", help="use the shipped defaults only")
    parser.add_argument("--explain", action="store_true", help="add the explanation lines to each output")
    parser.add_argument(
        "--jobs", type=int, default=0, metavar="N",
        help="worker processes for a big input (default 0: one per usable core; 1: this process, each line answered as it is read, for a stream)",
    )


def run(args: argparse.Namespace) -> int:
    from triage_tui.domain.triage import load_rules
    from triage_tui.workflows.classify_lines import classify_lines

    if args.jobs < 0:
        print("triage-tui classify: --jobs must be 0 (every core) or more", file=sys.stderr)
        return 2
    rules = load_rules(args.rules, use_user_file=not args.no_user_rules)
    # typed at a terminal: answer each line as it is entered (the pool reads ahead)
    jobs = 1 if sys.stdin.isatty() else args.jobs or None
    out = sys.stdout
    bad = 0
    # closing(): a stop midway (the reader of stdout went away, Ctrl-C) stops the workers now
    with closing(classify_lines(rules, sys.stdin, explain=args.explain, jobs=jobs)) as answers:
        for rendered in answers:
            for problem in rendered.errors:
                print(f"triage-tui classify: {problem}", file=sys.stderr)
            bad += len(rendered.errors)
            out.write(rendered.out)
            if jobs == 1:
                out.flush()  # a stream's reader sees each answer as soon as it exists
        out.flush()
    if bad:
        print(f"triage-tui classify: {bad} bad line(s) skipped", file=sys.stderr)
        return 1
    return 0
