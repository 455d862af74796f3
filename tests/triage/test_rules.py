"""Loading rules: defaults, user overrides, [extend], errors that name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage_tui.domain.codes import Category, Pool
from triage_tui.domain.triage import RulesError, classify, load_rules
from triage_tui.errors import UserError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "rules.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_load_without_user_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_TUI_HOME", str(tmp_path))
    rules = load_rules()  # no config_dir()/rules.toml: defaults only
    assert rules.routing[Category.REFILL] is Pool.PHARMACY
    assert len(rules.sources) == 3


def test_user_file_in_config_dir_is_merged(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_TUI_HOME", str(tmp_path))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "rules.toml").write_text('[routing]\nrefill = "nursing"\n')
    rules = load_rules()
    assert rules.routing[Category.REFILL] is Pool.NURSING
    assert rules.routing[Category.ADMIN] is Pool.FRONT_DESK  # untouched default
    assert rules.sources[-1].endswith("rules.toml")


def test_override_replaces_list_and_extend_appends(tmp_path):
    p = write(
        tmp_path,
        '[urgent.custom]\npriority = "asap"\nterms.en = ["purple toes"]\n'
        '[extend.category.refill.terms]\nen = ["zorbex"]\n',
    )
    rules = load_rules(p)
    assert classify(rules, "", "my toes are purple toes now").urgent
    assert classify(rules, "", "zorbex please").category is Category.REFILL
    assert classify(rules, "", "need my refill").category is Category.REFILL  # defaults kept


def test_disable_an_urgent_group(tmp_path):
    rules = load_rules(write(tmp_path, "[urgent.emergency]\nenabled = false\n"))
    assert "emergency" not in rules.urgent


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[routing]\nrefill = "pharmcy"\n', "routing.refill", "pharmcy"),
        ("[settings]\nsubject_wieght = 2\n", "settings.subject_wieght", "unknown key"),
        ('[category.refill]\npatterns.en = ["ok", "(unclosed"]\n', "category.refill.patterns.en[1]", "regular expression"),
        ('[category.refil]\nterms.en = ["x"]\n', "category.refil", "unknown value"),
        ('[calendar]\ntimezone = "Mars/Olympus"\n', "calendar.timezone", "time zone"),
        ('[calendar.hours]\nmon = ["9-5"]\n', "calendar.hours.mon[0]", "HH:MM"),
        ('[calendar]\nholidays = ["2026-13-01"]\n', "calendar.holidays[0]", "not a date"),
        ('[response_time.refill]\nroutine = "two days"\n', "response_time.refill.routine", "business hours"),
        ('[urgent.x]\npriority = "routine"\nterms.en = ["y"]\n', "urgent.x.priority", "urgent, asap or stat"),
        ("version = 9\n", "version", "unsupported"),
        ('[cues.negation]\nen = [""]\n', "cues.negation.en[0]", "non-empty"),
    ],
)
def test_errors_name_file_and_key(tmp_path, text, key, words):
    p = write(tmp_path, text)
    with pytest.raises(RulesError) as info:
        load_rules(p)
    err = info.value
    assert isinstance(err, UserError)
    assert err.file == str(p) and err.key == key
    assert str(p) in str(err) and key in str(err) and words in str(err)


def test_invalid_toml_names_file(tmp_path):
    p = write(tmp_path, "[routing\n")
    with pytest.raises(RulesError, match="invalid TOML") as info:
        load_rules(p)
    assert info.value.file == str(p)


def test_missing_explicit_file(tmp_path):
    with pytest.raises(RulesError, match="file not found"):
        load_rules(tmp_path / "nope.toml")


def test_error_in_default_key_overridden_names_user_file(tmp_path):
    # the user file replaced calendar.hours.mon; the error must point at the user file
    p = write(tmp_path, '[calendar.hours]\nmon = ["17:00-08:00"]\n')
    with pytest.raises(RulesError) as info:
        load_rules(p)
    assert info.value.file == str(p) and info.value.key == "calendar.hours.mon[0]"
