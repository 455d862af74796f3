"""Compose one reply: a text area seeded from a template, a live preview of the filled text,
the reply's state, and a fuzzy template picker (ctrl+t or F2).

The text area holds the reply as staff write it, placeholders included
(``Hi {patient.first_name}, ...``); the preview shows it filled from the thread's context as the
patient will read it. Sending is blocked while a value is missing (the preview shows a visible
``[[blank]]`` and the state line says which variable and why). The text is saved as the thread's
draft as the user types (debounced), when the screen is covered (lock) and when it is left, so a
crash or a lock loses at most the last second of typing.

:func:`start_reply` is what the ``reply`` command opens for one thread; :func:`start_batch` is
the ``apply_template`` command: the template picker, then the batch review of every reply.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Container, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static, TextArea

from triage_tui.actions import COMPOSE, bindings_for
from triage_tui.cache.api import Draft, OutboxKind, OutboxState
from triage_tui.domain.templates import Practice, TemplateGroup, TemplateLibrary, unfilled
from triage_tui.domain.templates.render import PlaceholderError, parse_body, render_body
from triage_tui.screens.batch_review import STATE_LABEL, BatchReviewScreen
from triage_tui.workflows.batch import (
    BatchReply,
    QueueOutcome,
    ThreadInfo,
    prepare_batch,
    queue_batch,
    thread_context,
)
from triage_tui.widgets.template_picker import TemplatePicker
from triage_tui.widgets.text import patient_text

DRAFT_DEBOUNCE_S = 0.8
_BLANK = re.compile(r"\[\[[^\[\]\n]{1,60}\]\]")


def library_for(app: Any) -> TemplateLibrary:
    """The app's template library (made on first use; user files re-read on each picker)."""
    lib = getattr(app, "template_library", None)
    if lib is None:
        lib = TemplateLibrary()
        app.template_library = lib
    return lib


def practice_for(app: Any) -> Practice:
    """Practice settings for templates: ``app.practice``, which :class:`TriageApp` sets from the
    config's ``[practice]`` table (tests may replace it); else the config's table itself."""
    p = getattr(app, "practice", None)
    if isinstance(p, Practice):
        return p
    cfg = getattr(app, "config", None)
    return cfg.practice.as_practice() if cfg is not None else Practice()


def fill(text: str, info: ThreadInfo | None) -> tuple[str, list[str]]:
    """The text as the patient will read it, and why it cannot be sent (empty: it can)."""
    if info is None:
        return text, ["the thread is not in the cache"]
    try:
        segments = parse_body(text)
    except PlaceholderError as exc:
        return text, [f"{exc} (write {{{{ or }}}} for a literal brace)"]
    out, missing = render_body(segments, info.context.values, info.context.reasons)
    problems = [f"type the {m.name.removeprefix('fill.')} in place of {{{m.name}}}"
                if m.name.startswith("fill.")
                else f"missing {m}" for m in missing]
    named = {m.name.removeprefix("fill.") for m in missing}
    problems += [f"fill in [[{b}]]" for b in unfilled(out) if b not in named]
    if not out.strip():
        problems.append("the reply is empty")
    return out, problems


