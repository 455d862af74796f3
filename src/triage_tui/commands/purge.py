"""``triage-tui purge``: apply the retention policy to the local cache (no UI)."""

from __future__ import annotations

import argparse
import getpass
import json
import os

NAME = "purge"
HELP = "remove closed threads older than the retention period from the local cache"
DESCRIPTION = (
    "Delete closed threads whose last activity is older than --days (default: config.toml's "
    "retention_days) from the encrypted cache, with their messages, tasks and sent-reply copies, "
    "then return the freed pages to the disk (zeroed). Threads with unsent replies or drafts are "
    "kept. The purge is recorded in the audit trail. The cache is opened without prompting "
    "(TRIAGE_TUI_PASSPHRASE, TRIAGE_TUI_PASSPHRASE_FILE or the OS keyring)."
)
ORDER = 75


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, metavar="N",
                        help="retention in days (default: retention_days in config.toml)")
    parser.add_argument("--server", metavar="URL", help="FHIR base URL (default: "
                        "$TRIAGE_TUI_SERVER or [server] url)")
    parser.add_argument("--user", metavar="USER",
                        help="whose cache (default: $TRIAGE_TUI_USER, [server] user or login)")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")


def run(args: argparse.Namespace) -> int:
    from triage_tui.cache import open_store
    from triage_tui.cache.retention import purge_closed_threads
    from triage_tui.config import load_config
    from triage_tui.errors import UserError

    config = load_config()
    days = args.days if args.days is not None else getattr(config, "retention_days", 90)
    if days <= 0:
        print("retention is off (retention_days = 0): nothing purged")
        return 0
    server = args.server or os.environ.get("TRIAGE_TUI_SERVER") or config.server.url
    if not server:
        raise UserError("no server: pass --server URL or set TRIAGE_TUI_SERVER.")
    user = (args.user or os.environ.get("TRIAGE_TUI_USER") or config.server.user
            or getpass.getuser())
    store = open_store(server, user, create=False)
    try:
        report = purge_closed_threads(store, older_than_days=days, user=user)
    finally:
        store.close()
    if args.json:
        print(json.dumps(report.as_dict(), sort_keys=True))
    else:
        print(f"purged {report.threads} closed threads older than {days} days "
              f"({report.messages} messages); cache {report.pages_before} -> "
              f"{report.pages_after} pages")
    return 0
