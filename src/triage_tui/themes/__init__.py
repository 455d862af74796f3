"""The themes shipped with triage-tui, one TOML file each (keys are ``textual.theme.Theme`` fields).

A ``*.toml`` file in the user's config directory under ``themes/`` is loaded the same way, so a
practice can add its own theme without code.
"""

from __future__ import annotations

import dataclasses
import tomllib
from importlib import resources
from pathlib import Path

from textual.theme import Theme

from triage_tui.errors import UserError

DEFAULT_THEME = "triage-dark"
_FIELDS = {f.name for f in dataclasses.fields(Theme)}


def theme_from_toml(text: str, source: str) -> Theme:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source}: not valid TOML: {exc}") from exc
    unknown = set(data) - _FIELDS
    if unknown:
        raise UserError(f"{source}: unknown theme key '{sorted(unknown)[0]}'")
    if "name" not in data or "primary" not in data:
        raise UserError(f"{source}: a theme needs at least 'name' and 'primary'")
    return Theme(**data)


def builtin_themes() -> list[Theme]:
    files = sorted(p for p in resources.files(__name__).iterdir() if p.name.endswith(".toml"))
    return [theme_from_toml(p.read_text("utf-8"), p.name) for p in files]


def user_themes(directory: Path) -> list[Theme]:
    if not directory.is_dir():
        return []
    return [theme_from_toml(p.read_text("utf-8"), str(p)) for p in sorted(directory.glob("*.toml"))]
