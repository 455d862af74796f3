"""Speed work on the triage engine must not change what it says.

A fingerprint (sha256) of the classify output (category, urgent, priority, rules' own
category and every match with its span, term, kind, group and cancelling cue) over two fixed
samples: the ``tune`` split of tests/data/triage_corpus.jsonl, and the messages of the
synthetic practice ``generate_practice(seed=5, n_threads=4000)`` at a fixed time.

UPDATE THE EXPECTED HASHES ONLY WHEN THE RULES (data/*.toml) OR THE ENGINE'S BEHAVIOUR CHANGE
ON PURPOSE, never to make a speed change pass: a speed change that moves a hash changed a
result. (Run ``pytest tests/triage/test_equivalence.py`` and copy the hash from the failure.)

Each sample's input also has a fingerprint: when the input itself changed (the corpus was
edited, the synthetic generator changed) the sample is skipped, not failed, since then the
expected output hash says nothing (record both hashes again).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from triage_tui.domain.triage import classify, default_rules

CORPUS = Path(__file__).resolve().parent.parent / "data" / "triage_corpus.jsonl"

# (input sha256, output sha256). See the module docstring before changing an output hash.
EXPECTED_TUNE = (
    "40499cb579de04cfce9a9d1cb7466f0f5156a0c68b3f99f1aca4073e9959cb84",
    "bb13ecea2ac1d2bf37f9d872469e09178972eb20b4cc64e3588da7d68096a821",
)
EXPECTED_SYNTH = (
    "b015e1c2bb0b6bf2cd8651eedcc5049068dbe13f7d8024ece25744e120965719",
    "7989d6203f53b9db98440464670de2580f5a7914fe9ff2e112a5084992ef9806",
)


def _tune_messages() -> list[tuple[str, str]]:
    out = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row.get("split") == "tune":
                out.append((row["subject"], row["text"]))
    return out


def _synth_messages() -> list[tuple[str, str]]:
    from triage_tui.server.synth import generate_practice

    now = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
    topic: dict[str, str] = {}
    out: list[tuple[str, str]] = []
    for r in generate_practice(seed=5, n_threads=4000, now=now):
        if r["resourceType"] != "Communication":
            continue
        if "partOf" not in r:  # a thread header: its topic is the subject line
            topic[r["id"]] = (r.get("topic") or {}).get("text", "")
            continue
        head = r["partOf"][0]["reference"].split("/", 1)[1]
        text = "".join(p.get("contentString", "") for p in r.get("payload", []))
        out.append((topic.get(head, ""), text))
    return out


def _output(c) -> dict:
    return {
        **c.to_dict(),
        "rules_category": c.rules_category.value,
        "cue_spans": [(m.cue_start, m.cue_end) for m in c.matches],
    }


def fingerprint(messages: list[tuple[str, str]]) -> tuple[str, str]:
    """(sha256 of the inputs, sha256 of the outputs): one JSON line per message."""
    rules = default_rules()
    hin, hout = hashlib.sha256(), hashlib.sha256()
    for subject, text in messages:
        hin.update(json.dumps([subject, text], ensure_ascii=False).encode() + b"\n")
        out = _output(classify(rules, subject, text))
        hout.update(json.dumps(out, sort_keys=True, ensure_ascii=False).encode() + b"\n")
    return hin.hexdigest(), hout.hexdigest()


@pytest.mark.parametrize(
    ("name", "messages", "expected"),
    [("tune", _tune_messages, EXPECTED_TUNE), ("synth", _synth_messages, EXPECTED_SYNTH)],
)
def test_outputs_unchanged(name, messages, expected) -> None:
    msgs = messages()
    assert msgs, f"{name}: no messages"
    got_in, got_out = fingerprint(msgs)
    if got_in != expected[0]:
        pytest.skip(f"{name}: the input sample changed (input sha256 {got_in}); record both hashes again")
    assert got_out == expected[1], (
        f"{name}: classify output changed (sha256 {got_out}, {len(msgs)} messages). A speed change must "
        "not change results; update the hash only for an intentional rules change."
    )


def test_fingerprint_is_deterministic() -> None:
    msgs = _tune_messages()[:40]
    assert fingerprint(msgs) == fingerprint(msgs)  # warm memos give the same results


def test_ascii_regexes_stand_in_for_unicode_ones_on_non_word_characters(monkeypatch):
    """A text whose only non-ASCII characters are punctuation, symbols or format characters
    (curly quotes, dashes, "¿", emoji, bidi marks) is classified with the ASCII-flag regexes;
    the result must be what the Unicode-flag regexes give (the engine's speed shortcut)."""
    import random
    import re

    from triage_tui.domain.triage import engine

    rng = random.Random(3)
    extra = ["\u2019", "\u201c", "\u201d", "\u2014", "\u2013", "\u00bf", "\u00a1", "\u2026", "\U0001f48a",
             "\u200d", "\u202e", "\u2022", "\u00b0", "\u00ab", "\u00bb", "\u00b7"]
    texts = []
    for subject, text in _tune_messages():
        chars = list(text)
        for _ in range(4):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(extra))
        texts.append((subject, "".join(chars).replace("'", "\u2019")))
    rules = default_rules()
    fast = [_output(classify(rules, s, t)) for s, t in texts]
    monkeypatch.setattr(engine, "_NEEDS_UNICODE", re.compile(r"[^\x00-\x7f]"))
    slow = [_output(classify(rules, s, t)) for s, t in texts]
    assert fast == slow
    assert any(m["term"] for out in slow for m in out.get("matches", []))  # it did match things


