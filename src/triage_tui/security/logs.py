"""Logs and crash reports that never contain PHI.

* :func:`setup_logging` sends Python logging to ``<state dir>/triage-tui.log`` (0600, rotated)
  through :class:`PhiFilter` and :class:`SafeFormatter`.
* :func:`install_crash_handler` writes an uncaught exception to ``<state dir>/crash-*.txt``.
* :class:`SafeErrorConsole` replaces a Textual app's ``error_console``: Textual prints a crash
  with every frame's local variables (patient text included); this console keeps only frame
  locations and the exception type.

What a report keeps: file, line and function of each frame, the source line (code, not data),
the exception *type*. What it drops: local variables, argument values, exception messages
(``str(exc)`` may quote a patient's words), except for :class:`~triage_tui.errors.UserError`
whose messages are written to be PHI-free.

Log arguments are reduced the same way: numbers, booleans and identifier-like strings
(``thr-12``, ``Communication/9``, ``passphrase``) are kept; any other string becomes
``<redacted str len=N>``; exceptions become their type name.
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
import re
import sys
import threading
import traceback
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from triage_tui import locations
from triage_tui.errors import UserError

LOG_NAME = "triage-tui.log"
MAX_BYTES = 1_000_000
BACKUPS = 3

# A string argument is shown only if it looks like code-made data: an id, a reference, a path
# component, an enum value. Lower-case words pass (table names, key sources); capitalised words,
# spaces and non-ASCII (names, sentences) do not.
_SAFE_STR = re.compile(r"^(?:[a-z][a-z_\-]{0,23}|[A-Za-z0-9_.:/\-]*[0-9_.:/][A-Za-z0-9_.:/\-]*)$")
# ...but not when it looks like an MRN, a phone number or a date (of birth): long digit runs
# (UUIDs excepted) and ISO dates are redacted even inside an id-like string.
_DIGIT_RUN = re.compile(r"\d{6,}|\d{4}-\d{2}-\d{2}|\d{3}[-.]\d{4}")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SAFE_MAX = 120
QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "uvicorn.access", "asyncio")
"""Third-party loggers that log request URLs (with search parameters) at INFO/DEBUG."""


def redact_value(value: Any) -> Any:
    """A log argument as it may be written: kept, or replaced by a PHI-free description."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, UserError):
        return f"{type(value).__name__}: {value}"
    if isinstance(value, BaseException):
        status = getattr(value, "status", None)
        return f"{type(value).__name__}" + (f" (HTTP {status})" if isinstance(status, int) else "")
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        if len(value) <= _SAFE_MAX and _SAFE_STR.match(value) and (
                _UUID.match(value) or not _DIGIT_RUN.search(value)):
            return value
        return f"<redacted str len={len(value)}>"
    return f"<redacted {type(value).__name__}>"


