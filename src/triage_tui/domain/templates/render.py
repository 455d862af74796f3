"""Placeholders: a tiny parser and a renderer that cannot evaluate anything.

Template bodies use ``{patient.first_name}``-style placeholders. Only names listed in
:data:`VARIABLES` (and staff fill-ins ``{fill.<word>}``) are allowed; ``{{`` and ``}}`` are
literal braces; anything else with a brace is an error found when the template is loaded, not
when a nurse sends it. There is no attribute access, indexing or format spec: a name is looked
up in a plain ``dict[str, str]`` and nothing else.

A variable whose value is missing or blank is never rendered as an empty string: it becomes a
visible marker ``[[name]]`` in the text, and :func:`unfilled` finds such markers in any text
(also after the user edited it), so that sending is blocked until each one is replaced.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "VARIABLES",
    "FILL_PREFIX",
    "PlaceholderError",
    "Missing",
    "parse_body",
    "placeholders",
    "render_body",
    "marker",
    "unfilled",
    "clean_value",
]

VARIABLES: dict[str, str] = {
    "patient.first_name": "the patient's first name",
    "medication.name": "the medication (named in the thread, or the patient's only active one)",
    "medication.dose": "the medication's dose instructions",
    "pharmacy.name": "the pharmacy of that medication",
    "appointment.date": "the date of the patient's next booked appointment",
    "appointment.time": "the time of that appointment (clinic time zone)",
    "appointment.provider": "who the appointment is with",
    "result.name": "the test result (named in the thread, or the only recent one)",
    "result.value": "its value and unit",
    "provider.name": "the practice's provider named in replies (practice settings)",
    "clinic.name": "the practice's name (practice settings)",
    "clinic.phone": "the practice's phone number (practice settings)",
}
"""Every variable a template may use, with what it is (shown in the picker and in errors)."""

FILL_PREFIX = "fill."
"""``{fill.reason}``: a blank the staff member types in; it always starts as a marker."""

_NAME = r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?"
_TOKEN = re.compile(r"\{\{|\}\}|\{(" + _NAME + r")\}|[{}]")
_MARKER = re.compile(r"\[\[([^\[\]\n]{1,60})\]\]")

Segment = str | tuple[str]  # literal text, or (placeholder name,)


class PlaceholderError(ValueError):
    """A body that is not a valid template; ``offset`` is where in the body."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Missing:
    """A variable the reply cannot be sent without, and why it has no value."""

    name: str
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.reason})" if self.reason else self.name


def parse_body(body: str) -> tuple[Segment, ...]:
    """Split a body into literal strings and ``(name,)`` placeholders; raise on bad braces or
    unknown names."""
    out: list[Segment] = []
    buf: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(body):
        buf.append(body[pos:m.start()])
        pos = m.end()
        tok = m.group()
        if tok == "{{":
            buf.append("{")
        elif tok == "}}":
            buf.append("}")
        elif m.group(1):
            name = m.group(1)
            if name not in VARIABLES and not (name.startswith(FILL_PREFIX)
                                              and len(name) > len(FILL_PREFIX)):
                raise PlaceholderError(f"unknown variable {{{name}}} (known: "
                                       f"{', '.join(VARIABLES)}, fill.<word>)", m.start())
            if buf:
                out.append("".join(buf))
                buf = []
            out.append((name,))
        else:
            snippet = body[max(0, m.start() - 10):m.start() + 20].replace("\n", " ")
            raise PlaceholderError(f"stray '{tok}' near {snippet!r} (write {tok * 2} for a "
                                   "literal brace)", m.start())
    buf.append(body[pos:])
    if any(buf):
        out.append("".join(buf))
    return tuple(out)


def placeholders(segments: tuple[Segment, ...]) -> tuple[str, ...]:
    """The distinct placeholder names, in order of first use."""
    seen: dict[str, None] = {}
    for s in segments:
        if isinstance(s, tuple):
            seen.setdefault(s[0], None)
    return tuple(seen)


def marker(name: str) -> str:
    """The visible blank left in the text for a missing variable."""
    return f"[[{name.removeprefix(FILL_PREFIX)}]]"


_DROP = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


def clean_value(value: object) -> str:
    """A context value as one plain line: control, format (bidi, zero-width) and separator
    characters removed, whitespace collapsed. Empty when nothing printable is left."""
    if value is None:
        return ""
    text = str(value)
    if not text.isascii() or any(ord(c) < 32 or ord(c) == 127 for c in text):
        text = "".join(" " if c in "\t\n\r\x0b\x0c\x85\u2028\u2029" else c for c in text
                       if c in "\t\n\r\x0b\x0c\x85\u2028\u2029"
                       or unicodedata.category(c) not in _DROP)
    return " ".join(text.split())


def render_body(segments: tuple[Segment, ...], values: Mapping[str, str],
                reasons: Mapping[str, str] | None = None) -> tuple[str, tuple[Missing, ...]]:
    """Fill the placeholders from ``values`` (plain strings). Missing or blank values become
    :func:`marker` blanks and are returned, with the reason from ``reasons`` when known."""
    parts: list[str] = []
    missing: dict[str, Missing] = {}
    for s in segments:
        if isinstance(s, str):
            parts.append(s)
            continue
        name = s[0]
        value = "" if name.startswith(FILL_PREFIX) else clean_value(values.get(name))
        if value and not _MARKER.search(value):
            parts.append(value)
        else:
            if name not in missing:
                why = (reasons or {}).get(name, "")
                if name.startswith(FILL_PREFIX):
                    why = why or "type it in"
                elif not why:
                    why = "no value in the thread's context"
                missing[name] = Missing(name, why)
            parts.append(marker(name))
    return "".join(parts), tuple(missing.values())


def unfilled(text: str) -> list[str]:
    """The ``[[...]]`` blanks still in ``text`` (a reply with any cannot be sent)."""
    return [m.group(1) for m in _MARKER.finditer(text)]