def test_stand_in_letters_give_the_unicode_results(monkeypatch):
    """A text whose non-ASCII word characters are all letters (other scripts, "ß", "ø") is
    read with those letters as "_" by the ASCII-flag regexes; the result must be what the
    Unicode-flag regexes give on the text itself. Letters are salted inside words, at their
    edges and alone, next to the rules' own terms."""
    import random
    import re

    from triage_tui.domain.triage import engine

    rng = random.Random(11)
    letters = ["\u05e9", "\u0627", "\u0436", "\u4e2d", "\u03b1", "\u00df", "\u00f8", "\u0111",
               "\u0e01", "\uac00", "\u0915"]
    texts = []
    for subject, text in _tune_messages():
        words = text.split(" ")
        for _ in range(5):
            i = rng.randrange(len(words))
            w, c = words[i], rng.choice(letters) * rng.randint(1, 3)
            words[i] = rng.choice([c + w, w + c, w[: len(w) // 2] + c + w[len(w) // 2:], c + " " + w])
        texts.append((subject, " ".join(words) + rng.choice(["", " \u2019", " \U0001f48a"])))
    rules = default_rules()
    fast = [_output(classify(rules, s, t)) for s, t in texts]
    monkeypatch.setattr(engine, "_NEEDS_UNICODE_SET", re.compile(r"[^\x00-\x7f]"))
    slow = [_output(classify(rules, s, t)) for s, t in texts]
    assert fast == slow


def test_stand_in_spaces_give_the_unicode_results(monkeypatch):
    """A text with non-ASCII spaces (NEL from hostile text, U+2028, U+3000, em space...) is
    read with them as "\\v" by the ASCII-flag regexes; the result must be what the Unicode-flag
    regexes give on the text itself. Spaces replace ordinary ones between the rules' own terms,
    sit at word edges and inside words, and come with stand-in letters too."""
    import random
    import re

    from triage_tui.domain.triage import engine

    rng = random.Random(17)
    spaces = ["\x85", "\u2028", "\u2029", "\u3000", "\u2003", "\u2009", "\u1680", "\u205f",
              "\u200a"]
    texts = []
    for subject, text in _tune_messages():
        words = text.split(" ")
        for _ in range(6):
            i = rng.randrange(len(words))
            w, c = words[i], rng.choice(spaces) * rng.randint(1, 2)
            words[i] = rng.choice([c + w, w + c, w[: len(w) // 2] + c + w[len(w) // 2:], c])
        joins = [rng.choice([" ", " ", rng.choice(spaces)]) for _ in words]
        out = "".join(w + j for w, j in zip(words, joins)).rstrip()
        texts.append((subject.replace(" ", rng.choice(spaces)),
                      out + rng.choice(["", " \u0436", "\u05e9 \U0001f48a"])))
    rules = default_rules()
    rules._cache.pop("compiled", None)  # the Unicode set (a cache: built again on demand)
    fast = [_output(classify(rules, s, t)) for s, t in texts]
    assert "compiled" not in rules._cache  # ... was never needed
    monkeypatch.setattr(engine, "_NEEDS_UNICODE_SET", re.compile(r"[^\x00-\x7f]"))
    slow = [_output(classify(rules, s, t)) for s, t in texts]
    assert "compiled" in rules._cache
    assert fast == slow
    assert sum(out["urgent"] for out in slow) > 10  # the salted texts still match rules


def test_a_non_ascii_digit_still_uses_the_unicode_set():
    rules = default_rules()
    rules._cache.pop("compiled", None)
    classify(rules, "", "fever 3\u0663 days\x85since monday")
    assert "compiled" in rules._cache
