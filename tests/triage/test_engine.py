"""classify(): categories, urgency, negation scope, history, Spanish, spans, server category."""

from __future__ import annotations

import pytest

from triage_tui.domain.codes import Category, Priority
from triage_tui.domain.triage import classify, default_rules
from triage_tui.domain.triage.text import fold, literal_prefixes, trie_regex


@pytest.fixture(scope="module")
def rules():
    return default_rules()


def urgent(rules, text, subject=""):
    return classify(rules, subject, text).urgent


@pytest.mark.parametrize(
    "text",
    [
        "my lips are swelling since the new pill",
        "no chest pain but my lips are swelling",
        "I can't breathe",
        "cant breath!!",
        "Me duele el pecho y no puedo respirar",
        "se me están hinchando los labios",
        "My mom suddenly can't lift her right arm and her speech is slurry.",
        "feels like an elephant sitting on me since I woke up",
        "I took the whole bottle of my sleeping pills",
        "I had chest pain last year and now it is back",
        "worst headache of my life",
        "baby 3 wks old fever 101",
        "BP 192/118 and a headache",
    ],
)
def test_urgent(rules, text):
    c = classify(rules, "", text)
    assert c.urgent, c.explanation
    assert c.priority is not Priority.ROUTINE


@pytest.mark.parametrize(
    "text",
    [
        "no chest pain, just need my refill",
        "Denies chest pain or shortness of breath.",
        "I don't have any chest pain",
        "sin dolor de pecho, solo necesito mi receta",
        "No tengo dolor de pecho ni falta de aire",
        "I had a heart attack 5 years ago and need a refill of metoprolol",
        "History of stroke. Please renew my Eliquis.",
        "Hace dos años tuve dolor de pecho. Ahora tengo agruras.",
        "My chest pain has resolved, thanks",
        "What should I do if I get chest pain on the new medication?",
        "PLEASE send my seizure meds",
    ],
)
def test_not_urgent(rules, text):
    c = classify(rules, "", text)
    assert not c.urgent, c.explanation
    assert c.priority is Priority.ROUTINE


def test_negation_reports_the_cue(rules):
    c = classify(rules, "", "No chest pain, just need my refill")
    (m,) = [m for m in c.matches if m.kind == "urgent"]
    assert m.negated_by == "No" and m.cue_kind == "negation"
    assert (m.cue_start, m.cue_end) == (0, 2)
    assert not m.active


def test_negation_scope_is_limited(rules):
    # a cue too many words before the term does not reach it
    assert urgent(rules, "no idea what is happening but now sudden chest pain")
    assert urgent(rules, "I'm not eating well and I have chest pain")
    assert urgent(rules, "not sure if this matters but I have chest pain")


def test_history_cue(rules):
    c = classify(rules, "", "I had a stroke in 2019, doing fine.")
    (m,) = [m for m in c.matches if m.kind == "urgent"]
    assert m.cue_kind == "history" and m.negated_by == "in 2019"


def test_spans_point_at_the_original_text(rules):
    subject = "ÚRGENTE: Médico"
    text = "Señora: ¡me DUELE el pecho!  Y no puedo  respirar."
    c = classify(rules, subject, text)
    for m in c.matches:
        src = subject if m.field == "subject" else text
        assert src[m.start : m.end] == m.text
        if m.cue_start is not None:
            assert src[m.cue_start : m.cue_end] == m.negated_by
    assert any(m.text == "me DUELE el pecho" for m in c.matches)
    assert any(m.text == "no puedo  respirar" for m in c.matches)


def test_spans_with_combining_accents(rules):
    text = "Medicacio\u0301n: my lips are swelling"
    c = classify(rules, "", text)
    m = next(m for m in c.matches if m.kind == "urgent")
    assert text[m.start : m.end] == "lips are swelling"


def test_categories(rules):
    cases = {
        ("Refill", "Can you send my lisinopril to CVS? I'm out."): Category.REFILL,
        ("", "I need to reschedule my appointment on Tuesday"): Category.APPOINTMENT,
        ("Labs", "What do my cholesterol results mean?"): Category.RESULTS,
        ("", "I have had a cough and a sore throat for 3 days"): Category.CLINICAL,
        ("Bill", "I was charged twice, can you check my bill?"): Category.ADMIN,
        ("Receta", "Necesito resurtir mi receta de metformina"): Category.REFILL,
        ("", "Quisiera cambiar mi cita del jueves"): Category.APPOINTMENT,
        ("", "¿Ya salieron mis resultados del laboratorio?"): Category.RESULTS,
    }
    for (subject, text), want in cases.items():
        c = classify(rules, subject, text)
        assert c.category is want, (text, c.explanation)
        assert c.category_source == "rules"


