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
from typing import Literal, NamedTuple

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
    pattern: bool = False


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
    category_weight: dict[str, float]
    cue_memo: dict[str, frozenset[str]] = field(default_factory=dict)
    gate_memo: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Text at a gate hit (``gate_maxlen`` characters) -> patterns to try there."""


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
    tables: dict[str, tuple[dict[str, list[_Owner]], dict[str, list[_Owner]], list[str]]] = {
        "urgent": ({}, {}, []),
        "category": ({}, {}, []),
    }

    def add(term: str, owner: _Owner) -> None:
        t = fold(term.strip())[0]
        key = term_key(t.rstrip("*"))
        if not key:
            return
        exact, prefix, all_terms = tables[owner.kind]
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
            add_pattern(p, _Owner("urgent", rule.id, p, 0.0, True, True))
    for cat, rule in rules.categories.items():
        for t in rule.terms:
            add(t, _Owner("category", cat.value, t, s.term_weight, rule.negatable))
        for t in rule.strong_terms:
            add(t, _Owner("category", cat.value, t, s.strong_weight, rule.negatable))
        for p in rule.patterns:
            add_pattern(p, _Owner("category", cat.value, p, s.pattern_weight, rule.negatable))

    c = rules.cues
    cue_sets: dict[str, set[str]] = {}
    for kind, phrases in (
        ("neg", c.negation), ("pseudo", c.pseudo_negation), ("post", c.post_negation),
        ("hyp", c.hypothetical), ("hist", c.history), ("cur", c.current),
        ("brk", c.clause_break), ("hbrk", c.history_break),
    ):
        for ph in phrases:
            cue_sets.setdefault(fold(ph.strip())[0], set()).add(kind)
    cue_terms = list(cue_sets)
    cue_exact: dict[str, frozenset[str]] = {}
    cue_prefix: dict[str, frozenset[str]] = {}
    cue_numbered: list[tuple[re.Pattern[str], frozenset[str]]] = []
    for ph, kinds in cue_sets.items():
        # a pseudo-negation is a phrase that is no cue at all
        ks = frozenset() if "pseudo" in kinds else frozenset(kinds)
        if "#" in ph:
            cue_numbered.append((re.compile(trie_regex([ph])), ks))
            continue
        key = term_key(ph.rstrip("*"))
        table = cue_prefix if ph.endswith("*") else cue_exact
        table[key] = table.get(key, frozenset()) | ks
    def terms(kind: str) -> _Terms:
        exact, prefix, all_terms = tables[kind]
        return _Terms(
            rx=re.compile(trie_regex(all_terms)),
            exact=exact,
            prefix=prefix,
            max_prefix=max((len(k) for k in prefix), default=0),
        )

    compiled = _Compiled(
        urgent_terms=terms("urgent"),
        category_terms=terms("category"),
        patterns=patterns,
        gate=re.compile(r"(?<!\w)(?:" + _plain_trie(gate_owners) + ")") if gate_owners else None,
        gate_owners=gate_owners,
        gate_maxlen=max((len(k) for k in gate_owners), default=0),
        always=always,
        cue_scan=re.compile("(?P<punct>" + _PUNCT_BREAK + ")|" + trie_regex(cue_terms)),
        cue_exact=cue_exact,
        cue_prefix=cue_prefix,
        cue_numbered=cue_numbered,
        secondary=re.compile(trie_regex([fold(x.strip())[0] for x in c.secondary])) if c.secondary else None,
        category_weight={cat.value: rule.weight for cat, rule in rules.categories.items()},
    )
    rules._cache["compiled"] = compiled
    return compiled


# --------------------------------------------------------------------------- classifying


class _Doc:
    """One message under analysis: its folded text and, computed once on first need, every
    cue, clause break, sentence end and word start (one regex pass)."""

    __slots__ = ("norm", "cp", "ev_start", "ev_end", "ev_kind", "brk", "hbrk", "sent", "hit_spans")

    def __init__(self, norm: str, cp: _Compiled) -> None:
        self.norm = norm
        self.cp = cp
        self.ev_start: list[int] | None = None
        self.hit_spans: list[tuple[int, int]] = []

    def _scan(self) -> None:
        cp = self.cp
        ev_s: list[int] = []
        ev_e: list[int] = []
        ev_k: list[frozenset[str]] = []
        brk: tuple[list[int], list[int]] = ([], [])
        hbrk: tuple[list[int], list[int]] = ([], [])
        sent: list[int] = []
        for m in cp.cue_scan.finditer(self.norm):
            a, b = m.span()
            if m.lastgroup == "punct":
                kinds = _PUNCT_KINDS
                if m.group() in ".!?\n":
                    sent.append(a)
            else:
                kinds = _cue_kinds(cp, m.group())
                if not kinds:
                    continue
            if "brk" in kinds:
                brk[0].append(a)
                brk[1].append(b)
            if "brk" in kinds or "hbrk" in kinds:
                hbrk[0].append(a)
                hbrk[1].append(b)
            ev_s.append(a)
            ev_e.append(b)
            ev_k.append(kinds)
        self.ev_start, self.ev_end, self.ev_kind = ev_s, ev_e, ev_k
        self.brk, self.hbrk, self.sent = brk, hbrk, sent

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
        return any(hs <= a and b <= he for hs, he in self.hit_spans)

    def cue(
        self, s: int, e: int, rules: Rules, full: bool = True, inner: bool = False
    ) -> tuple[CueKind, int, int] | None:
        """The cue cancelling the match at [s, e), if any. ``full=False`` (category terms)
        checks only the cues before the term (negation, hypothetical). ``inner`` (urgent
        patterns, which may span several words: "baby ... no fever") also looks for a negation
        cue inside the span, just before its last words and in the same clause."""
        if self.ev_start is None:
            self._scan()
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
            if "cur" in ev_k[i]:
                return None
            i += 1
        return ("history", hist[0], hist[1])


_PUNCT_KINDS = frozenset({"brk"})


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


def _gate_patterns(cp: _Compiled, window: str) -> tuple[int, ...]:
    """Patterns whose literal prefix starts ``window`` (longest prefix first), memoised."""
    out: list[int] = []
    go = cp.gate_owners
    for n in range(len(window), 0, -1):
        for idx in go.get(window[:n], ()):
            if idx not in out:
                out.append(idx)
    idxs = tuple(out)
    if len(cp.gate_memo) < 50_000:
        cp.gate_memo[window] = idxs
    return idxs


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
    cspans: list[tuple[int, int]] = []
    for m in tt.rx.finditer(norm):
        g = m.group()
        a, b = m.span()
        if uspans and any(ua <= a and b <= ub and ub - ua > b - a for ua, ub in uspans):
            continue  # "chest" inside "chest pain": the longer phrase speaks
        for owner in _lookup(tt, g):
            raw.append((a, b, g, owner))
        if uspans:
            cspans.append((a, b))
    if cspans:
        # "emergency" inside "emergency contact", "seizure" inside "seizure meds"
        shadowed = {
            (ua, ub) for ua, ub in uspans
            if any(a <= ua and ub <= b and b - a > ub - ua for a, b in cspans)
        }
        if shadowed:
            raw = [r for r in raw if r[3].kind != "urgent" or (r[0], r[1]) not in shadowed]
    if cp.gate is not None:
        last_end: dict[int, int] = {}
        gmemo = cp.gate_memo
        pats = cp.patterns
        gmax = cp.gate_maxlen
        for g in cp.gate.finditer(norm):
            pos = g.start()
            window = norm[pos : pos + gmax]
            idxs = gmemo.get(window)
            if idxs is None:
                idxs = _gate_patterns(cp, window)
            for idx in idxs:
                if last_end.get(idx, -1) > pos:
                    continue
                rx, owner = pats[idx]
                m = rx.match(norm, pos)
                if m is not None:
                    e = m.end()
                    if e > pos:
                        last_end[idx] = e
                        raw.append((pos, e, m.group(), owner))
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

    # matches after a second-request marker ("also", "PS") that follows a first request weigh less
    sec_from = len(norm) + 1
    if cp.secondary is not None and st.secondary_weight != 1.0 and raw:
        first = min((r[0] for r in raw if r[0] >= text_start), default=None)
        if first is not None:
            for m in cp.secondary.finditer(norm, first + 1):
                sec_from = m.start()
                break
    scores: dict[Category, float] = {}
    matches: list[Match] = []
    priority = Priority.ROUTINE
    groups: dict[str, tuple[str, str]] = {}
    for s, e, _mt, owner in raw:
        urgent = owner.kind == "urgent"
        cue = doc.cue(s, e, rules, full=urgent, inner=owner.pattern) if owner.negatable else None
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
        mult = st.subject_weight if in_subject else (st.secondary_weight if s >= sec_from else 1.0)
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
        cw = cp.category_weight
        for cat in scores:
            scores[cat] *= cw.get(cat.value, 1.0)
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
