"""Symptom x acuity scoring, typo tolerance and the hand-written dev set (issue 5 recall work)."""

from __future__ import annotations

import pytest

from triage_tui.domain.codes import Priority
from triage_tui.domain.triage import RulesError, classify, default_rules, load_rules
from triage_tui.domain.triage.engine import _osa1
from triage_tui.domain.triage.text import literal_prefixes
from .dev_cases import (
    DEV_FPR_CEILING, DEV_RECALL_FLOOR, NOT_URGENT, NOT_URGENT_2, NOT_URGENT_3, URGENT, URGENT_2, URGENT_3,
)


@pytest.fixture(scope="module")
def rules():
    return default_rules()


def test_dev_set_recall_and_false_alarms(rules):
    missed = [t for t in URGENT if not classify(rules, "", t).urgent]
    alarms = [t for t in NOT_URGENT if classify(rules, "", t).urgent]
    assert len(URGENT) >= 80 and len(NOT_URGENT) >= 80
    assert 1 - len(missed) / len(URGENT) >= DEV_RECALL_FLOOR, missed
    assert len(alarms) / len(NOT_URGENT) <= DEV_FPR_CEILING, alarms


def test_operating_point_on_the_routine_clinical_dev_sets(rules):
    """The operating point (policy.toml [acuity]): every urgent message of the second and third
    dev sets is caught, and the false alarms on their symptom-heavy routine messages stay in
    the chosen band (at the freeze: 6/114 and 6/30, most of them from urgent terms, not from
    the acuity layer)."""
    for urgent, routine, fpr_max in ((URGENT_2, NOT_URGENT_2, 0.08), (URGENT_3, NOT_URGENT_3, 0.25)):
        missed = [t for t in urgent if not classify(rules, "", t).urgent]
        alarms = [t for t in routine if classify(rules, "", t).urgent]
        assert not missed, missed
        assert len(alarms) / len(routine) <= fpr_max, alarms


@pytest.mark.parametrize(
    "text",
    [
        "feels like someone is standing on my chest right now",
        "pooping what looks like pure blood and I feel lightheaded",
        "me duele la cabeza como nunca, de repente, el peor de mi vida",
        "brething is really hard right now",
    ],
)
def test_acuity_flags_described_emergencies(rules, text):
    c = classify(rules, "", text)
    assert c.urgent, c.explanation
    assert any(m.group == "acuity" for m in c.urgent_matches) or c.urgent_matches


@pytest.mark.parametrize(
    "text",
    [
        "my chest congestion is a little better, still coughing",
        "no chest pain right now, just need my refill",  # the symptom is negated
        "I had bad stomach pain for years, can we talk at my physical?",
        "Tengo un poco de dolor de cabeza, nada grave",
        "Worst allergy season ever, can you refill my Zyrtec?",
    ],
)
def test_acuity_respects_negation_and_deescalation(rules, text):
    c = classify(rules, "", text)
    assert not c.urgent, c.explanation


def test_acuity_explains_itself(rules):
    c = classify(rules, "", "feels like someone is standing on my chest right now")
    assert c.urgent and c.priority is Priority.URGENT
    (m,) = [m for m in c.matches if m.group == "acuity"]
    assert m.text == "chest" and "acuity score" in m.term
    assert any("acuity" in line for line in c.explanation)


def test_acuity_can_be_disabled(tmp_path):
    p = tmp_path / "rules.toml"
    # the learned second opinion off too: this is about the rules' acuity layer
    p.write_text("[acuity]\nenabled = false\n[second_opinion]\nenabled = false\n")
    rules = load_rules(p)
    assert not classify(rules, "", "feels like someone is standing on my chest right now").urgent


def test_acuity_validation(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text('[acuity.cues.en]\n"right now" = "lots"\n')
    with pytest.raises(RulesError, match=r"acuity\.cues\.en\.right now"):
        load_rules(p)
    p.write_text('[acuity]\npriority = "routine"\n')
    with pytest.raises(RulesError, match="acuity.priority"):
        load_rules(p)


def test_osa1():
    assert _osa1("chets", "chest") and _osa1("chst", "chest") and _osa1("chesst", "chest")
    assert _osa1("chezt", "chest")
    assert not _osa1("chest", "chest") and not _osa1("chase", "chest") and not _osa1("ch", "chest")


@pytest.mark.parametrize(
    "text",
    [
        "chets pain and my arm is numb",
        "I have been having toughts of ending her life",
        "im having crushing chest presure",
        "sucidal thoughts tonight",
    ],
)
def test_typos_of_urgent_words_are_caught(rules, text):
    assert classify(rules, "", text).urgent, classify(rules, "", text).explanation


def test_typo_spans_point_at_the_original_text(rules):
    subject = "Médico"
    text = "Señora: chets pain since this morning"
    c = classify(rules, subject, text)
    m = next(m for m in c.urgent_matches)
    assert text[m.start : m.end] == m.text == "chets pain"


def test_words_remembered_as_correct_do_not_hide_a_typo():
    """A text made of words seen in texts that needed no correction is not checked again;
    a typo among them still is (it was never remembered), whatever was classified before."""
    fresh = load_rules(use_user_file=False)
    texts = ["my chest hurts and my arm is numb 2 days", "chets pain and my arm is numb 2 days",
             "my chest hurts and my arm is numb 2 days", "chets pain and my arm is numb 2 days"]
    got = [classify(fresh, "", t).to_dict() for t in texts]
    assert got[0] == got[2] and got[1] == got[3]
    assert any(m["text"] == "chets pain" for m in got[1]["matches"])
    assert got[1] == classify(load_rules(use_user_file=False), "", texts[1]).to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "I'm writing for my husband, he needs his refill",  # "writing" is not "writhing"
        "I was cooking dinner when the pharmacy called",  # "cooking" is not "choking"
        "a veces me da tos, necesito una cita",  # "veces" is not "heces"
        "Terry here, please refill my metformin",
        "dneies chest pain, just needs the refill",  # a typo in a negation cue is read too
    ],
)
def test_real_words_are_not_corrected(rules, text):
    assert not classify(rules, "", text).urgent, classify(rules, "", text).explanation


def test_fuzzy_can_be_disabled(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text("[fuzzy]\nenabled = false\n[second_opinion]\nenabled = false\n")
    assert not classify(load_rules(p), "", "brething is really hard right now").urgent
    assert classify(default_rules(), "", "brething is really hard right now").urgent


def test_gate_prefixes_follow_optional_items():
    assert literal_prefixes(r"\b(?:can\x27?t|cannot)\W+x", 8, optional=True) == {"can't", "cant", "cannot"}
    assert "days old" in literal_prefixes(r"\b(?:days?|weeks?)[\s-]?old\b", 8, optional=True)
    assert literal_prefixes(r".*x", 8, optional=True) == {""}
    assert literal_prefixes(r"\b(?:lips?|tongue)\W+x") == {"lip", "tong"}  # default unchanged


def test_gate_matches_through_separators(rules):
    # the gate's prefix "days old" must find "days-old" and "days  old" as well
    for t in ("my 10 days-old baby has a fever", "my 10 days  old baby has a fever", "10 days\nold, fever"):
        assert classify(rules, "", t).urgent, t
