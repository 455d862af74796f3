"""Categorize a message and detect urgency: deterministic, explainable, no I/O.

All terms of all categories and urgent groups are compiled into one trie-shaped regex (the
longest phrase wins: "emergency contact" shadows "emergency"), and the regex patterns into
one alternation per kind. Each match is then checked for cues in its clause: a negation cue a
few words before ("no", "denies", "sin", "no tengo"), a post-negation cue after ("... has
resolved"), a hypothetical cue ("if i get"), or a history cue anywhere in the clause
("last year", "hace anos") unless the clause also speaks of now ("again", "today").
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Literal

from triage_tui.domain.codes import Category, Priority
from triage_tui.domain.triage.rules import Rules
from triage_tui.domain.triage.text import fold, literal_prefixes, term_key, trie_regex

__all__ = ["Match", "Classification", "classify", "compile_rules"]

Field = Literal["subject", "text"]
CueKind = Literal["negation", "post_negation", "hypothetical", "history"]

# When scores tie, the earlier category wins (clinical first: a nurse reads it).
_TIE_ORDER = (Category.CLINICAL, Category.RESULTS, Category.REFILL, Category.APPOINTMENT, Category.ADMIN)
_SEP = "\n\n"
_PUNCT_BREAK = r"[.;:!?\n()\[\]]|,|\s-\s"


@dataclass(frozen=True, slots=True)
class Match:
    """One rule that matched, located in the original (un-normalised) text of one field."""

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
    matches: tuple[Match, ...]
    scores: dict[Category, float] = field(default_factory=dict)
    server_category: Category | None = None
    notes: tuple[str, ...] = ()
    """Remarks about the input (an unknown server category, a server priority)."""
    urgent_groups: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Urgent group id -> (priority, description), for the groups in ``matches``."""

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


# --------------------------------------------------------------------------- compiling


@dataclass(frozen=True, slots=True)
class _Owner:
    kind: Literal["category", "urgent"]
    group: str
    term: str
    weight: float  # category score (kind category)
    negatable: bool


@dataclass(slots=True)
class _Compiled:
    terms: re.Pattern[str]
    exact: dict[str, list[_Owner]]
    prefix: dict[str, list[_Owner]]
    max_prefix: int
    patterns: list[tuple[re.Pattern[str], _Owner]]
    gate: re.Pattern[str] | None
    """Zero-width search finding every position where some pattern's literal prefix starts."""
    gate_owners: dict[str, list[int]]
    gate_maxlen: int
    always: list[int]
    """Patterns without a usable literal prefix or a leading ``\\b``: searched over the whole
    text (slower; the gate only looks at word starts)."""
    negation: re.Pattern[str]
    pseudo: re.Pattern[str]
    post: re.Pattern[str]
    hypothetical: re.Pattern[str]
    history: re.Pattern[str]
    current: re.Pattern[str]
    breaks: re.Pattern[str]
    history_breaks: re.Pattern[str]
    memo: dict[str, list[_Owner]] = field(default_factory=dict)
    """Matched text -> owners (a bounded cache: the same phrasings recur)."""


_WORD = re.compile(r"\w+")


def _plain_trie(keys: dict[str, list[int]]) -> str:
    """Alternation of literal prefixes, longest first (no word boundaries)."""
    return trie_regex(keys, bounded=False)


