"""A learned second opinion on urgency: a linear model over the words of a message.

The rules (terms, patterns, acuity) are explainable and reach about 1.0 urgent recall on text
like what they were tuned on, but only about 0.90 on each new author's phrasing ("it was pure
red with clots", "he loaded his shotgun and doesn't want to wake up"). This model reads the
same folded text and says how much its words, and pairs of neighbouring words, look like the
urgent messages of the labelled corpus in ``tests/data/``. It can only raise a message to
urgent, never lower one, and its explanation is the words that pushed it up the most.

Model: logistic regression over the word unigrams and bigrams present in the analysed text
(folded, typos of urgent words corrected), where the words after a negation and the words of an
urgent match the rules cancelled are marked ``~`` (so "no chest pain" and "my chest pain has
resolved" are features of their own). Each present n-gram counts once (repeating a phrase does
not add to it), weighted by its inverse document frequency, and the sum is divided by the
square root of the number of n-grams present (a long message is not urgent for being long).
The idf is folded into the stored weights, so scoring is a sum of dictionary lookups.
Training (``tools/train_second_opinion.py``, scikit-learn) writes ``data/second_opinion.json``;
this module only reads it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from pathlib import Path

__all__ = ["MODEL_PATH", "SecondOpinionModel", "load_model", "tokens", "words", "ngrams"]

MODEL_PATH = Path(__file__).resolve().parent / "data" / "second_opinion.json"
FORMAT = 1

# A word: a run of ASCII letters and digits and non-ASCII characters (folding has removed the
# accents; other scripts stay whole). Tokens are bytes: one C-level translate and split instead
# of a regex pass (classify runs this on every message). ``_TOKEN`` finds the same words in the
# text, for the explanation's spans.
_TOKEN = re.compile(r"[0-9A-Za-z\u0080-\U0010ffff]+")
_SEPARATORS = bytes(c if (c >= 128 or chr(c).isalnum()) else 32 for c in range(256))


# Negation scope: the words after a negation, up to NEGATION_WINDOW of them and never past a
# clause break, are marked ("no chest pain" reads as "no ~chest ~pain"), so that a denied red
# flag is its own feature and not the red flag. "t" is the tail of "don't", "can't", "isn't".
_NEGATORS = frozenset(
    b"no not t never none nor neither nothing without denies deny denied negative "
    b"sin ni nunca tampoco nada ningun ninguna".split()
)
NEGATION_WINDOW = 3
_BREAKS = (b".", b",", b";", b":", b"!", b"?")
_CLAUSES = bytes(
    c if (c >= 128 or chr(c).isalnum()) else 46 if (bytes([c]) in _BREAKS or c == 10) else 32 for c in range(256)
)
"""Words kept, clause breaks (``_BREAKS`` and a line break) made ``.``, anything else a space."""


def words(analysed: str) -> list[bytes]:
    """The words of an analysed text, in order, UTF-8 encoded, none marked."""
    return analysed.encode("utf-8", "surrogatepass").translate(_SEPARATORS).split()


def tokens(analysed: str, split: list[bytes] | None = None) -> list[bytes]:
    """The words of an analysed (folded, lower-case) text, in order, UTF-8 encoded, with the
    words in a negation's scope marked ``~``. ``split``: ``words(analysed)``, when the caller
    has it already (it may be returned, and then changed by the caller)."""
    toks = words(analysed) if split is None else split
    if _NEGATORS.isdisjoint(toks):
        return toks
    raw = analysed.encode("utf-8", "surrogatepass")
    # clause by clause (a line break or one of ``_BREAKS`` ends one, and a scope with it): the
    # words of a clause without a negator are taken as they are
    out: list[bytes] = []
    for clause in raw.translate(_CLAUSES).split(b"."):
        cw = clause.split()
        if _NEGATORS.isdisjoint(cw):
            out += cw
            continue
        left = 0
        for t in cw:
            if t in _NEGATORS:
                out.append(t)
                left = NEGATION_WINDOW
            elif left:
                out.append(b"~" + t)
                left -= 1
            else:
                out.append(t)
    return out


def ngrams(toks: list[bytes]) -> list[str]:
    """Unigrams then bigrams (``"a b"``), each occurrence once, as text: the model's features."""
    words = [t.decode("utf-8", "surrogatepass") for t in toks]
    return words + [f"{a} {b}" for a, b in zip(words, islice(words, 1, None))]


