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
    "queued replies, task changes and the audit trail (as AuditEvents). --once runs one pass and "
    "exits; without it the sync keeps running until Ctrl-C. Before the first pass, closed threads "
    "older than retention_days are purged (audited). The passphrase comes from "
    "TRIAGE_TUI_PASSPHRASE or TRIAGE_TUI_PASSPHRASE_FILE (or the OS keyring). Sign-in: OAuth "
    "client credentials ([server] client_id in config.toml, TRIAGE_TUI_CLIENT_SECRET), or a "
    "bearer token given once in TRIAGE_TUI_TOKEN or --token: it is kept encrypted in the cache "
    "for later runs. Exit codes: 0 synced; 1 the sync failed (server unreachable or erroring; "
    "queued items stay queued); 2 usage; 3 cache/passphrase problem; 4 the server refused the "
    "token."
)
ORDER = 30

ENV_SERVER = "TRIAGE_TUI_SERVER"
ENV_TOKEN = "TRIAGE_TUI_TOKEN"
ENV_USER = "TRIAGE_TUI_USER"
ENV_CLIENT_SECRET = "TRIAGE_TUI_CLIENT_SECRET"
EXIT_FAILED = 1
EXIT_AUTH = 4


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="one pull + push, then exit")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON summary (threads, pulled, pushed, outbox_pending...)")
    parser.add_argument("--server", metavar="URL",
                        help=f"FHIR base URL (default: ${ENV_SERVER})")
    parser.add_argument("--token", metavar="TOKEN",
                        help=f"bearer token, needed once: kept encrypted in the cache "
                             f"(default: ${ENV_TOKEN}; prefer the variable: arguments show in "
                             "the process list)")
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
    from triage_tui.config import load_config
    from triage_tui.errors import UserError
    from triage_tui.security.audit import engine_with_audit
    from triage_tui.sync.auth import BearerAuth, provider_for
    from triage_tui.sync.client import FhirClient, check_server_url

    config = load_config()
    server = args.server or os.environ.get(ENV_SERVER) or config.server.url
    if not server:
        raise UserError(f"no server: pass --server URL, set {ENV_SERVER} or [server] url.")
    token = args.token or os.environ.get(ENV_TOKEN)
    user = args.user or os.environ.get(ENV_USER) or config.server.user or getpass.getuser()
    base = check_server_url(server, allow_insecure_http=args.allow_insecure_http)
    store = open_store(base, user)  # passphrase: env / file / keyring (UserError if not)

    async def once() -> tuple[int, dict]:
        provider = provider_for(base, token=token, client_id=config.server.client_id,
                                client_secret=os.environ.get(ENV_CLIENT_SECRET),
                                token_endpoint=config.server.token_endpoint, cache=store,
                                allow_insecure_http=args.allow_insecure_http)
        if provider is None:
            need = (f"{ENV_CLIENT_SECRET} for client {config.server.client_id!r}, or "
                    if config.server.client_id else "")
            raise UserError(f"no token: set {need}{ENV_TOKEN} (or pass --token) once; it is "
                            "then kept encrypted in the cache for later runs.")
        timeout = httpx.Timeout(connect=5.0, read=args.timeout, write=args.timeout, pool=10.0)
        client = FhirClient(base, None, auth=BearerAuth(provider),
                            allow_insecure_http=args.allow_insecure_http,
                            timeout=timeout, max_retries=3)
        try:
            user_ref = user if user.startswith("Practitioner/") else None
            engine = engine_with_audit(client, store, user_ref, deletes_every=1)
            # retention first: its audit row goes up with this pass's AuditEvents
            purged = await asyncio.to_thread(_retention, store, config, user)
            summary = await engine.sync_once()
            if args.once:
                return _exit_code(summary), {**summary.as_dict(threads=len(store.queue())),
                                             "purged": purged}

            def show(status) -> None:
                if not args.json:
                    print(status.summary(), file=sys.stderr, flush=True)

            engine.on_status = show
            await engine.run()
            return 0, {}
        finally:
            await client.aclose()
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

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


def _retention(store, config, user: str) -> int:  # noqa: ANN001
    """Purge closed threads older than ``retention_days`` (0 = off); how many went."""
    from triage_tui.cache.retention import purge_closed_threads

    days = getattr(config, "retention_days", 0)
    if days <= 0:
        return 0
    return purge_closed_threads(store, older_than_days=days, user=user,
                                audit_empty=False).threads


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
          f"({d['seconds']:.1f} s)" + (f"; purged {d['purged']} old closed threads"
                                      if d.get("purged") else ""))
