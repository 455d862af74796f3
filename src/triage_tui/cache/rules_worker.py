"""The triage rules' codes of a thread, in this process or in a helper process.

:func:`rules_codes` is what the store writes in ``threads.rules_priority`` /
``rules_category``. :class:`RulesWorker` runs the same function in a child Python process so
that a big pull (an initial sync of thousands of threads) classifies on another core while
this one fetches, parses and stores pages: loading the rules (~1 s: TOML, validation, regex
compilation) and classifying (~35 us a thread) then cost the sync little wall time.

The child is a plain ``python -I -c`` running :func:`main`: it loads the rules exactly as
:func:`load_store_rules` does (shipped defaults + the user's rules file), reads one JSON line
per batch on stdin (``[[subject, text], ...]``) and answers one JSON line
(``[[priority, category or null], ...]``). Texts travel through an anonymous pipe, never a
file; the child writes nothing else (stderr is discarded: no PHI in any log). Any failure
(no fork/exec, a crash, a timeout) is reported as :class:`RulesWorkerError` and the caller
classifies in-process instead.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

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
Codes = list[tuple[str, str | None]]  # (rules_priority, rules_category) per item

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
    """A child process that classifies batches in order. :meth:`submit` returns at once (a
    writer thread feeds the child, a reader thread matches its answers to the batches), so
    the caller can hand out the next batch while the child works; thread-safe."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout  # per batch, including the child's start and rules load
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[tuple[Sequence[tuple[str, str]], Future[Codes]] | None] = (
            queue.SimpleQueue())
        self._answers: deque[tuple[Future[Codes], int]] = deque()  # expected, in order
        self._failed: str | None = None

    def start(self) -> None:
        here = Path(__file__).resolve()
        src = str(here.parents[2])  # the directory holding triage_tui/
        # This file is run by its path, not as triage_tui.cache.rules_worker: the cache
        # package (SQLite, keyring, crypto) is not imported; the child needs the rules only.
        code = (f"import sys, importlib.util as u; sys.path.insert(0, {src!r}); "
                f"s = u.spec_from_file_location('triage_tui_rules_worker', {str(here)!r}); "
                "m = u.module_from_spec(s); s.loader.exec_module(m); m.main()")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-c", code], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True)
        except OSError as exc:
            raise RulesWorkerError(f"cannot start the rules worker: {exc}") from None
        for target, name in ((self._write_loop, "w"), (self._read_loop, "r")):
            threading.Thread(target=target, args=(self._proc,), daemon=True,
                             name=f"triage-tui-rules-{name}").start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._failed is None

    def submit(self, items: Sequence[tuple[str, str]]) -> Future[Codes]:
        """Codes of ``[(subject, text), ...]``, in order, as a future (RulesWorkerError when
        the child fails). It cannot be cancelled: the child answers every batch."""
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

    def classify(self, items: Sequence[tuple[str, str]]) -> Codes:
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
                    codes = [(str(p), None if c is None else str(c)) for p, c in out]
                except (ValueError, TypeError):
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


def main() -> None:
    """The child: classify batches from stdin until EOF."""
    try:
        os.nice(NICE)  # the sync and the UI come first; this only has to finish with the pass
    except (AttributeError, OSError):
        pass
    rules = load_store_rules()
    rules_codes(rules, *_WARM)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    for line in stdin:
        items = json.loads(line)
        out = [rules_codes(rules, s, t) for s, t in items]
        stdout.write(json.dumps(out, separators=(",", ":")).encode("ascii") + b"\n")
        stdout.flush()
