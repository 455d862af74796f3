"""Errors shared by every layer (a leaf module: imports nothing from the project)."""

from __future__ import annotations


class UserError(Exception):
    """An error whose message is meant for the user.

    The CLI prints it without a traceback and exits with ``exit_code``. The message must
    never contain PHI (it may be pasted into a ticket).
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
