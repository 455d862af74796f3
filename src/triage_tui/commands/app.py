"""``triage-tui open``: the app against a real FHIR server (unlock screen, then the inbox)."""

from __future__ import annotations

import argparse

NAME = "open"
HELP = "open the inbox of a FHIR server (unlocks the local encrypted cache first)"
DESCRIPTION = (
    "Unlock the local encrypted cache of USER on the FHIR server URL (keyring, "
    "TRIAGE_TUI_PASSPHRASE or a passphrase prompt), sync it in the background and open the inbox. "
    "Defaults come from config.toml's [server] table; the token may also be given in "
    "TRIAGE_TUI_TOKEN."
)
ORDER = 20


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL", help="FHIR R4 base URL")
    parser.add_argument("--user", metavar="REF", help="you, as a reference: Practitioner/ID")
    parser.add_argument("--token", help="bearer token (else TRIAGE_TUI_TOKEN or config)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="allow http:// to a non-loopback server (test servers only)")


def run(args: argparse.Namespace) -> int:
    import os

    from triage_tui.config import load_config
    from triage_tui.errors import UserError

    config = load_config()
    url = args.server or config.server.url
    user = args.user or config.server.user
    token = args.token or os.environ.get("TRIAGE_TUI_TOKEN") or config.server.token
    if not url:
        raise UserError("no server: give --server URL or set [server] url in config.toml")
    if not user:
        raise UserError("no user: give --user Practitioner/ID or set [server] user in config.toml")
    if not user.startswith("Practitioner/"):
        raise UserError(f"--user must be a Practitioner reference (Practitioner/ID), not {user!r}")

    from triage_tui.app import TriageApp
    from triage_tui.cache import open_store
    from triage_tui.sync import FhirClient, check_server_url

    url = check_server_url(url, allow_insecure_http=args.allow_insecure_http)

    def opener(passphrase: str | None):
        return open_store(url, user, passphrase=passphrase, keyring_ok=True)

    def engine(store, **callbacks):
        # issue 8: OAuth client credentials when [server] client_id is set (secret from
        # TRIAGE_TUI_CLIENT_SECRET), token refreshed once on 401; audit trail uploaded.
        from triage_tui.security.audit import engine_with_audit
        from triage_tui.sync.auth import BearerAuth, provider_for

        provider = provider_for(url, token=token, client_id=config.server.client_id,
                                client_secret=os.environ.get("TRIAGE_TUI_CLIENT_SECRET"),
                                token_endpoint=config.server.token_endpoint, cache=store,
                                allow_insecure_http=args.allow_insecure_http)
        client = FhirClient(url, None, auth=BearerAuth(provider) if provider else None,
                            allow_insecure_http=args.allow_insecure_http)
        return engine_with_audit(client, store, user, **callbacks)

    app = TriageApp(config, opener=opener, server_label=url, user_ref=user, sync_factory=engine)
    app.run()
    if app.session is not None:
        app.session.store.close()
    return 0
