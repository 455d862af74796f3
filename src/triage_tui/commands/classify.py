"""``triage-tui classify``: audit the triage rules against a practice's own messages.

Reads JSON lines ``{"id", "subject", "text"}`` (optional ``"category"``: the server's
category, ``"language"``) on stdin and writes JSON lines
``{"id", "category", "urgent", "priority", "matches": [...]}`` on stdout. A bad line gets an
error on stderr naming its line number; the rest are still classified and the exit code is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
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


def run(args: argparse.Namespace) -> int:
    from triage_tui.domain.triage import classify, load_rules

    rules = load_rules(args.rules, use_user_file=not args.no_user_rules)
    out = sys.stdout
    bad = 0
    for lineno, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            bad += 1
            print(f"triage-tui classify: line {lineno}: not valid JSON ({exc.msg} at column {exc.colno})", file=sys.stderr)
            continue
        problem = _check(obj)
        if problem:
            bad += 1
            print(f"triage-tui classify: line {lineno}: {problem}", file=sys.stderr)
            continue
        server_category = obj.get("category") if isinstance(obj.get("category"), str) else None
        c = classify(
            rules,
            obj.get("subject") or "",
            obj["text"],
            server_category=server_category,
            language=obj.get("language") if isinstance(obj.get("language"), str) else None,
        )
        rec = {"id": obj["id"], **c.to_dict()}
        if server_category:
            rec["rules_category"] = c.rules_category.value
        if args.explain:
            rec["explanation"] = list(c.explanation)
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    out.flush()
    if bad:
        print(f"triage-tui classify: {bad} bad line(s) skipped", file=sys.stderr)
        return 1
    return 0


def _check(obj: object) -> str | None:
    if not isinstance(obj, dict):
        return "expected a JSON object"
    if "id" not in obj or not isinstance(obj["id"], (str, int)) or isinstance(obj["id"], bool):
        return 'missing or invalid "id" (a string or an integer)'
    if not isinstance(obj.get("text"), str):
        return 'missing or invalid "text" (a string)'
    if obj.get("subject") is not None and not isinstance(obj["subject"], str):
        return '"subject" must be a string'
    return None
