"""One thread: patient banner, the whole conversation, and the context its kind needs."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container, VerticalScroll
from textual.widgets import Footer, Static

from triage_tui.actions import SUBSCREEN, THREAD, bindings_for
from triage_tui.domain.codes import Priority
from triage_tui.screens.acting import ActsOnThreads
from triage_tui.screens.session import Session
from triage_tui.screens.why import WhyScreen
from triage_tui.widgets.conversation import conversation, sender_namer
from triage_tui.widgets.patient_context import banner, context_view
from triage_tui.widgets.status_bar import StatusBar
from triage_tui.widgets.text import patient_text

Neighbours = Callable[[str, int], "str | None"]

_RANKS = {p.value: p.rank for p in Priority}


def category_label(server: str | None, rules: str | None) -> str:
    """The banner's category: the server's wins when present; a disagreement of the triage
    rules is shown next to it ("REFILL (rules: clinical)"); with no server category, the
    rules' is shown as theirs ("CLINICAL (rules)")."""
    if server:
        if rules and rules != server:
            return f"{server.upper()} (rules: {rules})"
        return server.upper()
    if rules:
        return f"{rules.upper()} (rules)"
    return "UNCATEGORISED"


def priority_label(server: str, rules: str | None) -> str | None:
    """The banner's urgency: the higher of the server's and the rules' priority (None when
    routine); "(rules)" when only the rules raise it."""
    s, r = _RANKS.get(server, 0), _RANKS.get(rules or "", 0)
    if r > s:
        return f"{(rules or '').upper()} (rules)"
    return server.upper() if s > 0 else None


class ThreadScreen(ActsOnThreads):
    BINDINGS = bindings_for(THREAD, SUBSCREEN)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    DEFAULT_CSS = """
    ThreadScreen #banner { height: auto; max-height: 3; background: $panel; padding: 0 1; }
    ThreadScreen #body { height: 1fr; }
    ThreadScreen #conversation { padding: 0 1; }
    ThreadScreen #context { background: $surface; padding: 0 1; }
    ThreadScreen.-wide #context { dock: right; width: 46; border-left: vkey $panel; }
    ThreadScreen.-narrow #context { dock: top; height: auto; max-height: 7;
                                    border-bottom: hkey $panel; }
    ThreadScreen.-no-context #context { display: none; }
    ThreadScreen.-narrow.-context-full #context { dock: none; height: 1fr; max-height: 100%; }
    ThreadScreen.-narrow.-context-full #conversation { display: none; }
    """

    def __init__(self, session: Session, thread_id: str,
                 neighbours: Neighbours | None = None) -> None:
        super().__init__(session)
        self.thread_id = thread_id
        self.neighbours = neighbours

    def compose(self) -> ComposeResult:
        yield Static("", id="banner", markup=False)
        with Container(id="body"):
            with VerticalScroll(id="context", can_focus=False):
                yield Static("", id="context-text", markup=False)
            with VerticalScroll(id="conversation"):
                yield Static("", id="messages", markup=False)
        yield StatusBar(self.session.user_label, self.session.glyphs, self.session.clock,
                        state=self.app.sync_state, id="status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.show_thread(self.thread_id)
        self.query_one("#conversation").focus()

    def load(self) -> None:
        """(Re)draw from the cache; keeps the scroll position on a live update."""
        s = self.session
        store = s.store
        thread = store.thread(self.thread_id)
        if thread is None:
            self.query_one("#messages", Static).update(
                Text("This thread is no longer in the cache.", style="bold"))
            return
        patient = store.patient(thread.patient_id)
        task = store.task_for_thread(self.thread_id)
        now = s.clock()
        head = banner(patient, now.date())
        g = s.glyphs
        line2 = Text(no_wrap=True, overflow="ellipsis")
        thread_rules = getattr(store, "thread_rules", None)
        rules_priority, rules_category = (thread_rules(self.thread_id) if thread_rules
                                          else (None, None))
        line2.append(f"{category_label(thread.category, rules_category)} ", style="bold")
        urgency = priority_label(thread.priority, rules_priority)
        if urgency is not None:
            line2.append(f"{g.urgent} {urgency}", style="bold reverse")
            line2.append(" ")
        if task is not None and task.due is not None and task.due < now \
                and task.business_status != "done":
            line2.append(f"{g.overdue} OVERDUE", style="bold reverse")
            line2.append(" ")
        line2.append_text(patient_text(thread.subject))
        if task is not None:
            owner = self._owner_label(task.owner_ref)
            line2.append(f"  [{task.business_status} · {task.pool or 'no pool'} · {owner}]",
                         style="dim")
        self.query_one("#banner", Static).update(Group(head, line2))
        name = patient.display_name if patient else "patient"
        msgs = store.messages(self.thread_id)
        self.query_one("#messages", Static).update(
            conversation(msgs, sender_namer(store, name, s.user_ref), s.glyphs))
        ctx = store.patient_context(thread.patient_id)
        self.query_one("#context-text", Static).update(
            context_view(ctx, thread.category, now, s.glyphs))

    def _owner_label(self, owner_ref: str | None) -> str:
        if owner_ref is None:
            return "nobody"
        if owner_ref == self.session.user_ref:
            return "you"
        return self.session.staff_name(owner_ref) or owner_ref

    def show_thread(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self.load()
        s = self.session
        s.store.audit("view", user=s.user_ref, entity=f"Communication/{thread_id}")
        self.query_one("#conversation", VerticalScroll).scroll_home(animate=False)

    # --- actions ----------------------------------------------------------------------------
    def target_ids(self) -> list[str]:
        return [self.thread_id]

    def action_back(self) -> None:
        self.dismiss()

    def _scroller(self) -> VerticalScroll:
        """What j/k scroll: the context when it fills the screen, else the conversation."""
        full = self.has_class("-narrow", "-context-full")
        return self.query_one("#context" if full else "#conversation", VerticalScroll)

    def action_scroll_down(self) -> None:
        self._scroller().scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self._scroller().scroll_up(animate=False)

    def _step(self, step: int) -> None:
        nxt = self.neighbours(self.thread_id, step) if self.neighbours else None
        if nxt is None:
            self.notify("No more threads in this view.")
        else:
            self.show_thread(nxt)

    def action_next_thread(self) -> None:
        self._step(1)

    def action_prev_thread(self) -> None:
        self._step(-1)

    def action_why(self) -> None:
        """Why this thread has its category and urgency (shows patient text: audited)."""
        s = self.session
        thread = s.store.thread(self.thread_id)
        if thread is None:
            self.notify("This thread is no longer in the cache.")
            return
        s.store.audit("view", user=s.user_ref, entity=f"Communication/{self.thread_id}",
                      detail={"screen": "why"})
        self.app.push_screen(WhyScreen(thread, s.store.messages(self.thread_id), s.glyphs))

    def action_toggle_context(self) -> None:
        """Wide: show/hide the side panel. Narrow (its 7 lines can hide medications or labs):
        top panel -> full height, j/k scroll it -> hidden -> top panel."""
        if not self.has_class("-narrow"):
            self.toggle_class("-no-context")
        elif self.has_class("-no-context"):
            self.remove_class("-no-context")
        elif self.has_class("-context-full"):
            self.remove_class("-context-full")
            self.add_class("-no-context")
        else:
            self.add_class("-context-full")
            self.query_one("#context", VerticalScroll).scroll_home(animate=False)
