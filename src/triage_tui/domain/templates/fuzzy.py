"""A small fuzzy matcher for the template picker: ordered subsequence with bonuses.

``score("rsp", "Refill sent to your pharmacy")`` matches R, s(ent), p(harmacy): letters must
appear in order; word starts and runs of consecutive letters score more, gaps cost a little.
Case and accents are ignored. Good enough for a few hundred short titles, no dependency.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "score"]

_WORD_START = 10
_CONSECUTIVE = 8
_MATCH = 1
_GAP = 3


def fold(text: str) -> str:
    """Case- and accent-folded, one character per input character (positions line up)."""
    out = []
    for c in text:
        d = unicodedata.normalize("NFKD", c.lower())
        base = "".join(x for x in d if not unicodedata.combining(x))
        out.append(base[:1] or c.lower()[:1] or c)
    return "".join(out)


def _starts(t: str) -> list[bool]:
    return [i == 0 or (not t[i - 1].isalnum() and t[i].isalnum())
            or (t[i - 1].isalpha() and t[i].isdigit()) for i in range(len(t))]


def score(query: str, text: str) -> tuple[int, list[int]] | None:
    """(score, matched positions in ``text``) or None when ``query`` is not a subsequence.

    Spaces in the query are ignored. Dynamic programming over (query letter, text position)
    so that the best alignment wins, not the first one.
    """
    q = [c for c in fold(query) if not c.isspace()]
    if not q:
        return 0, []
    t = fold(text)
    n, m = len(q), len(t)
    if n > m:
        return None
    starts = _starts(t)
    neg = -(10 ** 9)
    # best[i][j]: best score with q[:i+1] matched and q[i] at t[j]; back[i][j]: previous j
    best = [[neg] * m for _ in range(n)]
    back = [[-1] * m for _ in range(n)]
    for j in range(m):
        if t[j] == q[0]:
            best[0][j] = _MATCH + (_WORD_START if starts[j] else 0) - min(j, 5)
    for i in range(1, n):
        run_best, run_j = neg, -1  # best of best[i-1][k] - gap for k < j-1
        for j in range(i, m):
            k = j - 2
            if k >= 0 and best[i - 1][k] > neg:
                cand = best[i - 1][k]
                if cand > run_best:
                    run_best, run_j = cand, k
            if t[j] != q[i]:
                continue
            bonus = _MATCH + (_WORD_START if starts[j] else 0)
            opts = []
            if best[i - 1][j - 1] > neg:
                opts.append((best[i - 1][j - 1] + bonus + _CONSECUTIVE, j - 1))
            if run_j >= 0:
                opts.append((run_best + bonus - _GAP, run_j))
            if opts:
                best[i][j], back[i][j] = max(opts)
    last = max(range(m), key=lambda j: best[n - 1][j])
    if best[n - 1][last] <= neg:
        return None
    pos = [last]
    for i in range(n - 1, 0, -1):
        pos.append(back[i][pos[-1]])
    return best[n - 1][last], pos[::-1]
