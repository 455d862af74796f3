"""Search without plaintext on disk: an in-memory corpus built from decrypted text.

Design (figures in benchmarks/bench_cache.py and the issue note): one normalised string per
thread (patient name, subject, every message) kept in RAM only, built on the first search or
by :meth:`Store.warm_search` in a worker thread after unlock, kept current by marking threads
dirty on upsert. A query matches a thread when every word of it is a substring of the thread's
text (case- and accent-insensitive), so prefixes and parts of words match too.

Why not an HMAC blind index on disk: measured here, indexing 10k messages of 30 words
(~290k token rows, whole words only, no prefixes) costs ~1.5 s on top of the ~0.08 s encrypted
insert (~18x, against the <= 1.5x budget); it only answers whole words or stored prefixes;
and it leaks which threads share words (frequency analysis of a stolen file). The in-memory
corpus leaks nothing on disk; its cost is decrypting every message once per session (~0.9 s
for 100k threads + 100k messages on one shared core, ``first_search_build_s`` in the
benchmark; run it in a worker after the queue shows) and ~30 MB of RAM per 100k messages.
Each search then scans RAM: ~15-25 ms over 100k threads.
"""

from __future__ import annotations

import re
import unicodedata

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
SEP = "\x00"  # between fields: a query word never spans two fields


def normalize(text: str) -> str:
    """Lower case, accents removed (``José`` -> ``jose``), whitespace runs kept as one space."""
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


def query_words(text: str) -> list[str]:
    words = {w for w in normalize(text).split() if w}
    # longest first: the rarest words usually, so later scans see few candidates
    return sorted(words, key=len, reverse=True)


def match(corpus: dict[str, str], words: list[str]) -> set[str]:
    if not words:
        return set()
    first, rest = words[0], words[1:]
    hits = [tid for tid, text in corpus.items() if first in text]
    for w in rest:
        if not hits:
            break
        hits = [tid for tid in hits if w in corpus[tid]]
    return set(hits)
