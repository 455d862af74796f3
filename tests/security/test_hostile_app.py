"""Hostile patient text (issue 8, part 4) through the REAL app on a REAL encrypted cache.

Everything the headless driver writes to the "terminal" is captured; no escape sequence,
C1 control, bidi override or NUL from message data may appear in it, markup in the data is
shown literally (never run: the app does not quit), and the screen (SVG export) holds no raw
control characters either. Hypothesis adds arbitrary text from every Unicode category."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.drivers.headless_driver import HeadlessDriver

from triage_tui.app import TriageApp
from triage_tui.cache import open_store
from triage_tui.config import Config
from triage_tui.domain.codes import BusinessStatus, Category, Pool, Priority, TaskStatus
from triage_tui.domain.models import Message, Patient, Task, Thread
from triage_tui.screens.inbox import InboxScreen
from triage_tui.screens.thread import ThreadScreen
from triage_tui.widgets.safe_text import sanitize

NOW = datetime(2026, 3, 4, 12, tzinfo=timezone.utc)
USER = "Practitioner/nurse-1"
ESC = "\x1b"

HOSTILE = [
    "[bold red]not bold[/] [/] [/bold] [",
    "[@click=app.quit]click me[/] and [@click=app.action_quit]",
    "[link=https://evil.example/]phish[/link] [link='javascript:alert(1)']x[/]",
    "CSI \x1b[2J\x1b[H\x1b[31mred\x1b[0m \x1b[?1049l \x1b[6n end",
    "OSC8 \x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\ done",
    "OSC52 \x1b]52;c;cm0gLXJmIH4=\x07 clipboard",
    "DCS \x1bP1$r0m\x1b\\ and \x1bPq#0;2;0;0;0\x1b\\ sixel",
    "C1 \x9b2J \x9d52;c;AAAA\x9c \x90q\x9c \x85nel \x8d",
    "bidi \u202eevil.exe\u202c \u2066iso\u2069 \u202a\u202b\u202d rlo",
    "NUL \x00 BEL \x07 BS \x08 DEL \x7f VT \x0b FF \x0c CR\ronly",
    "tags \U000e0041\U000e0042 zw\u200b\u2060\ufeff",
    "surrogate-ish \ufffd emoji 👩‍⚕️ combining e\u0301 wide 漢字 rtl שלום مرحبا",
]
BAD_CHARS = re.compile("[\x00\x80-\x9f\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]")
DATA_SEQUENCES = ("\x1b]52", "\x1bP", "\x1b[2J", "\x1b[6n", "\x1b[?1049l",
                  "\x1b]8;;https://evil")


def _capture(out: list[str]):
    """What a terminal would receive: the headless driver writes nothing, so each full-screen
    render (``export_screenshot``) is captured as the ANSI stream Textual produces for it."""
    import rich.console
    import textual.app

    class CapturingConsole(rich.console.Console):
        def export_svg(self, **kw):  # type: ignore[override]
            out.append(self.file.getvalue())
            return super().export_svg(**kw)

    return textual.app, "Console", CapturingConsole


@pytest.fixture
def captured(monkeypatch):
    out: list[str] = []
    monkeypatch.setattr(HeadlessDriver, "write", lambda self, data: out.append(data))
    monkeypatch.setattr(*_capture(out))
    return out


def _records(texts: list[str]) -> list:
    recs: list = [Patient("p1", "1", "Ana \x1b[31m[b]", "Ruiz\u202e\x9b", mrn="MRN-1")]
    for i, text in enumerate(texts):
        tid = f"thr-{i}"
        when = NOW - timedelta(hours=i + 1)
        recs += [
            Thread(tid, "1", "p1", f"subj {i} {text[:200]}", Category.CLINICAL, Priority.URGENT,
                   created=when, updated=when),
            Task(f"task-{i}", "1", tid, "p1", Pool.NURSING, TaskStatus.REQUESTED,
                 BusinessStatus.UNASSIGNED, last_modified=when),
            Message(f"m-{i}-a", "1", tid, text, when, "Patient/p1"),
            Message(f"m-{i}-b", "1", tid, "second: " + text, when + timedelta(minutes=5),
                    "Patient/p1"),
        ]
    return recs


@pytest.fixture
def store(tmp_path):
    s = open_store("https://fhir.example.org/r4", USER, passphrase="pw", data_dir=tmp_path)
    huge = "huge " + ("A" * 1000 + "\x1b[2J\u202e") * 1000 + "\n" + "B" * 50_000  # ~1 MB
    s.upsert(_records([*HOSTILE, huge]))
    yield s
    s.close()


def make_app(store) -> TriageApp:
    return TriageApp(Config(animations=False, idle_lock_minutes=0, lock_on_hangup=False),
                     store=store, server_label="https://fhir.example.org/r4", user_ref=USER,
                     user_label="Nurse One", clock=lambda: NOW)


def _check_output(chunks: list[str]) -> None:
    out = "".join(chunks)
    assert out, "the driver wrote nothing"
    for seq in DATA_SEQUENCES:
        assert seq not in out, repr(seq)
    assert not BAD_CHARS.search(out), repr(BAD_CHARS.search(out))
    # every ESC Textual writes starts a sequence Textual itself makes (CSI / its OSC 8 ids)
    for m in re.finditer(ESC + "(.)", out):
        assert m.group(1) in "[]78=>()\\", repr(out[m.start():m.start() + 12])


def _check_screen(app) -> str:
    svg = app.export_screenshot()
    assert not BAD_CHARS.search(svg) and ESC not in svg
    return svg


async def test_hostile_inbox_preview_and_threads(store, captured):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)
        for _ in range(len(HOSTILE) + 1):  # every row through the preview
            await pilot.press("j")
            await pilot.pause()
        svg = _check_screen(app)
        for _ in range(len(HOSTILE) + 1):
            await pilot.press("k")
        await pilot.pause()
        shown = [svg]
        for i in range(len(HOSTILE) + 1):  # open each thread
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ThreadScreen)
            shown.append(_check_screen(app))
            await pilot.press("q")
            await pilot.pause()
            await pilot.press("j")
        assert app.is_running and app.return_code is None  # [@click=app.quit] did nothing
    _check_output(captured)
    everything = "".join(shown)
    # markup is shown literally (never run), controls are made visible
    for literal in ("[@click=app.quit]click", "[link=https://evil.example/]phish[/link]",
                    "[bold&#160;red]not&#160;bold[/]", "␛[2J", "&lt;U+009B&gt;2J", "␀"):
        assert literal in everything, literal


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(texts=st.lists(st.text(alphabet=st.characters(codec=None, exclude_categories=("Cs",)),
                              min_size=0, max_size=300)
                      .map(lambda t: t + "\x1b]52;c;QQ==\x07\u202e\x9b"), min_size=1,
                      max_size=3))
async def test_any_unicode_in_the_real_app(tmp_path_factory, texts):
    out: list[str] = []
    mod, name, capturing = _capture(out)
    original = getattr(mod, name)
    setattr(mod, name, capturing)
    try:
        d = tmp_path_factory.mktemp("hyp")
        store = open_store("https://fhir.example.org/r4", USER, passphrase="pw", data_dir=d)
        try:
            store.upsert(_records(texts))
            app = make_app(store)
            async with app.run_test(size=(100, 30)) as pilot:
                await pilot.pause()
                await pilot.press("enter")
                await pilot.pause()
                _check_screen(app)
                await pilot.press("q")
                await pilot.press("j")
                await pilot.pause()
                _check_screen(app)
                assert app.is_running
        finally:
            store.close()
    finally:
        setattr(mod, name, original)
    _check_output(out)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None)))
def test_sanitize_any_text(text):
    clean = sanitize(text)
    assert not BAD_CHARS.search(clean)
    assert not re.search("[\x01-\x08\x0b-\x1f\x7f]", clean)
