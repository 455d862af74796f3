"""``triage-tui sync``: pull and push headless (support engineers, scripts, cron)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

NAME = "sync"
HELP = "sync the local cache with the FHIR server, without the UI"
DESCRIPTION = (
    "Pull new and changed messages, tasks and patients into the encrypted cache and send the "
    "queued replies and task changes. --once runs one pass and exits; without it the sync keeps "
    "running until Ctrl-C. The passphrase comes from TRIAGE_TUI_PASSPHRASE or "
    "TRIAGE_TUI_PASSPHRASE_FILE (or the OS keyring). Exit codes: 0 synced; 1 the sync failed "
    "(server unreachable or erroring; queued items stay queued); 2 usage; 3 cache/passphrase "
    "problem; 4 the server refused the token."
)
ORDER = 30

ENV_SERVER = "TRIAGE_TUI_SERVER"
ENV_TOKEN = "TRIAGE_TUI_TOKEN"
ENV_USER = "TRIAGE_TUI_USER"
EXIT_FAILED = 1
EXIT_AUTH = 4


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="one pull + push, then exit")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON summary (threads, pulled, pushed, outbox_pending...)")
    parser.add_argument("--server", metavar="URL",
                        help=f"FHIR base URL (default: ${ENV_SERVER})")
    parser.add_argument("--token", metavar="TOKEN",
                        help=f"bearer token (default: ${ENV_TOKEN}; prefer the variable: "
                             "arguments show in the process list)")
    parser.add_argument("--user", metavar="USER",
                        help=f"whose cache (default: ${ENV_USER} or the login name)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="allow plain http to a non-loopback host (test servers only)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="read timeout per request in seconds (default 30)")


def run(args: argparse.Namespace) -> int:
    import asyncio

    import httpx

    from triage_tui.cache import open_store
    from triage_tui.errors import UserError
    from triage_tui.sync.client import FhirClient, check_server_url
    from triage_tui.sync.engine import SyncEngine

    server = args.server or os.environ.get(ENV_SERVER)
    if not server:
        raise UserError(f"no server: pass --server URL or set {ENV_SERVER}.")
    token = args.token or os.environ.get(ENV_TOKEN)
    if not token:
        raise UserError(f"no token: set {ENV_TOKEN} (or pass --token).")
    user = args.user or os.environ.get(ENV_USER) or getpass.getuser()
    base = check_server_url(server, allow_insecure_http=args.allow_insecure_http)
    store = open_store(base, user)  # passphrase: env / file / keyring (UserError if not)

    async def once() -> tuple[int, dict]:
        timeout = httpx.Timeout(connect=5.0, read=args.timeout, write=args.timeout, pool=10.0)
        client = FhirClient(base, token, allow_insecure_http=args.allow_insecure_http,
                            timeout=timeout, max_retries=3)
        try:
            engine = SyncEngine(client, store, deletes_every=1)
            summary = await engine.sync_once()
            if args.once:
                return _exit_code(summary), summary.as_dict(threads=len(store.queue()))

            def show(status) -> None:
                if not args.json:
                    print(status.summary(), file=sys.stderr, flush=True)

            engine.on_status = show
            await engine.run()
            return 0, {}
        finally:
            await client.aclose()

    try:
        code, summary = asyncio.run(once())
    finally:
        store.close()
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        _print_human(summary)
    if summary.get("error"):
        print(f"triage-tui: {summary['error']}", file=sys.stderr)
    return code


def _exit_code(summary) -> int:
    if summary.ok:
        return 0
    if summary.error and "refused the token" in summary.error:
        return EXIT_AUTH
    return EXIT_FAILED


def _print_human(d: dict) -> None:
    if not d:
        return
    state = "synced" if d["ok"] else "sync FAILED"
    print(f"{state}: {d['threads']} threads in the cache; pulled {d['pulled']} changes "
          f"({d['fetched']} resources, {d['requests']} requests); pushed {d['pushed']}; "
          f"{d['outbox_pending']} pending, {d['needs_review']} to review, {d['failed']} failed "
          f"({d['seconds']:.1f} s)")
