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
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from triage_tui.domain.triage import Rules, RulesError, classify, default_rules, load_rules

log = logging.getLogger(__name__)
NICE = 10  # the child's niceness increment

# A text still non-ASCII after folding ("✓") makes the engine compile its Unicode regex
# variants (~0.7 s) now, while the sync is still fetching, not in the first batch that has one.
_WARM = ("Cita", "Tengo náuseas y mareo desde ayer ✓")


def load_store_rules() -> Rules:
    """The rules a store classifies with when none are given: defaults + the user's file
    (a broken user file must not stop the sync: the shipped rules then)."""
    try:
        return load_rules()
    except RulesError as exc:
        log.warning("triage rules: %s; using the shipped rules", exc)
        return default_rules()


def rules_codes(rules: Rules, subject: str, text: str) -> tuple[str, str | None]:
    """(rules_priority, rules_category) of a thread: its subject and latest patient turn.
    The category is None when no category rule matched at all."""
    c = classify(rules, subject, text)
    cat = c.rules_category.value if any(v > 0 for v in c.scores.values()) else None
    return c.priority.value, cat


def available() -> bool:
    """A helper process is worth it: POSIX pipes (select) and a second CPU."""
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
    """A child process that classifies batches, one at a time (thread-safe, blocking)."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout  # per batch, including the child's start and rules load
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._buf = b""

    def start(self) -> None:
        src = str(Path(__file__).resolve().parents[2])  # the directory holding triage_tui/
        code = (f"import sys; sys.path.insert(0, {src!r}); "
                "from triage_tui.cache.rules_worker import main; main()")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-c", code], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True)
        except OSError as exc:
            raise RulesWorkerError(f"cannot start the rules worker: {exc}") from None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def classify(self, items: Sequence[tuple[str, str]]) -> list[tuple[str, str | None]]:
        """Codes of ``[(subject, text), ...]``, in order."""
        if not items:
            return []
        with self._lock:
            proc = self._proc
            if proc is None or proc.stdin is None or proc.stdout is None:
                raise RulesWorkerError("the rules worker is not running")
            line = json.dumps(items, separators=(",", ":")).encode("ascii") + b"\n"
            try:
                proc.stdin.write(line)
                proc.stdin.flush()
                answer = self._readline(proc)
                out = json.loads(answer)
            except (OSError, ValueError) as exc:
                self._kill()
                raise RulesWorkerError(f"rules worker failed: {type(exc).__name__}") from None
            if not isinstance(out, list) or len(out) != len(items):
                self._kill()
                raise RulesWorkerError("rules worker answered the wrong number of rows")
            return [(str(p), None if c is None else str(c)) for p, c in out]

    def _readline(self, proc: subprocess.Popen[bytes]) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise OSError("timed out")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise OSError("the rules worker exited")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for f in (proc.stdin, proc.stdout):
                if f is not None:
                    try:
                        f.close()
                    except OSError:
                        pass

    def kill(self) -> None:
        """End the child now (does not wait for a batch in progress to be answered)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()  # a classify() blocked on it returns with RulesWorkerError
        with self._lock:
            self._kill()

    def close(self) -> None:
        """End the child (EOF on its stdin; killed if it does not exit within 2 s)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            if proc.stdout is not None:
                proc.stdout.close()


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
