"""Typed config: defaults, TOML, and errors that name the file and the key."""

from __future__ import annotations

import pytest

from triage_tui.config import Config, ConfigError, load_config
from triage_tui.domain.templates import Practice
from triage_tui.themes import builtin_themes


def write(tmp_path, text: str):
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_missing_file_gives_defaults(tmp_path) -> None:
    assert load_config(tmp_path / "nope.toml") == Config()


def test_full_file(tmp_path) -> None:
    cfg = load_config(write(tmp_path, """
theme = "triage-light"
idle_lock_minutes = 0
ascii_glyphs = true
[server]
url = "https://fhir.example.org/r4"
user = "Practitioner/17"
[practice]
provider_name = "Dr. Okafor"
clinic_name = "Elm Street Clinic"
clinic_phone = "(555) 010-0100"
timezone = "America/New_York"
[keymap]
close = "d"
cursor_down = "j, down ,ctrl+n"
"""))
    assert cfg.practice.as_practice() == Practice("Dr. Okafor", "Elm Street Clinic",
                                                  "(555) 010-0100", "America/New_York")
    assert cfg.theme == "triage-light" and cfg.ascii_glyphs and cfg.idle_lock_minutes == 0
    assert cfg.server.url == "https://fhir.example.org/r4"
    assert cfg.keymap == {"close": "d", "cursor_down": "j,down,ctrl+n"}


@pytest.mark.parametrize("text, needle", [
    ("theme = 3", "key 'theme' must be a string"),
    ("idle_lock_minutes = true", "key 'idle_lock_minutes' must be a integer"),
    ("idle_lock_minutes = -1", "key 'idle_lock_minutes' must be 0 or more"),
    ("colour = 'red'", "unknown key 'colour'"),
    ("[server]\nport = 1", "unknown key 'server.port'"),
    ("server = 'x'", "key 'server' must be a table"),
    ("[keymap]\nfly = 'f'", "key 'keymap.fly' is not a command id"),
    ("[keymap]\nclose = ''", "key 'keymap.close' must be a string"),
    ("theme = ", "not valid TOML"),
    ("[practice]\nclinic_phone = 5550100", "key 'practice.clinic_phone' must be a string"),
    ("[practice]\nfax = '1'", "unknown key 'practice.fax'"),
    ("[practice]\ntimezone = 'Mars/Olympus'", "key 'practice.timezone' is not a known"),
    ("practice = 1", "key 'practice' must be a table"),
])
def test_errors_name_file_and_key(tmp_path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and needle in str(err.value)


def test_every_config_field_is_documented() -> None:
    import inspect

    import triage_tui.config as mod

    source = (inspect.getsource(mod.Config) + inspect.getsource(mod.ServerConfig)
              + inspect.getsource(mod.PracticeConfig))
    for name in [*Config.__dataclass_fields__, *mod.ServerConfig.__dataclass_fields__,
                 *mod.PracticeConfig.__dataclass_fields__]:
        line = next(ln for ln in source.splitlines() if ln.strip().startswith(f"{name}:"))
        after = source[source.index(line) + len(line):].lstrip()
        assert after.startswith('"""'), f"{name} has no docstring"


def test_three_themes_ship() -> None:
    assert {t.name for t in builtin_themes()} >= {"triage-dark", "triage-light", "triage-contrast"}


def test_app_practice_comes_from_the_config() -> None:
    from triage_tui.app import TriageApp
    from triage_tui.config import PracticeConfig
    from triage_tui.screens.compose import practice_for

    cfg = Config(practice=PracticeConfig("Dr. Okafor", "Elm Street Clinic", "555-0100"))
    app = TriageApp(cfg, store=object(), user_ref="Practitioner/1")  # type: ignore[arg-type]
    assert practice_for(app) == Practice("Dr. Okafor", "Elm Street Clinic", "555-0100", "UTC")
