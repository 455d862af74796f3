"""Messages of a thread as Rich Text. Patient and staff differ by a labelled, glyph-led header
and by indentation (staff replies are indented), never by colour alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from triage_tui.domain.models import Message
from triage_tui.widgets.glyphs import Glyphs
from triage_tui.widgets.text import patient_text, urgent_spans

STAFF_INDENT = 6


def when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else "unknown time"


def message_block(msg: Message, sender: str, glyphs: Glyphs) -> Padding:
    """One message: a header line and the body; the body is patient text (safe_text only)."""
    head = Text(no_wrap=True, overflow="ellipsis")
    if msg.from_patient:
        head.append(f"{glyphs.patient} PATIENT ", style="bold reverse")
    else:
        head.append(f"{glyphs.staff} STAFF ", style="bold underline")
    head.append(" ")
    head.append_text(patient_text(sender))  # names are untrusted text too
    head.append(f"  {when(msg.sent)}", style="dim")
    body = patient_text(msg.text, urgent_spans(msg.text) if msg.from_patient else ())
    indent = 0 if msg.from_patient else STAFF_INDENT
    return Padding(Group(head, body), (0, 0, 1, indent))


def conversation(messages: Sequence[Message], sender_name: Callable[[Message], str],
                 glyphs: Glyphs) -> Group:
    return Group(*(message_block(m, sender_name(m), glyphs) for m in messages))


def sender_namer(store, patient_name: str, user_ref: str) -> Callable[[Message], str]:
    """Display names of senders: the patient, "you", or the practitioner's name from the cache."""
    cache: dict[str, str] = {}

    def name(msg: Message) -> str:
        if msg.from_patient:
            return patient_name
        if msg.sender_ref == user_ref:
            return "you"
        if msg.sender_ref not in cache:
            pr = store.practitioner(msg.sender_ref.partition("/")[2])
            cache[msg.sender_ref] = pr.name if pr else msg.sender_ref
        return cache[msg.sender_ref]

    return name
