"""`w` on a thread: why it has its category and urgency (issue 5), on the real encrypted Store.
Urgent by a rule group (group, description and words named), routine (no urgent term), a red
flag a negation cancelled (the cue shown), and hostile text (inert, never terminal control)."""

from __future__ import annotations

import html
import io
import re

from app_helpers import USER, make_app
from app_store_data import add_thread
from rich.console import Console

from triage_tui.actions import COMMANDS_BY_ID, THREAD
from triage_tui.domain.codes import Category
from triage_tui.screens.thread import ThreadScreen
from triage_tui.screens.why import WhyScreen

HOSTILE = "\x1b[2J\x1b]0;pwned\x07[bold red]FAKE[/] chest pain \x9b31m[link=http://x]y[/link]"


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_why(pilot, tid: str) -> WhyScreen:
    """Open thread ``tid`` from the inbox, then press w."""
    app = pilot.app
    await settle(pilot)
    row = app.screen.view.find(tid)
    assert row is not None, tid
    app.screen.query_one("#queue").move_cursor(row)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, ThreadScreen) and app.screen.thread_id == tid
    await pilot.press("w")
    await settle(pilot)
    assert isinstance(app.screen, WhyScreen)
    return app.screen


def plain(screen: WhyScreen, width: int = 100) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(screen.explanation)
    return console.export_text()


def test_w_is_a_thread_command() -> None:
    cmd = COMMANDS_BY_ID["why"]
    assert cmd.keys == "w" and THREAD in cmd.scopes and cmd.action_name == "why"


async def test_urgent_first_message_names_the_group_and_words(store) -> None:
    tid = add_thread(store, 900, Category.APPOINTMENT, minutes_ago=1,
                     text="I have chest pain right now and I am sweating.")
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_why(pilot, tid)
        text = plain(screen)
        assert "Category APPOINTMENT: set by the server" in text
        assert "Urgency STAT: raised by the rules (server: routine)" in text
        assert "rule group cardiac: possible heart attack" in text
        assert "'chest pain right now and I am sweating'" in text
        assert "Message 1 of 1" in text and "with the thread subject" in text
        # viewing it shows PHI: audited like opening the thread
        last = store.audit_log()[-1]
        assert (last.action, last.user, last.entity) == ("view", USER, f"Communication/{tid}")
        assert last.detail == {"screen": "why"}
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ThreadScreen)


async def test_routine_message_says_no_urgent_term_matched(store) -> None:
    tid = add_thread(store, 902, Category.APPOINTMENT, minutes_ago=1)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        text = plain(await open_why(pilot, tid))
        assert "Urgency ROUTINE" in text
        assert "not urgent: no urgent term or phrasing matched" in text
        assert "the rules agree" in text and "> appointment" in text
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ThreadScreen)


async def test_negated_red_flag_shows_the_cancelling_cue(store) -> None:
    tid = add_thread(store, 903, Category.REFILL, minutes_ago=1,
                     text="No chest pain, just need my refill of lisinopril please.")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        text = plain(await open_why(pilot, tid))
        assert "not urgent: 'chest pain' (cardiac) cancelled by negation cue 'No'" in text
        assert "Urgency ROUTINE" in text


async def test_hostile_text_is_inert(store) -> None:
    tid = add_thread(store, 904, Category.ADMIN, minutes_ago=1, text=HOSTILE)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_why(pilot, tid)
        text = plain(screen, width=200)
        # escape sequences become visible control pictures; markup stays literal text
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
        assert "␛]0;pwned␇[bold red]FAKE[/] chest pain <U+009B>31m[link=" in text
        # and on the screen itself (the SVG screenshot's text): the same inert characters
        shown = html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot())).replace(
            "\xa0", " ")
        assert "[bold red]FAKE[/] chest pain" in shown and "pwned␇" in shown


def test_why_snapshot_80x24(snap_compare, store) -> None:
    """80 columns, 24 lines: an urgent rule group, a red flag a cue cancelled (history), the
    excerpt."""
    tid = add_thread(store, 900, Category.APPOINTMENT, minutes_ago=1,
                     text="I have chest pain right now and I am sweating. I had a stroke "
                          "last year.")
    reached: list[str] = []

    async def run_before(pilot) -> None:
        reached.append(type(await open_why(pilot, tid)).__name__)

    assert snap_compare(make_app(store), terminal_size=(80, 24), run_before=run_before)
    assert reached == ["WhyScreen"]


async def test_learned_second_opinion_shows_its_probability_and_words(store) -> None:
    """A message only the learned model flags: the view names that layer, its probability
    against the threshold and the words that weighed most (not function words)."""
    text = ("my dad fell off the ladder and now he keeps asking the same thing over and over, "
            "he takes warfarin")
    tid = add_thread(store, 905, Category.APPOINTMENT, minutes_ago=1, text=text)
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_why(pilot, tid)
        out = " ".join(plain(screen).split())
        assert "learned second opinion" in out
        assert re.search(r"probability 0\.\d\d, threshold 0\.\d\d", out), out
        assert "'keeps asking'" in out
        assert "'and'" not in out
