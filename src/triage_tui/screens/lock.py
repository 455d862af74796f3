"""The lock screen, and locking the running app (idle timer, SIGHUP, the ``lock`` key).

Locking: drafts of open compose screens are saved, screens above the inbox are closed, the
sync engine is stopped (sync pauses: see :mod:`triage_tui.security.autolock`), the lock is
audited and the data key dropped (``Store.lock()``), notifications are cleared and this
screen covers everything. It shows no PHI: the product name, the server and the staff member.
Its background is opaque and, being modal, it blocks every app key except quit.

Unlocking: the keyring first when the cache was opened with it, else the passphrase
(``Store.unlock()``); then the unlock is audited, sync restarts and the queue reloads.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from triage_tui.cache.errors import NeedsPassphrase, WrongPassphrase
from triage_tui.errors import UserError
from triage_tui.security.autolock import lock_store, unlock_store

log = logging.getLogger(__name__)


class LockScreen(ModalScreen[bool]):
    BINDINGS = [Binding("ctrl+q", "quit_locked", "Quit", priority=True)]
    DEFAULT_CSS = """
    LockScreen { align: center middle; background: $background 100%; }
    LockScreen > Vertical { width: 64; max-width: 100%; height: auto; border: heavy $primary;
                            padding: 1 2; background: $surface; }
    LockScreen #title { text-style: bold; width: 100%; content-align: center middle; }
    LockScreen .where { color: $text-muted; }
    LockScreen Input { margin-top: 1; }
    LockScreen #error { color: $error; text-style: bold; margin-top: 1; }
    LockScreen #status { margin-top: 1; color: $text-muted; }
    """

    def __init__(self, store: Any, *, server: str, user_label: str, user_ref: str,
                 reason: str = "key", try_keyring: bool = False) -> None:
        super().__init__()
        self.store = store
        self.server = server
        self.user_label = user_label
        self.user_ref = user_ref
        self.reason = reason
        self.try_keyring = try_keyring
        self.attempts = 0

    def compose(self) -> ComposeResult:
        why = {"idle": " (idle)", "hangup": " (terminal hung up)"}.get(self.reason, "")
        with Vertical():
            yield Static(f"triage-tui  locked{why}", id="title", markup=False)
            yield Label(f"Server  {self.server}", classes="where", markup=False)
            yield Label(f"User    {self.user_label}", classes="where", markup=False)
            yield Input(password=True, placeholder="passphrase", id="passphrase")
            yield Static("", id="error", markup=False)
            yield Static("Enter unlocks. ctrl+q quits (confirmed replies are kept).",
                         id="status", markup=False)

    def on_mount(self) -> None:
        quiet = getattr(self.app, "quiet_cursors", None)
        if quiet is not None:
            quiet(self)
        if self.try_keyring:
            self._busy("Unlocking with the system keyring…")
            self.unlock(None)
        else:
            self.query_one("#passphrase", Input).focus()

    def _busy(self, text: str) -> None:
        self.query_one("#passphrase", Input).disabled = bool(text)
        self.query_one("#status", Static).update(
            text or "Enter unlocks. ctrl+q quits (confirmed replies are kept).")

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        if not event.value:
            self.query_one("#error", Static).update("Type the passphrase, then press Enter.")
            return
        self.attempts += 1
        self.query_one("#error", Static).update("")
        self._busy("Unlocking… (deriving the key takes a moment)")
        self.unlock(event.value)

    @work(thread=True, exclusive=True, group="unlock", description="unlock the cache",
          exit_on_error=False)
    def unlock(self, passphrase: str | None) -> None:
        unlock_store(self.store, passphrase, user=self.user_ref)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "unlock":
            return
        if event.state == WorkerState.SUCCESS:
            self.dismiss(True)
        elif event.state == WorkerState.ERROR:
            self._busy("")
            exc = event.worker.error
            err = self.query_one("#error", Static)
            if isinstance(exc, WrongPassphrase):
                err.update(f"Wrong passphrase (attempt {self.attempts}). Try again.")
            elif isinstance(exc, NeedsPassphrase):
                err.update("")
            elif isinstance(exc, UserError):
                err.update(str(exc))
            else:
                err.update(f"Could not unlock: {type(exc).__name__}")
            inp = self.query_one("#passphrase", Input)
            inp.value = ""
            inp.focus()

    async def action_quit_locked(self) -> None:
        self.app.exit()


async def lock_app(app: Any, reason: str) -> bool:
    """Lock a running :class:`~triage_tui.app.TriageApp`; False if it cannot be locked now."""
    session = getattr(app, "session", None)
    if session is None or getattr(app, "locked", False):
        return False
    store = session.store
    if not hasattr(store, "unlock"):
        return False
    app.locked = True
    # 1. keep the user's work: drafts of open editors are saved while the key is still here
    for screen in list(app.screen_stack):
        save = getattr(screen, "save_draft", None)
        if callable(save):
            with contextlib.suppress(Exception):
                save()
    # 2. stop sync before the key goes (it writes encrypted rows)
    engine = getattr(app, "engine", None)
    app.engine = None
    if engine is not None:
        with contextlib.suppress(Exception):
            await engine.stop()
        for worker in list(app.workers):
            if worker.group == "sync":
                worker.cancel()
        client = getattr(engine, "client", None)
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()
    # 3. close what shows PHI above the inbox, clear toasts
    from triage_tui.screens.inbox import InboxScreen

    while len(app.screen_stack) > 1 and not isinstance(app.screen, InboxScreen):
        await app.pop_screen()
    app.clear_notifications()
    # 4. audit, drop the key
    lock_store(store, user=session.user_ref, reason=reason)
    log.info("locked (%s)", reason)

    def unlocked(_: bool | None) -> None:
        app.locked = False
        policy = getattr(app, "lock_policy", None)
        if policy is not None:
            policy.on_unlocked()
        touch = getattr(app, "_last_input", None)
        if touch is not None:
            import time

            app._last_input = time.monotonic()
        factory = getattr(app, "sync_factory", None)
        if factory is not None and app.engine is None:
            app.engine = factory(store, on_status=app._engine_status,
                                 on_changes=app._engine_changes)
            app.run_worker(app.engine.run(), group="sync", name="sync",
                           description="sync with the FHIR server", exit_on_error=False)
        app.reload_queue()
        app.outbox_changed(kick=False)
        retention = getattr(app, "retention_due", None)  # issue 8: retention at unlock
        if callable(retention):
            app.call_after_refresh(retention)

    await app.push_screen(LockScreen(store, server=getattr(app, "server_label", ""),
                                     user_label=session.user_label, user_ref=session.user_ref,
                                     reason=reason,
                                     try_keyring=getattr(store, "unlocked_by", "") == "keyring"),
                          unlocked)
    return True


async def hangup(app: Any) -> None:
    """SIGHUP: the terminal is gone. Drop the key first (audited), then stop sync and exit;
    drafts already on disk and the outbox are kept for the next start."""
    session = getattr(app, "session", None)
    app.locked = True
    if session is not None and hasattr(session.store, "lock"):
        with contextlib.suppress(Exception):
            lock_store(session.store, user=session.user_ref, reason="hangup")
    engine = getattr(app, "engine", None)
    app.engine = None
    if engine is not None:
        with contextlib.suppress(Exception):
            await engine.stop()
    log.info("terminal hung up: locked and exiting")
    app.exit(return_code=129)
