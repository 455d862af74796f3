"""The Textual app: unlock, then the inbox; sync in the background; commands from the registry.

The app owns what outlives a screen: the session (store, user, clock), the sync engine and the
status it reports. Screens own their layout and actions. Everything the user can do is declared
once in :mod:`triage_tui.actions`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from textual import events, on, work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from triage_tui.actions import (
    APP,
    BATCH,
    COMPOSE,
    INBOX,
    STATIC_CHOICES,
    SUBSCREEN,
    THREAD,
    Command,
    bindings_for,
    commands_for,
    invocation_action,
)
from triage_tui.cache.api import CacheAPI, OutboxItem, OutboxState
from triage_tui.config import Config
from triage_tui.domain.templates import Practice
from triage_tui.screens.analytics import AnalyticsScreen
from triage_tui.screens.batch_review import BatchReviewScreen
from triage_tui.screens.command_line import CommandLine, Invocation
from triage_tui.screens.compose import ComposeScreen
from triage_tui.screens.help import HelpScreen, keys_display
from triage_tui.screens.inbox import InboxScreen
from triage_tui.screens.lock import hangup, lock_app
from triage_tui.screens.messages import (
    QueueLoaded,
    SyncState,
    SyncStatusChanged,
    TaskConflict,
    ThreadsChanged,
)
from triage_tui.screens.palette import RegistryCommands, ThemeCommands
from triage_tui.screens.session import Session, utc_now
from triage_tui.screens.thread import ThreadScreen
from triage_tui.screens.unlock import Opener, UnlockScreen
from triage_tui.terminal import guard_sigcont, survive_hangup
from triage_tui.themes import DEFAULT_THEME, builtin_themes
from triage_tui.widgets.glyphs import glyphs
from triage_tui.widgets.status_bar import StatusBar
from triage_tui.workflows.pending import queue_with_pending


class Engine(Protocol):
    """What the app needs of :class:`triage_tui.sync.SyncEngine`."""

    async def run(self) -> None: ...
    def kick(self) -> None: ...
    async def stop(self) -> None: ...


RETENTION_EVERY_S = 24 * 3600.0
"""How often the running app applies the retention policy (also once at unlock)."""

SyncFactory = Callable[..., Engine]
"""``factory(store, on_status=..., on_changes=..., on_conflict=...)`` -> an engine bound to the
store (the callbacks are :class:`triage_tui.sync.SyncEngine`'s)."""

SCREEN_SCOPES: dict[type, frozenset[str]] = {
    InboxScreen: frozenset({INBOX, APP}),
    ThreadScreen: frozenset({THREAD, SUBSCREEN, APP}),
    ComposeScreen: frozenset({COMPOSE, APP}),
    BatchReviewScreen: frozenset({BATCH, APP}),
    AnalyticsScreen: frozenset({SUBSCREEN, APP}),
}
"""The commands (help, palette, ``:``) that apply on each screen; others: app-wide only."""


def sync_state(status: Any) -> SyncState:
    """A :class:`triage_tui.sync.SyncStatus` as the status bar's :class:`SyncState`."""
    outbox = status.outbox
    detail = status.error or (f"syncing {status.progress}" if status.pulling and status.progress
                              else "syncing" if status.pulling else "")
    return SyncState(
        online=status.online, last_sync=status.last_sync,
        queued=outbox.get(OutboxState.QUEUED, 0) + outbox.get(OutboxState.IN_FLIGHT, 0),
        failed=outbox.get(OutboxState.NEEDS_REVIEW, 0) + outbox.get(OutboxState.FAILED, 0),
        detail=detail)


class TriageApp(App[None]):
    TITLE = "triage-tui"
    BINDINGS = [*bindings_for(APP), Binding("ctrl+c", "help_quit", show=False, system=True)]
    COMMANDS = {RegistryCommands, ThemeCommands}
    CSS = """
    Footer { background: $panel; }
    """

    def __init__(self, config: Config | None = None, *, store: CacheAPI | None = None,
                 opener: Opener | None = None, server_label: str = "", user_ref: str,
                 user_label: str | None = None, sync_factory: SyncFactory | None = None,
                 clock: Callable[[], datetime] = utc_now, try_keyring: bool = True) -> None:
        super().__init__()
        survive_hangup()  # a dropped terminal must not wedge the exit (triage_tui.terminal)
        if store is None and opener is None:
            raise ValueError("give a store or an opener")
        self.config = config or Config()
        self.practice: Practice = self.config.practice.as_practice()
        """Practice settings the reply templates fill in (``[practice]`` in the config)."""
        self.opener = opener
        self.server_label = server_label
        self.user_ref = user_ref
        self.user_label = user_label or user_ref
        self.sync_factory = sync_factory
        self.clock = clock
        self.try_keyring = try_keyring
        self._initial_store = store
        self.session: Session | None = None
        self.engine: Engine | None = None
        self.sync_state = SyncState(detail="" if sync_factory else "not syncing")
        self.locked = False
        self._last_input = time.monotonic()
        for theme in builtin_themes():
            self.register_theme(theme)
        self.theme = (self.config.theme if self.config.theme in self.available_themes
                      else DEFAULT_THEME)
        if not self.config.animations:
            self.animation_level = "none"

    def quiet_cursors(self, screen: Screen) -> None:
        """Stop text cursors blinking when animations are off (deterministic snapshots)."""
        if not self.config.animations:
            for widget in screen.query("Input, TextArea"):
                widget.cursor_blink = False  # type: ignore[attr-defined]

    # --- start-up -----------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.config.theme not in self.available_themes:
            self.notify(f"config: unknown theme '{self.config.theme}', using {DEFAULT_THEME}",
                        severity="error")
        self.set_keymap(self.config.keymap)
        if self._initial_store is not None:
            self.start_session(self._initial_store)
        else:
            assert self.opener is not None
            self.push_screen(UnlockScreen(self.opener, server=self.server_label,
                                          user=self.user_label, try_keyring=self.try_keyring),
                             self.start_session)
        if self.config.idle_lock_minutes:
            self.set_interval(30, self._check_idle)
        guard_sigcont()  # the SIGCONT after a hang-up must not restart the dead terminal
        if self.config.lock_on_hangup:  # issue 8: a dropped SSH link locks (and exits)
            import asyncio

            from triage_tui.security.autolock import install_sighup

            install_sighup(asyncio.get_running_loop(), lambda: self.call_later(self._hangup))

    def start_session(self, store: CacheAPI | None) -> None:
        if store is None:  # pragma: no cover - the unlock screen only returns a store
            return
        self.session = Session(store, self.user_ref, self.user_label,
                               glyphs(self.config.ascii_glyphs), self.clock)
        if self.sync_factory is not None:
            self.engine = self.sync_factory(store, on_status=self._engine_status,
                                            on_changes=self._engine_changes,
                                            on_conflict=self._engine_conflict)
            self.run_worker(self.engine.run(), group="sync", name="sync",
                            description="sync with the FHIR server", exit_on_error=False)
        self.outbox_changed(kick=False)
        self.push_screen(InboxScreen(self.session, preview=self.config.preview))
        # issue 8: retention runs by itself, after the first paint, then daily
        self.call_after_refresh(self.retention_due)
        self.set_interval(RETENTION_EVERY_S, self.retention_due)

    # --- the queue and live changes -----------------------------------------------------------
    @work(thread=True, group="queue", description="read the queue from the cache")
    def reload_queue(self, changed: frozenset[str] = frozenset()) -> None:
        assert self.session is not None
        if self.locked:  # issue 8: no data key while locked; unlocking reloads
            return
        rows = queue_with_pending(self.session.store)  # the user's queued changes show at once
        for screen in self._screens(InboxScreen):
            screen.post_message(QueueLoaded(rows, changed))

    def _screens(self, kind: type[Screen]) -> Iterable[Any]:
        return [s for s in self.screen_stack if isinstance(s, kind)]

    def _engine_status(self, status: Any) -> None:
        self.post_message(SyncStatusChanged(sync_state(status)))

    def _engine_changes(self, changes: Any) -> None:
        self.post_message(ThreadsChanged(frozenset(changes.thread_ids)))

    def _engine_conflict(self, conflict: Any) -> None:
        self.post_message(TaskConflict(conflict.thread_id, conflict.message))

    def show_pending(self, items: Sequence[OutboxItem]) -> None:
        """Task changes were just queued: show them in the queue now, marked pending (the next
        load recomputes the same from the outbox; the server's answer replaces them)."""
        for screen in self._screens(InboxScreen):
            screen.apply_pending(items)

    @on(TaskConflict)
    def task_conflict(self, event: TaskConflict) -> None:
        """Someone else changed a thread we acted on: the server's truth is shown; say so."""
        if self.session is None or self.locked:
            return
        where = ""
        if event.thread_id:
            display = self.session.store.thread_display([event.thread_id]).get(event.thread_id)
            if display is not None:
                where = f"{display.patient_name} · {display.subject}: "
        self.notify(where + event.message, title="Not applied: changed by someone else",
                    severity="error", timeout=20, markup=False)
        if event.thread_id:
            self.post_message(ThreadsChanged(frozenset({event.thread_id})))

    @on(ThreadsChanged)
    def threads_changed(self, event: ThreadsChanged) -> None:
        if self.session is None or self.locked:
            return
        self.reload_queue(event.thread_ids)
        for screen in self._screens(ThreadScreen):
            if screen.thread_id in event.thread_ids:
                screen.load()
        for screen in self._screens(AnalyticsScreen):
            screen.data_changed()
        self.outbox_changed(kick=False)

    @on(SyncStatusChanged)
    def sync_status_changed(self, event: SyncStatusChanged) -> None:
        self.sync_state = event.state
        self._show_state()

    def _show_state(self) -> None:
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.state = self.sync_state

    def outbox_changed(self, kick: bool = True) -> None:
        """Items were queued (or sync moved some): show the counts, and send soon."""
        if self.session is None or self.locked:
            return
        counts = self.session.store.outbox_counts()
        st = self.sync_state
        self.sync_state = SyncState(
            online=st.online, last_sync=st.last_sync, detail=st.detail,
            queued=counts.get(OutboxState.QUEUED, 0) + counts.get(OutboxState.IN_FLIGHT, 0),
            failed=counts.get(OutboxState.NEEDS_REVIEW, 0) + counts.get(OutboxState.FAILED, 0))
        self._show_state()
        if kick and self.engine is not None:
            self.engine.kick()

    def on_screen_resume(self) -> None:
        self._show_state()

    # --- commands -----------------------------------------------------------------------------
    def scopes_of(self, screen: Screen) -> frozenset[str]:
        return SCREEN_SCOPES.get(type(screen), frozenset({APP}))

    def commands_for_screen(self, screen: Screen) -> list[Command]:
        return commands_for(self.scopes_of(screen))

    def keys_for(self, command: Command) -> str:
        return keys_display(self, command, self.config.keymap)

    def run_command(self, command: Command, screen: Screen, argument: str | None = None) -> None:
        """Run a registry command as if its key was pressed on ``screen`` (with the ``:``
        command line's argument, when it takes one)."""
        target = self if command.scopes & {APP} else screen
        self.call_later(target.run_action, invocation_action(command, argument))

    def argument_choices(self, command: Command) -> list[str]:
        """Values the argument of ``command`` may take (empty: free text)."""
        if command.choices == "themes":
            return sorted(self.available_themes)
        return list(STATIC_CHOICES.get(command.choices, ()))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.config.keymap))

    def action_command_line(self) -> None:
        below = self.screen
        commands = [c for c in self.commands_for_screen(below) if c.id != "command_line"]

        def chosen(invocation: Invocation | None) -> None:
            if invocation is not None:
                self.run_command(invocation.command, below, invocation.argument)

        self.push_screen(CommandLine(commands, self.argument_choices), chosen)

    def action_set_theme(self, name: str | None = None) -> None:
        """``:theme NAME``; without a name, the theme picker (F9)."""
        if not name:
            self.action_change_theme()
        elif name in self.available_themes:
            self.theme = name
        else:
            self.notify(f"No theme '{name}'.", severity="warning")

    def action_sync_now(self) -> None:
        if self.engine is None:
            self.notify("Sync is not running.", severity="warning")
            return
        self.engine.kick()
        self.notify("Syncing…")

    def action_analytics(self) -> None:
        """Open the analytics screen (issue 9); its figures are read in a worker."""
        if self.session is None or isinstance(self.screen, AnalyticsScreen):
            return
        self.push_screen(AnalyticsScreen(self.session))

    # --- retention (issue 8) --------------------------------------------------------------------
    def retention_due(self) -> None:
        """Purge closed threads older than ``retention_days`` in a worker thread; never while
        locked; threads open on a screen (and, in the cache, those with unsent outbox items or
        drafts) are kept."""
        if self.session is None or self.locked or self.config.retention_days <= 0:
            return
        keep = frozenset(t for s in self.screen_stack if (t := getattr(s, "thread_id", None)))
        self.run_retention(keep)

    @work(thread=True, exclusive=True, group="retention", exit_on_error=False,
          description="purge old closed threads (retention)")
    def run_retention(self, keep: frozenset[str] = frozenset()) -> None:
        from triage_tui.cache.store import Store

        store = self.session.store if self.session is not None else None
        if not isinstance(store, Store) or self.locked or store.locked:
            return
        from triage_tui.cache.retention import purge_closed_threads

        report = purge_closed_threads(store, older_than_days=self.config.retention_days,
                                      user=self.user_ref, keep=keep, audit_empty=False)
        if report.threads:
            self.call_from_thread(self.reload_queue)
            self.call_from_thread(
                self.notify, f"Retention: {report.threads} closed threads older than "
                f"{self.config.retention_days} days removed from this computer.")

    # --- lock -----------------------------------------------------------------------------------
    def on_event(self, event: events.Event):  # type: ignore[override]
        if isinstance(event, events.Key):
            self._last_input = time.monotonic()
        return super().on_event(event)

    def _check_idle(self) -> None:
        idle = time.monotonic() - self._last_input
        if not self.locked and self.session and idle >= self.config.idle_lock_minutes * 60:
            self.run_worker(lock_app(self, "idle"), group="lock", description="idle lock")

    def _hangup(self) -> None:
        """SIGHUP (the terminal or SSH link is gone): lock (data key dropped, audited), stop
        sync and exit; drafts and the outbox are already on disk."""
        self.run_worker(hangup(self), group="lock", description="lock on hang-up")

    async def action_lock(self) -> None:
        """Drop the data key and cover the screen (screens/lock.py); unlock brings it back."""
        if not await lock_app(self, "key"):
            self.notify("The cache cannot be locked now.", severity="warning")

    async def action_quit(self) -> None:
        if self.engine is not None:
            await self.engine.stop()
            client = getattr(self.engine, "client", None)  # SyncEngine's FhirClient
            if client is not None:
                await client.aclose()
        self.exit()
