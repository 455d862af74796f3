"""Session 2 urgent-recall work (issue 5): dev sets 4 and 5, negation/history scoping and the
classes of fixes behind them. All of this is dev (tuning) data; the never-tuned evaluation is
the maintainer's, in a separate file."""

from __future__ import annotations

import pytest

from triage_tui.domain.triage import classify, default_rules

from .dev_cases_4 import NOT_URGENT_4, NOT_URGENT_5, URGENT_4, URGENT_5


@pytest.fixture(scope="module")
def rules():
    return default_rules()


def test_dev4_and_dev5(rules):
    """At the freeze: every urgent message caught, 3/55 false alarms on the look-alikes of dev 4
    (a mild "tight in the chest", "stopped bleeding", hives with a detergent), 0/10 on dev 5."""
    missed = [t for t in URGENT_4 + URGENT_5 if not classify(rules, "", t).urgent]
    alarms = [t for t in NOT_URGENT_4 + NOT_URGENT_5 if classify(rules, "", t).urgent]
    assert not missed, missed
    assert len(alarms) <= 3, alarms


@pytest.mark.parametrize(
    "text",
    [
        "no fever but my lips are swelling",
        "No fever, no cough, but my throat is closing",
        "I don't have a headache but my face is drooping",
        "sin fiebre pero se me hincha la lengua",
        "no me duele nada pero no puedo mover el brazo",
        "nunca me habia pasado, pero ahorita no puedo respirar",
        "she can't say more than three words without gasping",
        "tome el doble de insulina sin querer",
        "I had chest pain last year and it's back again today",
    ],
)
def test_a_denial_or_history_ends_at_its_clause(rules, text):
    c = classify(rules, "", text)
    assert c.urgent, c.explanation


@pytest.mark.parametrize(
    "text",
    [
        "hives on my arms from the new soap, no trouble breathing",  # a long span no longer shields "no"
        "Dad had a stroke in 2021 and he's stable now, can he take Miralax?",  # weak "now" in another clause
        "Had a stroke in 2021, still use a cane, need the placard form",
        "Mi mama tuvo un derrame hace 4 anos, ahora esta bien",
        "My husband had a stroke in January, can his visits be by video?",
        "need a letter saying my seizure disorder is well controlled",
        "Scheduling my chest CT follow-up for the nodule",
        "I can't swallow the big pills, is there a liquid?",
        "Headache on and off, not the worst ever, Tylenol helps",
        "The pharmacy gave me 30 tablets instead of 90",
        "I'm worried about overdose risk with my pain meds",
        "What should I do if my son gets a fever over 104?",
    ],
)
def test_routine_look_alikes(rules, text):
    c = classify(rules, "", text)
    assert not c.urgent, c.explanation


def test_the_weak_now_cue_still_counts_in_its_own_clause(rules):
    c = classify(rules, "", "the seizures I had as a kid are happening again now")
    assert c.urgent, c.explanation


def test_explanations_name_the_matched_span(rules):
    c = classify(rules, "", "my stools are black like tar and I almost passed out")
    assert c.urgent
    assert all(m.text for m in c.urgent_matches)
    assert any("urgent" in line for line in c.explanation)
