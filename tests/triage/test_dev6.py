"""Round 2 of the urgent-recall work (issue 5): the classes behind the holdout5/6 misses, each
covered by phrasings of its own (tests/triage/dev_cases_6.py). Dev data."""

from __future__ import annotations

import pytest

from triage_tui.domain.triage import classify, default_rules

from .dev_cases_6 import NOT_URGENT_6, URGENT_6


@pytest.fixture(scope="module")
def rules():
    return default_rules()


@pytest.mark.parametrize("text", URGENT_6)
def test_round2_urgent(rules, text):
    assert classify(rules, "", text).urgent, text


def test_round2_look_alikes(rules):
    """Past, denied, hypothetical and as-prescribed look-alikes: at the freeze 2 false alarms
    in 28 ("on warfarin years ago and had a fall back then, now on nothing": the "now" of the
    sentence keeps the history cue from cancelling; a cut "that stopped bleeding")."""
    alarms = [t for t in NOT_URGENT_6 if classify(rules, "", t).urgent]
    assert len(alarms) <= 2, alarms
