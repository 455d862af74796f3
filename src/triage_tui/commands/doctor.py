"""``triage-tui doctor``: what support needs to know, safe to paste into a ticket."""

from __future__ import annotations

import argparse
import json
import os

NAME = "doctor"
HELP = "check the terminal, keyring, cache location and server (safe to paste into a ticket)"
DESCRIPTION = (
    "Report the terminal (TERM, colours, size, Esc delay), the keyring backend and whether it "
    "is trusted, where the cache lives and on which filesystem, whether the server answers "
    "/metadata (TLS, clock skew) and the package versions. The report never contains patient "
    "data, tokens, secrets or passphrases. Exit code 1 when a check failed."
)
ORDER = 80


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL",
                        help="FHIR base URL (default: $TRIAGE_TUI_SERVER or [server] url)")
    parser.add_argument("--json", action="store_true", help="machine-readable report")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="accept plain http to a non-loopback host")


def run(args: argparse.Namespace) -> int:
    from triage_tui.config import ConfigError, load_config
    from triage_tui.security.doctor import FAIL, Check, as_json, run_checks

    config = None
    extra: list[Check] = []
    try:
        config = load_config()
    except ConfigError as exc:
        extra.append(Check("config", "config.toml", FAIL, str(exc)))
    server = args.server or os.environ.get("TRIAGE_TUI_SERVER") or (
        config.server.url if config else None)
    secrets = [os.environ.get(n) for n in ("TRIAGE_TUI_TOKEN", "TRIAGE_TUI_CLIENT_SECRET",
                                           "TRIAGE_TUI_PASSPHRASE")]
    checks = extra + run_checks(server=server, config=config, secrets=secrets,
                                allow_insecure_http=args.allow_insecure_http)
    if args.json:
        print(json.dumps(as_json(checks), indent=2, sort_keys=True))
    else:
        section = None
        for c in checks:
            if c.section != section:
                section = c.section
                print(f"{section}")
            print(f"  [{c.status:>4}] {c.name}: {c.detail}")
    return 1 if any(c.status == FAIL for c in checks) else 0
