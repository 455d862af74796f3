"""The auto-lock policy (no Textual): when to lock, and what locking means for the cache.

Locking (idle timeout, SIGHUP, the ``lock`` key) drops the data key from memory
(``Store.lock()``); unlocking needs the passphrase or the keyring again (``Store.unlock()``).

Sync while locked: **paused.** Pulled resources and outbox state changes are written encrypted,
so a background sync would need the data key in memory: exactly what locking removes. Keeping
only the *wrapped* key would not help (unwrapping needs the KEK, i.e. the passphrase or the
keyring). So the engine is stopped before the key is dropped and restarted after unlock; an
in-flight outbox item stays ``in_flight`` on disk and is reconciled with the server before any
resend (exactly-once is kept). Drafts and the outbox are on disk: they survive a lock and a
hang-up.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

IDLE, HANGUP, KEY = "idle", "hangup", "key"
SYNC_WHILE_LOCKED = False
"""See the module docstring: the engine needs the data key, so sync pauses while locked."""


@dataclass
class LockPolicy:
    idle_seconds: float  # 0 = never lock for idleness
    clock: Callable[[], float] = time.monotonic
    locked: bool = False
    reason: str | None = None
    _last_input: float = field(default=0.0)

    def __post_init__(self) -> None:
        self._last_input = self.clock()

    def touch(self) -> None:
        """A key was pressed (or the mouse used)."""
        self._last_input = self.clock()

    def idle_for(self) -> float:
        return self.clock() - self._last_input

    def should_lock(self) -> bool:
        return (not self.locked and self.idle_seconds > 0
                and self.idle_for() >= self.idle_seconds)

    def check_every(self) -> float:
        """How often to poll: a tenth of the timeout, between 1 and 30 seconds."""
        return min(30.0, max(1.0, self.idle_seconds / 10)) if self.idle_seconds else 30.0

    def on_locked(self, reason: str) -> None:
        self.locked, self.reason = True, reason

    def on_unlocked(self) -> None:
        self.locked, self.reason = False, None
        self.touch()


def lock_store(store: Any, *, user: str, reason: str) -> None:
    """Audit the lock (the MAC key is still there), then drop the data key."""
    if getattr(store, "locked", False):
        return
    try:
        store.audit("lock", user=user, detail={"reason": reason})
    finally:
        store.lock()


def unlock_store(store: Any, passphrase: str | None, *, user: str) -> None:
    """Unwrap the data key again (raises WrongPassphrase / NeedsPassphrase), then audit."""
    store.unlock(passphrase)
    store.audit("unlock", user=user, detail={"how": getattr(store, "unlocked_by", "")})


def install_sighup(loop: Any, callback: Callable[[], None]) -> bool:
    """Call ``callback`` on SIGHUP (terminal gone: dropped SSH link). False where unsupported."""
    sig = getattr(signal, "SIGHUP", None)
    if sig is None:
        return False
    try:
        loop.add_signal_handler(sig, callback)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True
