"""Typed errors of the local cache.

Every error is a :class:`~triage_tui.errors.UserError`: the CLI prints the message without a
traceback and exits non-zero; the UI shows it on the unlock screen. Messages name files and
settings, never PHI.
"""

from __future__ import annotations

from pathlib import Path

from triage_tui.errors import UserError

PASSPHRASE_HINT = (
    "Set TRIAGE_TUI_PASSPHRASE or TRIAGE_TUI_PASSPHRASE_FILE, or run triage-tui interactively "
    "to be asked for it."
)


class CacheError(UserError):
    """Base class of the cache's errors."""


class WrongPassphrase(CacheError):
    exit_code = 3

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the passphrase does not unlock the cache {path}. Nothing was changed; "
            "check the passphrase (or TRIAGE_TUI_PASSPHRASE / TRIAGE_TUI_PASSPHRASE_FILE) and retry."
        )
        self.path = path


class NeedsPassphrase(CacheError):
    """No key source could unlock (or create) the cache without a passphrase.

    ``creating`` is True when the cache does not exist yet: the UI asks for a *new* passphrase
    (twice); otherwise it asks for the existing one.
    """

    exit_code = 3

    def __init__(self, path: Path, *, creating: bool, reason: str = "") -> None:
        what = "a new passphrase to create" if creating else "its passphrase to unlock"
        why = f" ({reason})" if reason else ""
        super().__init__(f"the cache {path} needs {what} it{why}. {PASSPHRASE_HINT}")
        self.path = path
        self.creating = creating
        self.reason = reason


class CacheNotFound(CacheError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"no cache at {path}; run `triage-tui sync --once` to create it.")
        self.path = path


class CacheVersionError(CacheError):
    def __init__(self, path: Path, found: object, supported: int) -> None:
        if isinstance(found, int) and found > supported:
            msg = (
                f"the cache {path} has format version {found}, written by a newer triage-tui "
                f"(this one reads up to version {supported}). Upgrade triage-tui; to start over "
                "instead, send any queued replies with the newer version, then run `triage-tui wipe`."
            )
        else:
            msg = (
                f"the file {path} is not a triage-tui cache this version understands "
                f"(format version {found!r}, supported up to {supported}). It was left untouched; "
                "move it away or run `triage-tui wipe`."
            )
        super().__init__(msg)
        self.path = path
        self.found = found
        self.supported = supported


class UnsupportedFilesystem(CacheError):
    def __init__(self, path: Path, fstype: str) -> None:
        super().__init__(
            f"refusing to keep the cache in {path}: it is on a network filesystem ({fstype}). "
            "The cache uses SQLite in WAL mode, which needs shared memory on a local disk; on "
            "NFS/SMB/CIFS locking is unreliable and the cache (and unsent replies) can be corrupted. "
            "Point TRIAGE_TUI_HOME or XDG_DATA_HOME at a local directory."
        )
        self.path = path
        self.fstype = fstype


class CacheCorrupt(CacheError):
    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"the cache {path} cannot be read ({detail}). Run `triage-tui wipe` and sync again; "
            "replies still queued in it would be lost."
        )
        self.path = path
        self.detail = detail


class WrongCache(CacheError):
    """The file belongs to another server or user (copied or renamed)."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the cache {path} belongs to another server or user and was not opened. "
            "Caches cannot be copied between users or servers."
        )
        self.path = path


class CacheLocked(CacheError):
    def __init__(self) -> None:
        super().__init__("the cache is locked; unlock it again to continue.")


class PassphraseFileError(CacheError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot read TRIAGE_TUI_PASSPHRASE_FILE={path}: {reason}.")


class KeyUnavailable(CacheError):
    """The cache is protected by the OS keyring only, and the keyring cannot be reached."""

    exit_code = 3

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"the cache {path} is unlocked by the system keyring, which is not available now "
            f"({reason}). Open it from the desktop session that created it, or run "
            "`triage-tui wipe` and sync again with TRIAGE_TUI_PASSPHRASE set."
        )
        self.path = path
        self.reason = reason
