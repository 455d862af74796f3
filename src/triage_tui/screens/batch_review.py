"""The batch review screen: one template applied to many threads, reviewed, then queued.

One row per patient with the rendered reply, flags for missing values, urgent threads left out
unless added on purpose, then confirm. After confirming, the screen follows each reply's outbox
state (queued -> sent) until it is left. The work itself (render, queue in one transaction,
follow the states) is :mod:`triage_tui.workflows.batch`, which has no Textual in it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from triage_tui.actions import BATCH, bindings_for
from triage_tui.cache.api import OutboxState
from triage_tui.workflows.batch import Batch, BatchReply, QueueOutcome, queue_batch, reply_states

STATE_LABEL = {
    None: "draft",
    OutboxState.QUEUED: "queued",
    OutboxState.IN_FLIGHT: "sending",
    OutboxState.ACKED: "sent",
    OutboxState.NEEDS_REVIEW: "needs review",
    OutboxState.FAILED: "failed",
}


# --- the screen --------------------------------------------------------------------------------


class BatchReviewScreen(Screen[QueueOutcome | None]):
    """Every rendered reply, one patient per row; confirm queues the ready ones."""

    BINDINGS = bindings_for(BATCH)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    DEFAULT_CSS = """
    BatchReviewScreen #summary { height: auto; background: $panel; padding: 0 1; }
    BatchReviewScreen #body { height: 1fr; }
    BatchReviewScreen #rows { width: 38; height: 1fr; border: none; text-wrap: nowrap;
                              text-overflow: ellipsis; }
    BatchReviewScreen.-wide #rows { width: 50; }
    BatchReviewScreen #detail { width: 1fr; padding: 0 1; border-left: vkey $panel; }
    BatchReviewScreen #problems { height: auto; }
    """

    def __init__(self, session: Any, batch: Batch, *, close: bool = False) -> None:
        super().__init__()
        self.session = session
        self.batch = batch
        self.close_threads = close
        self.outcome: QueueOutcome | None = None

    # --- drawing --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="summary", markup=False)
        with Horizontal(id="body"):
            yield OptionList(*self._options(), id="rows")
            with VerticalScroll(id="detail", can_focus=False):
                yield Static("", id="problems", markup=False)
                yield Static("", id="reply", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        rows = self.query_one("#rows", OptionList)
        rows.focus()
        if self.batch.replies:
            rows.highlighted = 0
        self._summary()
        self._detail()

    def _glyph(self, r: BatchReply) -> tuple[str, str]:
        ascii_ = getattr(self.session.glyphs, "marked", "*") == "*"
        if self.outcome is not None and r.item_id:
            label = STATE_LABEL.get(r.state, "?")
            return (("+" if ascii_ else "✓") if r.state == OutboxState.ACKED else
                    ("!" if r.state in (OutboxState.NEEDS_REVIEW, OutboxState.FAILED)
                     else ("~" if ascii_ else "…")), label)
        if not r.included:
            return ("-", "left out")
        if r.sendable:
            return (("+" if ascii_ else "✓"), "ready")
        return ("!", "needs a value")

    def _option(self, r: BatchReply) -> Option:
        glyph, label = self._glyph(r)
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f"{glyph} ", style="bold")
        if r.urgent:
            t.append("URGENT ", style="bold reverse")
        from triage_tui.widgets.text import patient_text

        t.append_text(patient_text(r.patient_name or r.thread_id))
        lang = r.rendered.template.language if r.rendered else ""
        t.append(f"  {label}" + (f" · {lang}" if lang else ""), style="dim")
        return Option(t, id=r.thread_id)

    def _options(self) -> list[Option]:
        return [self._option(r) for r in self.batch.replies]

    def _redraw_rows(self) -> None:
        rows = self.query_one("#rows", OptionList)
        for r in self.batch.replies:
            rows.replace_option_prompt(r.thread_id, self._option(r).prompt)

    def _summary(self) -> None:
        c = self.batch.counts()
        t = Text(no_wrap=False)
        t.append(f"{self.batch.group.title}", style="bold")
        if self.outcome is not None:
            states = Counter(STATE_LABEL.get(r.state) for r in self.batch.replies if r.item_id)
            n = len(self.outcome.queued)
            t.append(f"  ·  {n} repl{'y' if n == 1 else 'ies'}: " + ", ".join(
                f"{n} {s}" for s, n in sorted(states.items())))
            if self.outcome.closed:
                t.append(f"  ·  {len(self.outcome.closed)} threads closed")
            t.append("   q: back to the inbox", style="dim")
        else:
            t.append(f"  ·  {c['ready']} ready")
            if c["blocked"]:
                t.append(f"  ·  {c['blocked']} need a value", style="bold reverse")
            if c["left_out"]:
                t.append(f"  ·  {c['left_out']} left out")
                if c["urgent_left_out"]:
                    t.append(f" ({c['urgent_left_out']} urgent)")
            if self.batch.language_fallbacks:
                t.append(f"  ·  {self.batch.language_fallbacks} in English (no translation)")
            t.append(f"  ·  close threads: {'yes' if self.close_threads else 'no'} (c)")
        self.query_one("#summary", Static).update(t)

    @property
    def current(self) -> BatchReply | None:
        i = self.query_one("#rows", OptionList).highlighted
        return self.batch.replies[i] if i is not None and 0 <= i < len(self.batch.replies) \
            else None

    def _detail(self) -> None:
        from triage_tui.widgets.text import patient_text

        r = self.current
        problems = self.query_one("#problems", Static)
        reply = self.query_one("#reply", Static)
        if r is None:
            problems.update("")
            reply.update("")
            return
        head = Text()
        if r.info is not None:
            head.append_text(patient_text(r.patient_name, style="bold"))
            head.append("  ")
            head.append_text(patient_text(r.info.thread.subject, style="dim"))
            head.append("\n")
        if r.urgent and not r.included:
            head.append("Urgent thread: left out. space adds it on purpose.\n", style="bold")
        if r.rendered is not None and r.rendered.fallback:
            head.append(f"No {r.info.context.language if r.info else ''} version of this "
                        "template: English used.\n", style="bold")
        if r.edited:
            head.append("Edited by you.\n", style="dim")
        if r.error:
            head.append(f"Server: {r.error}\n", style="bold reverse")
        for p in r.problems():
            head.append(f"! {p}\n", style="bold reverse")
        problems.update(head)
        reply.update(patient_text(r.text))  # the values in it come from patient records

    # --- actions --------------------------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#rows")
    def _highlighted(self) -> None:
        self._detail()

    @on(OptionList.OptionSelected, "#rows")
    def _selected(self) -> None:
        self.action_edit_reply()

    def action_move(self, step: int) -> None:
        rows = self.query_one("#rows", OptionList)
        if self.batch.replies:
            cur = rows.highlighted or 0
            rows.highlighted = max(0, min(len(self.batch.replies) - 1, cur + step))

    def _editable(self) -> BatchReply | None:
        if self.outcome is not None:
            self.notify("Already queued.", severity="warning")
            return None
        return self.current

    def action_toggle_include(self) -> None:
        r = self._editable()
        if r is None:
            return
        if r.info is None:
            self.notify("This thread is not in the cache.", severity="warning")
            return
        r.included = not r.included
        if r.included and r.urgent:
            self.notify("Urgent thread added to the batch.", severity="warning")
        self._redraw_rows()
        self._summary()
        self._detail()

    def action_toggle_close(self) -> None:
        if self._editable() is None and self.outcome is not None:
            return
        self.close_threads = not self.close_threads
        self._summary()

    def action_edit_reply(self) -> None:
        r = self._editable()
        if r is None or r.info is None:
            return
        from triage_tui.screens.dialogs import ReplyComposer

        def done(result: tuple[bool, str] | None) -> None:
            if result is None:
                return
            _, text = result
            if text != r.text:
                r.text, r.edited = text, True
                r.included = True
            self._redraw_rows()
            self._summary()
            self._detail()

        self.app.push_screen(ReplyComposer(f"Edit the reply to {r.patient_name}", r.text), done)

    def action_confirm(self) -> None:
        if self.outcome is not None:
            self.dismiss(self.outcome)
            return
        ready = self.batch.to_send()
        if not ready:
            self.notify("No reply is ready to send.", severity="warning")
            return
        c = self.batch.counts()
        question = f"Queue {len(ready)} repl{'y' if len(ready) == 1 else 'ies'}"
        if self.close_threads:
            question += " and close their threads"
        question += "?"
        if c["blocked"]:
            question += f" ({c['blocked']} with missing values stay unsent.)"
        from triage_tui.screens.dialogs import Confirm

        def answered(yes: bool | None) -> None:
            if yes:
                self._queue()

        self.app.push_screen(Confirm(question), answered)

    @work(thread=True, group="outbox", description="queue the batch of replies")
    def _queue(self) -> None:
        s = self.session
        outcome = queue_batch(s.store, self.batch.replies, user_ref=s.user_ref, now=s.clock(),
                              close=self.close_threads, template_id=self.batch.group.id)
        self.app.call_from_thread(self._queued, outcome)

    def _queued(self, outcome: QueueOutcome) -> None:
        self.outcome = outcome
        msg = f"{len(outcome.queued)} replies queued; they send by themselves when online."
        if outcome.not_sent:
            msg += f" {len(outcome.not_sent)} not sent (missing values)."
        self.notify(msg)
        changed = getattr(self.app, "outbox_changed", None)
        if changed is not None:
            changed()
        self._redraw_rows()
        self._summary()
        self._detail()
        self.set_interval(1.0, self.refresh_states)

    @work(thread=True, exclusive=True, group="batch-states", description="read reply states")
    def refresh_states(self) -> None:
        if self.outcome is None:
            return
        states = reply_states(self.session.store, self.outcome.item_ids.values())
        self.app.call_from_thread(self._states, states)

    def _states(self, states: dict[str, tuple[OutboxState, str | None]]) -> None:
        changed = False
        for r in self.batch.replies:
            if r.item_id in states:
                st, err = states[r.item_id]
                if (st, err) != (r.state, r.error):
                    r.state, r.error, changed = st, err, True
        if changed:
            self._redraw_rows()
            self._summary()
            self._detail()

    def action_back(self) -> None:
        self.dismiss(self.outcome)
