"""Subcommands of the ``triage-tui`` CLI: one module each (see :mod:`triage_tui.cli`)."""
