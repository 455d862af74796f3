"""The sync loop: reconcile, push, pull, sleep; offline detection and automatic drain.

The UI gets plain dataclasses through callbacks (it wraps them into Textual messages):

* ``on_status(SyncStatus)`` whenever online/offline, pulling, last sync or outbox counts change;
* ``on_changes(ChangeSet)`` after a pull or push changed cache rows;
* ``on_conflict(Conflict)`` when a Task change met someone else's change.

Callbacks run on the engine's event loop thread; keep them cheap (``App.post_message`` is).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from triage_tui.cache.api import CacheAPI, OutboxState
from triage_tui.sync.backoff import full_jitter
from triage_tui.sync.client import FhirClient
from triage_tui.sync.errors import AuthError, FhirHTTPError, OfflineError, SyncError
from triage_tui.sync.outbox import Conflict, Pusher, PushResult
from triage_tui.sync.pull import DEFAULT_TYPES, Puller, PullResult

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncStatus:
    online: bool
    last_sync: datetime | None  # end of the last complete pull + push
    outbox: dict[OutboxState, int]
    pulling: bool = False
    pushing: bool = False
    error: str | None = None  # for the user; never PHI
    progress: str | None = None  # e.g. "Communication 4,000"

    @property
    def pending(self) -> int:
        return self.outbox.get(OutboxState.QUEUED, 0) + self.outbox.get(OutboxState.IN_FLIGHT, 0)

    def summary(self) -> str:
        """One line for a status bar: 'online · synced 10:42 · 2 queued · 1 to review'."""
        parts = ["online" if self.online else "OFFLINE"]
        if self.pulling:
            parts.append(f"syncing {self.progress}" if self.progress else "syncing")
        elif self.last_sync is not None:
            parts.append(f"synced {self.last_sync.astimezone():%H:%M}")
        else:
            parts.append("never synced")
        if self.pending:
            parts.append(f"{self.pending} queued")
        review = self.outbox.get(OutboxState.NEEDS_REVIEW, 0)
        if review:
            parts.append(f"{review} to review")
        failed = self.outbox.get(OutboxState.FAILED, 0)
        if failed:
            parts.append(f"{failed} failed")
        if self.error:
            parts.append(self.error)
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class ChangeSet:
    thread_ids: frozenset[str]
    patient_ids: frozenset[str] = frozenset()
    resource_types: frozenset[str] = frozenset()


@dataclass(slots=True)
class SyncSummary:
    ok: bool
    pulled: int = 0  # cache rows changed by the pull
    fetched: int = 0  # resources received
    deleted: int = 0
    skipped: int = 0  # malformed resources skipped
    pushed: int = 0  # outbox items acked in this run
    needs_review: int = 0
    failed: int = 0
    conflicts: int = 0
    requests: int = 0
    outbox: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    @property
    def outbox_pending(self) -> int:
        return self.outbox.get("queued", 0) + self.outbox.get("in_flight", 0)

    def as_dict(self, threads: int | None = None) -> dict[str, Any]:
        d = {
            "ok": self.ok, "threads": threads, "pulled": self.pulled, "fetched": self.fetched,
            "deleted": self.deleted, "skipped": self.skipped, "pushed": self.pushed,
            "needs_review": self.needs_review, "failed": self.failed,
            "conflicts": self.conflicts, "outbox_pending": self.outbox_pending,
            "outbox": self.outbox, "requests": self.requests, "seconds": round(self.seconds, 3),
            "error": self.error,
        }
        return d


class SyncEngine:
    def __init__(
        self, client: FhirClient, store: CacheAPI, user_ref: str | None = None, *,
        interval: float = 10.0, offline_cap: float = 30.0,
        on_status: Callable[[SyncStatus], None] | None = None,
        on_changes: Callable[[ChangeSet], None] | None = None,
        on_conflict: Callable[[Conflict], None] | None = None,
        types: tuple[str, ...] = DEFAULT_TYPES, page_size: int = 1000,
        deletes_every: int = 6, pusher: Pusher | None = None, puller: Puller | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.user_ref = user_ref
        self.interval = interval
        self.offline_cap = offline_cap
        self.on_status = on_status
        self.on_changes = on_changes
        self.deletes_every = deletes_every
        self.rng = rng or random.Random()
        self.puller = puller or Puller(client, store, page_size=page_size, types=types,
                                       on_progress=self._progress)
        self.pusher = pusher or Pusher(client, store, on_conflict=on_conflict)
        self._online = True
        self._last_sync: datetime | None = None
        self._pulling = False
        self._pushing = False
        self._error: str | None = None
        self._progress_text: str | None = None
        self._reconciled = False
        self._cycles = 0
        self._kick = asyncio.Event()
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()
        last = store.get_meta("sync.last_sync")
        if last:
            with contextlib.suppress(ValueError):
                self._last_sync = datetime.fromisoformat(last)
        client.on_transport = self._transport

    # --- status ---------------------------------------------------------------------------------

    @property
    def online(self) -> bool:
        return self._online

    def status(self) -> SyncStatus:
        counts = self.store.outbox_counts()
        return SyncStatus(online=self._online, last_sync=self._last_sync,
                          outbox={OutboxState(k): v for k, v in counts.items()},
                          pulling=self._pulling, pushing=self._pushing, error=self._error,
                          progress=self._progress_text)

    def _emit(self) -> None:
        if self.on_status is not None:
            try:
                self.on_status(self.status())
            except Exception:  # a UI callback must never kill the sync loop
                log.exception("on_status callback failed")

    def _changes(self, threads: set[str], patients: set[str], types: set[str]) -> None:
        if self.on_changes is not None and (threads or patients):
            try:
                self.on_changes(ChangeSet(frozenset(threads), frozenset(patients),
                                          frozenset(types)))
            except Exception:
                log.exception("on_changes callback failed")

    def _transport(self, ok: bool) -> None:
        if ok != self._online:
            self._online = ok
            if ok:
                self._error = None
            self._emit()

    def _progress(self, rtype: str, n: int) -> None:
        self._progress_text = f"{rtype} {n:,}"
        self._emit()

    # --- control --------------------------------------------------------------------------------

    def kick(self) -> None:
        """Sync soon (call after enqueueing: the outbox drains without waiting for the timer)."""
        self._kick.set()

    async def stop(self) -> None:
        self._stop.set()
        self._kick.set()

    async def run(self) -> None:
        """Loop until :meth:`stop`: reconcile in-flight items first, then push/pull forever."""
        offline_attempt = 0
        self._emit()
        while not self._stop.is_set():
            summary = await self.sync_once()
            if summary.ok:
                offline_attempt = 0
                delay = self.interval
            elif not self._online:
                delay = min(self.offline_cap, 1.0 + full_jitter(offline_attempt, base=1.0,
                                                                cap=self.offline_cap, rng=self.rng))
                offline_attempt += 1
            else:
                delay = self.interval
            self._kick.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), timeout=delay)

    async def sync_once(self, *, pull: bool = True, push: bool = True) -> SyncSummary:
        """Reconcile (first time), push, pull, push again if the pull took long. Never raises for
        network or server trouble: the summary says what happened."""
        async with self._lock:
            return await self._sync_once(pull=pull, push=push)

    async def _sync_once(self, *, pull: bool, push: bool) -> SyncSummary:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        before = self.client.requests
        summary = SyncSummary(ok=True)
        threads: set[str] = set()
        patients: set[str] = set()
        types: set[str] = set()
        try:
            if push:
                if not self._reconciled:
                    r = await self.pusher.reconcile()
                    self._reconciled = True
                    self._add_push(summary, r, threads)
                await self._push(summary, threads)
            if pull:
                self._pulling = True
                self._emit()
                res = await self.puller.pull()
                if self.deletes_every and self._cycles % self.deletes_every == 0 \
                        and self._cycles > 0:
                    res.merge(await self.puller.sweep_deletes())
                self._add_pull(summary, res, threads, patients, types)
                self._pulling = False
                self._progress_text = None
                if push and self.store.outbox_counts().get(OutboxState.QUEUED, 0):
                    await self._push(summary, threads)
            self._cycles += 1
            self._last_sync = datetime.now(UTC)
            self.store.set_meta("sync.last_sync", self._last_sync.isoformat())
            self._error = None
        except OfflineError:
            summary.ok = False
            summary.error = f"server unreachable ({self.client.base_url})"
            self._online = False
            self._error = None
        except AuthError as exc:
            summary.ok = False
            summary.error = f"the server refused the token (HTTP {exc.status}): {exc.text}"
            self._error = "sign-in refused"
        except FhirHTTPError as exc:
            summary.ok = False
            summary.error = f"server error: {exc}"
            self._error = f"server error {exc.status}"
        except SyncError as exc:
            summary.ok = False
            summary.error = str(exc)
            self._error = str(exc)
        finally:
            self._pulling = False
            self._pushing = False
            self._progress_text = None
        summary.requests = self.client.requests - before
        summary.outbox = {str(k): v for k, v in self.store.outbox_counts().items()}
        summary.seconds = loop.time() - t0
        self._changes(threads, patients, types)
        self._emit()
        return summary

    async def _push(self, summary: SyncSummary, threads: set[str]) -> None:
        self._pushing = True
        self._emit()
        try:
            r = await self.pusher.push()
        finally:
            self._pushing = False
        self._add_push(summary, r, threads)
        if r.auth_error:
            raise AuthError(401, r.auth_error)

    @staticmethod
    def _add_push(summary: SyncSummary, r: PushResult, threads: set[str]) -> None:
        summary.pushed += r.acked
        summary.needs_review += r.needs_review
        summary.failed += r.failed
        summary.conflicts += len(r.conflicts)
        threads |= r.thread_ids

    @staticmethod
    def _add_pull(summary: SyncSummary, r: PullResult, threads: set[str], patients: set[str],
                  types: set[str]) -> None:
        summary.pulled += r.changed
        summary.fetched += r.fetched
        summary.deleted += r.deleted
        summary.skipped += r.skipped
        threads |= r.thread_ids
        patients |= r.patient_ids
        types |= set(r.per_type)
