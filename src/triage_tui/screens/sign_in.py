"""Asking for a new bearer token when the server refused the old one (issue 8).

:class:`~triage_tui.sync.auth.BearerAuth` refreshes a refused token once; when the server
refuses it again it calls ``on_refused``, and ``triage-tui open`` wires that to
:func:`ask_for_token`. A small modal (no PHI: the server and one masked input) takes the new
token; it goes to the provider, which keeps it encrypted in the cache (``meta``), and sync is
kicked. With OAuth client credentials there is nothing to type here: the user is told to check
the client secret instead.
"""

from __future__ import annotations

import time
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

ASK_AGAIN_AFTER_S = 300.0
"""After the user dismissed the dialog, refusals are not asked about again for this long (the
status bar still says "sign-in refused"; ``ctrl+r`` retries)."""


class TokenScreen(ModalScreen[str | None]):
    """The new token (``dismiss(token)``) or ``None`` (escape)."""

    BINDINGS = [Binding("escape", "cancel", "Later", show=False)]
    DEFAULT_CSS = """
    TokenScreen { align: center middle; }
    TokenScreen > Vertical { width: 64; max-width: 100%; height: auto; border: heavy $warning;
                             padding: 1 2; background: $surface; }
    TokenScreen #title { text-style: bold; }
    TokenScreen .where { color: $text-muted; }
    TokenScreen Input { margin-top: 1; }
    TokenScreen #error { color: $error; text-style: bold; }
    TokenScreen #status { color: $text-muted; }
    """

    def __init__(self, server: str) -> None:
        super().__init__()
        self.server = server

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("The server refused the sign-in token", id="title", markup=False)
            yield Label(f"Server  {self.server}", classes="where", markup=False)
            yield Input(password=True, placeholder="new bearer token", id="token")
            yield Static("", id="error", markup=False)
            yield Static("Enter saves it (encrypted in the local cache) and syncs. "
                         "Esc: later.", id="status", markup=False)

    def on_mount(self) -> None:
        quiet = getattr(self.app, "quiet_cursors", None)
        if quiet is not None:
            quiet(self)
        self.query_one("#token", Input).focus()

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        token = event.value.strip()
        if not token or any(c.isspace() for c in token):
            self.query_one("#error", Static).update("A token is one word with no spaces.")
            event.input.value = ""
            return
        self.dismiss(token)

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_for_token(app: Any, provider: Any) -> None:
    """``BearerAuth.on_refused`` for the app: safe from any thread (it only schedules)."""
    app.call_later(_ask, app, provider)


def _ask(app: Any, provider: Any) -> None:
    if getattr(app, "locked", False) or getattr(app, "session", None) is None:
        return
    if any(isinstance(s, TokenScreen) for s in app.screen_stack):
        return
    declined = getattr(provider, "_declined_at", None)
    if declined is not None and time.monotonic() - declined < ASK_AGAIN_AFTER_S:
        return
    if not callable(getattr(provider, "replace", None)):
        provider._declined_at = time.monotonic()  # say it once per period, not every retry
        app.notify("The server refused the sign-in (OAuth client credentials). Check "
                   "TRIAGE_TUI_CLIENT_SECRET and [server] client_id, then restart.",
                   severity="error", timeout=15)
        return

    def done(token: str | None) -> None:
        if not token:
            provider._declined_at = time.monotonic()
            return
        provider._declined_at = None
        provider.replace(token)  # kept encrypted in the cache's meta table
        engine = getattr(app, "engine", None)
        if engine is not None:
            engine.kick()
        app.notify("Token saved (encrypted). Syncing…")

    app.push_screen(TokenScreen(getattr(app, "server_label", "")), done)