@dataclass(frozen=True, slots=True)
class SecondOpinionModel:
    intercept: float
    weights: dict
    """Unigram (``bytes``) and bigram (``(bytes, bytes)``) -> weight, in one table."""
    meta: dict = field(default_factory=dict, compare=False)
    _heavy: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    """The weights above ``_LIGHT`` or below ``-_HEAVY_NEGATIVE`` (a quarter of the table):
    enough to bound the score from above (see :meth:`logit_if_at_least`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_heavy", {k: w for k, w in self.weights.items()
                                            if w > _LIGHT or w < -_HEAVY_NEGATIVE})

    @property
    def unigrams(self) -> dict[bytes, float]:
        return {k: w for k, w in self.weights.items() if isinstance(k, bytes)}

    @property
    def bigrams(self) -> dict[tuple[bytes, bytes], float]:
        return {k: w for k, w in self.weights.items() if isinstance(k, tuple)}

    def logit(self, toks: list[bytes]) -> float:
        """The model's log-odds that a message with these words is urgent."""
        if not toks:
            return self.intercept
        # each n-gram once, in order of first occurrence (a dict, not a set: the sum's order,
        # and so its last bits, must not depend on the interpreter's hash seed)
        feats = dict.fromkeys(chain(toks, zip(toks, islice(toks, 1, None))))
        total = sum(map(self.weights.get, feats, repeat(0.0)))
        return self.intercept + total / math.sqrt(len(feats))

    def logit_if_at_least(self, toks: list[bytes], lo: float) -> float | None:
        """``logit(toks)`` (the same float) when it is at least ``lo``, else None.

        Most messages are far below the threshold, and an upper bound of the sum says so:
        the weights in ``_heavy`` as they are and any other n-gram at most ``_LIGHT``. That
        table is a quarter of the full one, so its lookups mostly hit the CPU cache, where
        those of the full table (40k entries) mostly miss. Only when the bound does not
        decide is the exact sum taken, in the same order as :meth:`logit`."""
        if not toks:
            return self.intercept if self.intercept >= lo else None
        feats = dict.fromkeys(chain(toks, zip(toks, islice(toks, 1, None))))
        root = math.sqrt(len(feats))
        need = (lo - self.intercept) * root  # the sum a score of lo needs
        # the margin covers the rounding of both sums (many orders of magnitude more)
        if sum(map(self._heavy.get, feats, repeat(_LIGHT))) < need - 1e-9 * (1.0 + abs(need)):
            return None
        z = self.intercept + sum(map(self.weights.get, feats, repeat(0.0))) / root
        return z if z >= lo else None

    def contributions(self, toks: list[bytes]) -> list[tuple[float, int, int]]:
        """``(weight, first token index, token count)`` of each n-gram that pushed the score up
        (its first occurrence), largest first: the explanation."""
        out = []
        seen: set = set()
        get = self.weights.get
        for i, t in enumerate(toks):
            w = get(t, 0.0)
            if w > 0 and t not in seen:
                seen.add(t)
                out.append((w, i, 1))
            if i + 1 < len(toks):
                pair = (t, toks[i + 1])
                w = get(pair, 0.0)
                if w > 0 and pair not in seen:
                    seen.add(pair)
                    out.append((w, i, 2))
        out.sort(key=lambda c: (-c[0], c[1]))
        return out

    def reasons(self, toks: list[bytes], k: int = 3) -> list[tuple[float, int, int]]:
        """The explanation: the ``k`` heaviest of :meth:`contributions` that a reader can use.
        An n-gram that starts or ends with a function word ("and", "he", "de") is skipped (it
        weighs, but it tells a nurse nothing), and so is one overlapping a word already shown."""
        out: list[tuple[float, int, int]] = []
        used: set[int] = set()
        for w, i, n in self.contributions(toks):
            first, last = toks[i].lstrip(b"~"), toks[i + n - 1].lstrip(b"~")
            if first in FUNCTION_WORDS or last in FUNCTION_WORDS:
                continue
            if any(j in used for j in range(i, i + n)):
                # a pair that extends a word already shown ("keeps" -> "keeps asking") replaces it
                grow = [x for x, r in enumerate(out) if r[2] == 1 and i <= r[1] < i + n]
                if n == 2 and len(grow) == 1 and not any(
                        j in used for j in range(i, i + n) if j != out[grow[0]][1]):
                    out[grow[0]] = (out[grow[0]][0], i, 2)
                    used.update(range(i, i + n))
                continue
            used.update(range(i, i + n))
            out.append((w, i, n))
            if len(out) == k:
                break
        return out


_LIGHT = 0.05
_HEAVY_NEGATIVE = 0.5
"""The bound of :meth:`SecondOpinionModel.logit_if_at_least`: every weight not in its heavy
table is at most ``_LIGHT``. (Tuned on the corpus: a table of 11k of the 42k weights, which
decides 98% of the messages the model reads.)"""


FUNCTION_WORDS = frozenset(
    b"a an and are as at be been but by can could did do does for from had has have he her "
    b"him his i if in into is it its just like me my of on one or our she so something than "
    b"that the their them then thing things got get t s don doesn didn isn won over about "
    b"after before up down out off back "
    b"there they this to too us was we were what when which who will with would you your "
    b"al con de del el ella en era es esta este esto la las le les lo los me mi mis o para "
    b"pero por que se su sus te tu un una y ya".split()
)
"""Words the explanation does not show on their own or at the edge of a pair (the model still
weighs them)."""


class ModelError(ValueError):
    """The model file is missing, unreadable or not this version's format."""


def load_model(path: Path | None = None) -> SecondOpinionModel:
    path = path or MODEL_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read the second-opinion model: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not a second-opinion model of format {FORMAT}")
    try:
        weights: dict = {str(k).encode("utf-8", "surrogatepass"): float(v)
                         for k, v in data["unigrams"].items()}
        for k, v in data["bigrams"].items():
            a, _, b = str(k).partition(" ")
            weights[(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))] = float(v)
        return SecondOpinionModel(float(data["intercept"]), weights, dict(data.get("meta") or {}))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{path}: malformed second-opinion model: {exc}") from None
