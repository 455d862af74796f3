"""When the terminal goes away: a dropped SSH link, a closed window, a killed tmux.

The kernel then sends SIGHUP and SIGCONT to the app, and every write to the terminal fails
(EIO). Two things in Textual's Linux driver would keep the app from exiting:

* its output thread ends at the first failed write, while the app's writes go to a queue of 30
  that only that thread empties: the 31st write (a screen refresh, the escape sequences of the
  exit itself) blocks the event loop for good. The process lingers with its cache open and
  ignores SIGTERM, and the app's own SIGHUP handling (lock, stop sync, exit) may never run;
* its SIGCONT handler starts "application mode" again on the dead terminal (a new output
  thread, which dies at its first write in turn).

:func:`survive_hangup` (before ``App.run``) gives the driver an output thread that keeps taking
writes and drops them once the terminal is gone; :func:`guard_sigcont` (once the driver runs)
lets SIGCONT resume only a terminal that is still there (``ctrl+z`` then ``fg`` as before).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Any

try:
    from textual.drivers import linux_driver as _linux
    from textual.drivers._writer_thread import WriterThread as _WriterThread
except ImportError:  # pragma: no cover - no termios (Windows): Textual uses another driver
    _linux = None
    _WriterThread = threading.Thread  # type: ignore[assignment,misc]


class DrainingWriterThread(_WriterThread):  # type: ignore[misc,valid-type]
    """Textual's output thread, except that a failed write does not end it: from then on it
    takes every write and drops it (nobody can see it), so the app's writes never block."""

    def run(self) -> None:
        queue, out = self._queue, self._file
        alive = True
        while (text := queue.get()) is not None:
            if not alive:
                continue
            try:
                out.write(text)
                if queue.qsize() == 0:
                    out.flush()
            except (OSError, ValueError):  # EIO / EPIPE; ValueError: the file was closed
                alive = False
        if alive:
            with contextlib.suppress(OSError, ValueError):
                out.flush()


def survive_hangup() -> bool:
    """Make Textual's Linux driver use :class:`DrainingWriterThread` (idempotent). False where
    that driver is not used or does not look as expected (then nothing is changed)."""
    if _linux is None:
        return False
    current = getattr(_linux, "WriterThread", None)
    if current is DrainingWriterThread:
        return True
    if current is not _WriterThread:
        return False
    _linux.WriterThread = DrainingWriterThread
    return True


def terminal_present(stream: Any = None) -> bool:
    """True while the app's terminal (Textual writes to stderr) is still a terminal: after a
    hang-up it answers EIO and is not one any more."""
    stream = sys.__stderr__ if stream is None else stream
    try:
        return stream is not None and os.isatty(stream.fileno())
    except (OSError, ValueError):
        return False


def guard_sigcont() -> bool:
    """Wrap the SIGCONT handler in place (Textual's driver's) so that it runs only while the
    terminal is present. Call it from the main thread once the driver has started; idempotent.
    False when there is nothing to wrap."""
    cont = getattr(signal, "SIGCONT", None)
    if cont is None:
        return False
    try:
        handler = signal.getsignal(cont)
    except ValueError:  # pragma: no cover - not the main thread
        return False
    if getattr(handler, "_terminal_guard", False):
        return True
    if not callable(handler):
        return False

    def on_cont(signum: int, frame: Any) -> None:
        if terminal_present():
            handler(signum, frame)

    on_cont._terminal_guard = True  # type: ignore[attr-defined]
    try:
        signal.signal(cont, on_cont)
    except ValueError:  # pragma: no cover - not the main thread
        return False
    return True
