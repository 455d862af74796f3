"""The categories with their counts: a one-line tab strip (narrow) or a sidebar (wide).

The widget only draws; the screen gives it counts (``QueueView.counts``) and the active scope.
Numbers are the keys that select each category.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from triage_tui.actions import CATEGORY_LABELS, CATEGORY_ORDER
from triage_tui.domain.queue_view import CategoryCounts as Count
from triage_tui.widgets.glyphs import Glyphs

SHORT = {"all": "All", "refill": "Rx", "appointment": "Appt", "results": "Lab",
         "clinical": "Clin", "admin": "Admin", "mine": "Mine"}


class CategoryBar(Widget):
    DEFAULT_CSS = """
    CategoryBar { height: 1; width: 1fr; padding: 0 1; background: $panel; }
    CategoryBar.-sidebar { height: 1fr; width: 34; padding: 0 1; background: $surface;
                           border-right: vkey $panel; }
    """

    counts: reactive[dict[str, Count]] = reactive(dict, always_update=True)
    active: reactive[str] = reactive("all")
    sidebar: reactive[bool] = reactive(False)

    def __init__(self, glyphs: Glyphs, **kw) -> None:
        super().__init__(**kw)
        self.glyphs = glyphs

    def watch_sidebar(self, sidebar: bool) -> None:
        self.set_class(sidebar, "-sidebar")

    def render(self) -> Text | Group:
        return self._render_sidebar() if self.sidebar else self._render_strip()

    def _render_strip(self) -> Text:
        g = self.glyphs
        t = Text(no_wrap=True, overflow="ellipsis")
        for n, scope in enumerate(CATEGORY_ORDER, start=1):
            c = self.counts.get(scope, Count())
            if n > 1:
                t.append(" ")
            if scope == self.active:
                label = f"{n} {CATEGORY_LABELS[scope]} {c.open}"
                if c.urgent:
                    label += f" {g.urgent}{c.urgent}"
                if c.overdue:
                    label += f" {g.overdue}{c.overdue}"
                t.append(f"[{label}]", style="bold reverse")
            else:
                t.append(f"{n}", style="bold underline")
                t.append(f"{SHORT[scope]} {c.open}")
                if c.urgent:  # the count is in the sidebar and on the active tab
                    t.append(g.urgent, style="bold")
        return t

    def _render_sidebar(self) -> Group:
        g = self.glyphs
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, width=2)  # key
        table.add_column(no_wrap=True, width=11)  # category
        for width in (5, 3, 3):
            table.add_column(justify="right", no_wrap=True, width=width)
        table.add_row("", "", Text("open", style="dim"), Text(g.urgent, style="dim"),
                      Text(g.overdue, style="dim"))
        for n, scope in enumerate(CATEGORY_ORDER, start=1):
            c = self.counts.get(scope, Count())
            active = scope == self.active
            table.add_row(f"{'>' if active else ' '}{n}", CATEGORY_LABELS[scope], str(c.open),
                          str(c.urgent or ""), str(c.overdue or ""),
                          style="bold reverse" if active else "")
        table.add_row("", "", "", "", "")
        legend = Table.grid()
        legend.add_row(Text(f"{g.urgent} urgent  {g.overdue} overdue", style="dim"))
        return Group(table, legend)
