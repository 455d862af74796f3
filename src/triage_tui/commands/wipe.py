"""``triage-tui wipe``: delete local caches (database, -wal, -shm) and their keyring entries."""

from __future__ import annotations

import argparse
import logging
import sys

NAME = "wipe"
HELP = "delete the local encrypted cache (and its keyring entry)"
DESCRIPTION = (
    "Delete the local cache of one server and user (--server and --user), or every cache of "
    "this account on this machine. Replies still queued in a cache are lost. Asks for "
    "confirmation unless --yes is given; without a terminal and without --yes it refuses."
)
ORDER = 90


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL", help="FHIR base URL of the cache to delete")
    parser.add_argument("--user", metavar="USER", help="user of the cache to delete")
    parser.add_argument("--yes", "-y", action="store_true",
                        help="do not ask for confirmation (for scripts)")


def run(args: argparse.Namespace) -> int:
    from triage_tui.cache import cache_path, list_caches, wipe_cache
    from triage_tui.cache.open import pending_outbox
    from triage_tui.errors import UserError

    if bool(args.server) != bool(args.user):
        raise UserError("give both --server and --user, or neither (to wipe every cache).")
    if args.server:
        path = cache_path(args.server, args.user)
        targets = [path] if path.exists() or _has_side_files(path) else []
    else:
        targets = list_caches()
    if not targets:
        print("triage-tui: no cache to wipe.")
        return 0
    unsent = sum(max(pending_outbox(p), 0) for p in targets if p.exists())
    print(f"This deletes {len(targets)} local cache(s):")
    for p in targets:
        print(f"  {p}")
    if unsent:
        print(f"WARNING: {unsent} queued reply/update(s) not yet sent to the server will be lost.")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError("not confirmed: run in a terminal to confirm, or pass --yes.")
        try:
            answer = input("Type 'wipe' to confirm: ")
        except EOFError:
            answer = ""
        if answer.strip().lower() != "wipe":
            raise UserError("not confirmed; nothing was deleted.", exit_code=1)
    for p in targets:
        report = wipe_cache(p)
        # issue 8: the cache's own audit trail goes with it; the PHI-free log keeps the event
        logging.getLogger("triage_tui.audit").warning(
            "wipe: removed cache %s (%d files, %d unsent outbox items)", p.name,
            len(report.removed), max(report.unsent, 0))
        keyring = "; keyring entry removed" if report.keyring_entry_removed else ""
        print(f"removed {len(report.removed)} file(s) of {p.name}{keyring}")
    return 0


def _has_side_files(path) -> bool:  # noqa: ANN001
    from pathlib import Path

    return any(Path(f"{path}{s}").exists() for s in ("-wal", "-shm", "-journal"))
