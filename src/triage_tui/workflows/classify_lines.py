"""Classify JSON-lines messages on every core: what ``triage-tui classify`` runs.

The input is cut into chunks of lines. Each chunk is parsed, checked, classified and rendered
by :func:`render_chunk`, in worker processes forked *after* the rules are loaded (a child
shares the parent's compiled rules: nothing is read or compiled again), and the parent writes
the chunks' output in input order. One process renders every chunk with the same function, so
the output is byte for byte what a single process writes; only the wall time differs (a
practice's export of 100k messages: ~7 s on one core, about half on two).

Small inputs (fewer than :data:`PARALLEL_MIN` lines), one usable core, ``jobs=1`` or a platform
without ``fork`` are classified in this process. A worker that dies (killed, out of memory)
loses nothing: the chunks it had not answered are classified again here.

Message texts reach the workers through the pool's pipes only, never a file, and the workers
write nothing but their answers (no PHI in any log).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from typing import NamedTuple

from triage_tui.domain.triage import Rules, classify

__all__ = ["CHUNK", "PARALLEL_MIN", "Rendered", "classify_lines", "render_chunk", "usable_cpus"]

CHUNK = 1000
"""Lines per chunk: big enough that a chunk's trip through the pool (~1 ms) is small against
classifying it (~70 ms), small enough that the first output comes soon."""
PARALLEL_MIN = 4000
"""Below this many lines the pool's start (a fork per worker) is not worth it."""
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
"""``json.dumps(obj, ensure_ascii=False)`` without building an encoder per line."""


class Rendered(NamedTuple):
    """One chunk's answer: its output lines (joined, each ending in a newline) and the
    problems of its bad lines (``"line N: ..."``), in input order."""

    out: str
    errors: list[str]


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def render_chunk(rules: Rules, first_lineno: int, lines: list[str], explain: bool = False) -> Rendered:
    """Classify one chunk of input lines (``first_lineno`` is the first one's line number)."""
    out: list[str] = []
    errors: list[str] = []
    for lineno, line in enumerate(lines, start=first_lineno):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {lineno}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        problem = check_record(obj)
        if problem:
            errors.append(f"line {lineno}: {problem}")
            continue
        server_category = obj.get("category") if isinstance(obj.get("category"), str) else None
        c = classify(
            rules,
            obj.get("subject") or "",
            obj["text"],
            server_category=server_category,
            language=obj.get("language") if isinstance(obj.get("language"), str) else None,
        )
        rec = {"id": obj["id"], **c.to_dict()}
        if server_category:
            rec["rules_category"] = c.rules_category.value
        if explain:
            rec["explanation"] = list(c.explanation)
        out.append(_ENCODE(rec) + "\n")
    return Rendered("".join(out), errors)


def check_record(obj: object) -> str | None:
    """What is wrong with one input record, or None."""
    if not isinstance(obj, dict):
        return "expected a JSON object"
    if "id" not in obj or not isinstance(obj["id"], (str, int)) or isinstance(obj["id"], bool):
        return 'missing or invalid "id" (a string or an integer)'
    if not isinstance(obj.get("text"), str):
        return 'missing or invalid "text" (a string)'
    if obj.get("subject") is not None and not isinstance(obj["subject"], str):
        return '"subject" must be a string'
    return None


def classify_lines(
    rules: Rules,
    lines: Iterable[str],
    *,
    explain: bool = False,
    jobs: int | None = None,
    chunk: int = CHUNK,
    parallel_min: int = PARALLEL_MIN,
) -> Iterator[Rendered]:
    """Classify JSON lines, yielding :class:`Rendered` answers in input order.

    ``jobs``: worker processes (None: every usable core; 1: this process only, one answer per
    line as it is read, for a stream such as ``tail -f``). With more than one job the first
    ``parallel_min`` lines are read before anything is answered (fewer: the input was small,
    and it is classified here), then the pool reads at most ``2 * jobs`` chunks ahead."""
    it = iter(lines)
    jobs = usable_cpus() if jobs is None else max(1, jobs)
    if jobs == 1 or "fork" not in multiprocessing.get_all_start_methods():
        for lineno, line in enumerate(it, start=1):
            yield render_chunk(rules, lineno, [line], explain)
        return
    head = list(islice(it, max(parallel_min, chunk)))
    if len(head) < parallel_min:
        for lineno, line in enumerate(head, start=1):
            yield render_chunk(rules, lineno, [line], explain)
        return
    yield from _pooled(rules, _chunks(head, it, chunk), explain, jobs)


def _chunks(head: list[str], rest: Iterator[str], size: int) -> Iterator[tuple[int, list[str]]]:
    lineno = 1
    for i in range(0, len(head), size):
        part = head[i:i + size]
        yield lineno, part
        lineno += len(part)
    while part := list(islice(rest, size)):
        yield lineno, part
        lineno += len(part)


# The forked workers' rules: set in the parent just before the pool forks, so each child has
# them (compiled) without pickling or loading anything.
_WORKER_RULES: Rules | None = None


def _worker_init() -> None:
    # Ctrl-C is the parent's to handle (it stops the pool); a child would only print a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker_render(first: int, part: list[str], explain: bool) -> Rendered:
    assert _WORKER_RULES is not None
    return render_chunk(_WORKER_RULES, first, part, explain)


def _pooled(rules: Rules, chunks: Iterator[tuple[int, list[str]]], explain: bool, jobs: int) -> Iterator[Rendered]:
    global _WORKER_RULES
    _WORKER_RULES = rules
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_worker_init)
    pending: deque[tuple[int, list[str], Future[Rendered] | None]] = deque()
    broken = False
    try:
        while True:
            while not broken and len(pending) < 2 * jobs:
                nxt = next(chunks, None)
                if nxt is None:
                    break
                try:
                    fut = pool.submit(_worker_render, nxt[0], nxt[1], explain)
                except BrokenProcessPool:
                    broken, fut = True, None
                pending.append((nxt[0], nxt[1], fut))
            if not pending:
                if broken:  # the pool is gone: the rest of the input in this process
                    for first, part in chunks:
                        yield render_chunk(rules, first, part, explain)
                return
            first, part, fut = pending.popleft()
            if fut is not None:
                try:
                    yield fut.result()
                    continue
                except BrokenProcessPool:
                    broken = True
            # a worker died before answering this chunk: it is classified here (nothing lost)
            yield render_chunk(rules, first, part, explain)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _WORKER_RULES = None