def test_server_category_wins_and_disagreement_shows(rules):
    c = classify(rules, "Refill", "need my refill of metformin", server_category="admin")
    assert c.category is Category.ADMIN and c.category_source == "server"
    assert c.rules_category is Category.REFILL and c.disagreement
    assert any("disagree" in line for line in c.explanation)
    same = classify(rules, "Refill", "need my refill", server_category="refill")
    assert not same.disagreement
    bad = classify(rules, "Refill", "need my refill", server_category="bogus")
    assert bad.category_source == "rules" and any("bogus" in n for n in bad.notes)


def test_server_priority_is_a_floor(rules):
    c = classify(rules, "", "need my refill", server_priority="asap")
    assert c.priority is Priority.ASAP and c.urgent
    c = classify(rules, "", "I can't breathe", server_priority="routine")
    assert c.priority is Priority.STAT


def test_default_category_and_explanation(rules):
    c = classify(rules, "", "hello")
    assert c.category is Category.CLINICAL
    assert "default" in c.explanation[0]
    assert c.to_dict() == {"category": "clinical", "urgent": False, "priority": "routine", "matches": []}


def test_deterministic(rules):
    a = classify(rules, "x", "no chest pain but my lips are swelling, need refill")
    b = classify(rules, "x", "no chest pain but my lips are swelling, need refill")
    assert a == b and a.explanation == b.explanation


def test_fold_keeps_offsets():
    assert fold("Médico ÑANDÚ can’t") == ("medico nandu can't", None)
    folded, offsets = fold("e\u0301l")
    assert folded == "el" and offsets == [0, 2, 3]


def test_trie_regex_syntax():
    import re

    rx = re.compile(trie_regex(["chest pain", "refill*", "can't breathe", "x-ray", "hace # anos"]))
    found = [m.group() for m in rx.finditer("chest-pain refills cant breathe xray hace dos anos refillx")]
    assert found == ["chest-pain", "refills", "cant breathe", "xray", "hace dos anos", "refillx"]
    assert not rx.search("xchest pain")


def test_literal_prefixes():
    assert literal_prefixes(r"\b(?:lips?|tongue)\W+x") == {"lip", "tong"}
    assert "" in literal_prefixes(r".*x")


# ------------------------------------------------------------------ generalization (issue 5 follow-up)


@pytest.mark.parametrize(
    "text",
    [
        "Tengo dolor de pecho que se va al brazo izquierdo",  # "tengo dolor" must not hide "dolor de pecho"
        "there's a heavy pressure in the middle of my chest and I'm sweating",
        "feels like an elephant is sitting on my chest",
        "struggling to get air in, wheezing and everything is tight",
        "my dad is gasping and his lips look blue",
        "cant catch my breath and my inhaler isnt helping",
        "started amoxicillin yesterday and now my tongue feels thick and I'm itchy all over",
        "se me durmió la mitad de la cara y no me salen las palabras",
        "her face looks droopy on the left and she's slurring",
        "I don't see the point in going on anymore and I've been saving up my pills",
        "ya no le veo sentido a nada y he juntado pastillas",
        "my son took a bunch of my tylenol",
        "soaking a pad every hour and dizzy",
        "I threw up what looks like coffee grounds",
        "Lindsay (7 weeks) is hot to the touch, 38.5 C",
        "sugar was 42 and im shaking and sweating",
        "28 weeks pregnant and a terrible headache and seeing spots",
        "le falta el aire y los labios se ven morados",
    ],
)
def test_urgent_lay_phrasings(rules, text):
    assert classify(rules, "", text).urgent, classify(rules, "", text).explanation


@pytest.mark.parametrize(
    "text",
    [
        "Mi bebé está comiendo bien, no tiene fiebre, pero le salió un sarpullido",  # negation inside a pattern span
        "hives on my arms after new soap, lips n throat fine, just itchy",
        "I had chest pain last year (it turned out to be reflux), now I just need the refill.",
        "After the ER visit for chest pain in 2020 they started me on lisinopril.",
        "Please refill heart pill 12.5 mg",
        "What are the warning signs of a stroke?",
        "Please update my emergency contact",
        "¿pueden mandar mi pastilla del azúcar a Northgate Pharmacy #12?",
    ],
)
def test_not_urgent_more(rules, text):
    assert not classify(rules, "", text).urgent, classify(rules, "", text).explanation


def test_second_request_weighs_less(rules):
    c = classify(rules, "", "Can I get a sick visit today or tomorrow? Also, please refill my lisinopril 10 mg")
    assert c.category is Category.APPOINTMENT, c.explanation
    c = classify(rules, "", "Please refill my lisinopril. PS can I get a sick visit tomorrow?")
    assert c.category is Category.REFILL, c.explanation


def test_specific_requests_beat_generic_words(rules):
    cases = {
        "Can you tell me if my A1c is normal? I've been feeling fine": Category.RESULTS,
        "I'd like to book a follow up for my knee pain": Category.APPOINTMENT,
        "Prior authorization for allopurinol, the pharmacy says they're waiting on you": Category.ADMIN,
        "Se me acabó el omeprazol, no tengo fiebre ni nada": Category.REFILL,
    }
    for text, want in cases.items():
        c = classify(rules, "", text)
        assert c.category is want, (text, c.explanation)