def _cue_re(terms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(trie_regex(terms))


def _break_re(words: tuple[str, ...]) -> re.Pattern[str]:
    if not words:
        return re.compile(_PUNCT_BREAK)
    return re.compile(_PUNCT_BREAK + "|" + trie_regex(words))


def compile_rules(rules: Rules) -> _Compiled:
    """Compile (once, cached on the rules object) the regexes that :func:`classify` runs."""
    hit = rules._cache.get("compiled")
    if hit is not None:
        return hit
    s = rules.settings
    exact: dict[str, list[_Owner]] = {}
    prefix: dict[str, list[_Owner]] = {}
    all_terms: list[str] = []

    def add(term: str, owner: _Owner) -> None:
        t = fold(term.strip())[0]
        key = term_key(t.rstrip("*"))
        if not key:
            return
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
        patterns.append((re.compile(pat), owner))
        prefixes = literal_prefixes(pat)
        if "" in prefixes or not pat.startswith("\\b"):
            always.append(idx)
            return
        for pre in prefixes:
            gate_owners.setdefault(pre, []).append(idx)

    for rule in rules.urgent.values():
        for t in rule.terms:
            add(t, _Owner("urgent", rule.id, t, 0.0, True))
        for p in rule.patterns:
            add_pattern(p, _Owner("urgent", rule.id, p, 0.0, True))
    for cat, rule in rules.categories.items():
        for t in rule.terms:
            add(t, _Owner("category", cat.value, t, s.term_weight, rule.negatable))
        for t in rule.strong_terms:
            add(t, _Owner("category", cat.value, t, s.strong_weight, rule.negatable))
        for p in rule.patterns:
            add_pattern(p, _Owner("category", cat.value, p, s.pattern_weight, rule.negatable))

    c = rules.cues
    compiled = _Compiled(
        terms=re.compile(trie_regex(all_terms)),
        exact=exact,
        prefix=prefix,
        max_prefix=max((len(k) for k in prefix), default=0),
        patterns=patterns,
        gate=re.compile(r"(?<!\w)(?:" + _plain_trie(gate_owners) + ")") if gate_owners else None,
        gate_owners=gate_owners,
        gate_maxlen=max((len(k) for k in gate_owners), default=0),
        always=always,
        negation=_cue_re(c.negation),
        pseudo=_cue_re(c.pseudo_negation),
        post=_cue_re(c.post_negation),
        hypothetical=_cue_re(c.hypothetical),
        history=_cue_re(c.history),
        current=_cue_re(c.current),
        breaks=_break_re(c.clause_break),
        history_breaks=_break_re(c.clause_break + c.history_break),
    )
    rules._cache["compiled"] = compiled
    return compiled


# --------------------------------------------------------------------------- classifying


class _Doc:
    """One message under analysis: folded text and lazily computed clause boundaries."""

    __slots__ = ("norm", "cp", "_breaks", "_hbreaks", "_pseudo", "hit_spans")

    def __init__(self, norm: str, cp: _Compiled) -> None:
        self.norm = norm
        self.cp = cp
        self._breaks: tuple[list[int], list[int]] | None = None
        self._hbreaks: tuple[list[int], list[int]] | None = None
        self._pseudo: list[tuple[int, int]] | None = None
        self.hit_spans: list[tuple[int, int]] = []

    @staticmethod
    def _spans(rx: re.Pattern[str], text: str) -> tuple[list[int], list[int]]:
        starts, ends = [], []
        for m in rx.finditer(text):
            starts.append(m.start())
            ends.append(m.end())
        return starts, ends

    def clause(self, s: int, e: int, history: bool = False) -> tuple[int, int]:
        if history:
            if self._hbreaks is None:
                self._hbreaks = self._spans(self.cp.history_breaks, self.norm)
            starts, ends = self._hbreaks
        else:
            if self._breaks is None:
                self._breaks = self._spans(self.cp.breaks, self.norm)
            starts, ends = self._breaks
        # clause start: the end of the last break ending at or before s
        i = bisect_right(ends, s) - 1
        cs = ends[i] if i >= 0 else 0
        j = bisect_left(starts, e)
        ce = starts[j] if j < len(starts) else len(self.norm)
        return cs, ce

    def in_pseudo(self, a: int, b: int) -> bool:
        if self._pseudo is None:
            self._pseudo = [(m.start(), m.end()) for m in self.cp.pseudo.finditer(self.norm)]
        return any(ps <= a and b <= pe for ps, pe in self._pseudo)

    def in_hit(self, a: int, b: int) -> bool:
        return any(hs <= a and b <= he for hs, he in self.hit_spans)

    def cue(self, s: int, e: int, rules: Rules, full: bool = True) -> tuple[CueKind, int, int] | None:
        """The cue cancelling the match at [s, e), if any. ``full=False`` (category terms)
        checks only the cues before the term (negation, hypothetical)."""
        cp = self.cp
        norm = self.norm
        st = rules.settings
        cs, ce = self.clause(s, e)
        best: tuple[CueKind, int, int] | None = None
        for kind, rx, window in (
            ("negation", cp.negation, st.negation_window),
            ("hypothetical", cp.hypothetical, st.hypothetical_window),
        ):
            for m in reversed(list(rx.finditer(norm, cs, s))):
                a, b = m.span()
                if self.in_pseudo(a, b) or self.in_hit(a, b):
                    continue
                if len(_WORD.findall(norm, b, s)) > window:
                    break
                if best is None or b > best[2]:
                    best = (kind, a, b)  # type: ignore[assignment]
                break
        if best is not None or not full:
            return best
        for m in cp.post.finditer(norm, e, ce):
            a, b = m.span()
            if self.in_pseudo(a, b):
                continue
            if len(_WORD.findall(norm, e, a)) <= st.post_negation_window:
                return ("post_negation", a, b)
            break
        hs, he = self.clause(s, e, history=True)
        h = cp.history.search(norm, hs, he)
        if h is not None:
            # a word about now anywhere in the sentence keeps the match ("... and now it is back")
            ss, se = self.sentence(s, e)
            if cp.current.search(norm, ss, se) is None:
                return ("history", h.start(), h.end())
        return None

    def sentence(self, s: int, e: int) -> tuple[int, int]:
        norm = self.norm
        a = max(norm.rfind(ch, 0, s) for ch in ".!?\n") + 1
        ends = [i for i in (norm.find(ch, e) for ch in ".!?\n") if i >= 0]
        return a, (min(ends) if ends else len(norm))


def _lookup(cp: _Compiled, matched: str) -> list[_Owner]:
    hit = cp.memo.get(matched)
    if hit is not None:
        return hit
    owners = _lookup_key(cp, matched)
    if len(cp.memo) < 50_000:
        cp.memo[matched] = owners
    return owners


def _lookup_key(cp: _Compiled, matched: str) -> list[_Owner]:
    key = term_key(matched)
    owners = cp.exact.get(key)
    if owners:
        return owners
    for n in range(min(len(key), cp.max_prefix), 0, -1):
        owners = cp.prefix.get(key[:n])
        if owners:
            return owners
    return []


def classify(
    rules: Rules,
    subject: str,
    text: str,
    *,
    server_category: str | Category | None = None,
    server_priority: str | Priority | None = None,
    language: str | None = None,
) -> Classification:
    """Category, urgency and priority of one message, with the matches that explain them.

    ``server_category`` (the thread's FHIR category) wins when present and valid; the rules'
    own choice stays in ``rules_category``. ``server_priority`` is a floor: the rules can raise
    priority, never lower it. ``language`` is informational: every active language's terms
    apply (patients mix languages).
    """
    subject = subject or ""
    text = text or ""
    cp = compile_rules(rules)
    st = rules.settings
    combined = subject + _SEP + text
    norm, offsets = fold(combined)
    doc = _Doc(norm, cp)
    sub_end = len(subject)
    text_start = sub_end + len(_SEP)

    raw: list[tuple[int, int, str, _Owner]] = []
    for m in cp.terms.finditer(norm):
        for owner in _lookup(cp, m.group()):
            raw.append((m.start(), m.end(), m.group(), owner))
    if cp.gate is not None:
        last_end: dict[int, int] = {}
        go = cp.gate_owners
        pats = cp.patterns
        gmax = cp.gate_maxlen
        for g in cp.gate.finditer(norm):
            pos = g.start()
            window = norm[pos : pos + gmax]
            for n in range(len(window), 0, -1):
                idxs = go.get(window[:n])
                if not idxs:
                    continue
                for idx in idxs:
                    if last_end.get(idx, -1) > pos:
                        continue
                    rx, owner = pats[idx]
                    m = rx.match(norm, pos)
                    if m is not None and m.end() > pos:
                        last_end[idx] = m.end()
                        raw.append((pos, m.end(), m.group(), owner))
    for idx in cp.always:
        rx, owner = cp.patterns[idx]
        for m in rx.finditer(norm):
            if m.end() > m.start():
                raw.append((m.start(), m.end(), m.group(), owner))
    if len(raw) > 1:
        raw.sort(key=lambda r: (r[0], -r[1]))
        # a term and a pattern of the same group on overlapping text count once
        kept: list[tuple[int, int, str, _Owner]] = []
        seen_end: dict[tuple[str, str], int] = {}
        for r in raw:
            k = (r[3].kind, r[3].group)
            if seen_end.get(k, -1) > r[0]:
                continue
            seen_end[k] = r[1]
            kept.append(r)
        raw = kept
    doc.hit_spans = [(r[0], r[1]) for r in raw if r[3].kind == "urgent"]

    scores: dict[Category, float] = {}
    matches: list[Match] = []
    priority = Priority.ROUTINE
    groups: dict[str, tuple[str, str]] = {}
    for s, e, _mt, owner in raw:
        urgent = owner.kind == "urgent"
        cue = doc.cue(s, e, rules, full=urgent) if owner.negatable else None
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
            kind, ca, cb = cue
            if offsets is not None:
                ca, cb = offsets[ca], offsets[cb]
            oca, ocb = ca - base, cb - base
            ok = 0 <= oca <= len(src) and 0 <= ocb <= len(src)
            match = Match(a, b, fld, src[a:b], owner.term, owner.kind, owner.group,
                          combined[ca:cb], kind, oca if ok else None, ocb if ok else None)
        else:
            match = Match(a, b, fld, src[a:b], owner.term, owner.kind, owner.group)
        matches.append(match)
        mult = st.subject_weight if in_subject else 1.0
        if urgent:
            rule = rules.urgent[owner.group]
            groups[rule.id] = (rule.priority.value, rule.description)
            if cue is None:
                if rule.priority.rank > priority.rank:
                    priority = rule.priority
                scores[rule.category] = scores.get(rule.category, 0.0) + st.urgent_category_weight * mult
        elif cue is None:
            cat = _CATEGORY[owner.group]
            scores[cat] = scores.get(cat, 0.0) + owner.weight * mult

    if scores:
        best = max(scores.values())
        rules_category = next(c for c in _TIE_ORDER if scores.get(c, 0.0) == best)
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

    return Classification(
        category=srv if srv is not None else rules_category,
        category_source="server" if srv is not None else "rules",
        rules_category=rules_category,
        urgent=priority is not Priority.ROUTINE,
        priority=priority,
        matches=tuple(matches),
        scores=scores,
        server_category=srv,
        notes=tuple(notes),
        urgent_groups=groups,
    )


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