class PhiFilter(logging.Filter):
    """Rewrites each record's arguments with :func:`redact_value`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            record.msg, record.args = f"<redacted {type(record.msg).__name__}>", None
        args = record.args
        if isinstance(args, Mapping):
            record.args = {k: redact_value(v) for k, v in args.items()}
        elif args:
            record.args = tuple(redact_value(a) for a in args)
        record.msg = _CONTROL.sub("?", record.msg)
        return True


def safe_traceback(exc_type: type[BaseException] | None, exc: BaseException | None,
                   tb: TracebackType | None) -> str:
    """Frames (file:line in function, source line) and exception types; no values."""
    if exc is None:
        return "(no exception)"
    lines: list[str] = []
    seen: set[int] = set()
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        chain.append(cur)
        cur = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
    for i, e in enumerate(reversed(chain)):
        if i:
            lines.append("\nDuring handling of the above, another exception occurred:\n")
        lines.append("Traceback (most recent call last):")
        for fs in traceback.extract_tb(e.__traceback__ if e is not exc else tb):
            lines.append(f'  File "{fs.filename}", line {fs.lineno}, in {fs.name}')
            if fs.line:
                lines.append(f"    {fs.line.strip()}")
        lines.append(describe_exception(e))
    return "\n".join(lines)


def describe_exception(exc: BaseException) -> str:
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if isinstance(exc, UserError):
        return f"{name}: {exc}"
    status = getattr(exc, "status", None)
    return name + (f" (HTTP {status})" if isinstance(status, int) else "") + \
        " (message withheld: it may quote patient data)"


class SafeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:  # noqa: A003
        # Another handler may have cached its own (unsafe) rendering in exc_text: ignore it.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return safe_traceback(*ei)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return stack_info  # frames only: no values


def _secure_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)


class _PrivateRotatingHandler(logging.handlers.RotatingFileHandler):
    def _open(self):  # type: ignore[override]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(fd, self.mode.replace("w", "a"), encoding=self.encoding)


_handler: logging.Handler | None = None


def log_file() -> Path:
    return locations.state_dir() / LOG_NAME


def setup_logging(level: int = logging.INFO) -> Path:
    """Route the root logger to the PHI-safe log file (idempotent); return its path."""
    global _handler
    path = log_file()
    _secure_dir(path.parent)
    root = logging.getLogger()
    if _handler is not None:
        if Path(getattr(_handler, "baseFilename", "")) == path:
            return path
        root.removeHandler(_handler)
        _handler.close()
    handler = _PrivateRotatingHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                      encoding="utf-8", delay=True)
    handler.addFilter(PhiFilter())
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    _handler = handler
    return path


def teardown_logging() -> None:
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None


# --- crash reports ----------------------------------------------------------------------------

def write_crash_report(text: str, *, kind: str = "crash") -> Path:
    """Write ``text`` (already PHI-free) to a new 0600 file in the state dir."""
    directory = locations.state_dir()
    _secure_dir(directory)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    path = directory / f"{kind}-{stamp}.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    from triage_tui import __version__

    header = (f"triage-tui {__version__} {kind} report ({datetime.now(timezone.utc).isoformat()})"
              f"\nPython {sys.version.split()[0]} on {sys.platform}\n"
              "No local variables or exception messages are included (they may hold PHI).\n\n")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(header + text + "\n")
    return path


def report_exception(exc_type: type[BaseException], exc: BaseException,
                     tb: TracebackType | None) -> Path | None:
    try:
        path = write_crash_report(safe_traceback(exc_type, exc, tb))
    except OSError:
        path = None
    with contextlib.suppress(Exception):
        logging.getLogger("triage_tui.crash").error("uncaught %s; report %s",
                                                    type(exc).__name__, path and path.name)
    return path


def install_crash_handler() -> None:
    """Uncaught exceptions (main thread and other threads) go to a PHI-free report."""

    def hook(exc_type, exc, tb) -> None:  # noqa: ANN001
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        path = report_exception(exc_type, exc, tb)
        print(f"triage-tui: internal error ({exc_type.__name__}). A report without patient data "
              f"was written to {path}", file=sys.stderr)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        report_exception(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook


_FRAME = re.compile(r"(?P<file>[^\s│╭╰|]+\.py):(?P<line>\d+) in (?P<func>[\w<>.]+)")
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning"
                       r"|Locked|Passphrase|Unavailable|Found|Corrupt|Cache))\b")


def frames_from_rendered(text: str) -> list[str]:
    """Frame locations and exception types from a rendered rich Traceback (locals dropped)."""
    out: list[str] = []
    for raw in text.splitlines():
        m = _FRAME.search(raw)
        if m:
            out.append(f"  {m['file']}:{m['line']} in {m['func']}")
            continue
        e = _EXC_LINE.match(raw.strip())
        if e:
            out.append(e["type"])
    return out


def _console_base() -> type:
    from rich.console import Console

    return Console


class _SafeErrorConsoleMixin:
    def print(self, *objects: Any, **kw: Any) -> None:  # noqa: A003
        from rich.console import Console

        buf = io.StringIO()
        Console(file=buf, width=200, color_system=None, markup=False,
                highlight=False).print(*objects)
        frames = frames_from_rendered(buf.getvalue())
        if not frames:
            return  # Textual's follow-up notes ("1 of 2 errors shown")
        try:
            path: Path | None = write_crash_report("\n".join(frames))
        except OSError:
            path = None
        self._stderr.write("triage-tui stopped after an internal error. Replies you confirmed "  # type: ignore[attr-defined]
                           "are kept in the outbox.\nA report without patient data was written "
                           f"to {path}\n")
        self._stderr.flush()  # type: ignore[attr-defined]


def safe_error_console(stderr: Any = None) -> Any:
    """A drop-in for ``App.error_console`` that prints no locals and writes a safe report."""
    Console = _console_base()  # noqa: N806

    class SafeErrorConsole(_SafeErrorConsoleMixin, Console):  # type: ignore[misc, valid-type]
        pass

    console = SafeErrorConsole(file=io.StringIO(), markup=False, highlight=False)
    console._stderr = stderr or sys.stderr  # our own attribute on our own subclass
    return console
