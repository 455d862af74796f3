"""The thread actions (reply, claim, release, route, escalate, close), shared by the inbox and thread
screens. They act on the marked threads when some are marked, else on the current one, and
write outbox items in one call; the sync engine sends them."""

from __future__ import annotations

from textual.screen import Screen

from triage_tui.cache.api import Draft
from triage_tui.domain.codes import Pool
from triage_tui.workflows import tasks as task_actions
from triage_tui.screens.dialogs import Confirm, ReplyComposer, RoutePicker
from triage_tui.screens.session import Session


def _n(count: int, word: str = "thread") -> str:
    return f"{count} {word}{'s' * (count != 1)}"


class ActsOnThreads(Screen):
    """Mixin for screens with a current thread and maybe marks."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def target_ids(self) -> list[str]:
        """Marked threads, else the current one, else none."""
        raise NotImplementedError

    def acted(self, thread_ids: list[str], verb: str) -> None:
        """Called after items were queued (the inbox clears its marks)."""

    def _targets_or_warn(self) -> list[str]:
        ids = self.target_ids()
        if not ids:
            self.notify("No thread selected.", severity="warning")
        return ids

    def _apply(self, ids: list[str], verb: str, pool: Pool | None = None) -> None:
        s = self.session
        self.app.run_worker(  # sqlite with synchronous=FULL: off the event loop
            lambda: self._queued(verb, task_actions.change_tasks(
                s.store, ids, verb, user_ref=s.user_ref, pool=pool)),
            thread=True, group="outbox", description=f"queue {verb} for {len(ids)} threads")

    def _queued(self, verb: str, outcome: task_actions.Outcome) -> None:
        """Runs in the worker thread: report back on the event loop."""
        self.app.call_from_thread(self._report, verb, outcome)

    def _report(self, verb: str, outcome: task_actions.Outcome) -> None:
        noun = "message" if verb == "reply" else "thread"
        msg = f"{verb.capitalize()}: {_n(len(outcome.queued), noun)} queued to send."
        if outcome.skipped:
            msg += f" {_n(len(outcome.skipped))} not in the cache yet, skipped."
        self.notify(msg, severity="warning" if outcome.skipped else "information")
        if verb != "reply":
            self.app.show_pending(outcome.items)  # type: ignore[attr-defined]
        self.app.outbox_changed()  # type: ignore[attr-defined]
        self.acted(outcome.queued, verb)

    def _others(self, ids: list[str]) -> tuple[list[str], list[str]]:
        """(threads a colleague owns, their names) as the cache last saw them."""
        s = self.session
        taken = {t: o for t, o in task_actions.owners(s.store, ids).items()
                 if o is not None and o != s.user_ref}
        names = sorted({s.staff_name(o) or o for o in taken.values()})
        return list(taken), names

    def _apply_unless_taken(self, ids: list[str], verb: str, question: str) -> None:
        """Act on ``ids``; threads a colleague owns need a yes first (n: act on the rest)."""
        taken, names = self._others(ids)
        if not taken:
            self._apply(ids, verb)
            return
        free = [t for t in ids if t not in taken]
        who = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

        def answered(yes: bool | None) -> None:
            if yes:
                self._apply(ids, verb)
            elif free:
                self._apply(free, verb)
                self.notify(f"Left {_n(len(taken))} with {who}.")

        rest = f" (n: only the other {_n(len(free))})" if free else ""
        self.app.push_screen(Confirm(f"{_n(len(taken))} claimed by {who}. {question}{rest}"),
                             answered)

    def action_claim(self) -> None:
        if ids := self._targets_or_warn():
            self._apply_unless_taken(ids, "claim", "Take over?")

    def action_release(self) -> None:
        """Give the threads back to their pool (nobody owns them)."""
        ids = self._targets_or_warn()
        if not ids:
            return
        owned = [t for t, o in task_actions.owners(self.session.store, ids).items() if o]
        if not owned:
            self.notify("Nobody has claimed " + ("these threads." if len(ids) > 1
                                                 else "this thread."))
            return
        self._apply_unless_taken(owned, "release", "Release them anyway?")

    def action_escalate(self) -> None:
        if ids := self._targets_or_warn():
            self._apply(ids, "escalate")

    def action_route(self, pool: str | None = None) -> None:
        """Route to a pool: ``:route pharmacy``, else pick one."""
        ids = self._targets_or_warn()
        if not ids:
            return
        if pool is not None:
            try:
                self._apply(ids, "route", Pool(pool))
            except ValueError:
                self.notify(f"No pool '{pool}': " + ", ".join(p.value for p in Pool),
                            severity="warning")
            return

        def picked(pool: Pool | None) -> None:
            if pool is not None:
                self._apply(ids, "route", pool)

        self.app.push_screen(RoutePicker(len(ids)), picked)

    def action_close(self) -> None:
        ids = self._targets_or_warn()
        if not ids:
            return
        if len(ids) == 1:
            self._apply(ids, "close")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._apply(ids, "close")

        self.app.push_screen(Confirm(f"Close {_n(len(ids))}?"), answered)

    def action_reply(self) -> None:
        ids = self._targets_or_warn()
        if not ids:
            return
        if len(ids) == 1:  # one thread: compose screen with templates, preview, live draft
            from triage_tui.screens.compose import start_reply

            start_reply(self, ids[0])
            return
        store = self.session.store
        first = ids[0]
        draft = store.draft(first) if len(ids) == 1 else None
        title = f"Reply to {_n(len(ids))} (the same text to each)" if len(ids) > 1 else "Reply"

        def done(result: tuple[bool, str] | None) -> None:
            if result is None:
                return
            send, text = result
            s = self.session
            if not send:
                if len(ids) == 1 and text.strip():
                    store.save_draft(Draft(first, text, updated=s.clock()))
                    self.notify("Draft kept.")
                return
            self.app.run_worker(
                lambda: self._queued("reply", task_actions.send_replies(
                    store, ids, text, user_ref=s.user_ref, now=s.clock())),
                thread=True, group="outbox", description=f"queue replies to {len(ids)} threads")

        self.app.push_screen(ReplyComposer(title, draft.text if draft else ""), done)

    def action_apply_template(self) -> None:
        """Template for each marked thread, review every rendered reply, queue them all."""
        if ids := self._targets_or_warn():
            from triage_tui.screens.compose import start_batch

            start_batch(self, ids)
