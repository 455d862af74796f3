"""``w`` on a thread: why it has its category and its urgency (issue 5: explainable triage).

The thread's decision is what the banner and the queue show: the rules classify the subject
and the latest patient turn (as the cache does), the server's category wins when it has one,
and the higher priority of the server's and the rules' counts. Then each patient message is
classified on its own (the thread subject with the first one), as the conversation's urgent
highlights are, with the words that matched in a short excerpt.

Everything quoted from a message (matched words, cues, excerpts, the learned model's words)
is patient text: it reaches the screen only through :mod:`triage_tui.widgets.safe_text`
(``patient_text`` / ``sanitize``), as ``Text``, never as markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from triage_tui.actions import SUBSCREEN, bindings_for
from triage_tui.domain.codes import Priority
from triage_tui.domain.models import Message, Thread
from triage_tui.domain.triage import Classification, Match, classify
from triage_tui.widgets.conversation import when
from triage_tui.widgets.glyphs import Glyphs
from triage_tui.widgets.safe_text import sanitize
from triage_tui.widgets.text import URGENT_STYLE, patient_text, triage_rules

CANCELLED_STYLE = "underline"  # a red flag a cue cancelled: underlined, not reversed
CUE_STYLE = "bold underline"
CONTEXT = 30  # characters of the message either side of a match in its excerpt
MAX_TERMS = 6  # matched words listed per category before "+N more"

_CUE_NAMES = {"negation": "negation", "post_negation": "post-negation",
              "hypothetical": "hypothetical", "history": "history"}
_LEARNED = re.compile(r"\(learned weight (-?[0-9.]+)\)$")
_TRAILING = re.compile(r" \(([^()]*)\)$")
_SPACES = re.compile(r"\s+")


def latest_patient_turn(messages: Sequence[Message]) -> list[Message]:
    """The patient messages the rules classify for the thread (as the cache does): those after
    the last staff message; if staff wrote last, the run of patient messages before it."""
    end = len(messages)
    while end and not messages[end - 1].from_patient:
        end -= 1
    start = end
    while start and messages[start - 1].from_patient:
        start -= 1
    return list(messages[start:end])


def _quote(s: str, style: str = "") -> Text:
    """Patient words, quoted, on one line: sanitized, whitespace collapsed."""
    t = Text("'", style=style)
    t.append_text(patient_text(_SPACES.sub(" ", s), style=style))
    t.append("'")
    return t


def _line(*parts: str | Text, indent: int = 2) -> Padding:
    """One explanation line; wrapped lines keep its indent."""
    t = Text()
    for p in parts:
        t.append_text(p if isinstance(p, Text) else Text(p))
    return Padding(t, (0, 0, 0, indent))


def _joined(items: Sequence[Text], sep: str = ", ") -> Text:
    return Text(sep).join(items)


def _detail(m: Match) -> str:
    """What a learned or acuity match adds: "learned weight 0.52", "acuity score 3"."""
    found = _TRAILING.search(m.term)
    return found.group(1) if found else ""


def _weight(m: Match) -> float:
    """A learned match's weight ("warfarin (learned weight 0.52)" -> 0.52); 0 if none."""
    found = _LEARNED.search(m.term)
    return float(found.group(1)) if found else 0.0


def _scores(c: Classification) -> list[tuple[str, float]]:
    return sorted(((k.value, v) for k, v in c.scores.items()), key=lambda kv: -kv[1])


# --- the thread's decision ------------------------------------------------------------------

def category_lines(c: Classification, urgent_category: Mapping[str, str] | None = None
                   ) -> list[RenderableType]:
    """The category: the server's or the rules', the rules' scores and the words behind each,
    a disagreement called out. ``urgent_category``: urgent group -> the category its matches
    vote for (an urgent term counts for clinical, say)."""
    votes = urgent_category or {}
    out: list[RenderableType] = []
    rules_cat = c.rules_category.value
    scores = _scores(c)
    head = Text("Category ", style="bold")
    if c.category_source == "server":
        head.append(c.category.value.upper(), style="bold")
        head.append(": set by the server")
        if not scores:
            head.append("; no category rule matched")
        elif c.disagreement:
            head.append(" ")
            head.append(f"! the rules disagree: they say {rules_cat}", style="bold reverse")
        else:
            head.append("; the rules agree")
    elif scores:
        head.append(c.category.value.upper(), style="bold")
        head.append(": chosen by the rules (no server category)")
    else:
        head.append("none: no server category and no category rule matched "
                    f"(the rules' default: {rules_cat})")
    out.append(head)
    for cat, score in scores:
        words = [m.text + ("\0" if m.kind == "urgent" else "") for m in c.matches
                 if m.active and (m.group == cat if m.kind == "category"
                                  else votes.get(m.group) == cat)]
        seen: dict[str, str] = {}  # case-folded -> as first written
        for w in words:
            seen.setdefault(_SPACES.sub(" ", w).casefold(), _SPACES.sub(" ", w))
        uniq = list(seen.values())
        quoted = [_quote(w.rstrip("\0")) + Text(" (urgent term)" if w.endswith("\0") else "")
                  for w in uniq[:MAX_TERMS]]
        more = f" +{len(uniq) - MAX_TERMS} more" if len(uniq) > MAX_TERMS else ""
        mark = "> " if cat == rules_cat else "  "
        out.append(_line(f"{mark}{cat} {score:g}: ", _joined(quoted), more))
    return out


