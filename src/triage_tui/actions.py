"""The one command registry: every user action is declared here, once.

A :class:`Command` names an action (its ``id`` is also the binding id, the ``:`` command name
and the ``[keymap]`` key in ``config.toml``), its default keys, a short label, a sentence of help,
a group and the screens where it applies. From this table come:

* the screens' ``BINDINGS`` (:func:`bindings_for`), remappable with ``App.set_keymap``;
* the footer (``footer=True`` commands, with their current keys);
* the command palette (``screens/palette.py``);
* the help screen (``?``) and the ``:`` command line (``screens/command_line.py``).

A screen that applies a command implements ``action_<action>``; a test checks that each one does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.binding import Binding

from triage_tui.domain.codes import Pool

# Where a command applies. "app" commands work on every screen (except modal dialogs).
APP = "app"
INBOX = "inbox"
THREAD = "thread"
SUBSCREEN = "subscreen"  # help, thread and other screens that "back" leaves
COMPOSE = "compose"  # writing one reply
BATCH = "batch"  # reviewing a batch of template replies

NAVIGATE = "Navigate"
MARK = "Mark"
ACT = "Act on threads (marked ones, else the highlighted one)"
VIEW = "View"
GENERAL = "General"
WRITE = "Write a reply"
REVIEW = "Review a batch of replies"


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    """Unique id: binding id, ``:`` name, ``[keymap]`` key. Lower case, underscores."""
    keys: str
    """Default keys, Textual key names separated by commas (``"j,down"``)."""
    label: str
    """Short label for the footer and the palette."""
    help: str
    """One sentence for the help screen and the palette."""
    group: str
    scopes: frozenset[str]
    action: str = ""
    """The ``action_<name>`` the binding calls; defaults to ``id``."""
    footer: bool = False
    """Shown in the footer."""
    priority: bool = False
    argument: str = ""
    """Name of the optional argument of the ``:`` command line (``:route pharmacy``); empty:
    none. With an argument the action is called as ``action(argument)``."""
    choices: str = ""
    """Where the argument's values come from (tab completes them, others are refused):
    ``pools``, ``categories``, ``themes``; empty: free text."""

    @property
    def action_name(self) -> str:
        return self.action or self.id


def _c(id: str, keys: str, label: str, help: str, group: str, *scopes: str, **kw) -> Command:
    return Command(id, keys, label, help, group, frozenset(scopes), **kw)


_CATEGORY_KEYS = [
    ("all", "All", "every open thread"),
    ("refill", "Refill", "medication refill requests"),
    ("appointment", "Appointment", "scheduling requests"),
    ("results", "Results", "questions about test results"),
    ("clinical", "Clinical", "clinical questions"),
    ("admin", "Admin", "billing, forms and other admin"),
    ("mine", "Mine", "threads claimed by you"),
]
CATEGORY_ORDER: tuple[str, ...] = tuple(name for name, _, _ in _CATEGORY_KEYS)
CATEGORY_LABELS: dict[str, str] = {name: label for name, label, _ in _CATEGORY_KEYS}

COMMANDS: tuple[Command, ...] = (
    # --- navigate ---------------------------------------------------------------------------
    _c("cursor_down", "j,down", "Down", "Move to the next thread.", NAVIGATE, INBOX),
    _c("cursor_up", "k,up", "Up", "Move to the previous thread.", NAVIGATE, INBOX),
    _c("page_down", "pagedown,ctrl+f", "Page down", "Move down one page.", NAVIGATE, INBOX),
    _c("page_up", "pageup,ctrl+b", "Page up", "Move up one page.", NAVIGATE, INBOX),
    _c("first", "g,home", "First", "Go to the first thread.", NAVIGATE, INBOX),
    _c("last", "G,end", "Last", "Go to the last thread.", NAVIGATE, INBOX),
    _c("open_thread", "enter,l,right", "Open", "Open the highlighted thread.", NAVIGATE, INBOX),
    *(
        _c(f"show_{name}", str(n), label, f"Show {desc}.", NAVIGATE, INBOX,
           action=f"show_category('{name}')")
        for n, (name, label, desc) in enumerate(_CATEGORY_KEYS, start=1)
    ),
    _c("search", "slash", "Search", "Filter the queue as you type (names, subjects, messages).",
       NAVIGATE, INBOX, footer=True, argument="words"),
    _c("category", "", "Category", "Show one category by name (:category refill).",
       NAVIGATE, INBOX, action="show_category", argument="name", choices="categories"),
    _c("scroll_down", "j,down", "Down", "Scroll the conversation down.", NAVIGATE, THREAD),
    _c("scroll_up", "k,up", "Up", "Scroll the conversation up.", NAVIGATE, THREAD),
    _c("next_thread", "J,n", "Next", "Open the next thread of the queue.", NAVIGATE, THREAD),
    _c("prev_thread", "K,N", "Previous", "Open the previous thread of the queue.", NAVIGATE,
       THREAD),
    _c("back", "q,backspace", "Back", "Go back to the previous screen.", NAVIGATE, SUBSCREEN,
       footer=True),
    # --- mark -------------------------------------------------------------------------------
    _c("toggle_mark", "space", "Mark", "Mark or unmark the highlighted thread and move down.",
       MARK, INBOX, footer=True),
    _c("mark_all", "asterisk,t", "Mark all", "Mark every thread in the current view.", MARK, INBOX),
    _c("clear_marks", "u,T", "Unmark", "Clear all marks.", MARK, INBOX),
    _c("reselect", "M,semicolon", "Re-mark",
       "Mark again the threads of the last action (acting clears the marks).",
       MARK, INBOX),
    # --- act ------------------------------------------------------------------------------
    _c("reply", "r", "Reply", "Write a reply (to every marked thread when some are marked).",
       ACT, INBOX, THREAD, footer=True),
    _c("apply_template", "a", "Template",
       "Reply with a template to each marked thread: review every reply, then queue them all.",
       ACT, INBOX, THREAD),
    _c("claim", "c", "Claim",
       "Claim the threads: you become their owner (asks first if a colleague owns one).",
       ACT, INBOX, THREAD,
       footer=True),
    _c("release", "C", "Release",
       "Release the threads: nobody owns them, back to their pool (asks first if a colleague "
       "owns one).", ACT, INBOX, THREAD),
    _c("route", "p", "Route", "Route the threads to a pool (pharmacy, scheduling, nursing...).",
       ACT, INBOX, THREAD, footer=True, argument="pool", choices="pools"),
    _c("escalate", "e", "Escalate", "Escalate the threads to a provider, as urgent.",
       ACT, INBOX, THREAD, footer=True),
    _c("close", "x", "Close", "Close the threads (done).", ACT, INBOX, THREAD, footer=True),
    # --- view -------------------------------------------------------------------------------
    _c("toggle_preview", "v", "Preview", "Show or hide the preview of the highlighted thread.",
       VIEW, INBOX),
    _c("toggle_context", "i", "Context",
       "Patient context: show or hide it (narrow screens: full height first; j/k scroll it).",
       VIEW, THREAD),
    _c("why", "w", "Why",
       "Why the thread has its category and urgency: server or rules, scores, matched words, "
       "cancelling cues, the learned second opinion; per patient message.", VIEW, THREAD),
    _c("change_theme", "f9", "Theme", "Choose the colour theme.", VIEW, APP),
    _c("theme", "", "Set theme", "Switch to a colour theme by name (:theme triage-light).",
       VIEW, APP, action="set_theme", argument="name", choices="themes"),
    _c("analytics", "f6", "Analytics",
       "Charts of message volume, response times, breaches, backlog and staff replies.",
       VIEW, APP),
    # --- compose (screens/compose.py) -------------------------------------------------------
    _c("compose_send", "ctrl+s", "Send", "Queue the reply; it sends by itself when online.",
       WRITE, COMPOSE, action="send", footer=True, priority=True),
    _c("compose_templates", "ctrl+t,f2", "Templates",
       "Pick a template (fuzzy search; the thread's category first).", WRITE, COMPOSE,
       action="templates", footer=True, priority=True),
    _c("compose_toggle_close", "ctrl+o", "Close too",
       "Also close the thread when the reply is queued.", WRITE, COMPOSE,
       action="toggle_close", footer=True, priority=True),
    _c("compose_leave", "escape,ctrl+g", "Back (keep draft)",
       "Leave the reply; the draft is kept.", WRITE, COMPOSE, action="leave", footer=True,
       priority=True),
    # --- batch review (screens/batch_review.py) ----------------------------------------------
    _c("batch_down", "j", "Down", "Next reply.", REVIEW, BATCH, action="move(1)"),
    _c("batch_up", "k", "Up", "Previous reply.", REVIEW, BATCH, action="move(-1)"),
    _c("batch_toggle_include", "space", "Add/leave out",
       "Add the highlighted reply or leave it out (urgent threads start left out).", REVIEW,
       BATCH, action="toggle_include", footer=True),
    _c("batch_edit_reply", "e", "Edit", "Edit the highlighted reply (enter does the same).",
       REVIEW, BATCH, action="edit_reply", footer=True),
    _c("batch_toggle_close", "c", "Close too",
       "Also claim and close each thread when its reply is queued.", REVIEW, BATCH,
       action="toggle_close", footer=True),
    _c("batch_confirm", "ctrl+s,y", "Queue all", "Queue every ready reply (asks first).",
       REVIEW, BATCH, action="confirm", footer=True),
    _c("batch_back", "q,backspace", "Back",
       "Back to the inbox (queued replies keep sending).", REVIEW, BATCH, action="back",
       footer=True),
    # --- general ----------------------------------------------------------------------------
    _c("help", "question_mark,f1", "Help", "List every command and its keys.", GENERAL, APP,
       footer=True),
    _c("command_line", "colon", "Command", "Type a command by name (tab completes).",
       GENERAL, APP),
    _c("command_palette", "ctrl+p", "Palette", "Search the commands.", GENERAL, APP),
    _c("sync_now", "ctrl+r", "Sync now", "Sync with the server now.", GENERAL, APP),
    _c("lock", "ctrl+l", "Lock", "Hide the queue until the passphrase is entered again.",
       GENERAL, APP),
    _c("quit", "q,ctrl+q", "Quit", "Quit triage-tui (replies already confirmed are kept).",
       GENERAL, APP),
)

COMMANDS_BY_ID: dict[str, Command] = {c.id: c for c in COMMANDS}
assert len(COMMANDS_BY_ID) == len(COMMANDS), "command ids must be unique"


def commands_for(scopes: Iterable[str]) -> list[Command]:
    """Commands that apply in any of ``scopes``, in table order."""
    wanted = set(scopes)
    return [c for c in COMMANDS if c.scopes & wanted]


def bindings_for(*scopes: str) -> list[Binding]:
    """``BINDINGS`` for a screen (or the app) that applies ``scopes``. Commands without keys
    (``:category``, ``:theme``) are for the command line and the palette only."""
    return [
        Binding(c.keys, c.action_name, c.label, show=c.footer, id=c.id, priority=c.priority)
        for c in commands_for(scopes) if c.keys
    ]


STATIC_CHOICES: dict[str, tuple[str, ...]] = {
    "pools": tuple(p.value for p in Pool),
    "categories": CATEGORY_ORDER,
}
"""Argument values known without the app; ``themes`` are the app's (``App.available_themes``)."""


def invocation_action(command: Command, argument: str | None = None) -> str:
    """The action string that runs ``command`` (with its argument, quoted as a literal)."""
    if argument is None or not command.argument:
        return command.action_name
    return f"{command.action_name}({argument!r})"


def current_keys(command: Command, keymap: Mapping[str, str]) -> list[str]:
    """The keys that run ``command`` now: the keymap override, else the defaults."""
    return [k.strip() for k in keymap.get(command.id, command.keys).split(",") if k.strip()]


def complete(prefix: str, candidates: Iterable[Command]) -> list[Command]:
    """Commands whose id starts with ``prefix`` (``-`` and ``_`` are the same); exact id first."""
    norm = prefix.strip().replace("-", "_").lower()
    cands = list(candidates)
    exact = [c for c in cands if c.id == norm]
    return exact or [c for c in cands if c.id.startswith(norm)]


def common_prefix(commands: Iterable[Command]) -> str:
    ids = [c.id for c in commands]
    if not ids:
        return ""
    first, last = min(ids), max(ids)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]
