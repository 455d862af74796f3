"""The thread screen banner's category and urgency with the triage rules (issue 5: the server's
category wins when present; a disagreement is shown)."""

from __future__ import annotations

from triage_tui.screens.thread import category_label, priority_label


def test_category_label():
    assert category_label("refill", "clinical") == "REFILL (rules: clinical)"
    assert category_label("refill", "refill") == "REFILL"
    assert category_label("refill", None) == "REFILL"
    assert category_label(None, "clinical") == "CLINICAL (rules)"
    assert category_label(None, None) == "UNCATEGORISED"


def test_priority_label():
    assert priority_label("routine", "stat") == "STAT (rules)"
    assert priority_label("urgent", "routine") == "URGENT"
    assert priority_label("stat", "urgent") == "STAT"
    assert priority_label("asap", "asap") == "ASAP"
    assert priority_label("routine", None) is None
    assert priority_label("routine", "routine") is None
