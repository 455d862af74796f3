"""Where triage-tui keeps its files: one place, built on platformdirs (honours XDG_* on Linux).

``TRIAGE_TUI_HOME`` overrides every location (tests and the demo point it at a temp dir).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

APP_NAME = "triage-tui"

_dirs = PlatformDirs(APP_NAME, appauthor=False)


def _home() -> Path | None:
    home = os.environ.get("TRIAGE_TUI_HOME")
    return Path(home) if home else None


def data_dir() -> Path:
    """Caches (one SQLite file per server and user)."""
    home = _home()
    return home / "data" if home else Path(_dirs.user_data_dir)


def config_dir() -> Path:
    """config.toml, rules overrides, user templates, themes."""
    home = _home()
    return home / "config" if home else Path(_dirs.user_config_dir)


def state_dir() -> Path:
    """Logs and crash reports (never PHI)."""
    home = _home()
    return home / "state" if home else Path(_dirs.user_state_dir)


def config_file() -> Path:
    return config_dir() / "config.toml"
