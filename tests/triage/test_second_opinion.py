"""The learned second opinion on urgency (domain/triage/learned.py): the shipped model, how it
joins the rules (it can only raise, and it explains itself), its settings, and bad input."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage_tui.domain.codes import Priority
from triage_tui.domain.triage import RulesError, classify, default_rules, load_rules
from triage_tui.domain.triage.learned import MODEL_PATH, ModelError, _TOKEN, load_model, tokens

ROOT = Path(__file__).resolve().parents[2]

# Urgent only in words the rules have no phrase for (written for this test, in no corpus).
CAUGHT_BY_MODEL_ONLY = "my dad fell off the ladder and now he keeps asking the same thing over and over, he takes warfarin"


@pytest.fixture(scope="module")
def rules():
    return default_rules()


@pytest.fixture(scope="module")
def rules_only(tmp_path_factory):
    p = tmp_path_factory.mktemp("r") / "rules.toml"
    p.write_text("[second_opinion]\nenabled = false\n")
    return load_rules(p)


def test_shipped_model_and_its_provenance():
    m = load_model()
    meta = m.meta
    assert 0.0 < meta["threshold"] < 0.5
    assert meta["messages"] >= 3000 and meta["urgent"] >= 300
    cv = meta["cross_validation"]
    assert set(cv["per_set"]) == {f"triage_{k}" for k in (
        "corpus", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6", "holdout7", "holdout8")}
    tp, n = map(int, cv["by_threshold"][f"{meta['threshold']:g}"]["recall"].split("/"))
    assert tp / n >= 0.975  # how the threshold was chosen
    assert len(m.unigrams) > 1000 and len(m.bigrams) > 5000


def test_model_reproduces_from_the_training_data():
    """The shipped weights are what the training script makes of the data in the repository
    (a changed dev set, look-alike list or generator without retraining fails here)."""
    pytest.importorskip("sklearn")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "train_second_opinion.py"), "--check"],
                       capture_output=True, text=True, timeout=170)
    assert r.returncode == 0, r.stdout + r.stderr


def test_catches_what_the_rules_miss_and_says_why(rules, rules_only):
    assert not classify(rules_only, "", CAUGHT_BY_MODEL_ONLY).urgent
    c = classify(rules, "", CAUGHT_BY_MODEL_ONLY)
    assert c.urgent and c.priority is Priority.URGENT
    prio, desc = c.urgent_groups["second_opinion"]
    assert prio == "urgent" and re.search(r"probability 0\.\d\d, threshold 0\.\d\d", desc)
    learned = [m for m in c.matches if m.group == "second_opinion"]
    assert 1 <= len(learned) <= 3
    for m in learned:  # spans point at the words in the original text
        assert CAUGHT_BY_MODEL_ONLY[m.start:m.end] == m.text and m.active
        assert "learned weight" in m.term
    assert any("second opinion" in line for line in c.explanation)


def test_never_lowers_and_does_not_run_on_what_the_rules_flagged(rules, rules_only):
    for text in ("chest pain and I can't breathe", "tengo dolor de pecho y me falta el aire"):
        a, b = classify(rules_only, "", text), classify(rules, "", text)
        assert a.urgent and b.urgent and a.priority == b.priority
        assert "second_opinion" not in b.urgent_groups


@pytest.mark.parametrize("text", [
    "I don't have any chest pain, just need my lisinopril refilled",
    "My chest pain has resolved, thanks",
    "What should I do if I get chest pain on the new medication?",
    "sin dolor de pecho, solo necesito mi receta",
    "Had a stroke in 2019, doing fine now. Can you renew my Eliquis?",
])
def test_denied_past_and_hypothetical_red_flags_stay_routine(rules, text):
    assert not classify(rules, "", text).urgent


def test_repeating_a_routine_phrase_does_not_escalate(rules):
    """Presence, not counts: a message that says the same thing 200 times scores like one that
    says it once (plus the one pair of words where the copies meet)."""
    model = rules.second_opinion.model
    once = "i need my refill and nobody calls me back. "
    z1 = model.logit(tokens(once))
    z200 = model.logit(tokens(once * 200))
    assert abs(z200 - z1) < 1.0
    assert not classify(rules, "Refill", once * 200).urgent


def test_hostile_text_is_only_text(rules):
    for text in ("\x1b]52;c;ZWNobyBoaQ==\x07\x1b[2J no chest pain", "\ud800\udfff lone surrogates",
                 "\u202eevil\u202c " * 50, "\x00" * 1000, "[red]markup[/red] " * 100, ""):
        c = classify(rules, text[:40], text)
        assert isinstance(c.urgent, bool)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=80))
def test_byte_tokens_are_the_words_the_spans_find(text):
    """``tokens`` (bytes, one translate) and ``_TOKEN`` (the spans of the explanation) agree."""
    low = text.lower()
    toks = [t.decode("utf-8", "surrogatepass").lstrip("~") for t in tokens(low)]
    assert toks == _TOKEN.findall(low)


def test_settings_threshold_priority_and_off(tmp_path, rules):
    p = tmp_path / "rules.toml"
    p.write_text('[second_opinion]\nthreshold = 0.999\n')
    assert not classify(load_rules(p), "", CAUGHT_BY_MODEL_ONLY).urgent
    p.write_text('[second_opinion]\npriority = "asap"\ndescription = "model says so"\n')
    c = classify(load_rules(p), "", CAUGHT_BY_MODEL_ONLY)
    assert c.priority is Priority.ASAP and c.urgent_groups["second_opinion"][1].startswith("model says so")
    p.write_text("[second_opinion]\nenabled = false\n")
    off = load_rules(p)
    assert off.second_opinion.model is None
    assert rules.second_opinion.cut == pytest.approx(rules.second_opinion.model.meta["threshold"])


@pytest.mark.parametrize("body, key", [
    ("threshold = 1.5", "second_opinion.threshold"),
    ("threshold = 0", "second_opinion.threshold"),
    ('threshold = "high"', "second_opinion.threshold"),
    ('priority = "routine"', "second_opinion.priority"),
    ('enabled = "yes"', "second_opinion.enabled"),
    ("model = 'x.json'", "second_opinion"),
])
def test_bad_settings_name_the_file_and_key(tmp_path, body, key):
    p = tmp_path / "rules.toml"
    p.write_text(f"[second_opinion]\n{body}\n")
    with pytest.raises(RulesError) as exc:
        load_rules(p)
    assert str(p) in str(exc.value) and key in str(exc.value)


@pytest.mark.parametrize("content, problem", [
    (None, "cannot read"),
    ("{not json", "cannot read"),
    ('{"format": 99}', "not a second-opinion model"),
    ('{"format": 1, "intercept": 0.1}', "malformed"),
    ('{"format": 1, "intercept": 0.1, "unigrams": {"a": "x"}, "bigrams": {}}', "malformed"),
])
def test_a_broken_model_file_is_a_clear_error(tmp_path, content, problem):
    p = tmp_path / "model.json"
    if content is not None:
        p.write_text(content)
    with pytest.raises(ModelError, match=problem) as exc:
        load_model(p)
    assert str(p) in str(exc.value)


def test_the_model_file_is_compact_json():
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["format"] == 1 and MODEL_PATH.stat().st_size < 2_000_000
    assert all(" " not in k for k in data["unigrams"])
    assert all(k.count(" ") == 1 for k in data["bigrams"])
    assert all(math.isfinite(v) for v in data["unigrams"].values())


def test_the_explanation_shows_words_a_nurse_can_use(rules):
    """Function words weigh in the model but are never shown; a pair that extends a shown
    word replaces it."""
    from triage_tui.domain.triage.learned import FUNCTION_WORDS

    c = classify(rules, "", CAUGHT_BY_MODEL_ONLY)
    shown = [m.text.lower() for m in c.matches if m.group == "second_opinion"]
    assert shown and all(w.split()[0].encode() not in FUNCTION_WORDS
                         and w.split()[-1].encode() not in FUNCTION_WORDS for w in shown)
    assert "keeps asking" in shown  # the pair, not "keeps" alone


def test_the_score_does_not_depend_on_the_hash_seed():
    """Deterministic to the last bit: the sum runs in the order the words first appear."""
    code = ("from triage_tui.domain.triage import default_rules\n"
            "from triage_tui.domain.triage.learned import tokens\n"
            "m = default_rules().second_opinion.model\n"
            f"print(repr(m.logit(tokens({CAUGHT_BY_MODEL_ONLY!r} * 3))))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                           env={**__import__("os").environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2", "3")}
    assert len(outs) == 1 and outs.pop().strip()


def test_the_bounded_score_decides_exactly_as_the_full_score():
    """``logit_if_at_least`` (the heavy-weights bound first) gives the same float as
    ``logit`` at every threshold, also a threshold right at a message's own score or one
    float above it (where a bound off by any rounding would decide wrongly)."""
    from triage_tui.domain.triage.learned import _LIGHT

    m = load_model()
    assert all(w <= _LIGHT for k, w in m.weights.items() if k not in m._heavy)
    texts = []
    for p in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts.append(((row.get("subject") or "") + "\n\n" + (row.get("text") or "")).lower())
    texts += ["", "ok", CAUGHT_BY_MODEL_ONLY]
    for text in texts:
        toks = tokens(text)
        z = m.logit(toks)
        for lo in (z, math.nextafter(z, math.inf), math.nextafter(z, -math.inf), z - 1.0, z + 1.0, -1.437):
            got = m.logit_if_at_least(toks, lo)
            assert got == (z if z >= lo else None), (text, lo)
