"""Typed errors of the FHIR client. Messages carry the server's text, never PHI added by us."""

from __future__ import annotations

from typing import Any

from triage_tui.errors import UserError


class SyncError(Exception):
    """Base class of everything the sync layer raises on purpose."""


class OfflineError(SyncError):
    """The server could not be reached (connection refused, DNS, timeout, reset...)."""


class InsecureServerError(UserError):
    """Plain http to a non-loopback host without the explicit opt-in."""


class FhirHTTPError(SyncError):
    """The server answered with an error status; ``text`` is its OperationOutcome text."""

    def __init__(self, status: int, text: str, *, outcome: dict[str, Any] | None = None,
                 retry_after: float | None = None, method: str = "", url: str = "") -> None:
        super().__init__(f"HTTP {status}: {text}" if text else f"HTTP {status}")
        self.status = status
        self.text = text
        self.outcome = outcome
        self.retry_after = retry_after
        self.method = method
        self.url = url

    @property
    def transient(self) -> bool:
        """Worth retrying later (throttled, server error, timeout)."""
        return self.status in (408, 425, 429) or self.status >= 500


class AuthError(FhirHTTPError):
    """401 / 403: the token is missing, expired or lacks a scope."""


class NotFoundError(FhirHTTPError):
    """404 / 410."""


class ConflictError(FhirHTTPError):
    """412 Precondition Failed or 409 Conflict: someone else changed the resource."""


class RateLimitedError(FhirHTTPError):
    """429 Too Many Requests (``retry_after`` seconds from Retry-After or RateLimit)."""


class ServerError(FhirHTTPError):
    """5xx."""


def error_for(status: int, text: str, **kw: Any) -> FhirHTTPError:
    cls: type[FhirHTTPError]
    if status in (401, 403):
        cls = AuthError
    elif status in (404, 410):
        cls = NotFoundError
    elif status in (409, 412):
        cls = ConflictError
    elif status == 429:
        cls = RateLimitedError
    elif status >= 500:
        cls = ServerError
    else:
        cls = FhirHTTPError
    return cls(status, text, **kw)
