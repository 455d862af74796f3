"""Small modal dialogs for the thread actions: pick a pool, confirm, write a reply.

None of them acts on Esc: Esc (and q in the pickers) only goes back; a reply's text is kept
as a draft when the composer is left without sending.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from triage_tui.domain.codes import Pool

_DIALOG_CSS = """
{name} {{ align: center middle; background: $background 60%; }}
{name} > Vertical {{ width: 60; max-width: 100%; height: auto; max-height: 100%;
                     border: heavy $primary; background: $surface; padding: 0 1; }}
{name} .hint {{ color: $text-muted; }}
"""


class RoutePicker(ModalScreen[Pool | None]):
    """Choose a pool with its number key."""

    POOLS = list(Pool)
    BINDINGS = [
        *(Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, len(POOLS) + 1)),
        Binding("q,escape,backspace", "pick(-1)", show=False),
    ]
    DEFAULT_CSS = _DIALOG_CSS.format(name="RoutePicker")

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Route {self.count} thread{'s' * (self.count != 1)} to"
            yield Static("\n".join(f" {n}  {p.value}" for n, p in enumerate(self.POOLS, 1)),
                         markup=False)
            yield Static("number picks, q goes back", classes="hint", markup=False)

    def action_pick(self, index: int) -> None:
        self.dismiss(self.POOLS[index] if index >= 0 else None)


class Confirm(ModalScreen[bool]):
    """y confirms; n, q, Esc or backspace go back."""

    BINDINGS = [Binding("y", "answer(True)", show=False),
                Binding("n,q,escape,backspace", "answer(False)", show=False)]
    DEFAULT_CSS = _DIALOG_CSS.format(name="Confirm")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, markup=False)
            yield Static("y: yes    n: no", classes="hint", markup=False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ReplyComposer(ModalScreen[tuple[bool, str]]):
    """Write a reply. ctrl+s sends; Esc or ctrl+g goes back and keeps the text as a draft.

    Returns ``(send, text)``: ``send`` False means keep ``text`` as the draft.
    """

    BINDINGS = [Binding("ctrl+s", "send", "Send", priority=True),
                Binding("escape,ctrl+g", "leave", "Back (keep draft)", priority=True)]
    DEFAULT_CSS = _DIALOG_CSS.format(name="ReplyComposer") + """
    ReplyComposer > Vertical { width: 90; }
    ReplyComposer TextArea { height: 10; }
    """

    def __init__(self, title: str, draft: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.draft = draft

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield TextArea(self.draft, id="reply-text", soft_wrap=True, show_line_numbers=False)
            yield Static("ctrl+s sends    Esc / ctrl+g: back, the text is kept as a draft",
                         classes="hint", markup=False)

    def on_mount(self) -> None:
        self.app.quiet_cursors(self)  # type: ignore[attr-defined]
        self.query_one(TextArea).focus()

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def action_send(self) -> None:
        if not self.text.strip():
            self.notify("The reply is empty.", severity="warning")
            return
        self.dismiss((True, self.text))

    def action_leave(self) -> None:
        self.dismiss((False, self.text))
