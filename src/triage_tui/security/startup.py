"""What ``cli.main`` does before anything else (before any Textual import)."""

from __future__ import annotations

import contextlib
import logging
import sys

from triage_tui.security.env import dev_mode, scrub_environment

log = logging.getLogger(__name__)

cleared: list[str] = []
"""Names of the variables the last :func:`harden` removed (``doctor`` reports them)."""


def harden() -> list[str]:
    """Scrub risky variables, send logs to the PHI-safe file, install the crash handler.

    Returns the names of the variables removed. Never fails start-up: a state dir that cannot
    be written only means no log file.
    """
    removed = scrub_environment()
    cleared[:] = removed
    from triage_tui.security import logs

    with contextlib.suppress(OSError):
        logs.setup_logging(logging.DEBUG if dev_mode() else logging.INFO)
    if sys.excepthook is sys.__excepthook__:
        logs.install_crash_handler()
    if removed:
        log.info("cleared %d risky environment variables: %s", len(removed),
                 ",".join(removed))
    return removed
