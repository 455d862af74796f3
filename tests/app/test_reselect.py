"""Re-mark the last marked set (mutt ';', aerc ':mark -v'): act, then act again on the same."""

from __future__ import annotations

from triage_tui.actions import COMMANDS_BY_ID
from triage_tui.screens.inbox import InboxScreen
from triage_tui.widgets.queue_list import QueueList


async def test_reselect_marks_the_last_acted_set_again(app, store) -> None:
    assert COMMANDS_BY_ID["reselect"].keys == "M,semicolon"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        queue = inbox.query_one(QueueList)
        await pilot.press("M")  # nothing acted on yet: a warning, no marks
        assert not queue.marked_ids
        await pilot.press("space", "space", "space")
        marked = set(queue.marked_ids)
        assert len(marked) == 3
        await pilot.press("c")  # claim the three: the marks go
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not queue.marked_ids
        await pilot.press("semicolon")
        await pilot.pause()
        assert set(queue.marked_ids) == marked
        assert inbox.query_one("#status").marked == 3
        await pilot.press("u", "M")  # M does the same
        await pilot.pause()
        assert set(queue.marked_ids) == marked
