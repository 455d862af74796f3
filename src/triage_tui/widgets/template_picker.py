"""Pick a reply template by typing a few letters (fuzzy: "rsp" finds "Refill sent to your
pharmacy"). Up/down move, enter picks, Esc or ctrl+g go back (nothing is lost either way).

Titles come from the shipped and user template files (staff-chosen, trusted); they are still
drawn as plain text, never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from triage_tui.domain.codes import Category
from triage_tui.domain.templates import SearchHit, TemplateGroup, TemplateLibrary


def hit_prompt(hit: SearchHit, width_hint: int = 0) -> Text:
    g = hit.group
    t = Text(no_wrap=True, overflow="ellipsis")
    cat = (g.category.value if g.category else "other")[:11]
    t.append(f"{cat:<11} ", style="dim")
    title = Text(g.title)
    for p in hit.positions:
        title.stylize("bold underline", p, p + 1)
    t.append_text(title)
    t.append(f"  {'/'.join(g.languages)}", style="dim")
    return t


class TemplatePicker(ModalScreen[TemplateGroup | None]):
    BINDINGS = [
        Binding("escape,ctrl+g", "leave", "Back", priority=True),
        Binding("down,ctrl+n", "move(1)", show=False, priority=True),
        Binding("up,ctrl+p", "move(-1)", show=False, priority=True),
        Binding("pagedown", "move(8)", show=False, priority=True),
        Binding("pageup", "move(-8)", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    TemplatePicker { align: center middle; background: $background 60%; }
    TemplatePicker > Vertical { width: 76; max-width: 100%; height: auto; max-height: 90%;
                                border: heavy $primary; background: $surface; padding: 0 1; }
    TemplatePicker #query { border: none; height: 1; padding: 0 1; background: $panel; }
    TemplatePicker #hits { height: auto; max-height: 16; border: none; }
    TemplatePicker .hint { color: $text-muted; }
    """

    def __init__(self, library: TemplateLibrary, *, category: Category | str | None = None,
                 title: str = "Choose a template") -> None:
        super().__init__()
        self.library = library
        self.category = category
        self.title_text = title
        self.hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Input(placeholder="type to search templates", id="query")
            yield OptionList(id="hits")
            yield Static("", id="errors", classes="hint", markup=False)
            yield Static("type to filter · up/down · enter picks · Esc/ctrl+g back",
                         classes="hint", markup=False)

    def on_mount(self) -> None:
        self.library.refresh()  # new or changed user files show without a restart
        errors = self.query_one("#errors", Static)
        if self.library.errors:
            errors.update(f"{len(self.library.errors)} template file(s) skipped: "
                          f"{self.library.errors[0]}")
        else:
            errors.display = False
        self._search("")
        query = self.query_one("#query", Input)
        query.cursor_blink = getattr(self.app, "blink", True)  # off in tests (snapshots)
        query.focus()

    def _search(self, query: str) -> None:
        self.hits = self.library.search(query, category=self.category)
        hits = self.query_one("#hits", OptionList)
        hits.set_options([Option(hit_prompt(h), id=h.group.id) for h in self.hits])
        if self.hits:
            hits.highlighted = 0

    @on(Input.Changed, "#query")
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        hits = self.query_one("#hits", OptionList)
        if hits.highlighted is None or not self.hits:
            self.notify("No template matches.", severity="warning")
            return
        self.dismiss(self.hits[hits.highlighted].group)

    @on(OptionList.OptionSelected, "#hits")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.hits[event.option_index].group)

    def action_move(self, step: int) -> None:
        hits = self.query_one("#hits", OptionList)
        if not self.hits:
            return
        cur = hits.highlighted or 0
        hits.highlighted = max(0, min(len(self.hits) - 1, cur + step))

    def action_leave(self) -> None:
        self.dismiss(None)
