"""Key slots: the data key (DEK) wrapped by one or more key-encryption keys (KEKs).

A slot is a row of ``keyslots``: ``passphrase`` (scrypt with its salt and parameters) or
``keyring`` (a random KEK kept in the OS keyring under the cache id). Changing the passphrase
rewrites one slot, never the rows.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path

from triage_tui.cache import crypto, keys
from triage_tui.cache.crypto import (
    KEY_LEN,
    DecryptError,
    ScryptParams,
    derive_kek,
    unwrap_key,
    wrap_key,
)
from triage_tui.cache.errors import (
    CacheCorrupt,
    CacheError,
    KeyUnavailable,
    NeedsPassphrase,
    WrongPassphrase,
)

log = logging.getLogger(__name__)

PASSPHRASE = "passphrase"
KEYRING = "keyring"


def read_slots(conn: sqlite3.Connection) -> dict[str, tuple[str, str, bytes | None, bytes]]:
    rows = conn.execute("SELECT name, kdf, params, salt, wrapped FROM keyslots").fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def account(cache_id: str) -> str:
    """The keyring account name of a cache (a hash: no server or user name in the keyring)."""
    return cache_id[:32]


def _check_passphrase(pw: str) -> None:
    if not pw:
        raise CacheError("the passphrase must not be empty.")


def write_passphrase_slot(conn: sqlite3.Connection, cache_id: str, dek: bytes, pw: str,
                          params: ScryptParams | None = None) -> None:
    _check_passphrase(pw)
    params = params or crypto.DEFAULT_SCRYPT
    salt = os.urandom(16)
    wrapped = wrap_key(derive_kek(pw, salt, params), bytes(dek), cache_id, PASSPHRASE)
    conn.execute(
        "INSERT OR REPLACE INTO keyslots (name, kdf, params, salt, wrapped) VALUES (?,?,?,?,?)",
        (PASSPHRASE, "scrypt", json.dumps(params.as_dict()), salt, wrapped),
    )


def unwrap_passphrase_slot(slot: tuple, path: Path, cache_id: str, pw: str) -> bytearray:
    kdf, params_json, salt, wrapped = slot
    try:
        if kdf != "scrypt":
            raise ValueError(kdf)
        params = ScryptParams.from_dict(json.loads(params_json))
    except (ValueError, KeyError, TypeError):
        raise CacheCorrupt(path, "unreadable key parameters") from None
    try:
        return bytearray(unwrap_key(derive_kek(pw, salt, params), wrapped, cache_id, PASSPHRASE))
    except DecryptError:
        raise WrongPassphrase(path) from None


def unlock(conn: sqlite3.Connection, path: Path, cache_id: str, passphrase: str | None,
           keyring_ok: bool) -> tuple[bytearray, str]:
    """The DEK and how it was obtained (``passphrase`` or ``keyring``)."""
    slots = read_slots(conn)
    if not slots:
        raise CacheCorrupt(path, "no key slot")
    pw, _src = keys.resolve_passphrase(passphrase)
    if pw is not None and PASSPHRASE in slots:
        return unwrap_passphrase_slot(slots[PASSPHRASE], path, cache_id, pw), PASSPHRASE
    reason = "keyring not allowed" if not keyring_ok else "no keyring slot"
    if KEYRING in slots and keyring_ok:
        try:
            kek = keys.get_kek(account(cache_id))
            if kek is None:
                raise keys.KeyringUnavailable("keyring entry missing")
            return bytearray(unwrap_key(kek, slots[KEYRING][3], cache_id, KEYRING)), KEYRING
        except keys.KeyringUnavailable as exc:
            reason = str(exc)
        except DecryptError:
            reason = "keyring entry does not match this cache"
        log.info("keyring unlock failed: %s", reason)
    if PASSPHRASE in slots:
        raise NeedsPassphrase(path, creating=False, reason=reason)
    raise KeyUnavailable(path, reason)


def create(conn: sqlite3.Connection, path: Path, cache_id: str, passphrase: str | None,
           keyring_ok: bool) -> tuple[bytearray, str]:
    """Generate the DEK and its first slot (inside the caller's transaction).

    With a passphrase (argument or environment): a passphrase slot. Otherwise a keyring slot
    when a safe keyring works, else :class:`NeedsPassphrase` (``creating=True``).
    """
    dek = bytearray(os.urandom(KEY_LEN))
    pw, _src = keys.resolve_passphrase(passphrase)
    if pw is not None:
        write_passphrase_slot(conn, cache_id, dek, pw)
        return dek, PASSPHRASE
    if not keyring_ok:
        raise NeedsPassphrase(path, creating=True, reason="keyring not allowed")
    try:
        kek = os.urandom(KEY_LEN)
        keys.set_kek(account(cache_id), kek)
        if keys.get_kek(account(cache_id)) != kek:  # a backend that silently drops writes
            raise keys.KeyringUnavailable("keyring did not keep the key")
    except keys.KeyringUnavailable as exc:
        raise NeedsPassphrase(path, creating=True, reason=str(exc)) from None
    conn.execute(
        "INSERT INTO keyslots (name, kdf, params, salt, wrapped) VALUES (?,?,?,?,?)",
        (KEYRING, "keyring", json.dumps({"service": keys.KEYRING_SERVICE}), None,
         wrap_key(kek, bytes(dek), cache_id, KEYRING)),
    )
    return dek, KEYRING
