"""safe_text: untrusted text never acts as markup nor reaches the terminal as control codes."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.widgets import Static

from triage_tui.widgets.safe_text import ELLIPSIS, preview, safe_text, sanitize

# What must never reach the terminal (tab and newline excepted).
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff"
    "\ud800-\udfff\U000e0000-\U000e007f]"
)
hostile_chars = st.sampled_from(
    ["\x1b", "\x1b[31m", "\x1b]0;pwned\x07", "\x00", "\x7f", "\x9b", "\r", "\r\n", "\u202e",
     "\u2066", "\u200b", "\ufeff", "\ud800", "\U000e0041", "[b]", "[@click=app.quit]", "\t",
     "\n", "é", "日本", "👩‍⚕️", "\u0645"])
texts = st.lists(st.one_of(st.text(max_size=20), hostile_chars), max_size=20).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_sanitize_never_outputs_control_characters(text):
    out = sanitize(text)
    assert not FORBIDDEN.search(out)
    out.encode("utf-8")  # no lone surrogates: encodable
    assert sanitize(out) == out  # idempotent


@settings(max_examples=300, deadline=None)
@given(texts, st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=4))
def test_safe_text_spans_stay_in_bounds(text, spans):
    t = safe_text(text, highlights=spans)
    assert t.plain == sanitize(text)
    assert not FORBIDDEN.search(t.plain)
    for span in t.spans:
        assert 0 <= span.start < span.end <= len(t.plain)


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(1, 40))
def test_preview_is_one_line_within_width(text, width):
    p = preview(text, width)
    assert "\n" not in p and "\t" not in p
    assert cell_len(p) <= width
    assert not FORBIDDEN.search(p)


def test_visible_notation():
    assert sanitize("a\x1b[31mb") == "a␛[31mb"
    assert sanitize("nul\x00 del\x7f csi\x9b") == "nul␀ del␡ csi<U+009B>"
    assert sanitize("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert sanitize("abc\u202edcba\u2066x\u2069") == "abcdcbax"
    assert sanitize("tab\tok\nnewline ok") == "tab\tok\nnewline ok"
    assert sanitize("zw\u200bsp") == "zwsp"
    assert sanitize("keep ZWJ 👩\u200d⚕️") == "keep ZWJ 👩\u200d⚕️"


def test_long_lines_are_cut():
    out = sanitize("x" * 50 + "\nshort\n" + "y" * 10, max_line=20)
    first, second, third = out.split("\n")
    assert first == "x" * 19 + ELLIPSIS and second == "short" and third == "y" * 10


def test_highlights_map_through_sanitisation():
    text = "\x1b[1m chest\u202e pain\r\nnow"
    start = text.index("chest")
    end = text.index("pain") + 4
    t = safe_text(text, highlights=[(start, end)], highlight_style="bold")
    (span,) = t.spans
    assert t.plain[span.start:span.end] == "chest pain"
    now = text.index("now")
    t = safe_text(text, highlights=[(now, now + 3)])
    assert t.plain[t.spans[0].start:t.spans[0].end] == "now"


def test_highlights_map_through_line_cut():
    text = "a" * 30 + "\nurgent"
    s = text.index("urgent")
    t = safe_text(text, highlights=[(s, s + 6), (25, 28)], max_line=10)
    spans = {t.plain[sp.start:sp.end] for sp in t.spans}
    assert "urgent" in spans
    assert spans - {"urgent"} <= {ELLIPSIS}  # a span in the cut tail lands on the ellipsis


def test_markup_is_never_parsed():
    t = safe_text("[@click=app.quit]press me[/] [bold red]x[/]")
    assert t.plain == "[@click=app.quit]press me[/] [bold red]x[/]"
    assert not t.spans


def test_preview():
    assert preview("  Hello\n\nworld\t!  ", 20) == "Hello world !"
    assert preview("abcdefghij", 5) == "abcd" + ELLIPSIS
    assert cell_len(preview("日本語日本語", 5)) <= 5
    assert preview("anything", 0) == ""


class _StaticApp(App):
    def __init__(self, text: str):
        super().__init__()
        self._text = text
        self.quit_called = False

    def compose(self) -> ComposeResult:
        yield Static(safe_text(self._text), id="body")

    async def action_quit(self) -> None:  # a click on live markup would call this
        self.quit_called = True


async def test_click_markup_stays_literal_in_a_rendered_widget():
    app = _StaticApp("[@click=app.quit]Click here[/] \x1b[2J")
    async with app.run_test(size=(60, 5)) as pilot:
        body = app.query_one("#body", Static)
        line = "".join(seg.text for seg in body.render_line(0))
        assert "[@click=app.quit]Click here[/] ␛[2J" in line
        await pilot.click("#body", offset=(2, 0))
        await pilot.click("#body", offset=(20, 0))
        await pilot.pause()
        assert not app.quit_called
        assert app.is_running
