"""Marks that carry meaning without colour (16-colour terminals, colour-blind users).

The same characters as the queue list's (``queue_list.UNICODE_GLYPHS`` / ``ASCII_GLYPHS``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Glyphs:
    urgent: str
    overdue: str
    marked: str
    online: str
    offline: str
    patient: str
    staff: str
    separator: str


UNICODE = Glyphs(urgent="!", overdue="⚑", marked="●", online="●", offline="○",
                 patient="◀", staff="▶", separator="│")
ASCII = Glyphs(urgent="!", overdue=">", marked="*", online="+", offline="-",
               patient="<", staff=">", separator="|")


def glyphs(ascii_only: bool) -> Glyphs:
    return ASCII if ascii_only else UNICODE
