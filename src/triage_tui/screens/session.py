"""What the screens share once the cache is unlocked (no Textual here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from triage_tui.cache.api import CacheAPI
from triage_tui.widgets.glyphs import Glyphs


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Session:
    store: CacheAPI
    user_ref: str  # "Practitioner/17": owner of claims, sender of replies
    user_label: str  # shown in the status bar
    glyphs: Glyphs
    clock: Callable[[], datetime] = utc_now
