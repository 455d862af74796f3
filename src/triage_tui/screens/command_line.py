"""``:`` command line: type a command id (or a unique prefix), tab completes, enter runs.

The screen returns the chosen :class:`~triage_tui.actions.Command`; the app runs it on the screen
below. Only commands that apply there are offered.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from triage_tui.actions import Command, common_prefix, complete


class CommandLine(ModalScreen[Command | None]):
    BINDINGS = [
        Binding("tab", "complete", "Complete", priority=True, show=False),
        Binding("escape,ctrl+g", "cancel", "Cancel", show=False),
    ]
    DEFAULT_CSS = """
    CommandLine { align: left bottom; background: $background 0%; }
    CommandLine > #hint { height: auto; max-height: 8; width: 100%; background: $panel;
                          padding: 0 1; }
    CommandLine > Input, CommandLine > Input:focus { width: 100%; border: none; height: 1;
                                                   padding: 0 0; background: $panel; }
    """

    def __init__(self, commands: list[Command]) -> None:
        super().__init__()
        self.commands = commands

    def compose(self) -> ComposeResult:
        yield Static("", id="hint", markup=False)
        yield Input(placeholder="command (tab completes, enter runs)", id="command")

    def on_mount(self) -> None:
        self.app.quiet_cursors(self)  # type: ignore[attr-defined]
        self.query_one("#hint").display = False
        inp = self.query_one(Input)
        inp.value = ":"
        inp.cursor_position = 1
        inp.focus()

    def _typed(self) -> str:
        return self.query_one(Input).value.lstrip(":").strip()

    def _hint(self, text: str) -> None:
        hint = self.query_one("#hint", Static)
        hint.update(text)
        hint.display = bool(text)

    @on(Input.Changed)
    def changed(self, event: Input.Changed) -> None:
        typed = self._typed()
        if not typed:
            self._hint("")
            return
        matches = complete(typed, self.commands)
        self._hint("  ".join(c.id for c in matches[:20]) if matches else "no such command")

    def action_complete(self) -> None:
        matches = complete(self._typed(), self.commands)
        if not matches:
            return
        inp = self.query_one(Input)
        inp.value = ":" + (matches[0].id if len(matches) == 1 else common_prefix(matches))
        inp.cursor_position = len(inp.value)

    @on(Input.Submitted)
    def submit(self) -> None:
        typed = self._typed()
        if not typed:
            self.dismiss(None)
            return
        matches = complete(typed, self.commands)
        if len(matches) == 1:
            self.dismiss(matches[0])
        elif not matches:
            self._hint(f"no command '{typed}' here ({len(self.commands)} commands: tab lists)")
        else:
            self._hint("ambiguous: " + "  ".join(c.id for c in matches[:20]))

    def action_cancel(self) -> None:
        self.dismiss(None)
