"""``triage-tui audit``: export or verify the local audit trail (no UI)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

NAME = "audit"
HELP = "export or verify the local audit trail (JSON lines or CSV)"
DESCRIPTION = (
    "export writes the cache's audit trail (unlock, lock, view, reply, claim, route, close, "
    "export, purge... with time, user and Communication/Task reference; no message text) as "
    "JSON lines or CSV; verify checks its HMAC chain (a deleted or edited row is reported). "
    "The cache is opened without prompting, as by `sync --once`: TRIAGE_TUI_PASSPHRASE, "
    "TRIAGE_TUI_PASSPHRASE_FILE or the OS keyring. Exit codes: 0 ok; 2 usage; 3 cache or "
    "passphrase problem; 5 the chain is broken (the export is still written, with the problems "
    "on stderr)."
)
ORDER = 70

ENV_SERVER = "TRIAGE_TUI_SERVER"
ENV_USER = "TRIAGE_TUI_USER"
EXIT_TAMPERED = 5


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("export", "verify"), help="what to do")
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                        help="export format (default jsonl)")
    parser.add_argument("--output", "-o", metavar="PATH", default="-",
                        help="file to write (default: standard output)")
    parser.add_argument("--server", metavar="URL", help=f"FHIR base URL (default: ${ENV_SERVER})")
    parser.add_argument("--user", metavar="USER",
                        help=f"whose cache (default: ${ENV_USER} or the login name)")


def run(args: argparse.Namespace) -> int:
    from triage_tui.cache import open_store
    from triage_tui.errors import UserError
    from triage_tui.security.audit import export_rows, render_export

    server = args.server or os.environ.get(ENV_SERVER)
    if not server:
        raise UserError(f"no server: pass --server URL or set {ENV_SERVER}.")
    user = args.user or os.environ.get(ENV_USER) or getpass.getuser()
    store = open_store(server, user, create=False)
    try:
        problems = store.verify_audit()
        for p in problems:
            print(f"triage-tui: audit chain: {p}", file=sys.stderr)
        if args.action == "verify":
            n = len(store.audit_log())
            if not problems:
                print(f"audit trail intact: {n} rows")
            return EXIT_TAMPERED if problems else 0
        rows = export_rows(store.audit_log())
        text = render_export(rows, args.format)
        if args.output == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            _write_private(args.output, text)
        store.audit("export", user=user, detail={"format": args.format, "rows": len(rows),
                                                 "chain_ok": not problems})
        if args.output != "-":
            print(f"wrote {len(rows)} audit rows to {args.output}", file=sys.stderr)
        return EXIT_TAMPERED if problems else 0
    finally:
        store.close()


def _write_private(path: str, text: str) -> None:
    from triage_tui.errors import UserError

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
