"""Messages the app posts to its screens. Small dataclasses; bursts of status merge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from textual.message import Message

from triage_tui.cache.api import QueueRow


@dataclass(frozen=True, slots=True)
class SyncState:
    """What the status bar shows about sync, independent of the engine's own status type."""

    online: bool | None = None  # None: not known yet
    last_sync: datetime | None = None
    queued: int = 0  # outbox rows waiting (queued + in flight)
    failed: int = 0  # outbox rows that need a human (needs_review + failed)
    detail: str = ""  # short, no PHI: "pulling", "429: slowing down"...


@dataclass
class SyncStatusChanged(Message):
    """The sync engine reported its state. Bursts merge: only the newest matters."""

    state: SyncState

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncStatusChanged)


@dataclass
class ThreadsChanged(Message):
    """Threads changed in the cache (sync pulled them, or we acted on them)."""

    thread_ids: frozenset[str] = field(default_factory=frozenset)


@dataclass
class QueueLoaded(Message):
    """Fresh queue rows from the cache; ``changed`` are the threads that triggered the reload."""

    rows: list[QueueRow]
    changed: frozenset[str] = field(default_factory=frozenset)


@dataclass
class TaskConflict(Message):
    """A queued Task change met someone else's change (``sync.outbox.Conflict``): the server's
    Task is in the cache, our change was not sent. ``message`` names who/what (no PHI)."""

    thread_id: str | None
    message: str
