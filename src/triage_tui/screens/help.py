"""``?``: every command of the registry with its current keys (config overrides included)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from triage_tui import actions
from triage_tui.actions import COMMANDS, SUBSCREEN, current_keys

SCOPE_NAMES = {actions.APP: "everywhere", actions.INBOX: "inbox", actions.THREAD: "thread",
               SUBSCREEN: "thread, help"}


def keys_display(app, command: actions.Command, keymap: Mapping[str, str]) -> str:
    return " ".join(app.get_key_display(Binding(k, "")) for k in current_keys(command, keymap))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        *actions.bindings_for(SUBSCREEN),
        Binding("j,down", "scroll('down')", show=False),
        Binding("k,up", "scroll('up')", show=False),
        Binding("pagedown,space", "scroll('page_down')", show=False),
        Binding("pageup", "scroll('page_up')", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background 60%; }
    HelpScreen > VerticalScroll { width: 100; max-width: 100%; height: 100%; max-height: 100%;
                                  border: heavy $primary; background: $surface;
                                  padding: 0 1; }
    """

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Help: q or backspace to go back"
            yield Static(self._table(), id="help-table")

    def _table(self) -> Table:
        table = Table(box=None, expand=True, show_header=True, header_style="bold",
                      padding=(0, 1))
        table.add_column("Keys", no_wrap=True, style="bold")
        table.add_column("Command", no_wrap=True)
        table.add_column("What it does", ratio=1)
        table.add_column("Where", no_wrap=True, style="dim")
        group = None
        for c in COMMANDS:
            if c.group != group:
                group = c.group
                table.add_row(Text(""), Text(group, style="bold underline"), Text(""), Text(""))
            where = ", ".join(sorted(SCOPE_NAMES[s] for s in c.scopes))
            table.add_row(keys_display(self.app, c, self.keymap), c.id, c.help, where)
        table.add_row("", "", "")
        table.add_row("", "", Text("Keys can be changed in config.toml, [keymap] section: "
                                   "command = \"key,key\"."), "")
        return table

    def action_scroll(self, how: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        {"down": body.scroll_down, "up": body.scroll_up, "page_down": body.scroll_page_down,
         "page_up": body.scroll_page_up}[how]()

    def action_back(self) -> None:
        self.dismiss(None)
