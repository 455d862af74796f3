"""Sync with the FHIR server: client, pull, outbox push, the loop (no Textual here)."""

from triage_tui.sync.client import FhirClient, check_server_url
from triage_tui.sync.engine import ChangeSet, SyncEngine, SyncStatus, SyncSummary
from triage_tui.sync.errors import (
    AuthError,
    ConflictError,
    FhirHTTPError,
    NotFoundError,
    OfflineError,
    RateLimitedError,
    ServerError,
    SyncError,
)
from triage_tui.sync.outbox import (
    Conflict,
    Pusher,
    claim,
    close,
    queue_reply,
    queue_task_change,
    release,
    requeue,
    route,
)
from triage_tui.sync.pull import Puller, PullResult

__all__ = [
    "AuthError", "ChangeSet", "Conflict", "ConflictError", "FhirClient", "FhirHTTPError",
    "NotFoundError", "OfflineError", "PullResult", "Puller", "Pusher", "RateLimitedError",
    "ServerError", "SyncEngine", "SyncError", "SyncStatus", "SyncSummary", "check_server_url",
    "claim", "close", "queue_reply", "queue_task_change", "release", "requeue", "route",
]
