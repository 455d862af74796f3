"""``triage-tui open``: the app against a real FHIR server (unlock screen, then the inbox)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

NAME = "open"
HELP = "open the inbox of a FHIR server (unlocks the local encrypted cache first)"
DESCRIPTION = (
    "Unlock the local encrypted cache of USER on the FHIR server URL (keyring, "
    "TRIAGE_TUI_PASSPHRASE or a passphrase prompt), sync it in the background and open the inbox. "
    "Defaults come from config.toml's [server] table. Sign-in: OAuth client credentials "
    "([server] client_id and TRIAGE_TUI_CLIENT_SECRET), or a bearer token given once in "
    "TRIAGE_TUI_TOKEN or --token: it is kept encrypted in the cache for the next runs, and the app "
    "asks for a new one when the server refuses it."
)
ORDER = 20


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL", help="FHIR R4 base URL")
    parser.add_argument("--user", metavar="REF", help="you, as a reference: Practitioner/ID")
    parser.add_argument("--token", help="bearer token, needed once: kept encrypted in the cache "
                        "(else TRIAGE_TUI_TOKEN; prefer the variable: arguments show in the "
                        "process list)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="allow http:// to a non-loopback server (test servers only)")


def sync_factory(url: str, user: str, config: Any, *, token: str | None = None,
                 client_secret: str | None = None, allow_insecure_http: bool = False,
                 on_refused: Callable[[Any], None] | None = None,
                 **engine_kw: Any) -> Callable[..., Any]:
    """``factory(store, **callbacks)`` -> a sync engine for the app (issue 8).

    Sign-in: client credentials when ``[server] client_id`` is set and a secret is given
    (access token refreshed once on 401, cached encrypted), else ``token`` (kept encrypted in the
    cache), else the token a previous run kept there. ``on_refused(provider)`` is called when the
    server refused the token after the one refresh (the app asks the user for a new one). The
    engine uploads the audit trail as AuditEvents through the outbox.
    """
    from triage_tui.security.audit import engine_with_audit
    from triage_tui.sync import FhirClient
    from triage_tui.sync.auth import BearerAuth, StaticToken, provider_for

    given = [token]  # used once: it is in the cache from then on (and a token the user types
    # later, after a refusal, must not be overwritten by it when the engine restarts at unlock)

    def engine(store: Any, **callbacks: Any) -> Any:
        provider = provider_for(url, token=given[0], client_id=config.server.client_id,
                                client_secret=client_secret,
                                token_endpoint=config.server.token_endpoint, cache=store,
                                allow_insecure_http=allow_insecure_http)
        given[0] = None
        refused = None
        if on_refused is not None:
            if provider is None:  # no token anywhere yet: the first 401 asks for one
                provider = StaticToken.missing(store)

            def refused() -> None:
                on_refused(provider)
        auth = BearerAuth(provider, on_refused=refused) if provider else None
        client = FhirClient(url, None, auth=auth, allow_insecure_http=allow_insecure_http)
        return engine_with_audit(client, store, user, **engine_kw, **callbacks)

    return engine


def run(args: argparse.Namespace) -> int:
    import os

    from triage_tui.config import load_config
    from triage_tui.errors import UserError

    config = load_config()
    url = args.server or config.server.url
    user = args.user or config.server.user
    token = args.token or os.environ.get("TRIAGE_TUI_TOKEN")
    if not url:
        raise UserError("no server: give --server URL or set [server] url in config.toml")
    if not user:
        raise UserError("no user: give --user Practitioner/ID or set [server] user in config.toml")
    if not user.startswith("Practitioner/"):
        raise UserError(f"--user must be a Practitioner reference (Practitioner/ID), not {user!r}")

    from triage_tui.app import TriageApp
    from triage_tui.cache import open_store
    from triage_tui.screens.sign_in import ask_for_token
    from triage_tui.sync import check_server_url

    url = check_server_url(url, allow_insecure_http=args.allow_insecure_http)

    def opener(passphrase: str | None):
        return open_store(url, user, passphrase=passphrase, keyring_ok=True)

    engine = sync_factory(url, user, config, token=token,
                          client_secret=os.environ.get("TRIAGE_TUI_CLIENT_SECRET"),
                          allow_insecure_http=args.allow_insecure_http,
                          on_refused=lambda provider: ask_for_token(app, provider))
    app = TriageApp(config, opener=opener, server_label=url, user_ref=user, sync_factory=engine)
    app.run()
    if app.session is not None:
        app.session.store.close()
    return 0
