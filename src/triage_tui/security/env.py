"""Environment hygiene: variables that make Textual write files, talk to devtools or press keys.

Textual reads its settings from the environment when ``textual.constants`` is first imported,
so :func:`scrub_environment` must run before any ``import textual`` (``cli.main`` calls it
first thing). A developer sets ``TRIAGE_TUI_DEV=1`` to keep them.

What each risky variable does (textual/constants.py, app.py, drivers):

* ``TEXTUAL_LOG``: a file that receives every ``log()`` call, including widget contents (PHI).
* ``TEXTUAL_SCREENSHOT`` / ``_LOCATION`` / ``_FILENAME``: write an SVG of the screen (PHI) to disk.
* ``TEXTUAL_PRESS``: keys pressed automatically at start-up (an action nobody chose).
* ``TEXTUAL`` (features ``devtools``, ``debug``), ``TEXTUAL_DEVTOOLS_HOST`` / ``_PORT``:
  stream the app's log and screen to a devtools server, possibly on another host.
* ``TEXTUAL_DEBUG``: debug mode (every error with locals on exit).
* ``TEXTUAL_SHOW_RETURN``: print the app's return value on exit.
* ``TEXTUAL_DRIVER``: import an arbitrary driver class (``module:Class``).
* ``TEXTUAL_ALLOW_SIGNALS``: leaves ISIG on, so ctrl+c/ctrl+z reach the process uncontrolled.

Harmless look-and-feel variables (``TEXTUAL_ANIMATIONS``, ``TEXTUAL_THEME``, ``TEXTUAL_FPS``,
``TEXTUAL_COLOR_SYSTEM``, ``ESCDELAY``...) are kept.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

ENV_DEV = "TRIAGE_TUI_DEV"

RISKY_VARIABLES: tuple[str, ...] = (
    "TEXTUAL",
    "TEXTUAL_LOG",
    "TEXTUAL_SCREENSHOT",
    "TEXTUAL_SCREENSHOT_LOCATION",
    "TEXTUAL_SCREENSHOT_FILENAME",
    "TEXTUAL_PRESS",
    "TEXTUAL_DEBUG",
    "TEXTUAL_DEVTOOLS_HOST",
    "TEXTUAL_DEVTOOLS_PORT",
    "TEXTUAL_SHOW_RETURN",
    "TEXTUAL_DRIVER",
    "TEXTUAL_ALLOW_SIGNALS",
)
"""Cleared at start-up unless ``TRIAGE_TUI_DEV=1``."""


def dev_mode(environ: MutableMapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(ENV_DEV, "").strip().lower() in ("1", "true", "yes")


def scrub_environment(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Remove :data:`RISKY_VARIABLES` (unless dev mode); return the names removed.

    Only names are returned (values may be paths or hosts: not for logs).
    """
    env = os.environ if environ is None else environ
    if dev_mode(env):
        return []
    removed = [name for name in RISKY_VARIABLES if name in env]
    for name in removed:
        del env[name]
    return removed