def _urgent_by_group(c: Classification) -> dict[str, list[Match]]:
    groups: dict[str, list[Match]] = {}
    for m in c.matches:
        if m.kind == "urgent" and m.active:
            groups.setdefault(m.group, []).append(m)
    return groups


def layer_lines(c: Classification, indent: int = 2) -> list[RenderableType]:
    """Which layer made it urgent (rule groups, acuity, the learned second opinion) and with
    which words; then the red flags a cue cancelled."""
    out: list[RenderableType] = []
    for group, ms in _urgent_by_group(c).items():
        prio, desc = c.urgent_groups.get(group, ("urgent", ""))
        if group == "second_opinion":
            weighted = sorted(ms, key=lambda m: -_weight(m))
            words = [_quote(m.text) + Text(f" ({_detail(m).replace('learned ', '')})")
                     for m in weighted]
            out.append(_line(f"! {prio}: ", patient_text(desc),
                             "; the rules alone left it routine", indent=indent))
            out.append(_line("strongest words: ", _joined(words), indent=indent + 4))
        elif group == "acuity":
            words = [_quote(m.text) + Text(f" ({_detail(m)})") for m in ms]
            out.append(_line(f"! {prio}: acuity (symptom words and cues together): ",
                             patient_text(desc), indent=indent))
            out.append(_line("symptom: ", _joined(words), indent=indent + 4))
        else:
            words = list(dict.fromkeys(_SPACES.sub(" ", m.text) for m in ms))
            fields = sorted({m.field for m in ms})
            out.append(_line(f"! {prio}: rule group {group}: ", patient_text(desc or group),
                             indent=indent))
            out.append(_line("matched: ", _joined([_quote(w, URGENT_STYLE) for w in words]),
                             f" (in {' and '.join(fields)})", indent=indent + 4))
    for m in c.matches:
        if m.kind == "urgent" and not m.active:
            out.append(_line("not urgent: ", _quote(m.text),
                             f" ({m.group}) cancelled by "
                             f"{_CUE_NAMES.get(m.cue_kind or '', m.cue_kind or 'a')} cue ",
                             _quote(m.negated_by or ""), indent=indent))
    if not c.urgent and not any(m.kind == "urgent" for m in c.matches):
        out.append(_line("not urgent: no urgent term or phrasing matched", indent=indent))
    return out


def urgency_lines(rules_c: Classification, server: Priority) -> list[RenderableType]:
    """The thread's urgency: the higher of the server's priority and the rules'."""
    rp = rules_c.priority
    head = Text("Urgency ", style="bold")
    if server.rank > rp.rank:
        head.append(server.value.upper(), style="bold reverse")
        head.append(f": set by the server (the rules alone: {rp.value})")
    elif rp.rank > server.rank:
        head.append(rp.value.upper(), style="bold reverse")
        head.append(f": raised by the rules (server: {server.value})")
    elif rp.rank > 0:
        head.append(rp.value.upper(), style="bold reverse")
        head.append(": the server and the rules agree")
    else:
        head.append("ROUTINE", style="bold")
        head.append(": neither the server nor the rules raise it")
    return [head, *layer_lines(rules_c)]


# --- one message ----------------------------------------------------------------------------

def _spans(m: Match) -> list[tuple[int, int, str]]:
    out = [(m.start, m.end, URGENT_STYLE if m.active else CANCELLED_STYLE)]
    if m.cue_start is not None and m.cue_end is not None:
        out.append((m.cue_start, m.cue_end, CUE_STYLE))
    return out


def excerpts(source: str, matches: Sequence[Match], *, context: int = CONTEXT
             ) -> list[Padding]:
    """Short excerpts of ``source`` around ``matches`` (and their cues), nearby ones merged:
    a match reversed when it counts, underlined when a cue cancelled it, the cue in bold
    underline. Patient text: sanitized, whitespace collapsed, never markup."""
    windows: list[list] = []  # [lo, hi, spans]
    for m in sorted(matches, key=lambda m: m.start):
        spans = _spans(m)
        lo = max(0, min(a for a, _, _ in spans) - context)
        hi = min(len(source), max(b for _, b, _ in spans) + context)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
            windows[-1][2] += spans
        else:
            windows.append([lo, hi, spans])
    out: list[Padding] = []
    for lo, hi, spans in windows:
        t = Text("…" if lo > 0 else "")
        pos = lo
        for a, b, style in sorted(spans):
            a = max(a, pos)
            if b <= a:
                continue
            t.append(_SPACES.sub(" ", sanitize(source[pos:a])))
            t.append(_SPACES.sub(" ", sanitize(source[a:b])), style=style)
            pos = b
        t.append(_SPACES.sub(" ", sanitize(source[pos:hi])))
        if hi < len(source):
            t.append("…")
        out.append(Padding(t, (0, 0, 0, 4)))
    return out