class ComposeScreen(Screen[QueueOutcome | None]):
    BINDINGS = bindings_for(COMPOSE)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    DEFAULT_CSS = """
    ComposeScreen #banner { height: auto; max-height: 2; background: $panel; padding: 0 1; }
    ComposeScreen #panes { height: 1fr; layout: vertical; }
    ComposeScreen.-wide #panes { layout: horizontal; }
    ComposeScreen #editor { height: 1fr; border: round $primary; }
    ComposeScreen.-wide #editor { width: 1fr; }
    ComposeScreen #preview-box { height: 1fr; border: round $panel-lighten-2; padding: 0 1; }
    ComposeScreen.-wide #preview-box { width: 1fr; }
    ComposeScreen #state { height: auto; max-height: 4; padding: 0 1; background: $surface; }
    """

    def __init__(self, session: Any, thread_id: str, *, library: TemplateLibrary,
                 practice: Practice, group: TemplateGroup | None = None,
                 pick_on_open: bool = True) -> None:
        super().__init__()
        self.session = session
        self.thread_id = thread_id
        self.library = library
        self.practice = practice
        self.group = group
        self.pick_on_open = pick_on_open and group is None
        self.close_thread = False
        self.info: ThreadInfo | None = None
        self.saved_text: str | None = None
        self.last_reply: tuple[OutboxState, str | None] | None = None
        self._timer: Timer | None = None
        self.problems: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="banner", markup=False)
        with Container(id="panes"):
            yield TextArea("", id="editor", soft_wrap=True, show_line_numbers=False)
            with VerticalScroll(id="preview-box", can_focus=False):
                yield Static("", id="preview", markup=False)
        yield Static("", id="state", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        s = self.session
        self.info = thread_context(s.store, self.thread_id, self.practice, s.clock())
        draft = s.store.draft(self.thread_id)
        text = ""
        if draft is not None:
            text = draft.text
            self.saved_text = draft.text
            if self.group is None and draft.template_id:
                self.group = self.library.get(draft.template_id)
        elif self.group is not None:
            text = self._seed(self.group)
        self.last_reply = self._last_reply()
        editor = self.query_one("#editor", TextArea)
        editor.cursor_blink = getattr(self.app, "blink", True)  # off in tests (snapshots)
        editor.border_title = "Reply"
        self.query_one("#preview-box").border_title = "Preview: what the patient will read"
        editor.load_text(text)
        editor.focus()
        self._banner()
        self._update()
        if self.pick_on_open and draft is None:
            self.call_after_refresh(self.action_templates)

    # --- model --------------------------------------------------------------------------------
    def _seed(self, group: TemplateGroup) -> str:
        lang = self.info.context.language if self.info else None
        template, _ = group.pick(lang)
        return template.body.strip("\n")

    def _last_reply(self) -> tuple[OutboxState, str | None] | None:
        items = [i for i in self.session.store.outbox()
                 if i.thread_id == self.thread_id and i.kind == OutboxKind.REPLY]
        return (items[-1].state, items[-1].last_error) if items else None

    @property
    def text(self) -> str:
        return self.query_one("#editor", TextArea).text

    # --- drawing ------------------------------------------------------------------------------
    def _banner(self) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")
        info = self.info
        if info is None:
            t.append("This thread is not in the cache.", style="bold")
        else:
            t.append("Reply to ")
            t.append_text(patient_text(info.context.patient_name or "patient", style="bold"))
            t.append(f"  {(info.thread.category or 'uncategorised').upper()}", style="bold")
            if info.urgent:
                t.append(f" {info.thread.priority.upper()}", style="bold reverse")
            t.append("  ")
            t.append_text(patient_text(info.thread.subject))
            t.append(f"  · language {info.context.language}", style="dim")
        self.query_one("#banner", Static).update(t)

    def _update(self) -> None:
        text = self.text
        filled, self.problems = fill(text, self.info)
        spans = [m.span() for m in _BLANK.finditer(filled)]
        self.query_one("#preview", Static).update(patient_text(filled, spans))
        editor = self.query_one("#editor", TextArea)
        editor.border_title = (f"Reply · template: {self.group.title}" if self.group
                               else "Reply · ctrl+t: templates")
        if self.group and self.info:
            _, fallback = self.group.pick(self.info.context.language)
            if fallback:
                editor.border_title += f" (no {self.info.context.language} version)"
        self._state()

    def _state(self) -> None:
        t = Text()
        if self.saved_text is not None and self.saved_text == self.text and self.text.strip():
            t.append("State: draft (saved)", style="bold")
        elif self.text.strip():
            t.append("State: draft", style="bold")
        else:
            t.append("State: empty", style="bold")
        if self.last_reply is not None:
            st, err = self.last_reply
            t.append(f" · last reply on this thread: {STATE_LABEL.get(st, st)}",
                     style="bold reverse" if st in (OutboxState.NEEDS_REVIEW,
                                                    OutboxState.FAILED) else "")
            if err:
                t.append(f" ({err})")
        t.append(f" · close thread on send: {'yes' if self.close_thread else 'no'} (ctrl+o)")
        if self.problems and self.text.strip():
            t.append("\nCannot send: ", style="bold reverse")
            t.append("; ".join(self.problems))
        self.query_one("#state", Static).update(t)

    # --- events -------------------------------------------------------------------------------
    @on(TextArea.Changed, "#editor")
    def _changed(self) -> None:
        self._update()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DRAFT_DEBOUNCE_S, self.save_draft)

    def on_screen_suspend(self) -> None:
        """Covered (lock screen, picker): keep what was typed."""
        self.save_draft()

    def save_draft(self) -> None:
        text = self.text
        if text == (self.saved_text or "") or not self.info:
            return
        self.saved_text = text
        self._write_draft(text, self.group.id if self.group else None)
        self._state()

    @work(thread=True, group="drafts", description="save the draft")
    def _write_draft(self, text: str, template_id: str | None) -> None:
        s = self.session
        if text.strip():
            s.store.save_draft(Draft(self.thread_id, text, template_id, updated=s.clock()))
        else:
            s.store.delete_draft(self.thread_id)

    # --- actions ------------------------------------------------------------------------------
    def action_templates(self) -> None:
        cat = self.info.thread.category if self.info else None

        def picked(group: TemplateGroup | None) -> None:
            self.query_one("#editor", TextArea).focus()
            if group is None:
                return
            self.group = group
            editor = self.query_one("#editor", TextArea)
            editor.load_text(self._seed(group))  # load_text posts no Changed: save now
            self._update()
            self.save_draft()

        self.app.push_screen(TemplatePicker(self.library, category=cat), picked)

    def action_toggle_close(self) -> None:
        self.close_thread = not self.close_thread
        self._state()

    def action_send(self) -> None:
        filled, problems = fill(self.text, self.info)
        if problems:
            self.notify("Cannot send: " + "; ".join(problems), severity="error")
            return
        assert self.info is not None
        if self._timer is not None:
            self._timer.stop()
        reply = BatchReply(self.thread_id, self.info, None, filled, included=True)
        self._send(reply)

    @work(thread=True, group="outbox", description="queue the reply")
    def _send(self, reply: BatchReply) -> None:
        s = self.session
        outcome = queue_batch(s.store, [reply], user_ref=s.user_ref, now=s.clock(),
                              close=self.close_thread,
                              template_id=self.group.id if self.group else None)
        self.app.call_from_thread(self._sent, outcome)

    def _sent(self, outcome: QueueOutcome) -> None:
        if not outcome.queued:
            problems = [p for ps in outcome.not_sent.values() for p in ps]
            self.notify("Not sent: " + "; ".join(problems), severity="error")
            return
        self.saved_text = self.text  # the draft is gone with the enqueue: do not write it back
        self.notify("Reply queued; it sends by itself when the server is reachable.")
        changed = getattr(self.app, "outbox_changed", None)
        if changed is not None:
            changed()
        self.dismiss(outcome)

    def action_leave(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.save_draft()
        self.dismiss(None)


# --- the reply command ---------------------------------------------------------------------------


def start_reply(screen: Any, thread_id: str) -> None:
    """The ``reply`` command on one thread: the compose screen (ctrl+t picks a template).

    ``screen`` is the inbox or thread screen (``session``, ``acted(ids, verb)``)."""
    app = screen.app

    def finished(outcome: QueueOutcome | None) -> None:
        if outcome is not None and outcome.queued:
            screen.acted(outcome.queued, "reply")

    app.push_screen(ComposeScreen(screen.session, thread_id, library=library_for(app),
                                  practice=practice_for(app), pick_on_open=False), finished)


def start_batch(screen: Any, thread_ids: Sequence[str]) -> None:
    """The ``apply_template`` command: pick a template, render it for each thread, review,
    confirm. The picker lists the marked threads' most common category first."""
    app = screen.app
    session = screen.session
    library = library_for(app)
    practice = practice_for(app)
    store = session.store
    wanted = set(thread_ids)
    cats = Counter(r.category for r in store.queue() if r.thread_id in wanted)
    category = cats.most_common(1)[0][0] if cats else None

    def finished(outcome: QueueOutcome | None) -> None:
        if outcome is not None and outcome.queued:
            screen.acted(outcome.queued, "reply")

    def picked(group: TemplateGroup | None) -> None:
        if group is None:
            return
        batch = prepare_batch(store, thread_ids, group, practice=practice, now=session.clock())
        app.push_screen(BatchReviewScreen(session, batch), finished)

    n = len(thread_ids)
    app.push_screen(TemplatePicker(library, category=category,
                                   title=f"Template for {n} repl{'y' if n == 1 else 'ies'}"),
                    picked)
