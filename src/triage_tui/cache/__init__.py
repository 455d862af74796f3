"""Encrypted local cache (no Textual, no httpx): see :func:`open_store` and ``api.py``."""

from triage_tui.cache.errors import (
    CacheCorrupt,
    CacheError,
    CacheLocked,
    CacheNotFound,
    CacheVersionError,
    KeyUnavailable,
    NeedsPassphrase,
    PassphraseFileError,
    UnsupportedFilesystem,
    WrongCache,
    WrongPassphrase,
)
from triage_tui.cache.keys import ENV_PASSPHRASE, ENV_PASSPHRASE_FILE, resolve_passphrase
from triage_tui.cache.open import (
    CacheStatus,
    WipeReport,
    cache_id,
    cache_path,
    cache_status,
    list_caches,
    open_store,
    wipe_cache,
)
from triage_tui.cache.store import AuditEntry, QuarantineEntry, Store

__all__ = [
    "ENV_PASSPHRASE", "ENV_PASSPHRASE_FILE", "AuditEntry", "CacheCorrupt", "CacheError",
    "CacheLocked", "CacheNotFound", "CacheStatus", "CacheVersionError", "KeyUnavailable",
    "NeedsPassphrase", "PassphraseFileError", "QuarantineEntry", "Store", "UnsupportedFilesystem",
    "WipeReport", "WrongCache", "WrongPassphrase", "cache_id", "cache_path", "cache_status",
    "list_caches", "open_store", "resolve_passphrase", "wipe_cache",
]
