"""The triage rules' codes of a thread, in this process or in a helper process.

:func:`rules_codes` is what the store writes in ``threads.rules_priority`` /
``rules_category``, from the texts :func:`read_rules_texts` reads. :class:`RulesWorker` runs
both in a child Python process so that a big pull (an initial sync of thousands of threads)
reads and classifies on another core while this one fetches, parses and stores pages: loading
the rules (~1 s: TOML, validation, regex compilation), reading and decrypting the texts and
classifying (~35 us a thread) then cost the sync little wall time.

The child is a plain ``python -I -c`` running :func:`main`: it loads the rules exactly as
:func:`load_store_rules` does (shipped defaults + the user's rules file) and opens the cache
file read-only. Its first stdin line gives the file and the key of the PHI fields
(:func:`~triage_tui.cache.crypto.field_key`: it decrypts fields, it cannot unwrap the cache's
key or forge the audit chain). Then it reads one JSON line per batch (``[thread id, ...]``),
reads those threads' texts in one read transaction and answers one JSON line
(``[[priority, category or null] or null, ...]``; null: no such thread). Key, ids and codes
travel through anonymous pipes, never a file or the command line; the child writes nothing
else (stderr is discarded: no PHI in any log). It ends at EOF, and is killed when its pass
ends early or the cache is locked. Any failure (no fork/exec, a crash, a timeout) is
reported as :class:`RulesWorkerError` and the caller classifies in-process instead.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import queue
import sqlite3
import subprocess
import sys
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any
from urllib.parse import quote

from triage_tui.domain.triage import (
    Rules,
    RulesError,
    classify,
    default_rules,
    load_rules,
    rules_fingerprint,
)

log = logging.getLogger(__name__)
NICE = 10  # the child's niceness increment
Codes = list[tuple[str, str | None] | None]  # (rules_priority, rules_category) per thread

# Warm the rules (load and compile, ~0.7 s) while the sync is still fetching, not in the first
# batch. The engine's Unicode regex set is not warmed: it is built only for a text with a
# non-ASCII letter, digit or space after folding (rare: accents fold away; punctuation, "✓"
# and emoji do not need it), so most syncs never pay for it.
_WARM = ("Cita", "Tengo náuseas y mareo desde ayer ✓")


def load_store_rules() -> Rules:
    """The rules a store classifies with when none are given: defaults + the user's file
    (a broken user file must not stop the sync: the shipped rules then)."""
    try:
        return load_rules()
    except RulesError as exc:
        log.warning("triage rules: %s; using the shipped rules", exc)
        return default_rules()


def store_rules_fingerprint() -> str:
    """The fingerprint of the rules :func:`load_store_rules` loads, from the files alone
    (milliseconds: no parsing)."""
    try:
        return rules_fingerprint()
    except RulesError:
        return rules_fingerprint(use_user_file=False)


def rules_codes(rules: Rules, subject: str, text: str) -> tuple[str, str | None]:
    """(rules_priority, rules_category) of a thread: its subject and latest patient turn.
    The category is None when no category rule matched at all."""
    c = classify(rules, subject, text)
    cat = c.rules_category.value if any(v > 0 for v in c.scores.values()) else None
    return c.priority.value, cat


def latest_patient_turn(msgs: Sequence[tuple[str, int, bytes]]
                        ) -> Sequence[tuple[str, int, bytes]]:
    """The patient messages (``(id, from_patient, phi)``, oldest first) after the last staff
    message; if staff wrote last, the run of patient messages before that reply."""
    end = len(msgs)
    while end and not msgs[end - 1][1]:
        end -= 1  # staff messages at the end
    start = end
    while start and msgs[start - 1][1]:
        start -= 1
    return msgs[start:end]


def read_rules_texts(conn: sqlite3.Connection, text: Callable[[str, str, bytes], str | None],
                     thread_ids: Sequence[str], plain: dict[tuple[str, str], str] | None = None,
                     *, need_messages: bool = False) -> list[tuple[str, str, str]]:
    """``(thread id, subject, text)`` that the rules classify, for the stored threads among
    ``thread_ids`` (with ``need_messages``: only those holding a message).

    The text is the thread's latest patient turn: the patient messages since the last staff
    reply, or, when staff spoke last, the patient messages that reply answered (a reply
    alone does not clear a flag; a patient follow-up after it replaces what is
    classified). Staff text is never classified. Texts written in this batch come from
    ``plain``; the others are ``text(table, row id, phi blob)`` (None: unreadable, skipped;
    :meth:`FieldCipher.phi_text <triage_tui.cache.crypto.FieldCipher.phi_text>`).
    """
    plain = plain or {}
    out: list[tuple[str, str, str]] = []
    head_sql = ("SELECT id, phi FROM threads WHERE id IN (SELECT value FROM json_each(?))"
                + (" AND message_count > 0" if need_messages else ""))
    for i in range(0, len(thread_ids), 5000):
        heads = conn.execute(head_sql, (json.dumps(list(thread_ids[i:i + 5000])),)).fetchall()
        if not heads:
            continue
        convo: dict[str, list[tuple[str, int, bytes]]] = defaultdict(list)
        for mid, tid, fp, blob in conn.execute(
            "SELECT id, thread_id, from_patient, phi FROM messages "
            "WHERE thread_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY thread_id, sent_ts, id", (json.dumps([h[0] for h in heads]),)
        ):
            convo[tid].append((mid, fp, blob))
        for tid, blob in heads:
            subject = plain.get(("threads", tid))
            if subject is None:
                subject = text("threads", tid, blob) or ""  # unreadable: quarantined when read
            texts = []
            for mid, _fp, mblob in latest_patient_turn(convo.get(tid, ())):
                t = plain.get(("messages", mid))
                if t is None:
                    t = text("messages", mid, mblob)
                    if t is None:
                        continue
                texts.append(t)
            out.append((tid, subject, "\n\n".join(texts)))
    return out


def available() -> bool:
    """A helper process is worth it: POSIX (fork/exec, pipes) and a second CPU."""
    if os.name != "posix":
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        cpus = os.cpu_count() or 1
    return cpus >= 2


class RulesWorkerError(Exception):
    """The helper process could not classify (not started, died, timed out, bad answer)."""


class RulesWorker:
    """A child process that classifies batches of a cache's threads in order, reading their
    texts from ``db`` with the fields' ``key`` (:meth:`Store.rules_source`). :meth:`submit`
    returns at once (a writer thread feeds the child, a reader thread matches its answers to
    the batches), so the caller can hand out the next batch while the child works;
    thread-safe."""

    def __init__(self, db: str | os.PathLike[str], key: bytes, timeout: float = 60.0) -> None:
        self.timeout = timeout  # per batch, including the child's start and rules load
        self._source: tuple[str, bytes] | None = (os.fspath(db), key)  # until sent to the child
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[tuple[Sequence[str], Future[Codes]] | None] = (
            queue.SimpleQueue())
        self._answers: deque[tuple[Future[Codes], int]] = deque()  # expected, in order
        self._failed: str | None = None

    def start(self) -> None:
        here = Path(__file__).resolve()
        src = str(here.parents[2])  # the directory holding triage_tui/
        # This file is run by its path, not as triage_tui.cache.rules_worker: the cache
        # package (the store, keyring) is not imported; the child needs the rules, SQLite and
        # the field cipher (crypto.py, loaded by its path too) only.
        code = (f"import sys, importlib.util as u; sys.path.insert(0, {src!r}); "
                f"s = u.spec_from_file_location('triage_tui_rules_worker', {str(here)!r}); "
                "m = u.module_from_spec(s); s.loader.exec_module(m); m.main()")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-c", code], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True)
        except OSError as exc:
            raise RulesWorkerError(f"cannot start the rules worker: {exc}") from None
        assert self._source is not None and self._proc.stdin is not None
        db, key = self._source
        self._source = None
        first = {"db": db, "key": base64.b64encode(key).decode("ascii")}
        try:  # far below a pipe's buffer: never blocks
            self._proc.stdin.write(json.dumps(first).encode("utf-8") + b"\n")
            self._proc.stdin.flush()
        except OSError as exc:
            self._proc.kill()
            raise RulesWorkerError(f"cannot start the rules worker: {exc}") from None
        for target, name in ((self._write_loop, "w"), (self._read_loop, "r")):
            threading.Thread(target=target, args=(self._proc,), daemon=True,
                             name=f"triage-tui-rules-{name}").start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._failed is None

    def submit(self, items: Sequence[str]) -> Future[Codes]:
        """Codes of the threads ``[id, ...]``, in order (None for a thread not in the cache),
        as a future (RulesWorkerError when the child fails). It cannot be cancelled: the child
        answers every batch."""
        fut: Future[Codes] = Future()
        fut.set_running_or_notify_cancel()
        if not items:
            fut.set_result([])
            return fut
        with self._lock:
            if self._proc is None or self._failed is not None:
                fut.set_exception(RulesWorkerError(self._failed or "the rules worker is not "
                                                                   "running"))
                return fut
            self._answers.append((fut, len(items)))
            self._jobs.put((items, fut))
        return fut

    def classify(self, items: Sequence[str]) -> Codes:
        """:meth:`submit` and wait (at most :attr:`timeout`)."""
        try:
            return self.submit(items).result(self.timeout)
        except FutureTimeout:
            self.kill()
            raise RulesWorkerError("rules worker timed out") from None

    def _write_loop(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None
        while True:
            job = self._jobs.get()
            if job is None:
                break
            line = json.dumps(job[0], separators=(",", ":")).encode("ascii") + b"\n"
            try:
                proc.stdin.write(line)
                proc.stdin.flush()
            except (OSError, ValueError):
                self._fail("rules worker failed: its input closed")
                return
        try:
            proc.stdin.close()  # the child ends at EOF
        except OSError:
            pass

    def _read_loop(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                with self._lock:
                    if not self._answers:
                        break
                    fut, n = self._answers.popleft()
                try:
                    out = json.loads(line)
                    if not isinstance(out, list) or len(out) != n:
                        raise ValueError("wrong number of rows")
                    codes: Codes = [None if row is None else
                                    (str(row[0]), None if row[1] is None else str(row[1]))
                                    for row in out]
                except (ValueError, TypeError, IndexError, KeyError):
                    fut.set_exception(RulesWorkerError("rules worker answered nonsense"))
                    break
                fut.set_result(codes)
        except (OSError, ValueError):
            pass
        finally:
            try:
                proc.stdout.close()
            except OSError:
                pass
        self._fail("the rules worker exited")

    def _fail(self, why: str) -> None:
        """Fail every batch still expected; end the child."""
        with self._lock:
            if self._failed is None:
                self._failed = why
            waiting, self._answers = list(self._answers), deque()
            proc = self._proc
        for fut, _ in waiting:
            if not fut.done():
                fut.set_exception(RulesWorkerError(why))
        if proc is not None and proc.poll() is None:
            proc.kill()

    def kill(self) -> None:
        """End the child now; batches not answered yet fail."""
        self._fail("the rules worker was stopped")
        self._jobs.put(None)
        proc = self._proc
        if proc is not None:
            proc.wait()

    def close(self, *, wait: bool = True) -> None:
        """End the child: EOF on its stdin, killed if it has not exited within 2 s.
        ``wait=False``: return at once (a daemon thread waits for it)."""
        proc = self._proc
        if proc is None:
            return
        self._jobs.put(None)
        if not wait:
            threading.Thread(target=self.close, daemon=True, name="triage-tui-rules-end").start()
            return
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
        self._fail("the rules worker was closed")


def _sibling(name: str) -> Any:
    """A module of this package loaded by its path (see :meth:`RulesWorker.start`)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"triage_tui_rules_worker_{name}",
                                                  Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """The child: classify the threads of batches from stdin until EOF."""
    try:
        os.nice(NICE)  # the sync and the UI come first; this only has to finish with the pass
    except (AttributeError, OSError):
        pass
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    first = json.loads(stdin.readline())
    crypto = _sibling("crypto")
    text = crypto.FieldCipher.fields_only(base64.b64decode(first["key"])).phi_text
    conn = sqlite3.connect(f"file:{quote(first['db'])}?mode=ro", uri=True, isolation_level=None)
    del first
    conn.execute("PRAGMA query_only=1")

    rules = load_store_rules()
    rules_codes(rules, *_WARM)
    for line in stdin:
        ids = json.loads(line)
        conn.execute("BEGIN")  # one snapshot: a thread with the messages of its moment
        try:
            found = {tid: (s, t) for tid, s, t in read_rules_texts(conn, text, ids)}
        finally:
            conn.execute("COMMIT")
        out = [rules_codes(rules, *found[t]) if t in found else None for t in ids]
        stdout.write(json.dumps(out, separators=(",", ":")).encode("ascii") + b"\n")
        stdout.flush()
