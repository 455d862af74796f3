"""Field encryption and key wrapping (AES-256-GCM, HKDF, scrypt), no I/O.

Encrypted column format: ``0x01 | nonce (12 bytes) | ciphertext + tag (16 bytes)``.
The associated data is ``"{table}|{row id}|{column}"``: a ciphertext copied into another row or
column fails to decrypt. Nonces are random (96 bits) and fresh for every write.

Key hierarchy::

    KEK (OS keyring secret, or scrypt(passphrase, salt, n, r, p))
      └─ wraps DEK (random 256 bits, one per cache)
            ├─ HKDF "field-enc"  -> AES-256-GCM key of every PHI field
            └─ HKDF "audit-mac"  -> HMAC-SHA256 key of the audit chain
"""

from __future__ import annotations

import hmac
import os
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT_V1 = 1
NONCE_LEN = 12
KEY_LEN = 32
_V1 = bytes([FORMAT_V1])


class DecryptError(Exception):
    """A field failed authentication (tampered, corrupted, moved, or the wrong key)."""


@dataclass(frozen=True, slots=True)
class ScryptParams:
    n: int = 2**17  # ~0.3 s and 128 MiB on a 2020s laptop core (OWASP's scrypt minimum)
    r: int = 8
    p: int = 1

    def as_dict(self) -> dict[str, int]:
        return {"n": self.n, "r": self.r, "p": self.p}

    @classmethod
    def from_dict(cls, d: dict) -> ScryptParams:
        n, r, p = int(d["n"]), int(d["r"]), int(d["p"])
        if not (2**10 <= n <= 2**22 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError("scrypt parameters out of range")
        return cls(n, r, p)


DEFAULT_SCRYPT = ScryptParams()


def normalize_passphrase(passphrase: str) -> bytes:
    """NFC-normalised UTF-8, so that the same passphrase typed on two systems matches."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def derive_kek(passphrase: str, salt: bytes, params: ScryptParams) -> bytes:
    kdf = Scrypt(salt=salt, length=KEY_LEN, n=params.n, r=params.r, p=params.p)
    return kdf.derive(normalize_passphrase(passphrase))


def _wrap_aad(cache_id: str, slot: str) -> bytes:
    return f"triage-tui|dek|v1|{cache_id}|{slot}".encode()


def wrap_key(kek: bytes, dek: bytes, cache_id: str, slot: str) -> bytes:
    nonce = os.urandom(NONCE_LEN)
    return _V1 + nonce + AESGCM(kek).encrypt(nonce, dek, _wrap_aad(cache_id, slot))


def unwrap_key(kek: bytes, wrapped: bytes, cache_id: str, slot: str) -> bytes:
    if len(wrapped) != 1 + NONCE_LEN + KEY_LEN + 16 or wrapped[0] != FORMAT_V1:
        raise DecryptError("malformed wrapped key")
    try:
        return AESGCM(kek).decrypt(wrapped[1:13], wrapped[13:], _wrap_aad(cache_id, slot))
    except InvalidTag:
        raise DecryptError("wrong key") from None


def _hkdf(dek: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=None, info=info).derive(dek)


def field_key(dek: bytes) -> bytes:
    """The AES-256-GCM key of the PHI fields (derived from the DEK; it cannot unwrap the DEK
    or forge the audit chain's MACs)."""
    return _hkdf(dek, b"triage-tui field-enc v1")


class FieldCipher:
    """Encrypts and decrypts PHI fields with AAD ``table|row|column``. Thread-safe."""

    __slots__ = ("_aead", "_mac_key")

    def __init__(self, dek: bytes) -> None:
        self._aead = AESGCM(field_key(dek))
        self._mac_key = _hkdf(dek, b"triage-tui audit-mac v1")

    @classmethod
    def fields_only(cls, key: bytes) -> FieldCipher:
        """A cipher of the PHI fields alone, from :func:`field_key` (a helper process that
        reads the cache: :mod:`~triage_tui.cache.rules_worker`); it has no audit key."""
        self = cls.__new__(cls)
        self._aead = AESGCM(key)
        self._mac_key = b""
        return self

    def encrypt(self, table: str, row_id: str, column: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_LEN)
        aad = f"{table}|{row_id}|{column}".encode()
        return _V1 + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def encrypt_many(self, table: str, column: str, items: list[tuple[str, bytes]]) -> list[bytes]:
        """Bulk form of :meth:`encrypt` (one urandom call for all nonces)."""
        pool = os.urandom(NONCE_LEN * len(items))
        nonces = [pool[i : i + NONCE_LEN] for i in range(0, len(pool), NONCE_LEN)]
        enc, pre, suf = self._aead.encrypt, f"{table}|", f"|{column}"
        return [_V1 + nonce + enc(nonce, plaintext, f"{pre}{row_id}{suf}".encode())
                for nonce, (row_id, plaintext) in zip(nonces, items)]

    def decrypt(self, table: str, row_id: str, column: str, blob: bytes | None) -> bytes:
        if blob is None or len(blob) < 1 + NONCE_LEN + 16 or blob[0] != FORMAT_V1:
            raise DecryptError("malformed ciphertext")
        try:
            return self._aead.decrypt(
                blob[1:13], blob[13:], f"{table}|{row_id}|{column}".encode()
            )
        except InvalidTag:
            raise DecryptError("authentication failed") from None

    def phi_text(self, table: str, row_id: str, blob: bytes | None) -> str | None:
        """The text of a row's ``phi`` column; None when it does not decrypt or decode."""
        try:
            return self.decrypt(table, row_id, "phi", blob).decode("utf-8")
        except (DecryptError, UnicodeDecodeError):
            return None

    def mac(self, data: bytes) -> bytes:
        if not self._mac_key:
            from triage_tui.cache.errors import CacheLocked

            raise CacheLocked()
        return hmac.digest(self._mac_key, data, "sha256")

    def drop(self) -> None:
        """Forget the keys (best effort: Python cannot wipe immutable bytes). Later calls,
        even from a worker thread holding this object, raise CacheLocked."""
        self._aead = _Dropped()  # type: ignore[assignment]
        self._mac_key = b""

    @property
    def dropped(self) -> bool:
        return isinstance(self._aead, _Dropped)


class _Dropped:
    def encrypt(self, *_: object) -> bytes:
        from triage_tui.cache.errors import CacheLocked

        raise CacheLocked()

    decrypt = encrypt
