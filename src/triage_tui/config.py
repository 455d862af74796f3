"""Typed user configuration, read from ``config.toml`` (:func:`locations.config_file`).

Every field has a default, so a missing file is a valid (empty) configuration. Unknown keys and
values of the wrong type are errors that name the file and the key, never silently ignored::

    theme = "triage-light"
    idle_lock_minutes = 10
    ascii_glyphs = false

    [server]
    url = "https://fhir.example.org/r4"
    user = "Practitioner/17"

    [practice]          # used by the reply templates ({clinic.phone}, {provider.name}, ...)
    provider_name = "Dr. Okafor"
    clinic_name = "Elm Street Clinic"
    clinic_phone = "(555) 010-0100"
    timezone = "America/New_York"

    [keymap]            # command id = comma-separated keys (see the help screen, `?`)
    close = "d"
    cursor_down = "j,down,ctrl+n"

This module does not import Textual: the CLI reads it before the app exists.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from triage_tui import locations
from triage_tui.domain.templates.context import Practice
from triage_tui.errors import UserError


class ConfigError(UserError):
    """The configuration file cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Where the practice's FHIR server is and who signs in."""

    url: str | None = None
    """Base URL of the FHIR R4 server, e.g. ``https://fhir.example.org/r4``."""

    user: str | None = None
    """The signed-in staff member as a FHIR reference, e.g. ``Practitioner/17``."""

    client_id: str | None = None
    """OAuth 2.0 client id (client credentials). The secret is never in this file: it comes from
    ``TRIAGE_TUI_CLIENT_SECRET`` or the OS keyring."""

    token_endpoint: str | None = None
    """OAuth token endpoint; default: discovered from ``{url}/.well-known/smart-configuration``."""


@dataclass(frozen=True, slots=True)
class PracticeConfig:
    """The practice's own details, as the reply templates write them. Not patient data.

    A template that needs a value left empty here cannot be sent: the compose and batch screens
    say which key to set."""

    provider_name: str = ""
    """The provider named in replies (``{provider.name}``), e.g. ``Dr. Okafor``."""

    clinic_name: str = ""
    """The practice's name as signed in replies (``{clinic.name}``)."""

    clinic_phone: str = ""
    """The number patients are told to call (``{clinic.phone}``), written as patients dial it."""

    timezone: str = "UTC"
    """IANA time zone in which appointment dates and times are written, e.g.
    ``America/New_York``."""

    def as_practice(self) -> Practice:
        """The settings as the template layer's :class:`~triage_tui.domain.templates.Practice`."""
        return Practice(provider_name=self.provider_name.strip(),
                        clinic_name=self.clinic_name.strip(),
                        clinic_phone=self.clinic_phone.strip(), timezone=self.timezone)


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration. Field docstrings are the reference for ``config.toml``."""

    theme: str = "triage-dark"
    """Colour theme: ``triage-dark``, ``triage-light``, ``triage-contrast`` or any Textual theme."""

    keymap: dict[str, str] = field(default_factory=dict)
    """Key overrides: command id -> comma-separated keys. Ids are listed on the help screen."""

    idle_lock_minutes: int = 5
    """Hide the queue and ask for the passphrase again after this many idle minutes (0 = never)."""

    retention_days: int = 90
    """Closed threads idle for longer are purged from the local cache (0 = keep them)."""

    lock_on_hangup: bool = True
    """Lock (drop the data key) when the terminal hangs up (SIGHUP), e.g. a dropped SSH link."""

    ascii_glyphs: bool = False
    """Use plain ASCII marks (``!``, ``*``, ``@``) instead of Unicode glyphs, for old terminals."""

    preview: bool = True
    """Show the preview of the highlighted thread in the inbox (toggle with ``v``)."""

    animations: bool = True
    """Cursor blink and UI animations. Tests turn these off for deterministic snapshots."""

    server: ServerConfig = field(default_factory=ServerConfig)
    """The ``[server]`` table."""

    practice: PracticeConfig = field(default_factory=PracticeConfig)
    """The ``[practice]`` table: names and phone number the reply templates fill in."""


def load_config(path: Path | None = None) -> Config:
    """Read ``config.toml`` (default: :func:`locations.config_file`); missing file: defaults."""
    path = path or locations.config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return config_from_dict(data, source=str(path))


def config_from_dict(data: dict[str, Any], *, source: str = "config.toml") -> Config:
    """Build a :class:`Config` from parsed TOML, checking every key and type."""
    values = _check_table(Config, data, source, prefix="")
    if "server" in values:
        if isinstance(values["server"], dict) and "token" in values["server"]:
            # issue 8: no bearer token in a plain file (the value is never echoed)
            raise ConfigError(
                f"{source}: key 'server.token' is not allowed: a bearer token must not be kept "
                "in a plain file. Remove it and give the token once in TRIAGE_TUI_TOKEN or with "
                "--token: it is then stored encrypted in the local cache.")
        values["server"] = ServerConfig(**_check_table(ServerConfig, values["server"], source,
                                                       prefix="server."))
    if "practice" in values:
        values["practice"] = PracticeConfig(**_check_table(
            PracticeConfig, values["practice"], source, prefix="practice."))
        _check_timezone(values["practice"].timezone, source)
    if "keymap" in values:
        values["keymap"] = _check_keymap(values["keymap"], source)
    if values.get("idle_lock_minutes", 0) < 0:
        raise ConfigError(f"{source}: key 'idle_lock_minutes' must be 0 or more")
    if values.get("retention_days", 0) < 0:
        raise ConfigError(f"{source}: key 'retention_days' must be 0 or more")
    return Config(**values)


_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str, "str | None": str, "int": int, "bool": bool,
    "dict[str, str]": dict, "ServerConfig": dict, "PracticeConfig": dict,
}


def _check_table(cls: type, data: Any, source: str, *, prefix: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: key '{prefix.rstrip('.')}' must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{source}: unknown key '{prefix}{key}' (known keys: {known})")
        expected = _TYPES[str(fields[key].type)]
        # bool is an int in Python: refuse `idle_lock_minutes = true`.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            name = expected.__name__ if isinstance(expected, type) else "value"
            words = {"dict": "table", "str": "string", "int": "integer", "bool": "true or false"}
            name = words.get(name, name)
            raise ConfigError(f"{source}: key '{prefix}{key}' must be a {name}, "
                              f"not {type(value).__name__} {value!r}")
        out[key] = value
    return out


def _check_timezone(name: str, source: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{source}: key 'practice.timezone' is not a known IANA time zone: "
                          f"{name!r} (e.g. \"America/New_York\")") from exc


def _check_keymap(keymap: dict[str, Any], source: str) -> dict[str, str]:
    # Imported here: the command registry is app-layer data, but plain Python (no Textual).
    from triage_tui.actions import COMMANDS_BY_ID

    out: dict[str, str] = {}
    for command_id, keys in keymap.items():
        if command_id not in COMMANDS_BY_ID:
            raise ConfigError(f"{source}: key 'keymap.{command_id}' is not a command id "
                              "(the help screen, '?', lists them)")
        if not isinstance(keys, str) or not all(k.strip() for k in keys.split(",")):
            raise ConfigError(f"{source}: key 'keymap.{command_id}' must be a string of "
                              "comma-separated keys, e.g. \"j,down\"")
        out[command_id] = ",".join(k.strip() for k in keys.split(","))
    return out
