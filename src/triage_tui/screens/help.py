"""``?``: every command of the registry with its current keys (config overrides included)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group, RenderableType
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
               SUBSCREEN: "thread, help, analytics", actions.COMPOSE: "reply",
               actions.BATCH: "batch review"}


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

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(keys, command id, help, where) for every command, in registry order."""
        return [(keys_display(self.app, c, self.keymap), c.id, c.help,
                 ", ".join(sorted(SCOPE_NAMES[s] for s in c.scopes))) for c in COMMANDS]

    def _table(self) -> Group:
        """One grid per command group; long descriptions wrap inside their own column."""
        wide = self.app.size.width >= 110
        parts: list[RenderableType] = [Text(f"{'Keys':<12}{'Command':<22}What it does",
                                            style="bold")]
        grid: Table | None = None
        group = None
        for c, (keys, cid, help, where) in zip(COMMANDS, self.rows()):
            if c.group != group:
                group = c.group
                parts += [Text(""), Text(group, style="bold underline")]
                grid = Table.grid(padding=(0, 1))
                grid.add_column(width=11, no_wrap=True, style="bold")
                grid.add_column(width=21, no_wrap=True)
                grid.add_column(ratio=1)
                parts.append(grid)
            command = Text(cid)
            if c.argument:  # `:route POOL`
                command.append(" " + c.argument.upper(), style="dim")
            what = Text(help)
            if wide:
                what.append(f"  ({where})", style="dim")
            grid.add_row(keys, command, what)
        parts.append(Text("\n':' runs a command by id, with its argument in capitals above "
                          "(:route pharmacy, :category refill); tab completes both.\n"
                          "Keys can be changed in config.toml, [keymap] section: "
                          "command = \"key,key\".", style="dim"))
        return Group(*parts)

    def action_scroll(self, how: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        {"down": body.scroll_down, "up": body.scroll_up, "page_down": body.scroll_page_down,
         "page_up": body.scroll_page_up}[how]()

    def action_back(self) -> None:
        self.dismiss(None)
