"""Regenerate the ``[fuzzy.known]`` blocks of the shipped rules (``data/en.toml``, ``data/es.toml``).

Not a test. The typo tolerance corrects a word that is one edit away from an urgent-lexicon
word unless the word is known to be real ("writing" is not "writhing", "veces" is not
"heces"). The real words come from dictionaries, read at development time only (nothing is
read at run time); only the words one edit away from the lexicon are written to the TOML.

Usage (Debian: ``apt-get install wamerican wspanish aspell-en aspell-es``)::

    aspell -d en_US dump master | aspell -l en expand | tr ' ' '\\n' > /tmp/en_full.txt
    aspell -d es dump master | aspell -l es expand | tr ' ' '\\n' > /tmp/es_full.txt
    python tests/triage/fuzzy_known.py \\
        en=/usr/share/dict/american-english,/tmp/en_full.txt \\
        es=/usr/share/dict/spanish,/tmp/es_full.txt

Run it again after changing the urgent terms, the acuity symptoms or the cues.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "src" / "triage_tui" / "domain" / "triage" / "data"
_BLOCK = re.compile(r"\n# --- fuzzy known words \(generated\).*", re.S)


def main(argv: list[str]) -> int:
    from triage_tui.domain.triage import load_rules
    from triage_tui.domain.triage.engine import _osa1, compile_rules
    from triage_tui.domain.triage.text import fold

    rules = load_rules(use_user_file=False)
    fz = compile_rules(rules).fuzzy
    lexicon = {w for ws in fz.index.values() for w in ws}
    shipped = {fold(w)[0] for w in rules.fuzzy.known}
    rule_words = fz.ok - shipped  # words the rules use (never corrected anyway)
    for arg in argv:
        lang, _, paths = arg.partition("=")
        words: set[str] = set()
        for path in paths.split(","):
            for line in open(path, encoding="utf-8", errors="ignore"):
                w = fold(line.strip())[0]
                if re.fullmatch(r"[a-z]+", w) and len(w) >= fz.min_word:
                    words.add(w)
        near = set()
        for w in words - lexicon - rule_words:
            cands = set(fz.index.get(w, ()))
            for i in range(len(w)):
                cands.update(fz.index.get(w[:i] + w[i + 1 :], ()))
            if any(_osa1(w, c) for c in cands):
                near.add(w)
        toml = DATA / f"{lang}.toml"
        text = _BLOCK.sub("", toml.read_text(encoding="utf-8")).rstrip("\n")
        body = textwrap.fill(", ".join(f'"{w}"' for w in sorted(near)), 96,
                             initial_indent="    ", subsequent_indent="    ")
        text += f"""

# --- fuzzy known words (generated): real {lang} words one edit away from an urgent-lexicon word,
# never read as typos ("writing" is not "writhing"). Regenerate with tests/triage/fuzzy_known.py
# after changing the urgent terms or the acuity symptoms. Keep this block last in the file.
[fuzzy.known]
{lang} = [
{body},
]
"""
        toml.write_text(text, encoding="utf-8")
        print(f"{lang}: {len(near)} known words near the lexicon ({len(lexicon)} words)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
