"""The one path by which untrusted text (patient messages, names, subjects) reaches the screen.

Untrusted text is never parsed as markup and never reaches the terminal with control
characters (see DESIGN.md, "Untrusted text"):

* C0 controls other than tab and newline, DEL and C1 controls become visible Unicode
  "control pictures" (ESC shows as ``␛``, NUL as ``␀``, DEL as ``␡``) or, for C1, as a
  ``<U+009B>`` notation, so a staff member sees that something odd was sent;
* CR LF and lone CR become a newline; U+2028/U+2029 and NEL too;
* bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), invisible
  zero-width characters that can hide text (U+200B, U+2060-U+2064, U+FEFF, U+180E,
  U+206A-U+206F, U+FFF9-U+FFFB) and Unicode tag characters (U+E0000-U+E007F) are removed;
  ZWJ / ZWNJ stay (scripts and emoji need them), as do LRM / RLM marks;
* lone surrogates (undecodable bytes) become U+FFFD;
* very long lines are cut with an ellipsis.

This module needs rich only (no textual), so it is usable by any layer that renders.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text

__all__ = ["MAX_LINE", "preview", "safe_text", "sanitize"]

MAX_LINE = 4000
"""Lines longer than this many characters are cut (with an ellipsis)."""

ELLIPSIS = "…"

_UNSAFE = re.compile(
    "\r\n?"
    "|[\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u180e\u200b\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\ud800-\udfff"
    "\U000e0000-\U000e007f]"
)
_NEWLINES = {"\r", "\r\n", "\u2028", "\u2029", "\x85"}


def _replacement(ch: str) -> str:
    if ch in _NEWLINES:
        return "\n"
    o = ord(ch)
    if o < 0x20:
        return chr(0x2400 + o)  # control pictures: ␀ ... ␟ (␛ for ESC)
    if o == 0x7F:
        return "\u2421"  # ␡
    if o <= 0x9F:
        return f"<U+{o:04X}>"
    if 0xD800 <= o <= 0xDFFF:
        return "\ufffd"
    return ""  # bidi controls, invisible format characters, tags


_Edit = tuple[int, int, int, int]  # (old start, old end, new start, new end)


def _sub(text: str, spans, edits: list[_Edit] | None) -> str:
    """Replace each ``(start, end, replacement)`` of ``spans`` (ascending, disjoint)."""
    pieces: list[str] = []
    last = 0
    shift = 0
    for s, e, r in spans:
        pieces.append(text[last:s])
        pieces.append(r)
        last = e
        if edits is not None:
            edits.append((s, e, s + shift, s + shift + len(r)))
        shift += len(r) - (e - s)
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _map(edits: list[_Edit], starts: list[int], pos: int, *, end: bool) -> int:
    """Map an offset of the old text to the new one; inside a replaced run, to its start
    (``end=False``) or end (``end=True``)."""
    k = bisect_right(starts, pos) - 1
    if k < 0:
        return pos
    s, e, ns, ne = edits[k]
    if pos == s:
        return ns
    if pos >= e:
        return ne + (pos - e)
    return ne if end else ns


def _unsafe_spans(text: str):
    for m in _UNSAFE.finditer(text):
        s, e = m.span()
        yield s, e, _replacement(m.group())


def _long_line_tails(text: str, max_line: int):
    """The part of each too-long line from column ``max_line - 1`` on: becomes an ellipsis."""
    for m in re.finditer(f"(?m)^[^\n]{{{max_line + 1},}}", text):
        yield m.start() + max_line - 1, m.end(), ELLIPSIS


def _sanitize(text: str, max_line: int, want_map: bool):
    edits1: list[_Edit] | None = [] if want_map else None
    out = _sub(text, _unsafe_spans(text), edits1)
    edits2: list[_Edit] | None = [] if want_map else None
    if len(out) > max_line:
        out = _sub(out, _long_line_tails(out, max_line), edits2)
    return out, edits1, edits2


def sanitize(text: str, *, max_line: int = MAX_LINE) -> str:
    """Untrusted text made safe to display: see the module docstring for the rules."""
    return _sanitize(text, max_line, False)[0]


def safe_text(
    text: str,
    *,
    highlights: Sequence[tuple[int, int]] = (),
    highlight_style: str | Style = "bold reverse",
    style: str | Style = "",
    max_line: int = MAX_LINE,
) -> Text:
    """A rich ``Text`` of sanitized ``text``, never parsed as markup.

    ``highlights`` are ``(start, end)`` character offsets into the *original* ``text`` (e.g.
    urgent terms found by the triage rules); they are mapped onto the sanitized string.
    """
    out, edits1, edits2 = _sanitize(text, max_line, bool(highlights))
    result = Text(out, style=style, end="")
    if highlights:
        assert edits1 is not None and edits2 is not None
        starts1 = [e[0] for e in edits1]
        starts2 = [e[0] for e in edits2]
        n = len(text)
        for start, end in highlights:
            start, end = max(0, min(start, n)), max(0, min(end, n))
            if end <= start:
                continue
            s = _map(edits2, starts2, _map(edits1, starts1, start, end=False), end=False)
            e = _map(edits2, starts2, _map(edits1, starts1, end, end=True), end=True)
            if e > s:
                result.stylize(highlight_style, s, e)
    return result


_SPACES = re.compile(r"\s+")


def preview(text: str, width: int) -> str:
    """One line of at most ``width`` terminal cells: sanitized, whitespace collapsed, cut
    with an ellipsis when too long."""
    if width <= 0:
        return ""
    line = _SPACES.sub(" ", sanitize(text[: width * 4 + 64], max_line=width * 4 + 64)).strip()
    if cell_len(line) <= width:
        return line
    cut = set_cell_size(line, width - 1).rstrip()
    return cut + ELLIPSIS
