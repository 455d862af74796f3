"""Finding, creating, unlocking and wiping caches.

One SQLite file per server and user: ``<data dir>/cache-<hash>.sqlite3`` where the hash is of
the server URL and the user, so that file names reveal neither.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from triage_tui import locations
from triage_tui.cache import fs, keys, keyslots, schema
from triage_tui.cache.crypto import FieldCipher
from triage_tui.cache.errors import (
    CacheCorrupt,
    CacheError,
    CacheNotFound,
    CacheVersionError,
    WrongCache,
)
from triage_tui.cache.store import SMALL_TABLES, QueuePrefetch, Store

if TYPE_CHECKING:
    from triage_tui.domain.triage import Rules

log = logging.getLogger(__name__)

SUFFIXES = ("", "-wal", "-shm", "-journal")
BUSY_TIMEOUT_S = 5.0


def normalize_server_url(url: str) -> str:
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"),
                       parts.query, ""))


def cache_id(server_url: str, user: str) -> str:
    key = f"triage-tui cache v1\n{normalize_server_url(server_url)}\n{user}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def cache_path(server_url: str, user: str, *, data_dir: Path | None = None) -> Path:
    base = Path(data_dir) if data_dir is not None else locations.data_dir()
    return base / f"cache-{cache_id(server_url, user)[:32]}.sqlite3"


def list_caches(data_dir: Path | None = None) -> list[Path]:
    base = Path(data_dir) if data_dir is not None else locations.data_dir()
    return sorted(base.glob("cache-*.sqlite3")) if base.is_dir() else []


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                               timeout=BUSY_TIMEOUT_S)
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            conn.close()
            raise CacheCorrupt(path, f"cannot use WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous=FULL")  # outbox and audit commits survive power loss
        conn.execute("PRAGMA temp_store=MEMORY")  # no temp files on disk
        conn.execute("PRAGMA foreign_keys=OFF")
    except sqlite3.DatabaseError as exc:
        raise CacheCorrupt(path, _sqlite_reason(exc)) from None
    return conn


def _sqlite_reason(exc: sqlite3.Error) -> str:
    msg = str(exc)
    return msg if len(msg) < 120 else type(exc).__name__


def _read_format(conn: sqlite3.Connection, path: Path) -> dict[str, str]:
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "format" not in tables or "keyslots" not in tables:
            raise CacheVersionError(path, None, schema.FORMAT_VERSION)
        return dict(conn.execute("SELECT k, v FROM format").fetchall())
    except sqlite3.DatabaseError as exc:
        raise CacheCorrupt(path, _sqlite_reason(exc)) from None


def _format_version(fmt: dict[str, str], path: Path) -> int:
    raw = fmt.get("format_version")
    try:
        version = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CacheVersionError(path, raw, schema.FORMAT_VERSION) from None
    if version > schema.FORMAT_VERSION or version < 0 or (
        version < schema.FORMAT_VERSION and version not in schema.MIGRATIONS
    ):
        raise CacheVersionError(path, version, schema.FORMAT_VERSION)
    return version


def _secure_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(directory, 0o700)


def _create(path: Path, cid: str, passphrase: str | None, keyring_ok: bool,
            rules: Rules | None = None) -> Store:
    _secure_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    conn = None
    try:
        conn = _connect(path)
        conn.execute("BEGIN IMMEDIATE")
        for stmt in schema.statements(schema.BOOTSTRAP):
            conn.execute(stmt)
        conn.executemany("INSERT INTO format (k, v) VALUES (?, ?)", [
            ("format_version", str(schema.FORMAT_VERSION)), ("cache_id", cid),
        ])
        schema.create(conn)
        dek, how = keyslots.create(conn, path, cid, passphrase, keyring_ok)
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn is not None:
            conn.close()
        if not isinstance(exc, CacheError):  # a keyring entry may have been made for nothing
            keys.delete_kek(keyslots.account(cid))
        for suffix in SUFFIXES:  # never leave a half-made cache behind
            with contextlib.suppress(OSError):
                os.unlink(f"{path}{suffix}")
        raise
    log.info("created cache %s (key from %s)", path.name, how)
    return Store(path, conn, FieldCipher(bytes(dek)), dek, cid, unlocked_by=how,
                 keyring_ok=keyring_ok, rules=rules)


def open_store(server_url: str, user: str, *, passphrase: str | None = None,
               data_dir: Path | None = None, keyring_ok: bool = True,
               create: bool = True, rules: Rules | None = None) -> Store:
    """Open (or create) and unlock the cache of ``user`` on ``server_url``.

    ``rules``: the triage rules the store classifies threads with as it writes them (default:
    :func:`~triage_tui.domain.triage.load_rules`, loaded on first need).

    The key comes from ``passphrase``, else ``TRIAGE_TUI_PASSPHRASE``, else
    ``TRIAGE_TUI_PASSPHRASE_FILE``, else the OS keyring (safe backends only, 3 s timeout).
    Blocking (KDF ~0.3 s, keyring calls): call it from a worker thread, not the UI loop.

    Raises (all :class:`~triage_tui.errors.UserError`): ``NeedsPassphrase`` (ask and call
    again; ``.creating`` says whether to ask for a new one), ``WrongPassphrase``,
    ``KeyUnavailable`` (keyring-only cache without keyring), ``CacheNotFound`` (create=False),
    ``CacheVersionError``, ``UnsupportedFilesystem``, ``WrongCache``, ``CacheCorrupt``,
    ``PassphraseFileError``. A wrong passphrase changes nothing on disk.
    """
    path = cache_path(server_url, user, data_dir=data_dir)
    fs.check_local(path.parent)
    cid = cache_id(server_url, user)
    if not path.exists():
        if not create:
            raise CacheNotFound(path)
        return _create(path, cid, passphrase, keyring_ok, rules)
    conn = _connect(path)
    try:
        fmt = _read_format(conn, path)
        version = _format_version(fmt, path)
        if fmt.get("cache_id") != cid:
            raise WrongCache(path)
        prefetch = None
        if version == schema.FORMAT_VERSION:
            prefetch = QueuePrefetch(path, conn.execute("PRAGMA data_version").fetchone()[0])
        try:
            dek, how = keyslots.unlock(conn, path, cid, passphrase, keyring_ok)
        except sqlite3.DatabaseError as exc:
            raise CacheCorrupt(path, _sqlite_reason(exc)) from None
        store = Store(path, conn, FieldCipher(bytes(dek)), dek, cid, unlocked_by=how,
                      keyring_ok=keyring_ok, rules=rules)
        if version < schema.FORMAT_VERSION:
            try:
                conn.execute("BEGIN IMMEDIATE")
                steps = schema.migrate(conn, version,
                                       backfill=lambda _v: store.reclassify(conn=conn))
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                conn.execute("ROLLBACK")
                raise CacheCorrupt(path, f"migration failed: {_sqlite_reason(exc)}") from None
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            store._data_version = store._pragma_data_version()
            log.info("migrated cache %s: %s", path.name, steps)
        store._prefetch = prefetch
        try:
            bad = store.verify(SMALL_TABLES)
        except sqlite3.DatabaseError as exc:
            raise CacheCorrupt(path, _sqlite_reason(exc)) from None
        if bad:
            log.warning("%d rows quarantined at open", len(bad))
        return store
    except BaseException:
        conn.close()
        raise


@dataclass(frozen=True, slots=True)
class CacheStatus:
    """What the unlock screen needs before asking anything."""

    path: Path
    exists: bool
    has_passphrase_slot: bool
    has_keyring_slot: bool
    keyring_available: bool
    passphrase_source: str | None  # "argument" | "env" | "file" | None
    needs_passphrase: bool  # True: ask (``creating``: ask for a new one, twice)
    creating: bool
    problem: str | None = None  # a UserError message (version, filesystem...), else None


def cache_status(server_url: str, user: str, *, passphrase: str | None = None,
                 data_dir: Path | None = None, keyring_ok: bool = True) -> CacheStatus:
    """Probe without unlocking: does the cache exist, and will opening it need a passphrase?

    Blocking (keyring probe up to 3 s): call it from a worker thread.
    """
    path = cache_path(server_url, user, data_dir=data_dir)
    problem = None
    slots: dict = {}
    exists = path.exists()
    try:
        _, source = keys.resolve_passphrase(passphrase)
    except CacheError as exc:
        source, problem = None, str(exc)
    try:
        fs.check_local(path.parent)
        if exists:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                fmt = _read_format(conn, path)
                _format_version(fmt, path)
                if fmt.get("cache_id") != cache_id(server_url, user):
                    raise WrongCache(path)
                slots = keyslots.read_slots(conn)
            except sqlite3.DatabaseError as exc:
                raise CacheCorrupt(path, _sqlite_reason(exc)) from None
            finally:
                conn.close()
    except CacheError as exc:
        problem = str(exc)
    has_pw = keyslots.PASSPHRASE in slots
    has_kr = keyslots.KEYRING in slots
    kr_avail = keyring_ok and keys.keyring_available()
    if not exists:
        needs = source is None and not kr_avail
    elif source is not None and has_pw:
        needs = False
    elif has_kr and kr_avail:
        try:
            needs = keys.get_kek(keyslots.account(cache_id(server_url, user))) is None and has_pw
        except keys.KeyringUnavailable:
            needs = has_pw
    else:
        needs = has_pw
    return CacheStatus(path, exists, has_pw, has_kr, kr_avail, source, needs, not exists, problem)


@dataclass(frozen=True, slots=True)
class WipeReport:
    path: Path
    removed: list[Path]
    keyring_entry_removed: bool
    unsent: int  # outbox rows not yet acknowledged by the server (lost by the wipe)


def pending_outbox(path: Path) -> int:
    """Outbox rows not acked yet (the state column is plain: no unlock needed); -1 if unknown."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM outbox WHERE state != 'acked'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def wipe_cache(path: Path) -> WipeReport:
    """Delete a cache: its keyring entry, then its bytes (overwritten with zeros first, a best
    effort on SSDs and copy-on-write filesystems), its -wal, -shm and -journal files."""
    unsent = pending_outbox(path) if path.exists() else 0
    cid = None
    with contextlib.suppress(sqlite3.Error):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT v FROM format WHERE k = 'cache_id'").fetchone()
            cid = row[0] if row else None
        finally:
            conn.close()
    account = keyslots.account(cid) if cid else path.stem.removeprefix("cache-")
    kr_removed = keys.delete_kek(account)
    removed = []
    for suffix in SUFFIXES:
        p = Path(f"{path}{suffix}")
        if not p.exists():
            continue
        with contextlib.suppress(OSError), open(p, "r+b") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(0)
            chunk = b"\x00" * (1 << 20)
            while size > 0:
                size -= f.write(chunk[: min(size, len(chunk))])
            f.flush()
            os.fsync(f.fileno())
        p.unlink()
        removed.append(p)
    return WipeReport(path, removed, kr_removed, unsent)
