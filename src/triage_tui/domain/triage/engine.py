"""Categorize a message and detect urgency: deterministic, explainable, no I/O.

All terms of all categories and urgent groups are compiled into one trie-shaped regex (the
longest phrase wins: "emergency contact" shadows "emergency"), and the regex patterns into
one alternation per kind. Each match is then checked for cues in its clause: a negation cue a
few words before ("no", "denies", "sin", "no tengo"), a post-negation cue after ("... has
resolved"), a hypothetical cue ("if i get"), or a history cue anywhere in the clause
("last year", "hace anos") unless the clause also speaks of now ("again", "today").
"""

from __future__ import annotations

import math
import re
from operator import itemgetter
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, fields
from typing import Literal, NamedTuple

from triage_tui.domain.codes import Category, Priority
from triage_tui.domain.triage.learned import _TOKEN as _LEARNED_TOKEN
from triage_tui.domain.triage.learned import tokens as _learned_tokens
from triage_tui.domain.triage.learned import words as _learned_words
from triage_tui.domain.triage.rules import Rules
from triage_tui.domain.triage.text import _char_re, _Node, fold, literal_prefixes, term_key, trie_regex, word_start

__all__ = ["Match", "Classification", "classify", "compile_rules"]

Field = Literal["subject", "text"]
CueKind = Literal["negation", "post_negation", "hypothetical", "history"]

# When scores tie, the earlier category wins (clinical first: a nurse reads it).
_TIE_ORDER = (Category.CLINICAL, Category.RESULTS, Category.REFILL, Category.APPOINTMENT, Category.ADMIN)
_SEP = "\n\n"
_PUNCT_BREAK = r"[.;:!?\n()\[\]]|,|\s-\s"
_SENT_END = r"[.!?\n]"
_PUNCT_OTHER = r"[;:()\[\]]|,|\s-\s"
"""``_PUNCT_BREAK`` split: sentence ends (one character each), then the other breaks."""


class Match(NamedTuple):
    """One rule that matched, located in the original (un-normalised) text of one field.

    (A NamedTuple, not a frozen dataclass: classify creates many and frozen dataclasses are
    slow to build.)"""

    start: int
    end: int
    field: Field
    text: str
    """The original characters, ``original[start:end]``."""
    term: str
    """The rule term or pattern that matched, as written in the rules."""
    kind: Literal["category", "urgent"]
    group: str
    """The category (kind category) or the urgent group id (kind urgent)."""
    negated_by: str | None = None
    """The original text of the cue that cancels this match, if any."""
    cue_kind: CueKind | None = None
    cue_start: int | None = None
    cue_end: int | None = None
    """Span of the cue in the same field (for highlighting)."""

    @property
    def active(self) -> bool:
        return self.negated_by is None

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "term": self.term,
            "kind": self.kind,
            "group": self.group,
            "negated_by": self.negated_by,
        }
        if self.cue_kind:
            d["cue_kind"] = self.cue_kind
        return d


