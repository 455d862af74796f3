"""Templates: placeholders, every variable kind, missing values, language variants, files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from triage_tui.domain.models import Appointment, Medication, Message, Observation, Patient
from triage_tui.domain.templates import (
    VARIABLES,
    Practice,
    TemplateError,
    TemplateLibrary,
    build_context,
    clean_value,
    load_template,
    unfilled,
)
from triage_tui.domain.templates.fuzzy import score
from triage_tui.domain.templates.render import PlaceholderError, parse_body, render_body

NOW = datetime(2025, 3, 14, 14, 30, tzinfo=UTC)  # a Friday
PRACTICE = Practice("Dr. Okafor", "Elm Street Clinic", "555-0100", "America/New_York")


def patient(lang="en", given="Ada Mae"):
    return Patient("p1", "1", given, "Quill", language=lang)


def msg(text, sender="Patient/p1"):
    return Message("m1", "1", "t1", text, NOW, sender)


LISINOPRIL = Medication("m1", "1", "p1", "Lisinopril", "10 mg daily", pharmacy="Corner Pharmacy")
METFORMIN = Medication("m2", "1", "p1", "Metformin", "500 mg twice daily",
                       pharmacy="Corner Pharmacy")
APPT = Appointment("a1", "1", "p1", datetime(2025, 3, 18, 13, 30, tzinfo=UTC),
                   practitioner="Dr. Okafor")
POTASSIUM = Observation("o1", "1", "p1", "Potassium", "5.9", "mmol/L", 3.5, 5.1, "H",
                        NOW - timedelta(days=2))
HBA1C = Observation("o2", "1", "p1", "HbA1c", "6.1", "%", effective=NOW - timedelta(days=5))


def full_context(lang="en", text="Can I get a refill of my lisinopril? Also my potassium?"):
    return build_context(patient(lang), messages=[msg(text)], medications=[LISINOPRIL, METFORMIN],
                         appointments=[APPT], observations=[POTASSIUM, HBA1C],
                         practice=PRACTICE, now=NOW)


def test_every_variable_kind_renders() -> None:
    ctx = full_context()
    body = " | ".join(f"{{{name}}}" for name in VARIABLES)
    text, missing = render_body(parse_body(body), ctx.values, ctx.reasons)
    assert missing == ()
    assert text.split(" | ") == [
        "Ada", "Lisinopril", "10 mg daily", "Corner Pharmacy",
        "Tuesday, March 18", "9:30 AM",  # 13:30 UTC is 9:30 in New York (EDT)
        "Dr. Okafor", "Potassium", "5.9 mmol/L", "Dr. Okafor", "Elm Street Clinic", "555-0100",
    ]


def test_spanish_dates_and_times() -> None:
    ctx = full_context("es")
    assert ctx.values["appointment.date"] == "martes 18 de marzo"
    assert ctx.values["appointment.time"] == "9:30"


def test_missing_values_become_visible_blanks_with_reasons() -> None:
    ctx = build_context(patient(), messages=[msg("refill please")],
                        medications=[LISINOPRIL, METFORMIN], practice=Practice(), now=NOW)
    body = "Hi {patient.first_name}, {medication.name} at {pharmacy.name}; {clinic.phone}; " \
           "{appointment.date}; {result.value}"
    text, missing = render_body(parse_body(body), ctx.values, ctx.reasons)
    names = {m.name: m.reason for m in missing}
    assert set(names) == {"medication.name", "clinic.phone", "appointment.date", "result.value"}
    assert "2 active medications, none named" in names["medication.name"]
    assert names["clinic.phone"] == "not set in the practice settings"
    assert text.startswith("Hi Ada, [[medication.name]] at Corner Pharmacy;")
    assert unfilled(text) == ["medication.name", "clinic.phone", "appointment.date",
                              "result.value"]


def test_blank_or_whitespace_value_is_missing_never_empty() -> None:
    text, missing = render_body(parse_body("Hi {patient.first_name}!"),
                                {"patient.first_name": " \u200b\t "})
    assert text == "Hi [[patient.first_name]]!"
    assert [m.name for m in missing] == ["patient.first_name"]
    ctx = build_context(patient(given=""), practice=PRACTICE, now=NOW)
    assert "patient.first_name" in ctx.reasons


def test_fill_in_blanks_always_block() -> None:
    text, missing = render_body(parse_body("Denied: {fill.reason}."), {"fill.reason": "x"})
    assert text == "Denied: [[reason]]." and missing[0].reason == "type it in"
    assert unfilled(text.replace("[[reason]]", "we need labs first")) == []


def test_ambiguous_medication_is_not_guessed() -> None:
    both = build_context(patient(), messages=[msg("lisinopril and metformin please")],
                         medications=[LISINOPRIL, METFORMIN], practice=PRACTICE, now=NOW)
    assert "medication.name" not in both.values
    assert "2 medications named" in both.reasons["medication.name"]
    only = build_context(patient(), messages=[msg("refill please")], medications=[METFORMIN],
                         practice=PRACTICE, now=NOW)
    assert only.values["medication.name"] == "Metformin"
    stopped = Medication("m3", "1", "p1", "Lisinopril", "5 mg", status="stopped")
    ctx = build_context(patient(), messages=[msg("my lisinopril")], medications=[stopped],
                        practice=PRACTICE, now=NOW)
    assert "medication.name" not in ctx.values
    staff_mention = build_context(patient(), messages=[msg("refill"), msg(
        "we checked your lisinopril", "Practitioner/n1")], medications=[LISINOPRIL, METFORMIN],
        practice=PRACTICE, now=NOW)
    assert "medication.name" not in staff_mention.values  # only patient words choose


def test_results_and_appointments_choice() -> None:
    ctx = build_context(patient(), messages=[msg("what about my a1c")],
                        observations=[POTASSIUM, HBA1C], practice=PRACTICE, now=NOW)
    assert "result.name" not in ctx.values  # two recent results, none named (a1c != hba1c)
    ctx = build_context(patient(), messages=[msg("my HbA1c result?")],
                        observations=[POTASSIUM, HBA1C], practice=PRACTICE, now=NOW)
    assert ctx.values["result.value"] == "6.1 %"
    past = Appointment("a0", "1", "p1", NOW - timedelta(days=1))
    cancelled = Appointment("a2", "1", "p1", NOW + timedelta(days=1), status="cancelled")
    ctx = build_context(patient(), appointments=[past, cancelled, APPT], practice=PRACTICE,
                        now=NOW)
    assert ctx.values["appointment.date"] == "Tuesday, March 18"
    ctx = build_context(patient(), appointments=[past, cancelled], practice=PRACTICE, now=NOW)
    assert ctx.reasons["appointment.time"] == "no upcoming appointment booked"


def test_untrusted_values_are_plain_text() -> None:
    evil = Patient("p1", "1", "\x1b[31mEve\u202e\n{clinic.phone}", "X")
    ctx = build_context(evil, practice=PRACTICE, now=NOW)
    text, missing = render_body(parse_body("Hi {patient.first_name}"), ctx.values)
    assert text == "Hi [31mEve" and missing == ()  # ESC and bidi gone, no second expansion
    assert clean_value("a\u0085b\u2028c") == "a b c"
    text, missing = render_body(parse_body("{medication.name}"), {"medication.name": "[[x]]"})
    assert missing  # a value that looks like a blank is treated as missing


@pytest.mark.parametrize("body, problem", [
    ("Hi {patient.__class__}", "stray"),
    ("Hi {patient.last_name}", "unknown variable"),
    ("Hi {0}", "stray '{'"),
    ("Hi {patient.first_name!r}", "stray '{'"),
    ("Hi {patient.first_name:>10}", "stray '{'"),
    ("Hi }", "stray '}'"),
    ("{fill.}", "stray '{'"),
])
def test_bad_placeholders_are_refused(body, problem) -> None:
    with pytest.raises(PlaceholderError, match=problem):
        parse_body(body)


def test_literal_braces() -> None:
    assert render_body(parse_body("{{not a var}} {clinic.phone}"), {"clinic.phone": "5"}) \
        == ("{not a var} 5", ())


def test_shipped_library_covers_every_category_in_en_and_es() -> None:
    lib = TemplateLibrary(None)
    assert lib.errors == []
    cats = {g.category.value for g in lib.groups()}
    assert cats == {"refill", "appointment", "results", "clinical", "admin"}
    for g in lib.groups():
        assert g.languages == ("en", "es"), g.id
    for needed in ("refill-sent-pharmacy", "refill-needs-appointment", "refill-denied",
                   "appointment-confirmed", "appointment-reschedule", "results-normal",
                   "results-follow-up", "clinical-self-care", "admin-records", "admin-billing"):
        assert lib.get(needed) is not None
    assert "911" in lib.get("clinical-self-care").variants["es"].body
    # every shipped template renders fully from a complete context (fill-ins aside)
    for g in lib.groups():
        r = g.render(full_context())
        assert all(m.name.startswith("fill.") for m in r.missing), (g.id, r.missing)


def test_spanish_variant_chosen_by_patient_language() -> None:
    lib = TemplateLibrary(None)
    g = lib.get("refill-sent-pharmacy")
    es = g.render(full_context("es"))
    assert es.template.language == "es" and not es.fallback
    assert es.text.startswith("Hola Ada:") and "Lisinopril (10 mg daily)" in es.text
    en = g.render(full_context("en"))
    assert en.text.startswith("Hi Ada,")
    fr = g.render(full_context("fr"))
    assert fr.template.language == "en" and fr.fallback


def test_user_templates_picked_up_without_restart(tmp_path) -> None:
    lib = TemplateLibrary(tmp_path)
    n = len(lib)
    assert lib.refresh() is False
    (tmp_path / "mine.toml").write_text(
        'id = "mine"\ntitle = "My refill note"\ncategory = "refill"\nlanguage = "en"\n'
        'body = "Hi {patient.first_name}, done."\n', encoding="utf-8")
    assert lib.refresh() is True and len(lib) == n + 1
    assert lib.search("my ref")[0].group.id == "mine"
    # a user file overrides a shipped variant with the same id and language
    (tmp_path / "override.toml").write_text(
        'id = "results-normal"\ntitle = "Normal!"\ncategory = "results"\nlanguage = "es"\n'
        'body = "Todo bien, {patient.first_name}."\n', encoding="utf-8")
    (tmp_path / "bad.toml").write_text('id = "bad"\ntitle = "x"\nlanguage = "en"\n'
                                       'body = "Hi {patient.age}"\n', encoding="utf-8")
    lib.refresh()
    assert lib.get("results-normal").variants["es"].title == "Normal!"
    assert lib.get("results-normal").variants["en"].title == "Results normal"
    assert len(lib.errors) == 1 and "bad.toml: body: line 1" in lib.errors[0]
    assert "unknown variable {patient.age}" in lib.errors[0]
    (tmp_path / "mine.toml").unlink()
    lib.refresh()
    assert lib.get("mine") is None


@pytest.mark.parametrize("text, key", [
    ('title = "t"\nlanguage = "en"\nbody = "b"\n', "id"),
    ('id = "a b"\ntitle = "t"\nlanguage = "en"\nbody = "b"\n', "id"),
    ('id = "a"\ntitle = "t"\nlanguage = "en"\ncategory = "x"\nbody = "b"\n', "category"),
    ('id = "a"\ntitle = "t"\nlanguage = "en"\nbody = "b"\nextra = 1\n', "extra"),
    ('id = "a"\ntitle = "t"\nlanguage = "en"\nbody = ""\n', "body"),
    ('id = "a"\ntitle = "t"\nlanguage = "en"\nbody = "b"\nkeywords = "k"\n', "keywords"),
])
def test_template_errors_name_file_and_key(text, key) -> None:
    with pytest.raises(TemplateError) as exc:
        load_template(text, "f.toml")
    assert exc.value.key == key and str(exc.value).startswith(f"f.toml: {key}:")


def test_fuzzy_search() -> None:
    assert score("rsp", "Refill sent to your pharmacy")[1] == [0, 7, 20]
    assert score("xyz", "Refill sent") is None
    assert score("cita", "Cita confirmada") is not None
    assert score("resultados", "Résultados") is not None  # accents ignored
    lib = TemplateLibrary(None)
    assert lib.search("refill sent")[0].group.id == "refill-sent-pharmacy"
    assert lib.search("cita conf")[0].group.id == "appointment-confirmed"  # Spanish titles
    assert lib.search("911")[0].group.category.value == "clinical"  # keywords
    first = lib.search("", category="results")
    assert {h.group.category.value for h in first[:2]} == {"results"}
