"""Train the learned second opinion on urgency (``domain/triage/data/second_opinion.json``).

Needs scikit-learn (``pip install -e '.[train]'``); the app itself only reads the weights.

    python tools/train_second_opinion.py            # cross-validate, train, write the model
    python tools/train_second_opinion.py --check    # retrain and compare with the shipped file

Training data: the labelled dev sets in ``tests/data/`` (``DEV_SETS``: each was written by a
different author). A set written for a never-tuned evaluation must not be listed here until it
has been evaluated once; then it becomes dev data like the others.

Cross-validation leaves one whole set (one author) out at a time, because the question is how
the model does on a new author's phrasing, not on more text from the same hand. The threshold
is chosen from those out-of-author scores: the highest one at which urgent recall reaches
``TARGET_RECALL``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
DEV_SETS = ("triage_corpus", "triage_holdout2", "triage_holdout3", "triage_holdout4",
            "triage_holdout5", "triage_holdout6", "triage_holdout7", "triage_holdout8")
LOOK_ALIKES = ("dev_cases.NOT_URGENT", "dev_cases.NOT_URGENT_2", "dev_cases.NOT_URGENT_3",
               "dev_cases_4.NOT_URGENT_4", "dev_cases_4.NOT_URGENT_5", "dev_cases_6.NOT_URGENT_6")
"""Hand-written routine messages that use urgent words (denied, past, hypothetical, mild), from
``tests/triage/dev_cases*.py``: always in training, never scored. (Their urgent lists are not
used: they are hard phrasings written to tune the rules, and with them the model flagged more
routine messages at the same recall.)"""
C = 1.0
"""Inverse L2 regularisation strength (chosen by the same cross-validation from 0.5, 1, 2, 4, 8, 16)."""
TARGET_RECALL = 0.975
ROUND = 5


def _rows(name: str) -> list[dict]:
    path = DATA / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _look_alikes() -> list[dict]:
    import importlib

    sys.path.insert(0, str(ROOT / "tests" / "triage"))
    try:
        out = []
        for ref in LOOK_ALIKES:
            mod, name = ref.split(".")
            out += [{"subject": "", "text": t, "urgent": False}
                    for t in getattr(importlib.import_module(mod), name)]
        return out
    finally:
        sys.path.pop(0)


SYNTH_SEED, SYNTH_THREADS = 101, 1000
"""Synthetic first messages (with the generator's truth) from a practice of another seed than
the tests' and the demo's: the templated traffic of the demo and the benchmarks."""


def _synthetic() -> list[dict]:
    from datetime import datetime, timezone

    from triage_tui.server.synth import generate_practice_with_truth

    now = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
    resources, truth = generate_practice_with_truth(SYNTH_SEED, SYNTH_THREADS, now, hostile=False)
    by_id = {r["id"]: r for r in resources if r["resourceType"] == "Communication"}
    out = []
    for head, t in sorted(truth.items()):
        if not t.message_ids:
            continue
        msg = by_id[t.message_ids[0]]
        subject = (by_id[head].get("topic") or {}).get("text", "")
        text = "".join(p.get("contentString", "") for p in msg.get("payload", []))
        out.append({"subject": subject, "text": text, "urgent": t.urgent})
    return out


def _features(rules, rows: list[dict]) -> list[tuple[dict[str, int], int]]:
    from triage_tui.domain.triage.engine import classify
    from triage_tui.domain.triage.learned import ngrams

    out = []
    for r in rows:
        toks: list[bytes] = []
        classify(rules, r["subject"], r["text"], _opinion_tokens=toks)
        counts: dict[str, int] = {}
        for g in ngrams(toks):
            counts[g] = 1  # presence, not count: repeating a phrase does not add to it
        out.append((counts, max(1, len(counts))))
    return out


def _fit(feats, y):
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    dv = DictVectorizer(sort=True)
    counts = dv.fit_transform([f for f, _n in feats]).tocsr()
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    idf = np.log((1 + len(feats)) / (1 + df)) + 1.0
    scale = sp.diags([1.0 / math.sqrt(n) for _f, n in feats])
    x = scale @ counts.multiply(idf).tocsr()
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000, solver="lbfgs")
    model.fit(x, y)
    weights = model.coef_[0] * idf  # idf folded in: scoring is a sum of lookups
    return dv.get_feature_names_out(), weights, float(model.intercept_[0])


def _logit(names, weights, intercept, feats) -> list[float]:
    w = dict(zip(names, weights))
    return [intercept + sum(w.get(g, 0.0) * c for g, c in f.items()) / math.sqrt(n) for f, n in feats]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def cross_validate(rules, sets: dict[str, list[dict]], extra: list[dict]) -> dict:
    """Leave one set out: each set scored by a model trained on the others (and ``extra``)."""
    feats = {k: _features(rules, rows) for k, rows in sets.items()}
    fx = _features(rules, extra)
    scored: list[tuple[float, bool, str]] = []
    for k in sets:
        tr = [f for kk in sets if kk != k for f in feats[kk]] + fx
        y = [r["urgent"] for kk in sets if kk != k for r in sets[kk]] + [r["urgent"] for r in extra]
        names, w, b = _fit(tr, y)
        for z, r in zip(_logit(names, w, b, feats[k]), sets[k]):
            scored.append((_sigmoid(z), bool(r["urgent"]), k))
    pos = sorted((p for p, u, _k in scored if u), reverse=True)
    need = math.ceil(TARGET_RECALL * len(pos))
    threshold = math.floor(pos[need - 1] * 1000) / 1000  # highest 3-decimal cut with that recall
    n_neg = sum(1 for _p, u, _k in scored if not u)
    table = {}
    for t in sorted({0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, threshold}):
        tp = sum(1 for p, u, _k in scored if u and p >= t)
        fp = sum(1 for p, u, _k in scored if not u and p >= t)
        table[f"{t:g}"] = {"recall": f"{tp}/{len(pos)}", "fpr": f"{fp}/{n_neg}"}
    per_set = {}
    for k in sets:
        tp = sum(1 for p, u, kk in scored if kk == k and u and p >= threshold)
        n = sum(1 for _p, u, kk in scored if kk == k and u)
        fp = sum(1 for p, u, kk in scored if kk == k and not u and p >= threshold)
        m = sum(1 for _p, u, kk in scored if kk == k and not u)
        per_set[k] = {"recall": f"{tp}/{n}", "fpr": f"{fp}/{m}"}
    return {"threshold": threshold, "by_threshold": table, "per_set": per_set}


def train(rules, sets: dict[str, list[dict]], extra: list[dict]) -> dict:
    rows = [r for k in sets for r in sets[k]] + extra
    names, w, b = _fit(_features(rules, rows), [r["urgent"] for r in rows])
    uni, bi = {}, {}
    for name, weight in zip(names, w):
        weight = round(float(weight), ROUND)
        if weight == 0.0:
            continue
        (bi if " " in name else uni)[name] = weight
    return {"intercept": round(b, ROUND), "unigrams": uni, "bigrams": bi}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="retrain and compare with the shipped model")
    ap.add_argument("--no-cv", action="store_true", help="skip the cross-validation (keep its figures)")
    args = ap.parse_args(argv)

    from triage_tui.domain.triage import default_rules
    from triage_tui.domain.triage.learned import FORMAT, MODEL_PATH, NEGATION_WINDOW

    rules = default_rules()
    sets = {k: _rows(k) for k in DEV_SETS}
    digest = hashlib.sha256()
    for k in DEV_SETS:
        digest.update((DATA / f"{k}.jsonl").read_bytes())
    extra = _look_alikes() + (_synthetic() if SYNTH_THREADS else [])
    for r in extra:
        digest.update(r["text"].encode("utf-8"))
    model = train(rules, sets, extra)
    if args.check:
        shipped = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
        if shipped["meta"]["data_sha256"] != digest.hexdigest():
            print("the training data changed since the model was trained: retrain", file=sys.stderr)
            return 1
        # Same data, same solver: the weights agree to rounding here. Another platform's BLAS
        # or a newer scikit-learn may stop the solver a hair elsewhere, so what must agree is
        # what the model says about every training message, not the fifth decimal.
        feats = _features(rules, [r for k in sets for r in sets[k]] + extra)

        def logits(m: dict) -> list[float]:
            w = {**m["unigrams"], **m["bigrams"]}
            return [m["intercept"] + sum(w.get(g, 0.0) for g in f) / math.sqrt(n) for f, n in feats]

        worst = max(abs(a - b) for a, b in zip(logits(model), logits(shipped)))
        print(f"largest log-odds difference over {len(feats)} training messages: {worst:.2g}")
        return 0 if worst < 0.05 else 1
    if args.no_cv and MODEL_PATH.exists():
        cv = json.loads(MODEL_PATH.read_text(encoding="utf-8"))["meta"]["cross_validation"]
    else:
        cv = cross_validate(rules, sets, extra)
    out = {
        "format": FORMAT,
        "meta": {
            "about": "learned second opinion on urgency; see src/triage_tui/domain/triage/learned.py",
            "trained_on": list(DEV_SETS) + list(LOOK_ALIKES),
            "messages": sum(len(v) for v in sets.values()) + len(extra),
            "urgent": sum(r["urgent"] for v in sets.values() for r in v),
            "data_sha256": digest.hexdigest(),
            "C": C,
            "negation_window": NEGATION_WINDOW,
            "threshold": cv["threshold"],
            "cross_validation": cv,
        },
        **model,
    }
    MODEL_PATH.write_text(json.dumps(out, ensure_ascii=False, sort_keys=False, separators=(",", ":")) + "\n",
                          encoding="utf-8")
    print(json.dumps(out["meta"], indent=1))
    print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size // 1024} KiB; "
          f"{len(model['unigrams'])} unigrams, {len(model['bigrams'])} bigrams)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
