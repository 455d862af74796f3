"""Evaluation on the labelled synthetic corpora (tests/data/triage_corpus.jsonl,
tests/data/triage_holdout2.jsonl and tests/data/triage_holdout3.jsonl).

Prints per-category precision/recall/F1, macro-F1, urgent recall and false-positive rate for
the ``tune`` split (the rules were tuned on it), the corpus ``holdout`` split, the second and the
third holdout sets (never tuned on), and for the combined never-tuned set. The issue's targets
are asserted on the combined set. Only aggregates are printed (never a row). Run with ``-s`` to
see the tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage_tui.domain.codes import Category
from triage_tui.domain.triage import classify, default_rules

CORPUS = Path(__file__).resolve().parent.parent / "data" / "triage_corpus.jsonl"
HOLDOUT2 = Path(__file__).resolve().parent.parent / "data" / "triage_holdout2.jsonl"
HOLDOUT3 = Path(__file__).resolve().parent.parent / "data" / "triage_holdout3.jsonl"
CATEGORIES = [c.value for c in Category]


def _metrics(rows: list[dict]) -> dict:
    rules = default_rules()
    tp = dict.fromkeys(CATEGORIES, 0)
    fp = dict.fromkeys(CATEGORIES, 0)
    fn = dict.fromkeys(CATEGORIES, 0)
    utp = ufn = ufp = utn = 0
    for row in rows:
        c = classify(rules, row["subject"], row["text"], language=row.get("language"))
        got, want = c.category.value, row["category"]
        if got == want:
            tp[want] += 1
        else:
            fp[got] += 1
            fn[want] += 1
        if row["urgent"]:
            utp += c.urgent
            ufn += not c.urgent
        else:
            ufp += c.urgent
            utn += not c.urgent
    per = {}
    for k in CATEGORIES:
        p = tp[k] / (tp[k] + fp[k]) if tp[k] + fp[k] else 0.0
        r = tp[k] / (tp[k] + fn[k]) if tp[k] + fn[k] else 0.0
        per[k] = (p, r, 2 * p * r / (p + r) if p + r else 0.0, tp[k] + fn[k])
    return {
        "n": len(rows),
        "per": per,
        "macro_f1": sum(v[2] for v in per.values()) / len(per),
        "accuracy": sum(tp.values()) / len(rows),
        "urgent_recall": utp / (utp + ufn) if utp + ufn else 1.0,
        "urgent_fpr": ufp / (ufp + utn) if ufp + utn else 0.0,
        "urgent_counts": (utp, ufn, ufp, utn),
    }


def _table(name: str, m: dict) -> str:
    lines = [f"\n== {name}: {m['n']} messages =="]
    lines.append(f"{'category':<12} {'prec':>6} {'recall':>6} {'F1':>6} {'n':>4}")
    for k, (p, r, f, n) in m["per"].items():
        lines.append(f"{k:<12} {p:6.3f} {r:6.3f} {f:6.3f} {n:4d}")
    utp, ufn, ufp, utn = m["urgent_counts"]
    lines.append(f"macro-F1 {m['macro_f1']:.3f}   accuracy {m['accuracy']:.3f}")
    lines.append(
        f"urgent recall {m['urgent_recall']:.3f} ({utp}/{utp + ufn})   "
        f"false-positive rate {m['urgent_fpr']:.3f} ({ufp}/{ufp + utn})"
    )
    return "\n".join(lines)


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    if not CORPUS.exists():
        pytest.skip("no corpus at tests/data/triage_corpus.jsonl")
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_corpus_shape(corpus):
    assert len(corpus) >= 300
    assert {r["split"] for r in corpus} == {"tune", "holdout"}
    assert all(not r["urgent"] for r in corpus if {"negation", "history"} & set(r["tags"]))


@pytest.fixture(scope="module")
def holdout(corpus) -> dict:
    return _metrics([r for r in corpus if r["split"] == "holdout"])


def test_evaluation_report(corpus, holdout):
    """Prints the tables; guards against regressions below the figures measured on holdout
    (first evaluation: urgent recall 14/16, FPR 2/108, macro-F1 0.847; after the generalization
    pass: urgent recall 14/16, FPR 2/108, macro-F1 0.888)."""
    tune = _metrics([r for r in corpus if r["split"] == "tune"])
    print(_table("tune (rules tuned on these)", tune))
    print(_table("holdout (never tuned on)", holdout))
    assert holdout["urgent_recall"] >= 0.875
    assert holdout["urgent_fpr"] <= 0.10
    assert holdout["macro_f1"] >= 0.88


@pytest.fixture(scope="module")
def holdout2_rows() -> list[dict]:
    if not HOLDOUT2.exists():
        pytest.skip("no second holdout at tests/data/triage_holdout2.jsonl")
    return [json.loads(line) for line in HOLDOUT2.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def holdout3_rows() -> list[dict]:
    if not HOLDOUT3.exists():
        pytest.skip("no third holdout at tests/data/triage_holdout3.jsonl")
    return [json.loads(line) for line in HOLDOUT3.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def never_tuned(corpus, holdout2_rows, holdout3_rows) -> dict:
    return _metrics([r for r in corpus if r["split"] == "holdout"] + holdout2_rows + holdout3_rows)


def test_holdout3_shape(holdout3_rows):
    assert len(holdout3_rows) >= 250
    assert {r["split"] for r in holdout3_rows} == {"holdout"}
    assert all(not r["urgent"] for r in holdout3_rows if {"negation", "history"} & set(r["tags"]))


def test_evaluation_report_never_tuned(holdout, holdout2_rows, holdout3_rows, never_tuned):
    """Per-set tables (corpus holdout, holdout2, holdout3) and the combined never-tuned set.

    Floors (``FLOORS``) at the figures measured once, after the rules were frozen for the
    urgent-recall work (acuity scoring, typo tolerance; commit 07cd4b0); holdout3 was opened
    only then and nothing was tuned afterwards. Before -> after that work (urgent recall, FPR,
    macro-F1):

    - corpus holdout: 14/16, 2/108, 0.888 -> 14/16, 1/108, 0.888
    - holdout2:       29/31, 8/209, 0.896 -> 30/31, 5/209, 0.896
    - holdout3:       32/45, 10/255, 0.840 -> 34/45, 7/255, 0.838
    - combined:       75/92 = 0.815, 20/572 = 0.035, 0.869 -> 78/92 = 0.848, 13/572 = 0.023, 0.868
    """
    h2 = _metrics(holdout2_rows)
    h3 = _metrics(holdout3_rows)
    print(_table("corpus holdout (never tuned on)", holdout))
    print(_table("holdout2 (written after the rules were frozen; never tuned on)", h2))
    print(_table("holdout3 (written after the urgent-recall rules were frozen; never tuned on)", h3))
    print(_table("never tuned on: corpus holdout + holdout2 + holdout3", never_tuned))
    assert never_tuned["n"] == holdout["n"] + len(holdout2_rows) + len(holdout3_rows)
    for m, floors in ((h2, FLOORS["holdout2"]), (h3, FLOORS["holdout3"]), (never_tuned, FLOORS["combined"])):
        recall, fpr, f1 = floors
        assert m["urgent_recall"] >= recall
        assert m["urgent_fpr"] <= fpr
        assert m["macro_f1"] >= f1


# (urgent recall >=, false-positive rate <=, macro-F1 >=), set once at the measured figures
FLOORS = {
    "holdout2": (30 / 31 - 1e-9, 5 / 209 + 1e-9, 0.895),
    "holdout3": (34 / 45 - 1e-9, 7 / 255 + 1e-9, 0.837),
    "combined": (78 / 92 - 1e-9, 13 / 572 + 1e-9, 0.867),
}


@pytest.mark.xfail(
    reason="issue 5 urgent-recall target missed on the never-tuned set (corpus holdout + holdout2 + "
    "holdout3): 78/92 = 0.848 < 0.98 (FPR 13/572 = 0.023 <= 0.10 and macro-F1 0.868 >= 0.85 met)",
    strict=False,
)
def test_issue_targets_on_never_tuned(never_tuned):
    assert never_tuned["urgent_recall"] >= 0.98
    assert never_tuned["urgent_fpr"] <= 0.10
    assert never_tuned["macro_f1"] >= 0.85
