"""Issue 5's targets on text the rules were never tuned on: tests/data/triage_holdout7.jsonl and
triage_holdout8.jsonl, each written by an independent author who read only the label
definitions (see tests/data/README.md).

From round 2 the older sets (the corpus, holdout2-6) are tuning data: see test_evaluation.py.
These two sets were evaluated once, by the maintainer, after the rules were frozen at 17781a7.
Only aggregates are printed (never a row). Run with ``-s`` to see the tables.

The one evaluation (rules of 17781a7; urgent recall, false-positive rate, macro-F1):

- holdout7: 48/58 = 0.828, 12/262 = 0.046, 0.855
- holdout8: 63/65 = 0.969, 23/255 = 0.090, 0.873
- combined: 111/123 = 0.902, 35/517 = 0.068, 0.864  (all dev sets at the freeze: 266/266, 33/1418)

History: the previous never-tuned evaluation (holdout5 + holdout6, rules of c85d844; urgent
recall, false-positive rate, macro-F1), after which those two sets became dev data:

- holdout5: 52/55 = 0.945, 8/305 = 0.026, 0.885
- holdout6: 74/83 = 0.892, 20/277 = 0.072, 0.879
- combined: 126/138 = 0.913, 28/582 = 0.048, 0.882  (the dev sets at that freeze: 128/128, 8/836)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_evaluation import _metrics, _table

DATA = Path(__file__).resolve().parent.parent / "data"
SETS = {"holdout7": DATA / "triage_holdout7.jsonl", "holdout8": DATA / "triage_holdout8.jsonl"}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


@pytest.fixture(scope="module")
def sets() -> dict[str, list[dict]]:
    missing = [name for name, path in SETS.items() if not path.exists()]
    if missing:
        pytest.skip(f"never-tuned sets not written yet: {', '.join(missing)}")
    return {name: _rows(path) for name, path in SETS.items()}


@pytest.fixture(scope="module")
def combined(sets) -> dict:
    return _metrics([r for rows in sets.values() for r in rows])


def test_shapes(sets):
    for name, rows in sets.items():
        assert len(rows) >= 300, name
        assert {r["split"] for r in rows} == {"holdout"}, name
        assert len({r["id"] for r in rows}) == len(rows), name
        assert all(not r["urgent"] for r in rows if {"negation", "history"} & set(r["tags"]))
        assert all(("spanish" in r["tags"]) == (r["language"] == "es") for r in rows), name


# Floors at the one evaluation's figures: a later change that loses ground shows here.
FLOORS = {"holdout7": (48 / 58, 12 / 262, 0.855), "holdout8": (63 / 65, 23 / 255, 0.873),
          "combined": (111 / 123, 35 / 517, 0.864)}


def test_report(sets, combined):
    for name, rows in sets.items():
        print(_table(f"{name} (never tuned on)", _metrics(rows)))
    print(_table("never tuned on: holdout7 + holdout8", combined))
    assert combined["n"] == sum(len(rows) for rows in sets.values())
    figures = {name: _metrics(rows) for name, rows in sets.items()} | {"combined": combined}
    for name, (recall, fpr, f1) in FLOORS.items():
        m = figures[name]
        assert m["urgent_recall"] >= recall - 1e-9, name
        assert m["urgent_fpr"] <= fpr + 1e-9, name
        assert m["macro_f1"] >= f1 - 5e-4, name


@pytest.mark.xfail(
    reason="issue 5 urgent-recall target missed on never-tuned text (holdout7 + holdout8, rules of "
    "17781a7): 111/123 = 0.902 < 0.98 (FPR 35/517 = 0.068 <= 0.10 and macro-F1 0.864 >= 0.85 met)",
    strict=False,
)
def test_issue_targets_on_never_tuned(combined):
    assert combined["urgent_recall"] >= 0.98
    assert combined["urgent_fpr"] <= 0.10
    assert combined["macro_f1"] >= 0.85
