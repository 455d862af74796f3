"""Where the key-encryption key comes from: a passphrase (argument, environment, file) or the
OS keyring when its backend is safe.

Keyring calls block (D-Bus, a Keychain prompt) and can hang on a broken session bus, so each
runs in a daemon thread with a timeout; a timeout or error means "no keyring" and the caller
falls back to the passphrase, never to plaintext. Only backends that keep secrets in an OS
vault are accepted; ``keyring.backends.fail``, ``null``, chainers of nothing and every
``keyrings.alt`` backend (plaintext or "encrypted" files next to the data) are refused.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from triage_tui.cache.errors import PassphraseFileError

log = logging.getLogger(__name__)

ENV_PASSPHRASE = "TRIAGE_TUI_PASSPHRASE"
ENV_PASSPHRASE_FILE = "TRIAGE_TUI_PASSPHRASE_FILE"
KEYRING_SERVICE = "triage-tui"
KEYRING_TIMEOUT = 3.0  # seconds, per call

# Module prefixes of backends that store secrets in an OS vault.
SAFE_BACKEND_MODULES: tuple[str, ...] = (
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.kwallet",
    "keyring.backends.macOS",
    "keyring.backends.Windows",
)

T = TypeVar("T")


class KeyringUnavailable(Exception):
    """No safe keyring, or it failed or timed out (internal: callers fall back)."""


def resolve_passphrase(passphrase: str | None = None) -> tuple[str | None, str | None]:
    """The passphrase and where it came from: ``argument``, ``env`` or ``file`` (or None, None).

    Precedence: the argument, then ``TRIAGE_TUI_PASSPHRASE``, then ``TRIAGE_TUI_PASSPHRASE_FILE``
    (its content with one trailing newline removed, as restic does).
    """
    if passphrase is not None:
        return passphrase, "argument"
    env = os.environ.get(ENV_PASSPHRASE)
    if env:
        return env, "env"
    file = os.environ.get(ENV_PASSPHRASE_FILE)
    if file:
        try:
            text = Path(file).expanduser().read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PassphraseFileError(file, "no such file") from None
        except PermissionError:
            raise PassphraseFileError(file, "permission denied") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PassphraseFileError(file, type(exc).__name__) from None
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        if not text:
            raise PassphraseFileError(file, "the file is empty")
        return text, "file"
    return None, None


def _with_timeout(fn: Callable[[], T], timeout: float | None = None) -> T:
    """Run ``fn`` in a daemon thread (a hung keyring never blocks exit); raise on timeout."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="triage-tui-keyring", daemon=True).start()
    if not done.wait(KEYRING_TIMEOUT if timeout is None else timeout):
        raise KeyringUnavailable("keyring call timed out")
    if "error" in box:
        raise KeyringUnavailable(f"keyring error: {type(box['error']).__name__}")
    return box["value"]


def is_safe_backend(backend: object) -> bool:
    mod = type(backend).__module__
    return any(mod == m or mod.startswith(m + ".") for m in SAFE_BACKEND_MODULES)


def _pick_backend() -> Any:
    import keyring  # imported lazily: its entry-point scan costs ~50 ms

    backend = keyring.get_keyring()
    candidates = getattr(backend, "backends", None)
    if candidates is not None:  # ChainerBackend: use a safe member directly, never the chain
        for b in candidates:
            if is_safe_backend(b):
                return b
        return None
    return backend if is_safe_backend(backend) else None


def safe_backend(timeout: float | None = None) -> Any:
    """The keyring backend to use, or raise :class:`KeyringUnavailable`."""
    backend = _with_timeout(_pick_backend, timeout)
    if backend is None:
        raise KeyringUnavailable("no safe keyring backend")
    return backend


def keyring_available(timeout: float | None = None) -> bool:
    try:
        safe_backend(timeout)
    except KeyringUnavailable:
        return False
    return True


def get_kek(account: str) -> bytes | None:
    """The KEK stored for ``account`` (a cache id), None if absent. Raises KeyringUnavailable."""
    backend = safe_backend()
    value = _with_timeout(lambda: backend.get_password(KEYRING_SERVICE, account))
    if value is None:
        return None
    try:
        kek = base64.b64decode(value, validate=True)
    except ValueError:
        raise KeyringUnavailable("malformed keyring entry") from None
    if len(kek) != 32:
        raise KeyringUnavailable("malformed keyring entry")
    return kek


def set_kek(account: str, kek: bytes) -> None:
    backend = safe_backend()
    encoded = base64.b64encode(kek).decode("ascii")
    _with_timeout(lambda: backend.set_password(KEYRING_SERVICE, account, encoded))


def delete_kek(account: str) -> bool:
    """Remove the entry; True if one was removed. Never raises."""
    try:
        backend = safe_backend()
        if _with_timeout(lambda: backend.get_password(KEYRING_SERVICE, account)) is None:
            return False
        _with_timeout(lambda: backend.delete_password(KEYRING_SERVICE, account))
        return True
    except KeyringUnavailable as exc:
        log.info("keyring entry not removed: %s", exc)
        return False
