"""Analytics test fixtures: fast KDF, no keyring, no passphrase in the environment."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from triage_tui.cache import crypto, keys


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch, tmp_path):
    monkeypatch.setattr(crypto, "DEFAULT_SCRYPT", crypto.ScryptParams(n=2**10, r=8, p=1))
    monkeypatch.delenv(keys.ENV_PASSPHRASE, raising=False)
    monkeypatch.delenv(keys.ENV_PASSPHRASE_FILE, raising=False)
    monkeypatch.setenv("TRIAGE_TUI_HOME", str(tmp_path / "home"))
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)
