"""Triage rules throughput on 100k realistic messages.

* ``classify_100k_s`` (target <= 5 s): 100k JSON lines ``{"id", "subject", "text"}`` through
  what ``triage-tui classify`` runs (:func:`triage_tui.workflows.classify_lines.classify_lines`:
  parse, check, classify, render the output JSON, on every usable core), rules already loaded.
* ``classify_100k_1core_s`` (no target): the engine alone on one core, ``classify()`` called
  100k times in a loop (what one message costs; the rules worker of a sync pays this).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

from _util import figure, median_of

FIGURES = ["classify_100k_s", "classify_100k_1core_s"]
ROOT = Path(__file__).resolve().parent.parent

_OWN = [
    ("Refill", "Hi, I need a refill of my lisinopril 20 mg sent to the CVS on Main St. No chest pain, just out of pills. Thanks!"),
    ("appointment", "Can I reschedule my appointment on Tuesday to next week? Something came up at work."),
    ("Lab results", "I got a notification that my blood work is back. What does my A1c of 7.2 mean? Is my cholesterol ok?"),
    ("", "my lips are swelling since the new pill and my throat feels tight"),
    ("Question", "I have had a cough and a low fever for three days, should I come in or just rest? No trouble breathing."),
    ("Bill", "I was charged twice for my last visit, can someone look at my bill and my insurance claim?"),
    ("Receta", "Necesito resurtir mi receta de metformina, se me acabaron las pastillas. Gracias."),
    ("cita", "Quisiera cambiar mi cita del jueves para la próxima semana por favor."),
    ("", "Me duele mucho el pecho desde la mañana y me cuesta respirar."),
    ("forms", "Could you fill out my FMLA paperwork? I faxed it to the office last week."),
    ("", "Had a stroke in 2019, doing fine now. Can you renew my Eliquis for 90 days?"),
    ("headache", "Worst headache of my life started an hour ago, and my left arm feels numb."),
]


def _messages(n: int) -> list[tuple[str, str]]:
    base = list(_OWN)
    corpus = ROOT / "tests" / "data" / "triage_corpus.jsonl"
    if corpus.exists():  # timing only: every row is just a realistic text here
        for line in corpus.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            base.append((row["subject"], row["text"]))
    rng = random.Random(5)
    return [base[rng.randrange(len(base))] for _ in range(n)]


def run(quick: bool = False, only: set[str] | None = None) -> Iterator[dict]:
    import time

    from triage_tui.domain.triage import classify, default_rules
    from triage_tui.workflows.classify_lines import classify_lines, usable_cpus

    rules = default_rules()
    n = 100_000
    msgs = _messages(n)
    runs, warmup = (1, 0) if quick else (3, 1)

    if only is None or "classify_100k_s" in only:
        lines = [json.dumps({"id": i, "subject": s, "text": t}) + "\n" for i, (s, t) in enumerate(msgs)]
        out_lines: list[int] = []

        def cli() -> None:
            out_lines.append(sum(r.out.count("\n") for r in classify_lines(rules, lines)))

        med, times = median_of(cli, runs=runs, warmup=warmup)
        assert set(out_lines) == {n}, out_lines
        yield figure(
            "classify_100k_s", med, "s", target=5, runs=[round(t, 3) for t in times],
            messages=n, workers=usable_cpus(),
        )

    if only is None or "classify_100k_1core_s" in only:
        cpu: list[float] = []

        def loop() -> None:
            t0 = time.process_time()
            for subject, text in msgs:
                classify(rules, subject, text)
            cpu.append(time.process_time() - t0)

        med, times = median_of(loop, runs=runs, warmup=warmup)
        # cpu_s: process CPU time (wall time is inflated when other work shares the cores)
        yield figure(
            "classify_100k_1core_s", med, "s", runs=[round(t, 3) for t in times],
            cpu_s=round(sorted(cpu)[len(cpu) // 2], 3), messages=n,
        )