@dataclass(frozen=True, slots=True)
class Classification:
    category: Category
    category_source: Literal["server", "rules"]
    rules_category: Category
    """What the rules say, even when the server's category wins (to show a disagreement)."""
    urgent: bool
    priority: Priority
    hits: tuple[tuple, ...] = ()
    """The matches in compact form (positions in the analysed text); :attr:`matches` builds
    the :class:`Match` objects from them on first use."""
    scores: dict[Category, float] = field(default_factory=dict)
    server_category: Category | None = None
    notes: tuple[str, ...] = ()
    """Remarks about the input (an unknown server category, a server priority)."""
    urgent_groups: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Urgent group id -> (priority, description), for the groups in ``matches``."""
    _source: tuple = field(default=(), compare=False, repr=False)
    _memo: list = field(default_factory=list, compare=False, repr=False)

    @property
    def matches(self) -> tuple[Match, ...]:
        """Every rule that matched (active or cancelled by a cue), in text order."""
        if not self._memo:
            self._memo.append(_build_matches(self.hits, self._source))
        return self._memo[0]

    @property
    def explanation(self) -> tuple[str, ...]:
        """Why this category and this urgency, one line per reason (built on demand)."""
        return _explain(self)

    @property
    def disagreement(self) -> bool:
        """The server set a category and the rules would have chosen another."""
        return self.server_category is not None and self.server_category != self.rules_category

    @property
    def urgent_matches(self) -> tuple[Match, ...]:
        return tuple(m for m in self.matches if m.kind == "urgent" and m.active)

    def to_dict(self) -> dict[str, object]:
        return {
            "category": self.category.value,
            "urgent": self.urgent,
            "priority": self.priority.value,
            "matches": [m.to_dict() for m in self.matches],
        }


_CLASSIFICATION_FIELDS = (
    "category", "category_source", "rules_category", "urgent", "priority", "hits", "scores",
    "server_category", "notes", "urgent_groups", "_source", "_memo",
)
assert tuple(f.name for f in fields(Classification)) == _CLASSIFICATION_FIELDS
_NEW = object.__new__
(_SET_CATEGORY, _SET_CATEGORY_SOURCE, _SET_RULES_CATEGORY, _SET_URGENT, _SET_PRIORITY, _SET_HITS,
 _SET_SCORES, _SET_SERVER_CATEGORY, _SET_NOTES, _SET_URGENT_GROUPS, _SET_SOURCE, _SET_MEMO) = (
    getattr(Classification, name).__set__ for name in _CLASSIFICATION_FIELDS
)


def _classification(
    category, category_source, rules_category, urgent, priority, hits, scores, server_category, notes,
    urgent_groups, source,
) -> Classification:
    """``Classification(...)`` with every field given, built without the frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` per field): the same object, set through its slots."""
    c = _NEW(Classification)
    _SET_CATEGORY(c, category)
    _SET_CATEGORY_SOURCE(c, category_source)
    _SET_RULES_CATEGORY(c, rules_category)
    _SET_URGENT(c, urgent)
    _SET_PRIORITY(c, priority)
    _SET_HITS(c, hits)
    _SET_SCORES(c, scores)
    _SET_SERVER_CATEGORY(c, server_category)
    _SET_NOTES(c, notes)
    _SET_URGENT_GROUPS(c, urgent_groups)
    _SET_SOURCE(c, source)
    _SET_MEMO(c, [])
    return c


# --------------------------------------------------------------------------- compiling


@dataclass(frozen=True, slots=True)
class _Owner:
    kind: Literal["category", "urgent", "symptom"]
    group: str
    term: str
    weight: float  # category score (kind category)
    negatable: bool
    pattern: bool = False
    key: tuple[str, str] = ("", "")
    """(kind, group), precomputed: duplicate hits of one group count once."""
    cat: Category | None = None
    """The category a non-negated hit scores for (urgent: its group's category)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.kind, self.group))
        if self.kind == "category":
            object.__setattr__(self, "cat", Category(self.group))


@dataclass(slots=True)
class _Terms:
    """One trie-shaped regex over the terms of one kind, and the owners of each term."""

    rx: re.Pattern[str]
    exact: dict[str, list[_Owner]]
    prefix: dict[str, list[_Owner]]
    max_prefix: int
    memo: dict[str, list[_Owner]] = field(default_factory=dict)
    """Matched text -> owners (a bounded cache: the same phrasings recur)."""


@dataclass(slots=True)
class _Compiled:
    urgent_terms: _Terms
    category_terms: _Terms
    """Two scans: an urgent phrase overlapping a category phrase ("tengo dolor" / "dolor de
    pecho") must still be found; one contained in a longer phrase of the other kind
    ("emergency" in "emergency contact", "seizure" in "seizure meds") is dropped."""
    patterns: list[tuple[re.Pattern[str], _Owner]]
    gate: re.Pattern[str] | None
    """Zero-width search finding every position where some pattern's literal prefix starts."""
    gate_owners: dict[str, list[int]]
    gate_maxlen: int
    always: list[int]
    """Patterns without a usable literal prefix or a leading ``\\b``: searched over the whole
    text (slower; the gate only looks at word starts)."""
    cue_scan: re.Pattern[str]
    """Every cue phrase (one trie) plus punctuation breaks, scanned once per message."""
    cue_exact: dict[str, frozenset[str]]
    cue_prefix: dict[str, frozenset[str]]
    cue_numbered: list[tuple[re.Pattern[str], frozenset[str]]]
    secondary: re.Pattern[str] | None
    """Markers of a second request ("also", "PS", "otra cosa")."""
    secondary_maxlen: int
    category_weight: dict[str, float]
    acu_exact: dict[str, float]
    acu_prefix: dict[str, float]
    acu_rx: re.Pattern[str] | None
    """Acuity cues (one trie), scanned only around a symptom word."""
    fuzzy: _Fuzzy | None
    neg_hyp: re.Pattern[str]
    """Any negation or hypothetical cue (a cheap test before the full cue scan)."""
    cue_memo: dict[str, frozenset[str]] = field(default_factory=dict)
    cat_memo: dict[str, tuple[tuple[_Owner, ...], tuple[_Owner, ...]]] = field(default_factory=dict)
    """Matched category-trie text -> (category owners, symptom owners)."""
    gate_by_prefix: dict[str, tuple] = field(default_factory=dict)
    """Longest literal prefix found at a gate hit (canonical form) -> ``(union, todo)``: ``(index, pattern.match,
    owner)`` of every pattern to try there (those of that prefix and of its shorter prefixes)
    and a union of them tried first."""


_WORD = re.compile(r"\w+")
_NEEDS_UNICODE = re.compile(r"(?![\x00-\x7f])[\w\s]")
"""A character on which the Unicode and the ASCII ``\\w``, ``\\b``, ``\\s`` and ``\\d`` disagree
(a non-ASCII letter, digit or space; ``\\d`` is part of ``\\w``)."""
_NEEDS_UNICODE_SET = re.compile(r"(?![\x00-\x7f])\d")
"""Of those, the ones a stand-in cannot replace (a non-ASCII digit: rules write digits as
classes like ``[0-2]`` that no ASCII stand-in for "٣" would match the same way)."""
_NON_ASCII_LETTER = re.compile(r"(?![\x00-\x7f])\w")
_NON_ASCII_SPACE = re.compile(r"(?![\x00-\x7f])\s")
_SPACE_STAND_IN = "\v"
"""What a non-ASCII space (NEL, NBSP left by fold, U+2028, U+3000...) is read as by the ASCII
regexes: a space to ``\\s``, ``\\b``, ``\\W`` and ``.`` as it is, and, unlike " ", no literal
character of any rule (a literal space in a rule does not match U+3000 either)."""
_GATE_PREFIX = 8
"""Longest literal prefix the gate looks for (longer: fewer gate hits, a bigger gate regex)."""
_CANON = str.maketrans("", "", " \t\n\r\f\v-/'")
_SEPARATORS = re.compile(r"[\s\-/']+")


def _plain_trie(keys: dict[str, list[int]]) -> str:
    """Alternation of literal prefixes, longest first (no word boundaries)."""
    return trie_regex(keys, bounded=False)


def _cue_re(terms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(trie_regex(terms))


def _break_re(words: tuple[str, ...]) -> re.Pattern[str]:
    if not words:
        return re.compile(_PUNCT_BREAK)
    return re.compile(_PUNCT_BREAK + "|" + trie_regex(words))


_FIXED_WIDTH_BAD = frozenset(" '-#*")


def _gate_trie(
    keys: dict[str, list[int]],
    patterns: list[tuple[re.Pattern[str], _Owner]],
    todo: dict[str, list[int]],
    checked: set[str],
) -> str:
    """The literal prefixes as one trie (the same regex as ``trie_regex(keys, bounded=False)``),
    where each prefix written with one character per character also requires, right there,
    that one of the patterns :func:`classify` would try at that gate hit matches.

    Most gate hits ("is", "had", a digit) are followed by no match: checking in the regex
    engine drops them without a Python round trip. The check of a prefix is the union of its
    patterns (those :attr:`_Compiled.gate_by_prefix` lists for it), run from the hit (a
    lookbehind the prefix's width back); when it fails the engine backtracks to a shorter
    prefix, whose patterns are a subset: it fails too. Every gated pattern starts with ``\\b``,
    which holds at the hit (a word start): it is left out."""
    root = _Node()
    for term in keys:
        t = re.sub(r"\s+", " ", term.strip().rstrip("*").strip())
        if not t:
            continue
        node = root
        for ch in t:
            node = node.children.setdefault(ch, _Node())
        node.end = True

    def check(path: str) -> str:
        if any(ch in _FIXED_WIDTH_BAD for ch in path):
            return ""  # not a fixed width: no check (the hit is reported, as without it)
        idxs = todo.get(path.translate(_CANON))
        if not idxs:
            return ""
        union = "|".join("(?:" + patterns[i][0].pattern[2:] + ")" for i in idxs)
        checked.add(path.translate(_CANON))
        return "(?<=(?=" + union + ")" + re.escape(path) + ")"

    def render(node: _Node, path: str) -> str:
        branches = [_char_re(ch) + render(child, path + ch) for ch, child in sorted(node.children.items())]
        if not branches:
            return check(path)
        if node.end:
            c = check(path)
            return "(?:" + "|".join(branches) + "|" + c + ")" if c else "(?:" + "|".join(branches) + ")?"
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    if not root.children:
        return r"(?!x)x"
    return render(root, "")


def compile_rules(rules: Rules, ascii: bool = False) -> _Compiled:
    """Compile (once, cached on the rules object) the regexes that :func:`classify` runs.

    ``ascii``: the same regexes compiled with ``re.ASCII`` (faster ``\\w``/``\\b`` tests),
    for folded texts that are all ASCII (nearly all: folding removes accents), where they
    match exactly what the Unicode ones match."""
    slot = "compiled_ascii" if ascii else "compiled"
    hit = rules._cache.get(slot)
    if hit is not None:
        return hit
    flags = re.ASCII if ascii else 0
    # the typo index is flag-independent ([a-z] only): share it between the two variants
    other = rules._cache.get("compiled" if ascii else "compiled_ascii")
    s = rules.settings
    tables: dict[str, tuple[dict[str, list[_Owner]], dict[str, list[_Owner]], list[str]]] = {
        "urgent": ({}, {}, []),
        "category": ({}, {}, []),
    }

    def add(term: str, owner: _Owner) -> None:
        t = fold(term.strip())[0]
        key = term_key(t.rstrip("*"))
        if not key:
            return
        exact, prefix, all_terms = tables["category" if owner.kind == "symptom" else owner.kind]
        all_terms.append(t)
        table = prefix if t.endswith("*") else exact
        lst = table.setdefault(key, [])
        if all(o.kind != owner.kind or o.group != owner.group for o in lst):
            lst.append(owner)

    patterns: list[tuple[re.Pattern[str], _Owner]] = []
    gate_owners: dict[str, list[int]] = {}
    always: list[int] = []

    def add_pattern(pat: str, owner: _Owner) -> None:
        idx = len(patterns)
        patterns.append((re.compile(pat, flags), owner))
        prefixes = literal_prefixes(pat, _GATE_PREFIX, optional=True)
        if "" in prefixes or not pat.startswith("\\b"):
            always.append(idx)
            return
        for pre in prefixes:
            gate_owners.setdefault(pre, []).append(idx)

    for rule in rules.urgent.values():
        for t in rule.terms:
            add(t, _Owner("urgent", rule.id, t, 0.0, True))
        for p in rule.patterns:
            add_pattern(p, _Owner("urgent", rule.id, p, 0.0, True, True))
    for cat, rule in rules.categories.items():
        for t in rule.terms:
            add(t, _Owner("category", cat.value, t, s.term_weight, rule.negatable))
        for t in rule.strong_terms:
            add(t, _Owner("category", cat.value, t, s.strong_weight, rule.negatable))
        for p in rule.patterns:
            add_pattern(p, _Owner("category", cat.value, p, s.pattern_weight, rule.negatable))

    acu = rules.acuity
    if acu.enabled:
        for term, (system, w) in acu.symptoms.items():
            add(term, _Owner("symptom", system, term, w, True))

        # a symptom word that is also an ending of a category term ("hurting" / "hurt*") keeps
        # the category owners the exact key would otherwise hide
        exact, prefix, _all = tables["category"]
        for key, lst in exact.items():
            if not any(o.kind == "symptom" for o in lst):
                continue
            for n in range(len(key), 0, -1):
                found = prefix.get(key[:n])
                if found:
                    lst.extend(o for o in found if o not in lst)
                    break

    c = rules.cues
    cue_sets: dict[str, set[str]] = {}
    acu_exact: dict[str, float] = {}
    acu_prefix: dict[str, float] = {}
    if acu.enabled:
        for ph, w in acu.cues.items():
            key = term_key(ph.rstrip("*"))
            (acu_prefix if ph.endswith("*") else acu_exact)[key] = w
    for kind, phrases in (
        ("neg", c.negation), ("pseudo", c.pseudo_negation), ("post", c.post_negation),
        ("hyp", c.hypothetical), ("hist", c.history), ("cur", c.current), ("curc", c.current_clause),
        ("brk", c.clause_break), ("hbrk", c.history_break),
    ):
        for ph in phrases:
            ph = fold(ph.strip())[0]
            if ph.startswith("# ") and len(ph) > 2:
                # "# years ago" is found as "years ago": a number alternative tried at every
                # word start would make the cue scan twice as slow
                ph = ph[2:]
            cue_sets.setdefault(ph, set()).add(kind)
    cue_terms = list(cue_sets)
    cue_exact: dict[str, frozenset[str]] = {}
    cue_prefix: dict[str, frozenset[str]] = {}
    cue_numbered: list[tuple[re.Pattern[str], frozenset[str]]] = []
    for ph, kinds in cue_sets.items():
        # a pseudo-negation is a phrase that is no cue at all
        ks = frozenset() if "pseudo" in kinds else frozenset(kinds)
        if "#" in ph:
            cue_numbered.append((re.compile(trie_regex([ph]), flags), ks))
            continue
        key = term_key(ph.rstrip("*"))
        table = cue_prefix if ph.endswith("*") else cue_exact
        table[key] = table.get(key, frozenset()) | ks
    def terms(kind: str) -> _Terms:
        exact, prefix, all_terms = tables[kind]
        return _Terms(
            rx=re.compile(trie_regex(all_terms), flags),
            exact=exact,
            prefix=prefix,
            max_prefix=max((len(k) for k in prefix), default=0),
        )

    compiled = _Compiled(
        urgent_terms=terms("urgent"),
        category_terms=terms("category"),
        patterns=patterns,
        gate=None,
        gate_owners=gate_owners,
        gate_maxlen=max((len(k) for k in gate_owners), default=0),
        always=always,
        # the sentence ends first: the same alternation as "(?P<punct>_PUNCT_BREAK)|cues",
        # with the one-character sentence ends told apart by the group name
        cue_scan=re.compile("(?P<sent>" + _SENT_END + ")|(?P<punct>" + _PUNCT_OTHER + ")|" + trie_regex(cue_terms), flags),
        cue_exact=cue_exact,
        cue_prefix=cue_prefix,
        cue_numbered=cue_numbered,
        secondary=re.compile(trie_regex([fold(x.strip())[0] for x in c.secondary]), flags) if c.secondary else None,
        # generous: a space in a marker matches a run of separators
        secondary_maxlen=4 * max((len(x) for x in c.secondary), default=0) + 8,
        category_weight={cat.value: rule.weight for cat, rule in rules.categories.items()},
        acu_exact=acu_exact,
        acu_prefix=acu_prefix,
        acu_rx=re.compile(trie_regex(list(acu.cues)), flags) if acu.enabled and acu.cues else None,
        fuzzy=(other.fuzzy if other is not None else _build_fuzzy(rules, tables)) if rules.fuzzy.enabled else None,
        neg_hyp=re.compile(trie_regex([fold(x.strip())[0] for x in (*c.negation, *c.hypothetical)]), flags),
    )
    # the gate's text is looked up in canonical form (no separators or apostrophes: a space in
    # a prefix matches any run of spaces, hyphens or slashes, an apostrophe is optional)
    canon: dict[str, list[int]] = {}
    gate_todo: dict[str, list[int]] = {}
    for pre, idxs0 in gate_owners.items():
        lst = canon.setdefault(pre.translate(_CANON), [])
        lst.extend(i for i in idxs0 if i not in lst)
    for key in canon:
        idxs: list[int] = []
        for n in range(len(key), 0, -1):
            for idx in canon.get(key[:n], ()):
                if idx not in idxs:
                    idxs.append(idx)
        gate_todo[key] = idxs
    if gate_owners:
        checked: set[str] = set()
        first = {re.sub(r"\s+", " ", k.strip().rstrip("*").strip())[:1] for k in gate_owners} - {""}
        compiled.gate = re.compile(
            word_start(first) + "(?=(" + _gate_trie(gate_owners, patterns, gate_todo, checked) + "))", flags
        )
    for key, idxs in gate_todo.items():
        # a prefix checked in the gate needs no union check in classify (it just passed)
        compiled.gate_by_prefix[key] = _gate_entry(patterns, idxs, with_union=key not in checked, flags=flags)
    rules._cache[slot] = compiled
    return compiled


# --------------------------------------------------------------------------- typo tolerance

_LETTERS = re.compile(r"[a-z]+")


def _osa1(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are exactly one edit apart (insert, delete, substitute, or
    swap two neighbouring letters)."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


@dataclass(slots=True)
class _Fuzzy:
    """Symmetric-delete index of the urgent lexicon: a word one edit away from a lexicon word
    shares a one-deletion variant with it (checked exactly afterwards)."""

    index: dict[str, tuple[str, ...]]
    ok: set[str]
    """Known words and words already found to need no correction (grows, bounded)."""
    fixes: dict[str, str]
    """Misspelt word -> lexicon word (memo)."""
    word_rx: re.Pattern[str]
    min_word: int
    ok_ascii: set[bytes] = field(default_factory=set)
    """``ok`` as bytes, plus runs of letters shorter than ``min_word`` seen in texts (never
    words to check): when all the letter runs of an ASCII text are in it, all its words
    (``word_rx``) are in ``ok`` (a quicker test than the regex)."""
    ok_words: set[bytes] = field(default_factory=set)
    """Words of ASCII texts (``learned.words``: runs of letters and digits) whose letter runs
    all needed no correction: a text made of them needs none. (The second opinion splits the
    text into these words anyway: one split serves both.)"""

    def resolve(self, w: str) -> str | None:
        hit = self.fixes.get(w)
        if hit is not None:
            return hit
        cands: set[str] = set(self.index.get(w, ()))
        for i in range(len(w)):
            cands.update(self.index.get(w[:i] + w[i + 1 :], ()))
        found = {c for c in cands if _osa1(w, c)}
        if len(found) == 1:
            fix = found.pop()
            if len(self.fixes) < 100_000:
                self.fixes[w] = fix
            return fix
        if len(self.ok) < 500_000:
            self.ok.add(w)
            self.ok_ascii.add(w.encode("ascii"))
        return None


def _build_fuzzy(rules: Rules, tables: dict) -> _Fuzzy:
    fz = rules.fuzzy
    lexicon: set[str] = set()
    known: set[str] = set()

    def words(text: str) -> list[str]:
        return _LETTERS.findall(fold(text)[0])

    for rule in rules.urgent.values():
        for t in rule.terms:
            lexicon.update(w for w in words(t.rstrip("*")) if len(w) >= fz.min_length)
    for term in rules.acuity.symptoms:
        lexicon.update(w for w in words(term.rstrip("*")) if len(w) >= fz.min_length)
    for term in rules.acuity.cues:
        if rules.acuity.cues[term] > 0:
            lexicon.update(w for w in words(term.rstrip("*")) if len(w) >= fz.min_length)
    lexicon.update(w for t in fz.words for w in words(t) if len(w) >= fz.min_length)
    # every word the rules use anywhere is a real word: never "corrected"
    for _exact, _prefix, all_terms in tables.values():
        for t in all_terms:
            known.update(words(t.rstrip("*")))
    c = rules.cues
    for group in (c.negation, c.pseudo_negation, c.post_negation, c.hypothetical, c.history,
                  c.current, c.current_clause, c.clause_break, c.history_break, c.secondary):
        for t in group:
            known.update(words(t.rstrip("*")))
    # typos in negation and history cues matter too ("dneies chest pain")
    for group in (c.negation, c.post_negation, c.history):
        for t in group:
            lexicon.update(w for w in words(t.rstrip("*")) if len(w) >= fz.min_length)
    lexicon -= {w for t in fz.skip for w in words(t)}
    known.update(w for t in fz.known for w in words(t))
    known |= lexicon
    index: dict[str, set[str]] = {}
    for lw in lexicon:
        index.setdefault(lw, set()).add(lw)
        for i in range(len(lw)):
            index.setdefault(lw[:i] + lw[i + 1 :], set()).add(lw)
    min_word = max(3, fz.min_length - 1)
    return _Fuzzy(
        index={k: tuple(sorted(v)) for k, v in index.items()},
        ok=known,
        fixes={},
        word_rx=re.compile(r"[a-z]{%d,}" % min_word),
        min_word=min_word,
        ok_ascii={w.encode("ascii") for w in known},
    )


_LETTER_RUNS = bytes(c if 97 <= c <= 122 else 32 for c in range(256))
"""a-z kept, any other byte a space: ``split()`` then gives the runs of letters."""


def _corrections(
    fz: _Fuzzy, norm: str, is_ascii: bool = False, split: list[bytes] | None = None
) -> dict[str, str] | None:
    """Misspelt word -> lexicon word, for the words of ``norm`` that need it (None: none).
    ``split``: ``learned.words(norm)`` of an ASCII text (each letter run of the text lies in
    one of them)."""
    if split is not None:
        if fz.ok_words.issuperset(split):
            return None  # the usual case: words seen before in texts that needed no correction
        fixes = _corrections(fz, norm, is_ascii)
        if fixes is None and len(fz.ok_words) < 200_000:
            # every letter run of the text is known (and stays known: ``ok`` only grows)
            fz.ok_words.update(split)
        return fixes
    if is_ascii:
        # the letter runs of an ASCII text: its words (word_rx) are the runs of min_word or more
        runs = norm.encode("ascii").translate(_LETTER_RUNS).split()
        if fz.ok_ascii.issuperset(runs):
            return None  # every word known (the usual case): no regex pass
        if len(fz.ok_ascii) < 100_000:
            # runs too short to be words are never checked: remember them
            fz.ok_ascii.update(r for r in runs if len(r) < fz.min_word)
    words = fz.word_rx.findall(norm)
    if fz.ok.issuperset(words):  # the usual case: every word is known (no set built)
        return None
    unknown = set(words) - fz.ok
    fixes = {}
    for w in unknown:
        fix = fz.resolve(w)
        if fix is not None:
            fixes[w] = fix
    return fixes or None


def _apply_fixes(fz: _Fuzzy, norm: str, fixes: dict[str, str]) -> tuple[str, list[tuple[int, int, int, int]]]:
    """The corrected text and its replacements ``(corr_start, corr_end, norm_start, norm_end)``."""
    out: list[str] = []
    reps: list[tuple[int, int, int, int]] = []
    pos = 0
    clen = 0
    for m in fz.word_rx.finditer(norm):
        fix = fixes.get(m.group())
        if fix is None:
            continue
        a, b = m.span()
        out.append(norm[pos:a])
        clen += a - pos
        reps.append((clen, clen + len(fix), a, b))
        out.append(fix)
        clen += len(fix)
        pos = b
    out.append(norm[pos:])
    return "".join(out), reps


def _corrected(
    fz: _Fuzzy, norm: str, offsets: list[int] | None, fixes: dict[str, str]
) -> tuple[str, list[int]]:
    """``norm`` with the typos corrected, and the offset table from it to the original text."""
    fixed, reps = _apply_fixes(fz, norm, fixes)
    table: list[int] = []
    p = 0
    for cs, ce, ns, ne in reps:
        delta = ns - cs
        table.extend(range(p + delta, cs + delta))
        width = ce - cs
        table.extend(ns + min((i * (ne - ns)) // width, ne - ns - 1) for i in range(width))
        p = ce
        last = ne - ce
    delta = last if reps else 0
    table.extend(range(p + delta, len(fixed) + delta + 1))
    if offsets is not None:
        table = [offsets[i] for i in table]
    return fixed, table


# --------------------------------------------------------------------------- classifying


class _Doc:
    """One message under analysis: its folded text and, on first need, its cues, clause
    breaks and sentence ends (one regex pass, taken only as far as needed: see :meth:`_scan`)."""

    __slots__ = ("norm", "cp", "ev_start", "ev_end", "ev_kind", "brk", "hbrk", "sent", "hit_spans",
                 "_pending", "_seen", "_reach")

    def __init__(self, norm: str, cp: _Compiled) -> None:
        self.norm = norm
        self.cp = cp
        self.ev_start: list[int] | None = None
        self.hit_spans: list[tuple[int, int]] = []
        self._seen = -1
        """Every scan match starting at or before this position is recorded."""
        self._reach = -1
        """The start of the last sentence end recorded."""

    def _scan(self, upto: int, sentence: bool) -> None:
        """Scan (further) until a match starting at or after ``upto`` is recorded, or with
        ``sentence`` a sentence end.

        The scan is the same ``finditer`` as over the whole text, only stopped early: its
        matches so far are the whole scan's first matches. What :meth:`cue` reads for a match
        at [s, e) lies before the first sentence end at or after ``e`` (a sentence end is a
        clause break of both kinds), and, for the cues before it only, before ``s``. Most
        matches that need cues are not in a message's last sentences."""
        if self.ev_start is None:
            self.ev_start, self.ev_end, self.ev_kind = [], [], []
            self.brk, self.hbrk, self.sent = ([], []), ([], []), []
            self._pending = self.cp.cue_scan.finditer(self.norm)
        cp = self.cp
        memo = cp.cue_memo
        ev_s, ev_e, ev_k = self.ev_start, self.ev_end, self.ev_kind
        (bs, be), (hs, he), sent = self.brk, self.hbrk, self.sent
        bs_add, be_add, hs_add, he_add = bs.append, be.append, hs.append, he.append
        end = len(self.norm) + 1
        stop_sent, stop_any = (upto, end) if sentence else (end, upto)
        for m in self._pending:
            a, b = m.span()
            lg = m.lastgroup
            if lg is not None:
                # a clause break only (cue() looks at cue words, never at punctuation)
                bs_add(a)
                be_add(b)
                hs_add(a)
                he_add(b)
                if lg == "sent":
                    sent.append(a)
                    if a >= stop_sent:
                        self._seen = self._reach = a
                        return
            else:
                g = m.group()
                kinds = memo.get(g)
                if kinds is None:
                    kinds = _cue_kinds(cp, g)
                if kinds:
                    if "brk" in kinds:
                        bs_add(a)
                        be_add(b)
                        hs_add(a)
                        he_add(b)
                    elif "hbrk" in kinds:
                        hs_add(a)
                        he_add(b)
                    ev_s.append(a)
                    ev_e.append(b)
                    ev_k.append(kinds)
            if a >= stop_any:
                self._seen = a
                self._reach = sent[-1] if sent else -1
                return
        self._seen = self._reach = end

    def _words_between(self, a: int, b: int) -> int:
        """Words strictly between two positions (counted by spaces: cheap, good enough)."""
        return max(0, self.norm.count(" ", a, b) - 1)

    def _clause(self, breaks: tuple[list[int], list[int]], s: int, e: int) -> tuple[int, int]:
        starts, ends = breaks
        i = bisect_right(ends, s) - 1
        cs = ends[i] if i >= 0 else 0
        j = bisect_left(starts, e)
        ce = starts[j] if j < len(starts) else len(self.norm)
        return cs, ce

    def in_hit(self, a: int, b: int) -> bool:
        """The cue at [a, b) is part of an urgent phrase ("not breathing", "baby isn't
        moving"): it starts that phrase or sits in its first words. A long pattern span that
        merely covers the cue ("hives ... no trouble breathing") does not shield it."""
        return any(hs <= a and b <= he and a - hs <= _SHIELD for hs, he in self.hit_spans)

    def cue(
        self, s: int, e: int, rules: Rules, full: bool = True, inner: bool = False
    ) -> tuple[CueKind, int, int] | None:
        """The cue cancelling the match at [s, e), if any. ``full=False`` (category terms)
        checks only the cues before the term (negation, hypothetical). ``inner`` (urgent
        patterns, which may span several words: "baby ... no fever") also looks for a negation
        cue inside the span, just before its last words and in the same clause."""
        if full:
            if self._reach < e:
                self._scan(e, True)
        elif self._seen < s:
            self._scan(s, False)
        st = rules.settings
        ev_s, ev_e, ev_k = self.ev_start, self.ev_end, self.ev_kind
        cs, ce = self._clause(self.brk, s, e)
        # before the term, nearest first
        i = bisect_left(ev_s, s) - 1
        while i >= 0 and ev_s[i] >= cs:
            kinds = ev_k[i]
            a, b = ev_s[i], ev_e[i]
            i -= 1
            if b > s:
                continue
            kind: CueKind | None = None
            if "neg" in kinds:
                kind, window = "negation", st.negation_window
            elif "hyp" in kinds:
                kind, window = "hypothetical", st.hypothetical_window
            else:
                continue
            if self.in_hit(a, b):
                continue
            if self._words_between(b, s) > window:
                break
            return (kind, a, b)
        if not full:
            return None
        if inner:
            i = bisect_right(ev_s, s)
            while i < len(ev_s) and ev_s[i] < e:
                a, b = ev_s[i], ev_e[i]
                i += 1
                if b >= e or "neg" not in ev_k[i - 1]:
                    continue
                if self._words_between(b, e) > 2:
                    continue
                starts = self.brk[0]
                j = bisect_left(starts, b)
                if j < len(starts) and starts[j] < e:
                    continue  # a clause break between the cue and the end of the match
                return ("negation", a, b)
        # after the term
        i = bisect_left(ev_s, e)
        while i < len(ev_s) and ev_s[i] < ce:
            if "post" in ev_k[i]:
                a, b = ev_s[i], ev_e[i]
                if self._words_between(e, a) <= st.post_negation_window:
                    return ("post_negation", a, b)
                break
            i += 1
        # history anywhere in the clause, unless the sentence speaks of now
        hs, he = self._clause(self.hbrk, s, e)
        i = bisect_left(ev_s, hs)
        hist = None
        while i < len(ev_s) and ev_s[i] < he:
            if "hist" in ev_k[i] and not (s <= ev_s[i] < e):
                hist = (ev_s[i], ev_e[i])
                break
            i += 1
        if hist is None:
            return None
        k = bisect_right(self.sent, s) - 1
        ss = self.sent[k] + 1 if k >= 0 else 0
        k = bisect_left(self.sent, e)
        se = self.sent[k] if k < len(self.sent) else len(self.norm)
        i = bisect_left(ev_s, ss)
        while i < len(ev_s) and ev_s[i] < se:
            k = ev_k[i]
            if "cur" in k or ("curc" in k and hs <= ev_s[i] < he):
                return None
            i += 1
        return ("history", hist[0], hist[1])


_PUNCT_KINDS = frozenset({"brk"})
_SHIELD = 12
"""How far into an urgent phrase a cue may sit and still be part of it (characters)."""


def _cue_kinds(cp: _Compiled, matched: str) -> frozenset[str]:
    hit = cp.cue_memo.get(matched)
    if hit is not None:
        return hit
    key = term_key(matched)
    kinds = cp.cue_exact.get(key)
    if kinds is None:
        for n in range(len(key), 0, -1):
            kinds = cp.cue_prefix.get(key[:n])
            if kinds is not None:
                break
    if kinds is None:
        found: set[str] = set()
        for rx, ks in cp.cue_numbered:
            if rx.fullmatch(matched):
                found |= ks
        kinds = frozenset(found)
    if len(cp.cue_memo) < 50_000:
        cp.cue_memo[matched] = kinds
    return kinds


def _gate_entry(
    patterns: list[tuple[re.Pattern[str], _Owner]], idxs: list[int], with_union: bool = True, flags: int = 0
) -> tuple:
    """``(union, todo)``: the patterns to try at a gate hit, and (for two or more) one regex
    matching where any of them matches, tried first: usually none does, and one failed
    match replaces several (not for a prefix the gate regex already checked)."""
    todo = tuple((i, patterns[i][0].match, patterns[i][1]) for i in idxs)
    union = None
    if with_union and len(idxs) > 1:
        union = re.compile("|".join(f"(?:{patterns[i][0].pattern})" for i in idxs), flags).match
    return union, todo



_START = itemgetter(0)
_END = itemgetter(1)


def _split_owners(cp: _Compiled, matched: str) -> tuple[tuple[_Owner, ...], tuple[_Owner, ...]]:
    owners = _lookup(cp.category_terms, matched)
    split = (tuple(o for o in owners if o.kind != "symptom"), tuple(o for o in owners if o.kind == "symptom"))
    if len(cp.cat_memo) < 50_000:
        cp.cat_memo[matched] = split
    return split


def _lookup(tt: _Terms, matched: str) -> list[_Owner]:
    hit = tt.memo.get(matched)
    if hit is not None:
        return hit
    key = term_key(matched)
    owners = tt.exact.get(key)
    if not owners:
        owners = []
        for n in range(min(len(key), tt.max_prefix), 0, -1):
            found = tt.prefix.get(key[:n])
            if found:
                owners = found
                break
    if len(tt.memo) < 50_000:
        tt.memo[matched] = owners
    return owners


def classify(
    rules: Rules,
    subject: str,
    text: str,
    *,
    server_category: str | Category | None = None,
    server_priority: str | Priority | None = None,
    language: str | None = None,
    _opinion_tokens: list | None = None,
) -> Classification:
    """Category, urgency and priority of one message, with the matches that explain them.

    ``server_category`` (the thread's FHIR category) wins when present and valid; the rules'
    own choice stays in ``rules_category``. ``server_priority`` is a floor: the rules can raise
    priority, never lower it. ``language`` is informational: every active language's terms
    apply (patients mix languages).
    """
    subject = subject or ""
    text = text or ""
    st = rules.settings
    combined = subject + _SEP + text
    norm, offsets = fold(combined)
    is_ascii = norm.isascii()
    # The ASCII-flag regexes match exactly what the Unicode ones match unless the text has a
    # non-ASCII word or space character (curly quotes, dashes, "¿", emoji are neither). When
    # its only such characters are letters (other scripts, "ß") and spaces, the letters are read
    # as "_" (a word character like them, in no rule, one character for one) and the spaces as
    # "\v" (see _SPACE_STAND_IN): the same matches again. Only a non-ASCII digit needs the
    # Unicode set, which costs ~0.5 s to compile (hostile text with a NEL used to cost every
    # sync's rules worker that much).
    stand_in = False
    if is_ascii or _NEEDS_UNICODE.search(norm) is None:
        use_ascii = True
    else:
        use_ascii = stand_in = _NEEDS_UNICODE_SET.search(norm) is None
    cp = rules._cache.get("compiled_ascii" if use_ascii else "compiled")  # compile_rules' cache
    if cp is None:
        cp = compile_rules(rules, use_ascii)
    read_words = None  # the second opinion's words of norm, when the typo check splits it
    if cp.fuzzy is not None:
        if is_ascii:
            read_words = _learned_words(norm)
        fixes = _corrections(cp.fuzzy, norm, is_ascii, read_words)
        if fixes:
            norm, offsets = _corrected(cp.fuzzy, norm, offsets, fixes)
            read_words = None
    read = norm  # what the learned second opinion reads (its words keep their letters)
    if stand_in:
        norm = _NON_ASCII_LETTER.sub("_", norm)
        if not norm.isascii():
            norm = _NON_ASCII_SPACE.sub(_SPACE_STAND_IN, norm)
    doc = _Doc(norm, cp)
    sub_end = len(subject)
    text_start = sub_end + len(_SEP)

    raw: list[tuple[int, int, str, _Owner]] = []
    uspans: list[tuple[int, int]] = []
    tt = cp.urgent_terms
    for m in tt.rx.finditer(norm):
        g = m.group()
        owners = _lookup(tt, g)
        if owners:
            a, b = m.span()
            uspans.append((a, b))
            for owner in owners:
                raw.append((a, b, g, owner))
    tt = cp.category_terms
    if uspans:
        u_lo, u_hi = uspans[0][0], max(ub for _ua, ub in uspans)
    cspans: list[tuple[int, int]] = []
    sym: list[tuple[int, int, _Owner]] = []
    cmemo = cp.cat_memo
    raw_append = raw.append
    if not uspans:
        # the usual case (no urgent term): no span to test against
        for m in tt.rx.finditer(norm):
            g = m.group()
            split = cmemo.get(g)
            if split is None:
                split = _split_owners(cp, g)
            a, b = m.span()
            cat_owners, sym_owners = split
            for owner in cat_owners:
                raw_append((a, b, g, owner))
            if sym_owners:
                for owner in sym_owners:
                    sym.append((a, b, owner))
    else:
        for m in tt.rx.finditer(norm):
            g = m.group()
            split = cmemo.get(g)
            if split is None:
                split = _split_owners(cp, g)
            a, b = m.span()
            if (
                u_lo <= a and b <= u_hi
                and any(ua <= a and b <= ub and ub - ua > b - a for ua, ub in uspans)
            ):
                continue  # "chest" inside "chest pain": the longer phrase speaks
            cat_owners, sym_owners = split
            for owner in cat_owners:
                raw_append((a, b, g, owner))
            for owner in sym_owners:
                sym.append((a, b, owner))
            if cat_owners:
                cspans.append((a, b))
    if cspans:
        # "emergency" inside "emergency contact", "seizure" inside "seizure meds"
        shadowed = {
            (ua, ub) for ua, ub in uspans
            if any(a <= ua and ub <= b and b - a > ub - ua for a, b in cspans)
        }
        if shadowed:
            raw = [r for r in raw if r[3].kind != "urgent" or (r[0], r[1]) not in shadowed]
    n_terms = len(raw)  # raw so far: urgent terms (in order), then category terms (in order)
    if cp.gate is not None:
        last_end: dict[int, int] = {}
        by_prefix = cp.gate_by_prefix
        for g in cp.gate.finditer(norm):
            pos = g.start()
            entry = by_prefix.get(g.group(1).translate(_CANON))
            if entry is None:  # a separator translate() does not know (exotic whitespace)
                entry = by_prefix.get(_SEPARATORS.sub("", g.group(1)))
                if entry is None:
                    continue
            union, todo = entry
            if union is not None and union(norm, pos) is None:
                continue
            for idx, match, owner in todo:
                if last_end and last_end.get(idx, -1) > pos:
                    continue
                m = match(norm, pos)
                if m is not None:
                    e = m.end()
                    if e > pos:
                        last_end[idx] = e
                        raw.append((pos, e, "", owner))  # (the matched text is never read)
    for idx in cp.always:
        rx, owner = cp.patterns[idx]
        for m in rx.finditer(norm):
            if m.end() > m.start():
                raw.append((m.start(), m.end(), m.group(), owner))
    if not uspans and len(raw) == n_terms:
        # category terms only: one finditer's matches, already in text order and never
        # overlapping (nothing to sort, nothing counted twice), and no urgent span
        doc.hit_spans = []
    elif len(raw) > 1:
        # text order, longer first at one start, else as found: two stable C-level sorts
        # (end descending, then start) give the order of the key (start, -end)
        raw.sort(key=_END, reverse=True)
        raw.sort(key=_START)
        # a term and a pattern of the same group on overlapping text count once
        kept: list[tuple[int, int, str, _Owner]] = []
        seen_end: dict[tuple[str, str], int] = {}
        for r in raw:
            k = r[3].key
            if seen_end.get(k, -1) > r[0]:
                continue
            seen_end[k] = r[1]
            kept.append(r)
        raw = kept
        doc.hit_spans = [(r[0], r[1]) for r in raw if r[3].kind == "urgent"]
    else:
        doc.hit_spans = [(r[0], r[1]) for r in raw if r[3].kind == "urgent"]

    # matches after a second-request marker ("also", "PS") that follows a first request weigh less
    sec_from = len(norm) + 1
    if cp.secondary is not None and st.secondary_weight != 1.0 and raw:
        i = bisect_left(raw, text_start, key=_START)  # raw is in text order
        first = raw[i][0] if i < len(raw) else None
        # a marker after the last match changes nothing: search up to there only (and not at
        # all when no match follows the first one)
        if first is not None and raw[-1][0] > first:
            m = cp.secondary.search(norm, first + 1, raw[-1][0] + cp.secondary_maxlen)
            if m is not None:
                sec_from = m.start()
    scores: dict[Category, float] = {}
    hits: list[tuple] = []
    priority = Priority.ROUTINE
    groups: dict[str, tuple[str, str]] = {}
    sub_norm_end = sub_end if offsets is None else bisect_left(offsets, sub_end)
    neg_ends: list[int] | None = None
    neg_words = max(st.negation_window, st.hypothetical_window) + 1
    subject_weight, secondary_weight = st.subject_weight, st.secondary_weight
    urgent_rules = rules.urgent
    for s, e, _mt, owner in raw:
        urgent = owner.kind == "urgent"
        cue = None
        if owner.negatable:
            if urgent:
                cue = doc.cue(s, e, rules, full=True, inner=owner.pattern)
            else:
                # only a negation or hypothetical cue a few words before the term can cancel
                # it: look at the whole cue scan only when there is one
                if neg_ends is None:
                    # a cue must end before the last match starts: scan no further (a cut word
                    # cannot end right before a match, which starts after a non-word character)
                    neg_ends = [m.end() for m in cp.neg_hyp.finditer(norm, 0, raw[-1][0])]
                if neg_ends:
                    i = bisect_right(neg_ends, s) - 1
                    if i >= 0 and norm.count(" ", neg_ends[i], s) <= neg_words:
                        cue = doc.cue(s, e, rules, full=False)
        hits.append((s, e, owner.term, owner.kind, owner.group, cue))
        if s < sub_norm_end:
            mult = subject_weight
        else:
            mult = secondary_weight if s >= sec_from else 1.0
        if urgent:
            rule = urgent_rules[owner.group]
            groups[rule.id] = (rule.priority.value, rule.description)
            if cue is None:
                if rule.priority.rank > priority.rank:
                    priority = rule.priority
                scores[rule.category] = scores.get(rule.category, 0.0) + st.urgent_category_weight * mult
        elif cue is None:
            cat = owner.cat
            scores[cat] = scores.get(cat, 0.0) + owner.weight * mult

    if sym and priority is Priority.ROUTINE and rules.acuity.enabled:
        hit = _acuity(cp, rules, doc, sym)
        if hit is not None:
            s, e, term, score = hit
            priority = rules.acuity.priority
            hits.append((s, e, f"{term} (acuity score {score:g})", "urgent", "acuity", None))
            groups["acuity"] = (priority.value, rules.acuity.description)

    so = rules.second_opinion
    if _opinion_tokens is not None:  # training: the words the model reads, whatever the verdict
        _opinion_tokens.extend(opinion_tokens(read, hits))
    if priority is Priority.ROUTINE and so.model is not None:
        hit2 = _second_opinion(so, read, hits, read_words)
        if hit2 is not None:
            priority = so.priority
            hits.extend(hit2[0])
            groups["second_opinion"] = (priority.value, hit2[1])

    if scores:
        cw = cp.category_weight
        for cat in scores:
            scores[cat] *= cw.get(cat, 1.0)  # a StrEnum member finds its value's key
        best = max(scores.values())
        for rules_category in _TIE_ORDER:
            if scores.get(rules_category, 0.0) == best:
                break
    else:
        rules_category = st.default_category

    notes: list[str] = []
    srv: Category | None = None
    if server_category:
        try:
            srv = Category(str(server_category))
        except ValueError:
            notes.append(f"server category {str(server_category)[:40]!r} is not a known code: ignored")
    if server_priority:
        try:
            sp = Priority(str(server_priority))
            if sp.rank > priority.rank:
                notes.append(f"priority {sp.value}: set by the server")
                priority = sp
        except ValueError:
            notes.append(f"server priority {str(server_priority)[:40]!r} is not a known code: ignored")

    return _classification(
        srv if srv is not None else rules_category,
        "server" if srv is not None else "rules",
        rules_category,
        priority is not Priority.ROUTINE,
        priority,
        tuple(hits),
        scores,
        srv,
        tuple(notes),
        groups,
        (subject, text, combined, offsets, sub_end, text_start),
    )


def opinion_tokens(norm: str, hits: list[tuple], split: list[bytes] | None = None) -> list[bytes]:
    """The words the learned second opinion reads: :func:`learned.tokens` of the analysed text,
    with the words of every urgent match the rules cancelled (denied, past, hypothetical,
    resolved) marked ``~`` like the words after a negation. So the model weighs what the rules
    already explained away as the denial it is, not as the red flag ("my chest pain has
    resolved" is not "chest pain"). ``split``: ``learned.words(norm)`` if known (it may be
    changed)."""
    toks = _learned_tokens(norm, split)
    cancelled = None
    for h in hits:
        if h[5] is not None and h[3] == "urgent":
            if cancelled is None:
                cancelled = []
            cancelled.append((h[0], h[1]))
    if cancelled:
        # the tokens a cancelled span overlaps (start < span end, end > span start): the i-th
        # token is the i-th word of the text; only the words up to the last span matter
        last = max(e for _s, e in cancelled)
        starts: list[int] = []
        ends: list[int] = []
        for m in _LEARNED_TOKEN.finditer(norm, 0, last):
            starts.append(m.start())
            ends.append(m.end())
        marked = set()
        for s, e in cancelled:
            i = bisect_right(ends, s)  # the first token ending after s
            while i < len(starts) and starts[i] < e:
                marked.add(i)
                i += 1
        for i in marked:
            t = toks[i]
            if not t.startswith(b"~"):
                toks[i] = b"~" + t
    return toks


_LOG_ODDS: dict[float, float] = {}
"""Probability threshold -> its log-odds (the same computation, once per threshold)."""


def _second_opinion(
    so, norm: str, hits: list[tuple], split: list[bytes] | None = None
) -> tuple[list[tuple], str] | None:
    """The learned model's verdict on a message the rules left routine: None, or the hits that
    explain it (its strongest words, at most three) and the group description with the score."""
    model = so.model
    toks = opinion_tokens(norm, hits, split)
    cut = so.cut
    lo = _LOG_ODDS.get(cut)
    if lo is None:
        lo = _LOG_ODDS[cut] = math.log(cut / (1.0 - cut))
    z = model.logit_if_at_least(toks, lo)
    if z is None:
        return None
    spans = [m.span() for m in _LEARNED_TOKEN.finditer(norm)]
    out = []
    for w, i, n in model.reasons(toks):
        term = norm[spans[i][0]:spans[i + n - 1][1]]
        out.append((spans[i][0], spans[i + n - 1][1], f"{term} (learned weight {w:.2f})",
                    "urgent", "second_opinion", None))
    out.sort(key=_START)
    p = 1.0 / (1.0 + math.exp(-z))
    return out, f"{so.description} (probability {p:.2f}, threshold {cut:.2f})"


def _acu_weight(cp: _Compiled, matched: str) -> float | None:
    key = term_key(matched)
    w = cp.acu_exact.get(key)
    if w is None:
        for n in range(len(key), 0, -1):
            w = cp.acu_prefix.get(key[:n])
            if w is not None:
                break
    return w


def _acuity(
    cp: _Compiled, rules: Rules, doc: _Doc, sym: list[tuple[int, int, _Owner]]
) -> tuple[int, int, str, float] | None:
    """The best-scoring live symptom word if its score reaches the threshold:
    its weight, a share of the other symptom words near it and the acuity cues near it (same
    sentence, ``window`` words either side)."""
    ac = rules.acuity
    norm = doc.norm
    live = []
    for a, b, owner in sym:
        if doc.cue(a, b, rules) is None:
            live.append((a, b, owner))
    if not live:
        return None
    # (cue() above scanned the text past the sentence of each live symptom word: all this reads)
    ev_s, ev_e, ev_k = doc.ev_start, doc.ev_end, doc.ev_kind
    best: tuple[int, int, str, float] | None = None
    for a, b, owner in live:
        k = bisect_right(doc.sent, a) - 1
        ss = doc.sent[k] + 1 if k >= 0 else 0
        k = bisect_left(doc.sent, b)
        se = doc.sent[k] if k < len(doc.sent) else len(norm)
        ws = a
        for _ in range(ac.window + 1):
            j = norm.rfind(" ", ss, ws)
            if j < 0:
                ws = ss
                break
            ws = j
        we = b
        for _ in range(ac.window + 1):
            j = norm.find(" ", we + 1, se)
            if j < 0:
                we = se
                break
            we = j
        score = owner.weight
        others: dict[str, float] = {}
        for a2, b2, o2 in live:
            if (a2, b2) != (a, b) and ws <= a2 and b2 <= we and o2.term != owner.term:
                others[o2.term] = max(others.get(o2.term, 0.0), o2.weight)
        score += min(sum(others.values()) * ac.other_symptom_factor, owner.weight)
        pos = neg = 0.0
        for cm in cp.acu_rx.finditer(norm, ws, we) if cp.acu_rx is not None else ():
            ca, cb = cm.span()
            if ca < b and a < cb:
                continue
            w = _acu_weight(cp, cm.group())
            if not w:
                continue
            if w > 0:
                # "not worse", "no sudden ...": a negation right before the cue cancels it
                j = bisect_left(ev_s, ca) - 1
                if j >= 0 and "neg" in ev_k[j] and ev_e[j] <= ca and doc._words_between(ev_e[j], ca) <= 1:
                    continue
                pos += w
            else:
                neg += w
        score += min(pos, ac.max_cue_score) + neg
        if score >= ac.threshold and (best is None or score > best[3]):
            best = (a, b, owner.term, score)
    return best


def _build_matches(hits: tuple[tuple, ...], source: tuple) -> tuple[Match, ...]:
    if not hits:
        return ()
    subject, text, combined, offsets, sub_end, text_start = source
    out: list[Match] = []
    for s, e, term, kind, group, cue in hits:
        if offsets is not None:
            os_, oe = offsets[s], offsets[e]
        else:
            os_, oe = s, e
        in_subject = os_ < sub_end
        base = 0 if in_subject else text_start
        fld: Field = "subject" if in_subject else "text"
        src = subject if in_subject else text
        a, b = os_ - base, oe - base
        if cue is not None:
            ckind, ca, cb = cue
            if offsets is not None:
                ca, cb = offsets[ca], offsets[cb]
            oca, ocb = ca - base, cb - base
            ok = 0 <= oca <= len(src) and 0 <= ocb <= len(src)
            out.append(Match(a, b, fld, src[a:b], term, kind, group, combined[ca:cb], ckind,
                             oca if ok else None, ocb if ok else None))
        else:
            out.append(Match(a, b, fld, src[a:b], term, kind, group))
    return tuple(out)


_CATEGORY = {c.value: c for c in Category}


def _explain(c: Classification) -> tuple[str, ...]:
    ranked = sorted(c.scores.items(), key=lambda kv: (-kv[1], _TIE_ORDER.index(kv[0])))
    score_text = ", ".join(f"{k.value} {v:g}" for k, v in ranked) or "no category terms"
    out: list[str] = []
    if c.category_source == "server":
        out.append(f"category {c.category.value}: set by the server")
        if c.disagreement:
            out.append(f"rules disagree: they say {c.rules_category.value} ({score_text})")
        else:
            out.append(f"rules agree ({score_text})")
    elif c.scores:
        out.append(f"category {c.category.value}: rules ({score_text})")
        terms = [m.text for m in c.matches if m.active and m.kind == "category" and m.group == c.category.value]
        if terms:
            out.append("matched: " + ", ".join(repr(t) for t in dict.fromkeys(terms)))
    else:
        out.append(f"category {c.category.value}: default (no rule matched)")
    any_urgent = False
    for m in c.matches:
        if m.kind != "urgent":
            continue
        any_urgent = True
        prio, desc = c.urgent_groups.get(m.group, ("urgent", ""))
        if m.active:
            out.append(f"urgent ({prio}): {m.text!r} in {m.field} [{desc or m.group}]")
        else:
            out.append(f"not urgent: {m.text!r} in {m.field} ({m.group}) cancelled by {m.cue_kind} cue {m.negated_by!r}")
    out.extend(c.notes)
    if not any_urgent and not c.urgent:
        out.append("not urgent: no urgent term or phrasing matched")
    return tuple(out)
