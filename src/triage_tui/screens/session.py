"""What the screens share once the cache is unlocked (no Textual here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    _staff: dict[str, str] = field(default_factory=dict, repr=False)

    def staff_name(self, ref: str | None) -> str | None:
        """A colleague's name for "Practitioner/pr3" (cached: staff change rarely); None for
        nobody. Staff names are not patient data."""
        if ref is None:
            return None
        if ref not in self._staff:
            pr = self.store.practitioner(ref.partition("/")[2])
            self._staff[ref] = pr.name if pr else ref.rpartition("/")[2]
        return self._staff[ref]

    def owner_label(self, owner_ref: str | None, user_ref: str | None = None) -> str:
        """The queue's owner column: "me", a short staff name ("M. Carrera"), or blank."""
        if owner_ref is None:
            return ""
        if owner_ref == (user_ref or self.user_ref):
            return "me"
        return short_name(self.staff_name(owner_ref) or "")


_TITLES = frozenset({"dr", "doctor", "dra", "nurse", "np", "pa", "rn", "lpn", "md"})


def short_name(name: str) -> str:
    """For a narrow column that still tells colleagues apart: "Maximiliano Carrera" ->
    "M. Carrera", "Dr. Ana Kidd" -> "Dr Kidd"."""
    parts = name.split()
    if len(parts) < 2:
        return name
    if parts[0].rstrip(".").lower() in _TITLES:
        return f"{parts[0].rstrip('.')} {parts[-1]}"
    return f"{parts[0][0]}. {parts[-1]}"