def message_lines(n: int, total: int, msg: Message, subject: str, c: Classification,
                  glyphs: Glyphs) -> list[RenderableType]:
    head = Text(f"{glyphs.patient} Message {n} of {total}", style="bold reverse")
    head.append(f"  patient · {when(msg.sent)}", style="bold")
    if subject:
        head.append(" · with the thread subject", style="dim")
    out: list[RenderableType] = [Text(""), head]
    scores = _scores(c)
    cat = Text("  category ")
    if scores:
        cat.append(c.rules_category.value, style="bold")
        cat.append(" (" + ", ".join(f"{k} {v:g}" for k, v in scores) + ")")
    else:
        cat.append("none (no category rule matched)")
    urg = Text(f"  urgency {c.priority.value}", style="bold" if c.urgent else "")
    out += [cat, urg]
    for line in layer_lines(c, indent=4):
        out.append(line)
    shown = [m for m in c.matches if m.kind == "urgent" and m.group != "second_opinion"]
    for fld, source in (("subject", subject), ("text", msg.text)):
        out += excerpts(source, [m for m in shown if m.field == fld])
    return out


def why_view(thread: Thread, messages: Sequence[Message], glyphs: Glyphs,
             rules=None) -> Group:
    """Everything the Why screen shows, as one renderable."""
    rules = rules if rules is not None else triage_rules()
    turn = latest_patient_turn(messages)
    thread_c = classify(rules, thread.subject, "\n\n".join(m.text for m in turn),
                        server_category=thread.category)
    parts: list[RenderableType] = []
    title = Text("Subject ", style="bold")
    title.append_text(patient_text(_SPACES.sub(" ", thread.subject)))
    parts.append(title)
    numbers = [i for i, m in enumerate(messages, start=1) if any(m is t for t in turn)]
    which = (f"message {numbers[0]}" if len(numbers) == 1 else
             f"messages {numbers[0]}-{numbers[-1]}" if numbers else "no message")
    parts.append(Text(f"Thread: the subject and the latest patient turn ({which}); staff "
                      "text is never classified.", style="dim"))
    parts += category_lines(thread_c, {g: u.category.value for g, u in rules.urgent.items()})
    try:
        server = Priority(str(thread.priority))
    except ValueError:
        server = Priority.ROUTINE
    parts += urgency_lines(thread_c, server)
    parts += [_line(note) for note in thread_c.notes]
    patient = [m for m in messages if m.from_patient]
    first = True
    for i, msg in enumerate(messages, start=1):
        if not msg.from_patient:
            continue
        subject = thread.subject if first else ""
        first = False
        c = classify(rules, subject, msg.text)
        parts += message_lines(i, len(messages), msg, subject, c, glyphs)
    if not patient:
        parts += [Text(""), Text("No patient message in this thread.")]
    parts.append(Text("\nReversed: words that make it urgent. Underlined: a red flag a cue "
                      "cancelled; bold underline: the cue.", style="dim"))
    return Group(*parts)


class WhyScreen(ModalScreen[None]):
    """Why this thread has its category and urgency; q, backspace or Esc closes it."""

    BINDINGS = [
        *bindings_for(SUBSCREEN),
        Binding("escape", "back", "Back", show=False),
        Binding("j,down", "scroll('down')", show=False),
        Binding("k,up", "scroll('up')", show=False),
        Binding("pagedown,space,ctrl+f", "scroll('page_down')", show=False),
        Binding("pageup,ctrl+b", "scroll('page_up')", show=False),
        Binding("g,home", "scroll('home')", show=False),
        Binding("G,end", "scroll('end')", show=False),
    ]
    DEFAULT_CSS = """
    WhyScreen { align: center middle; background: $background 60%; }
    WhyScreen > VerticalScroll { width: 110; max-width: 100%; height: auto; max-height: 100%;
                                 border: heavy $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, thread: Thread, messages: Sequence[Message], glyphs: Glyphs) -> None:
        super().__init__()
        self.thread = thread
        self.messages = list(messages)
        self.glyphs = glyphs
        self.explanation = why_view(thread, self.messages, glyphs)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="why-body") as body:
            body.border_title = "Why this category and urgency"
            body.border_subtitle = "j/k scroll · q or Esc back"
            yield Static(self.explanation, id="why-text", markup=False)

    def action_scroll(self, how: str) -> None:
        body = self.query_one("#why-body", VerticalScroll)
        {"down": body.scroll_down, "up": body.scroll_up, "page_down": body.scroll_page_down,
         "page_up": body.scroll_page_up, "home": body.scroll_home,
         "end": body.scroll_end}[how](animate=False)

    def action_back(self) -> None:
        self.dismiss(None)
