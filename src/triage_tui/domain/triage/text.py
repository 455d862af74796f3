"""Text helpers for the rules engine: folding that keeps offsets, and trie-shaped regexes.

Everything the rules match is matched against a *folded* copy of the message: lower case,
accents removed (``medicación`` -> ``medicacion``, ``ñ`` -> ``n``), typographic quotes and
dashes made plain. Folding keeps one character per original character whenever it can, so a
span in the folded text is the same span in the original text (the UI highlights the
original). When it cannot (combining accents, a few exotic case mappings) :func:`fold`
returns an offset table that maps folded positions back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["fold", "term_key", "trie_regex", "term_regex", "literal_prefixes", "word_start"]


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0xC0, 0x250):
        ch = chr(cp)
        base = unicodedata.normalize("NFD", ch)[0]
        if base != ch and base.isascii():
            table[cp] = base.lower()
    table.update(
        {
            ord("\u2019"): "'", ord("\u2018"): "'", ord("\u02bc"): "'", ord("\u00b4"): "'",
            ord("`"): "'", ord("\u201c"): '"', ord("\u201d"): '"', ord("\u00ab"): '"',
            ord("\u00bb"): '"', ord("\u2010"): "-", ord("\u2011"): "-", ord("\u2012"): "-",
            ord("\u2013"): "-", ord("\u2014"): "-", ord("\u00a0"): " ", ord("\u202f"): " ",
            ord("\u00bf"): " ", ord("\u00a1"): " ", ord("\u00df"): "s",
        }
    )
    return table


_TABLE = _build_table()
_COMBINING = re.compile(r"[\u0300-\u036f]")


def fold(text: str) -> tuple[str, list[int] | None]:
    """Return ``(folded, offsets)``.

    ``offsets`` is None when ``folded[i]`` comes from ``text[i]`` for every ``i`` (the usual
    case). Otherwise ``offsets[i]`` is the index in ``text`` of folded character ``i``, with one
    extra entry ``len(text)`` at the end so that an exclusive end maps too.
    """
    if text.isascii():  # the usual case: only the backtick needs mapping (a flag check, no scan)
        low = text.lower()
        return (low.replace("`", "'") if "`" in low else low), None
    low = text.lower()
    if len(low) == len(text) and not _COMBINING.search(text):
        return low.translate(_TABLE), None
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        if "\u0300" <= ch <= "\u036f":
            continue
        c = ch.lower()
        if len(c) != 1:
            c = ch
        out.append(c.translate(_TABLE))
        offsets.append(i)
    offsets.append(len(text))
    return "".join(out), offsets


_NON_WORD = re.compile(r"[\W_]+")


def term_key(s: str) -> str:
    """The lookup key of a term or of matched text: folded, letters and digits only."""
    return _NON_WORD.sub("", fold(s)[0])


_NUMBER = (
    r"(?:\d+(?:[.,]\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"couple(?: of)?|few|several|un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|"
    r"once|doce|unos|unas|varios|varias)"
)


def _char_re(ch: str) -> str:
    if ch == "#":
        return _NUMBER
    if ch == " ":
        return r"[\s\-/]+"
    if ch == "'":
        return "'?"
    if ch == "-":
        return r"[\s\-]?"
    return re.escape(ch)


class _Node:
    __slots__ = ("children", "end", "star")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.end = False
        self.star = False


def _render(node: _Node) -> str:
    branches = [_char_re(ch) + _render(child) for ch, child in sorted(node.children.items())]
    if node.star:
        branches.append(r"\w*")
        return "(?:" + "|".join(branches) + ")" if len(branches) > 1 else branches[0]
    if not branches:
        return ""
    if node.end:
        return "(?:" + "|".join(branches) + ")?"
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def trie_regex(terms: Iterable[str], *, bounded: bool = True) -> str:
    """One regex source matching any of ``terms`` (folded text), longest alternative first.

    In a term, a space matches any run of spaces, hyphens or slashes, an apostrophe is
    optional, a hyphen matches a hyphen, a space or nothing, a trailing ``*`` matches any
    word ending (``refill*`` matches refills, refilled), and ``#`` matches a number in digits
    or words (cues only: ``# years ago``, ``hace # anos``). Matches are bounded by non-word
    characters on both sides.
    """
    root = _Node()
    for term in terms:
        t = term.strip()
        star = t.endswith("*")
        t = re.sub(r"\s+", " ", t.rstrip("*").strip())
        if not t:
            continue
        node = root
        for ch in t:
            node = node.children.setdefault(ch, _Node())
        if star:
            node.star = True
        else:
            node.end = True
    if not root.children:
        return r"(?!x)x"
    if not bounded:
        return _render(root)
    return word_start(root.children) + _render(root) + r"(?!\w)"


def word_start(first_chars: Iterable[str]) -> str:
    """The left bound of a trie whose alternatives start with ``first_chars``: ``(?<!\\w)``.

    When every alternative's first character is a word character (a letter, a digit, or
    ``#``, whose number alternatives all start with one), ``\\b(?=\\w)`` is the same test (a
    word start) and much cheaper for the regex engine, which runs it at every position."""
    if all(ch == "#" or (len(ch) == 1 and (ch.isalnum() or ch == "_") and ch.isascii()) for ch in first_chars):
        return r"\b(?=\w)"
    return r"(?<!\w)"


def term_regex(terms: Iterable[str]) -> re.Pattern[str]:
    return re.compile(trie_regex(terms))


# --------------------------------------------------------------------------- pattern gating

from re import _constants as _sc  # noqa: E402
from re import _parser as _sp  # noqa: E402

_MAX_SET = 12


def _in_chars(av: list) -> list[str] | None:
    chars: list[str] = []
    for op, arg in av:
        if op is _sc.LITERAL:
            chars.append(chr(arg))
        elif op is _sc.RANGE and arg[1] - arg[0] < _MAX_SET:
            chars.extend(chr(c) for c in range(arg[0], arg[1] + 1))
        elif op is _sc.CATEGORY and arg is _sc.CATEGORY_DIGIT:
            chars.extend("0123456789")
        else:
            return None
    return chars if len(chars) <= _MAX_SET else None


def _seq(items: list, starts: list[tuple[str, bool]], maxlen: int) -> list[tuple[str, bool]]:
    """Extend the open prefixes in ``starts`` through the parsed items."""
    cur = starts
    for op, av in items:
        if not any(o and len(p) < maxlen for p, o in cur):
            break
        if op is _sc.AT:
            continue
        nxt: list[tuple[str, bool]] = []
        for pre, open_ in cur:
            if not open_ or len(pre) >= maxlen:
                nxt.append((pre, False))
                continue
            if op is _sc.LITERAL:
                nxt.append((pre + chr(av), True))
            elif op is _sc.IN:
                chars = _in_chars(av)
                if chars is None:
                    nxt.append((pre, False))
                else:
                    nxt.extend((pre + c, True) for c in chars)
            elif op is _sc.SUBPATTERN:
                nxt.extend(_seq(list(av[3]), [(pre, True)], maxlen))
            elif op is _sc.BRANCH:
                for alt in av[1]:
                    nxt.extend(_seq(list(alt), [(pre, True)], maxlen))
            elif op in (_sc.MAX_REPEAT, _sc.MIN_REPEAT) and av[0] >= 1:
                sub = _seq(list(av[2]), [(pre, True)], maxlen)
                nxt.extend((p, False) for p, _ in sub)
            else:
                nxt.append((pre, False))
        if len(nxt) > 400:
            return [(p[: max(1, min(len(x) for x, _ in nxt))], False) for p, _ in nxt[:1]]
        cur = nxt
    return cur


def literal_prefixes(pattern: str, maxlen: int = 4, *, optional: bool = False) -> set[str]:
    """Strings one of which every match of ``pattern`` starts with ("" when unknown).

    ``optional`` also follows items that may be absent both ways ("can\\x27?t" gives "can't"
    and "cant" where the plain walk stops at "can"; "days?[\\s-]?old" gives "days old",
    "dayold", ...), for longer, more selective prefixes; prefixes that extend another one are
    dropped (the shorter one covers them)."""
    try:
        parsed = _sp.parse(pattern)
    except Exception:  # noqa: BLE001 - the validator reports bad patterns
        return {""}
    if optional:
        out: set[str] = set()
        try:
            _starts(list(parsed), 0, "", maxlen, out)
        except _TooMany:
            out = set()
        if out:
            return {p for p in out if not any(q != p and p.startswith(q) for q in out)}
    return {p for p, _ in _seq(list(parsed), [("", True)], maxlen)}


class _TooMany(Exception):
    pass


def _starts(items: list, i: int, pre: str, maxlen: int, out: set[str]) -> None:
    """Add to ``out`` the literal prefixes (up to ``maxlen``) of the matches of ``items[i:]``
    that follow ``pre``, branching over alternatives, character sets and optional items."""
    if len(out) > 200:
        raise _TooMany
    while i < len(items):
        if len(pre) >= maxlen:
            break
        op, av = items[i]
        if op is _sc.AT:
            i += 1
        elif op is _sc.LITERAL:
            pre += chr(av)
            i += 1
        elif op is _sc.IN:
            # whitespace as " " (a space in the gate trie matches any run of whitespace)
            spaced = [(o, a) for o, a in av if not (o is _sc.CATEGORY and a is _sc.CATEGORY_SPACE)]
            chars = _in_chars(spaced)
            if chars is None:
                break
            if len(spaced) < len(av):
                chars = [*chars, " "]
            for c in dict.fromkeys(chars):
                _starts(items, i + 1, pre + c, maxlen, out)
            return
        elif op is _sc.SUBPATTERN:
            items = list(av[3]) + items[i + 1 :]
            i = 0
        elif op is _sc.BRANCH:
            for alt in av[1]:
                _starts(list(alt) + items[i + 1 :], 0, pre, maxlen, out)
            return
        elif op in (_sc.MAX_REPEAT, _sc.MIN_REPEAT):
            lo, hi, sub = av
            if lo == 0:
                _starts(items, i + 1, pre, maxlen, out)  # absent
                if hi == 1:
                    _starts(list(sub) + items[i + 1 :], 0, pre, maxlen, out)  # once
                else:
                    _starts(list(sub), 0, pre, maxlen, out)  # what it starts with
                return
            if hi == 1:
                items = list(sub) + items[i + 1 :]
                i = 0
            else:
                _starts(list(sub), 0, pre, maxlen, out)
                return
        else:
            break
    out.add(pre)
