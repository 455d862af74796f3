"""Evaluation on the labelled synthetic corpora (tests/data/triage_corpus.jsonl,
tests/data/triage_holdout2.jsonl ... triage_holdout6.jsonl).

From session 2 of the urgent-recall work the corpus and holdout2-4 are DEV (tuning) data, and
from round 2 holdout5 and holdout6 too (evaluated once as never-tuned text, then burned): the
rules were tuned on them, row by row. They guard against regressions (``FLOORS``, set at the
figures measured when the rules were frozen); they say nothing about messages the rules have
never seen. The never-tuned evaluation (holdout7/8) is the maintainer's, in a separate file.

Prints per-category precision/recall/F1, macro-F1, urgent recall and false-positive rate for
the corpus ``tune`` and ``holdout`` splits, holdout2, holdout3, holdout4 and the four combined.
Only aggregates are printed (never a row). Run with ``-s`` to see the tables.
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
HOLDOUT4 = Path(__file__).resolve().parent.parent / "data" / "triage_holdout4.jsonl"
HOLDOUT5 = Path(__file__).resolve().parent.parent / "data" / "triage_holdout5.jsonl"
HOLDOUT6 = Path(__file__).resolve().parent.parent / "data" / "triage_holdout6.jsonl"
HOLDOUT7 = Path(__file__).resolve().parent.parent / "data" / "triage_holdout7.jsonl"
HOLDOUT8 = Path(__file__).resolve().parent.parent / "data" / "triage_holdout8.jsonl"
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


def _check_floors(*named: tuple[str, dict]) -> None:
    """Each ``(name, metrics)`` at or above its ``FLOORS`` entry."""
    for name, m in named:
        recall, fpr, f1 = FLOORS[name]
        assert m["urgent_recall"] >= recall, name
        assert m["urgent_fpr"] <= fpr, name
        assert m["macro_f1"] >= f1, name


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
    """Prints the tables for the corpus splits (both dev data now); floors in ``FLOORS``."""
    tune = _metrics([r for r in corpus if r["split"] == "tune"])
    print(_table("corpus tune split (dev)", tune))
    print(_table("corpus holdout split (dev since session 2)", holdout))
    _check_floors(("tune", tune), ("holdout", holdout))


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
def holdout4_rows() -> list[dict]:
    if not HOLDOUT4.exists():
        pytest.skip("no fourth holdout at tests/data/triage_holdout4.jsonl")
    return [json.loads(line) for line in HOLDOUT4.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def holdout5_rows() -> list[dict]:
    if not HOLDOUT5.exists():
        pytest.skip("no fifth holdout at tests/data/triage_holdout5.jsonl")
    return [json.loads(line) for line in HOLDOUT5.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def holdout6_rows() -> list[dict]:
    if not HOLDOUT6.exists():
        pytest.skip("no sixth holdout at tests/data/triage_holdout6.jsonl")
    return [json.loads(line) for line in HOLDOUT6.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def dev_combined(corpus, holdout2_rows, holdout3_rows, holdout4_rows) -> dict:
    return _metrics(
        [r for r in corpus if r["split"] == "holdout"] + holdout2_rows + holdout3_rows + holdout4_rows
    )


def test_holdout3_shape(holdout3_rows):
    assert len(holdout3_rows) >= 250
    assert {r["split"] for r in holdout3_rows} == {"holdout"}
    assert all(not r["urgent"] for r in holdout3_rows if {"negation", "history"} & set(r["tags"]))


def test_holdout4_shape(holdout4_rows):
    assert len(holdout4_rows) >= 250
    assert {r["split"] for r in holdout4_rows} == {"holdout"}
    assert all(not r["urgent"] for r in holdout4_rows if {"negation", "history"} & set(r["tags"]))


def test_evaluation_report_dev_sets(holdout, holdout2_rows, holdout3_rows, holdout4_rows, dev_combined):
    """Per-set tables (corpus holdout, holdout2, holdout3, holdout4: all dev data since
    session 2) and the four combined.

    Floors (``FLOORS``) at the figures measured when the session-2 rules were frozen. Urgent
    recall, FPR, macro-F1, before (rules of 60ac0e1, when these sets were still never tuned
    on) -> after (tuned on them, so these are dev figures, not an estimate for unseen text):

    - corpus tune:    33/33, 4/215, 0.940 -> 33/33, 4/215, 0.940
    - corpus holdout: 14/16, 1/108, 0.880 -> 16/16, 0/108, 0.888
    - holdout2:       30/31, 6/209, 0.896 -> 31/31, 2/209, 0.900
    - holdout3:       39/45, 9/255, 0.834 -> 45/45, 2/255, 0.842
    - holdout4:       32/36, 6/264, 0.916 -> 36/36, 4/264, 0.912
    - combined:       115/128, 22/836, 0.880 -> 128/128, 8/836, 0.884
    """
    h2 = _metrics(holdout2_rows)
    h3 = _metrics(holdout3_rows)
    h4 = _metrics(holdout4_rows)
    print(_table("corpus holdout (dev)", holdout))
    print(_table("holdout2 (dev)", h2))
    print(_table("holdout3 (dev)", h3))
    print(_table("holdout4 (dev)", h4))
    print(_table("dev combined: corpus holdout + holdout2 + holdout3 + holdout4", dev_combined))
    assert dev_combined["n"] == holdout["n"] + len(holdout2_rows) + len(holdout3_rows) + len(holdout4_rows)
    _check_floors(("holdout", holdout), ("holdout2", h2), ("holdout3", h3), ("holdout4", h4),
                  ("combined", dev_combined))


def test_evaluation_report_round2(corpus, holdout2_rows, holdout3_rows, holdout4_rows,
                                  holdout5_rows, holdout6_rows):
    """holdout5 and holdout6 (dev data from round 2, after their one never-tuned evaluation)
    and all dev sets combined (corpus holdout split + holdout2-6).

    Urgent recall, FPR, macro-F1, before (rules of c85d844: the one never-tuned evaluation)
    -> after (round-2 freeze, tuned on them: dev figures, not an estimate for unseen text):

    - holdout5:  52/55, 8/305, 0.885 -> 55/55, 7/305, 0.885
    - holdout6:  74/83, 20/277, 0.879 -> 83/83, 19/277, 0.882
    - all dev (corpus holdout + holdout2-6): 254/266, 36/1418, 0.882 -> 266/266, 33/1418, 0.884
    """
    h5 = _metrics(holdout5_rows)
    h6 = _metrics(holdout6_rows)
    every = _metrics(
        [r for r in corpus if r["split"] == "holdout"]
        + holdout2_rows + holdout3_rows + holdout4_rows + holdout5_rows + holdout6_rows
    )
    print(_table("holdout5 (dev since round 2)", h5))
    print(_table("holdout6 (dev since round 2)", h6))
    print(_table("all dev: corpus holdout + holdout2-6", every))
    _check_floors(("holdout5", h5), ("holdout6", h6), ("all_dev", every))


def _read(path: Path) -> list[dict]:
    if not path.exists():
        pytest.skip(f"missing {path.name}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_evaluation_report_round3(corpus, holdout2_rows, holdout3_rows, holdout4_rows,
                                  holdout5_rows, holdout6_rows):
    """holdout7 and holdout8: dev data from round 3, after their one never-tuned evaluation
    (rules of 17781a7: 111/123, 35/517, 0.864; see test_final_evaluation.py for the history).

    From round 3 urgency has two layers: the rules, and the learned second opinion
    (domain/triage/learned.py), which is trained on every dev set, these included. So these
    figures are in-sample for the model as well as for the rules: a regression guard only.
    (What the model does on an author it has not seen is its cross-validation in the model's
    meta; what the system does is the never-tuned evaluation in test_final_evaluation.py.)

    - holdout7: 58/58, 12/262, 0.855;  holdout8: 65/65, 23/255, 0.873
    - all dev (corpus holdout + holdout2-8): 389/389, 69/1935, 0.879
    """
    h7, h8 = _read(HOLDOUT7), _read(HOLDOUT8)
    m7, m8 = _metrics(h7), _metrics(h8)
    every = _metrics(
        [r for r in corpus if r["split"] == "holdout"] + holdout2_rows + holdout3_rows
        + holdout4_rows + holdout5_rows + holdout6_rows + h7 + h8
    )
    print(_table("holdout7 (dev since round 3)", m7))
    print(_table("holdout8 (dev since round 3)", m8))
    print(_table("all dev: corpus holdout + holdout2-8", every))
    _check_floors(("holdout7", m7), ("holdout8", m8), ("all_dev3", every))


# (urgent recall >=, false-positive rate <=, macro-F1 >=), set at the figures measured at the
# round-2 freeze (dev data: a drop is a regression, a rise says nothing about unseen text).
# Round 3 (the learned second opinion, trained on all dev sets) added one false alarm on
# holdout6 (19 -> 20 of 277) and none elsewhere; holdout7/8 joined the dev data.
FLOORS = {
    "tune": (33 / 33 - 1e-9, 4 / 215 + 1e-9, 0.939),
    "holdout": (16 / 16 - 1e-9, 0 / 108 + 1e-9, 0.895),
    "holdout2": (31 / 31 - 1e-9, 2 / 209 + 1e-9, 0.899),
    "holdout3": (45 / 45 - 1e-9, 2 / 255 + 1e-9, 0.841),
    "holdout4": (36 / 36 - 1e-9, 3 / 264 + 1e-9, 0.911),
    "combined": (128 / 128 - 1e-9, 7 / 836 + 1e-9, 0.883),
    "holdout5": (55 / 55 - 1e-9, 7 / 305 + 1e-9, 0.884),
    "holdout6": (83 / 83 - 1e-9, 20 / 277 + 1e-9, 0.881),
    "all_dev": (266 / 266 - 1e-9, 34 / 1418 + 1e-9, 0.883),
    "holdout7": (58 / 58 - 1e-9, 12 / 262 + 1e-9, 0.855),
    "holdout8": (65 / 65 - 1e-9, 23 / 255 + 1e-9, 0.873),
    "all_dev3": (389 / 389 - 1e-9, 69 / 1935 + 1e-9, 0.878),
}
