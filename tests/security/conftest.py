"""Security tests: hermetic home, fast KDF, no keyring, synthetic canary PHI."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from triage_tui.cache import crypto, keys

from sec_canary import CANARY, CANARY_NEEDLES  # noqa: F401


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch, tmp_path):
    monkeypatch.setattr(crypto, "DEFAULT_SCRYPT", crypto.ScryptParams(n=2**10, r=8, p=1))
    for name in (keys.ENV_PASSPHRASE, keys.ENV_PASSPHRASE_FILE, "TRIAGE_TUI_TOKEN",
                 "TRIAGE_TUI_DEV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRIAGE_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(keys, "KEYRING_TIMEOUT", 0.5)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)
    from triage_tui.security import logs

    logs.teardown_logging()
