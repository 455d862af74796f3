"""``triage-tui report``: the analytics screen's figures, headless, as CSV or JSON."""

from __future__ import annotations

import argparse
import re

NAME = "report"
HELP = "print inbox figures (volume, response times, breaches, backlog, replies) as CSV or JSON"
DESCRIPTION = (
    "Read the local encrypted cache of USER on the FHIR server URL without prompting (key from "
    "TRIAGE_TUI_PASSPHRASE, TRIAGE_TUI_PASSPHRASE_FILE or the OS keyring) and print, for the "
    "last N days of the clinic calendar: patient messages per day by category and pool, time "
    "to the first staff response per category (median and 90th percentile, business hours), "
    "response-time breaches by category and pool, the open backlog by pool and age, and staff "
    "replies per day. CSV rows are figure,group,key,day,value,unit (the analytics screen's "
    "table). Defaults come from config.toml's [server] table. No message text is read."
)
ORDER = 60

_SINCE = re.compile(r"^\s*(\d{1,3})\s*d?\s*$", re.IGNORECASE)
MAX_DAYS = 366


def days_arg(text: str) -> int:
    """``30d`` or ``30`` -> 30 (1..366)."""
    m = _SINCE.match(text)
    if not m or not 1 <= int(m.group(1)) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(
            f"expected a number of days such as 7d, 30d or 90d (1-{MAX_DAYS}), not {text!r}")
    return int(m.group(1))


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=days_arg, default=30, metavar="Nd",
                        help="the last N days, today included: 7d, 30d (default), 90d")
    parser.add_argument("--format", choices=("csv", "json"), default="csv",
                        help="csv (default: one figure per row) or json (nested)")
    parser.add_argument("--server", metavar="URL", help="FHIR R4 base URL of the cache")
    parser.add_argument("--user", metavar="REF", help="whose cache: Practitioner/ID")
    parser.add_argument("--rules", metavar="PATH",
                        help="rules file for the calendar and response times "
                             "(default: the shipped policy + <config dir>/rules.toml)")
    parser.add_argument("--now", help=argparse.SUPPRESS)  # tests: a fixed ISO instant


def run(args: argparse.Namespace) -> int:
    import csv
    import dataclasses
    import json
    import sys
    from datetime import UTC, datetime
    from pathlib import Path

    from triage_tui.cache import open_store
    from triage_tui.cache.reports import load_facts, staff_names
    from triage_tui.config import load_config
    from triage_tui.domain import analytics
    from triage_tui.domain.triage import load_rules
    from triage_tui.errors import UserError

    config = load_config()
    url = args.server or config.server.url
    user = args.user or config.server.user
    if not url:
        raise UserError("no server: give --server URL or set [server] url in config.toml")
    if not user:
        raise UserError("no user: give --user Practitioner/ID or set [server] user in config.toml")
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            raise UserError(f"--now: not an ISO date-time: {args.now!r}") from None
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    else:
        now = datetime.now(UTC)
    rules = load_rules(Path(args.rules) if args.rules else None)

    store = open_store(url, user, create=False, keyring_ok=True)
    try:
        win = analytics.Window.last_days(now, args.since, rules.calendar.timezone)
        facts = load_facts(store, since=win.start)
        rep = analytics.compute(facts, now=now, days=args.since, rules=rules)
        rep = dataclasses.replace(rep, staff_names=staff_names(store, rep.staff))
        store.audit("export", user=user, entity="report",
                    detail={"days": args.since, "format": args.format})
    finally:
        store.close()

    try:
        if args.format == "json":
            json.dump(analytics.report_json(rep), sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            w = csv.DictWriter(sys.stdout, fieldnames=analytics.ROW_FIELDS, lineterminator="\n")
            w.writeheader()
            w.writerows({k: ("" if v is None else v) for k, v in r.items()}
                        for r in analytics.report_rows(rep))
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
