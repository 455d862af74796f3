"""Unlock the encrypted cache: keyring first, else a passphrase. Shows no PHI.

The key derivation is slow on purpose, so opening runs in a thread worker. A wrong passphrase
keeps the screen, says so and lets the user retry; nothing else changes. The screen is also
the lock screen (``ctrl+l`` and the idle timer): it covers everything behind it.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from triage_tui.cache.api import CacheAPI
from triage_tui.cache.errors import NeedsPassphrase, WrongPassphrase
from triage_tui.errors import UserError

Opener = Callable[[str | None], CacheAPI]
"""Opens the cache: ``None`` tries the keyring (raises NeedsPassphrase), else the passphrase."""


class UnlockScreen(ModalScreen[CacheAPI]):
    DEFAULT_CSS = """
    UnlockScreen { align: center middle; background: $background; }
    UnlockScreen > Vertical { width: 64; max-width: 100%; height: auto; border: heavy $primary;
                              padding: 1 2; background: $surface; }
    UnlockScreen #title { text-style: bold; width: 100%; content-align: center middle; }
    UnlockScreen .where { color: $text-muted; }
    UnlockScreen Input { margin-top: 1; }
    UnlockScreen #error { color: $error; text-style: bold; margin-top: 1; }
    UnlockScreen #status { margin-top: 1; color: $text-muted; }
    """

    def __init__(self, opener: Opener, *, server: str, user: str, try_keyring: bool = True,
                 locked: bool = False) -> None:
        super().__init__()
        self.opener = opener
        self.server = server
        self.user = user
        self.try_keyring = try_keyring
        self.locked = locked
        self.creating = False
        self.attempts = 0

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("triage-tui  " + ("locked" if self.locked else "unlock the cache"),
                         id="title", markup=False)
            yield Label(f"Server  {self.server}", classes="where", markup=False)
            yield Label(f"User    {self.user}", classes="where", markup=False)
            yield Input(password=True, placeholder="passphrase", id="passphrase")
            yield Input(password=True, placeholder="repeat the new passphrase", id="repeat")
            yield Static("", id="error", markup=False)
            yield Static("Enter unlocks. ctrl+q quits.", id="status", markup=False)

    def on_mount(self) -> None:
        self.app.quiet_cursors(self)  # type: ignore[attr-defined]
        self.query_one("#repeat").display = False
        if self.try_keyring:
            self._set_busy("Unlocking with the system keyring…")
            self.open_cache(None)
        else:
            self.query_one("#passphrase").focus()

    def _set_busy(self, text: str) -> None:
        for inp in self.query(Input):
            inp.disabled = bool(text)
        self.query_one("#status", Static).update(text or "Enter unlocks. ctrl+q quits.")

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        pw = self.query_one("#passphrase", Input).value
        if not pw:
            self.show_error("Type the passphrase, then press Enter.")
            return
        if self.creating:
            repeat = self.query_one("#repeat", Input)
            if event.input.id == "passphrase":
                repeat.focus()
                return
            if repeat.value != pw:
                repeat.value = ""
                self.show_error("The two passphrases differ. Type the new one again.")
                return
        self.attempts += 1
        self.show_error("")
        self._set_busy("Unlocking… (deriving the key takes a moment)")
        self.open_cache(pw)

    @work(thread=True, exclusive=True, group="unlock", description="open the encrypted cache",
          exit_on_error=False)
    def open_cache(self, passphrase: str | None) -> CacheAPI:
        return self.opener(passphrase)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "unlock":
            return
        if event.state == WorkerState.SUCCESS:
            self.dismiss(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self._set_busy("")
            self._failed(event.worker.error)

    def _failed(self, exc: BaseException | None) -> None:
        pw = self.query_one("#passphrase", Input)
        if isinstance(exc, NeedsPassphrase):
            self.creating = exc.creating
            if exc.creating:
                self.query_one("#repeat").display = True
                self.query_one("#status", Static).update(
                    "No cache yet: choose a passphrase to create it (twice). Enter confirms.")
        elif isinstance(exc, WrongPassphrase):
            self.show_error(f"Wrong passphrase (attempt {self.attempts}). Nothing was changed; "
                            "try again.")
        elif isinstance(exc, UserError):
            self.show_error(str(exc))
        else:
            self.show_error(f"Could not open the cache: {type(exc).__name__}")
        pw.value = ""
        self.query_one("#repeat", Input).value = ""
        pw.focus()

    def show_error(self, text: str) -> None:
        self.query_one("#error", Static).update(text)
