"""Patient text to Rich ``Text``: the app's one door to :mod:`triage_tui.widgets.safe_text`.

Every widget that shows untrusted text calls :func:`patient_text`; nothing passes patient text
to markup. Urgent-term spans come from the triage rules (:func:`urgent_spans`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from rich.text import Text

from triage_tui.widgets.safe_text import safe_text

Span = tuple[int, int]

URGENT_STYLE = "bold reverse"  # reverse video: visible in 16 colours and without colour


def patient_text(text: str, highlights: Sequence[Span] = (), style: str = "") -> Text:
    """Untrusted ``text`` as Text, urgent ``highlights`` (character spans) in reverse video."""
    return safe_text(text, highlights=highlights, highlight_style=URGENT_STYLE, style=style)


@lru_cache(maxsize=1)
def triage_rules():
    """The triage rules the UI explains and highlights with (defaults + the user's file),
    loaded once."""
    from triage_tui.domain.triage import load_rules

    return load_rules()


def urgent_spans(text: str) -> list[Span]:
    """Character spans of the active urgent terms in a message body, per the triage rules."""
    from triage_tui.domain.triage import classify

    c = classify(triage_rules(), "", text)
    return [(m.start, m.end) for m in c.urgent_matches if m.field == "text"]
