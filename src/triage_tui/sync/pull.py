"""Incremental pull: per resource type, by ``_lastUpdated``, into the cache.

How a pass over one type works (``Puller._pull_type``):

* The cursor (``store.get_cursor(type)``) is the high-water ``meta.lastUpdated`` below which
  everything has been seen. A pass asks ``_lastUpdated=ge(cursor - overlap)``,
  ``_sort=_lastUpdated``, ``_count=page_size``. The overlap (default 0.5 s) catches resources
  whose timestamp was taken before a concurrent commit became visible; raise it for servers with
  long-running transactions. With ``_count=1000`` and the overlap narrower than 1,000 distinct
  millisecond timestamps, a pass with no changes is one request per type.
* The overlap is needed only while the newest resources are recent: once a pass got its last
  page at a server time (``Bundle.meta.lastUpdated``) at least ``overlap`` past the cursor,
  everything stamped up to the cursor was committed when it was read, and that cursor is
  recorded as settled (``sync.settled.<type>``). Passes from a settled cursor ask
  ``ge(cursor)``: a pass with no changes then downloads the few resources stamped at the
  cursor itself, not the whole overlap window again (a bulk import can put thousands in
  0.5 s; on a slow link every few seconds). Servers that do not give that time keep the overlap.
* Keyset windows, not deep offsets: when a sorted page has a next link, the next request is a
  fresh search from the page's highest ``lastUpdated`` (servers cap offset paging, and offset
  pages skip rows when something is updated mid-pass). The cursor is checkpointed with every
  such page (in the page's own transaction), so an interrupted sync resumes where it stopped.
  The server's ``next`` link is followed when keyset cannot progress (a whole page with the
  same timestamp) and when the server ignores ``_sort`` (then the cursor only moves after the
  complete pass).
* Records are deduplicated on id + versionId (in the pass, and by ``store.upsert``);
  ``entered-in-error`` resources are removed; deleted ones are found through type-level
  ``_history`` (:meth:`Puller.sweep_deletes`), which the engine runs every few cycles:
  ``_since`` = the server time of the last check (the first check starts at the first pull),
  a small ``_count``, so a check with nothing new is one request per queue type. Servers
  without type history turn the check off; nothing else depends on it.
* The triage rules run about once per thread per pass, not once per page that touches it:
  pages are stored with ``defer_rules`` (the touched threads are marked pending, durably, in
  the page's transaction) and :class:`_RulesPass` classifies them: in a helper process while
  pages still arrive when the pass is big, else at the end of the pass; also when the pass
  fails. What a crash leaves pending is classified by the next pass.
* The event loop only does the network: a page is decoded, parsed and written on the pass's
  own thread (one at a time, in order) while the next page is being fetched.
* Threads and Tasks referencing a patient the cache does not hold trigger one batched
  ``Patient?_id=a,b,c`` search per 100 ids (never one request per thread).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import itertools
import logging
import operator
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from triage_tui.cache import rules_worker
from triage_tui.cache.api import CacheAPI, Record
from triage_tui.cache.errors import CacheLocked
from triage_tui.domain.fhir import (
    SHAPE_ERRORS,
    MalformedResource,
    RoleInfo,
    format_instant,
    is_retracted,
    parse_instant,
    parse_practitioner,
    parse_records,
    parse_role,
    unexpected_shape,
)
from triage_tui.domain.gcpause import relaxed_gc
from triage_tui.domain.models import Message, Patient, Practitioner, Task, Thread
from triage_tui.sync.client import FhirClient, decode_bundle, next_link
from triage_tui.sync.errors import FhirHTTPError, OfflineError, SyncError

log = logging.getLogger(__name__)

# Order matters a little: practitioners before roles, patients before the queue.
DEFAULT_TYPES: tuple[str, ...] = (
    "Practitioner", "PractitionerRole", "Patient", "Communication", "Task",
    "MedicationRequest", "Appointment", "Observation",
)
QUEUE_TYPES: tuple[str, ...] = ("Communication", "Task")
PATIENT_BATCH = 100
WORKER_PAGE = 500  # a page this full of RULES_HINT_TYPES starts the rules worker (if allowed)
BATCH = 1000  # threads per batch handed to the rules worker
RULES_HINT_TYPES = ("Patient", "Communication")  # pulled before the threads are classified


@dataclass(slots=True)
class PullResult:
    fetched: int = 0  # resources received
    changed: int = 0  # cache rows that changed
    deleted: int = 0
    skipped: int = 0  # malformed resources (skipped, counted)
    requests: int = 0
    thread_ids: set[str] = field(default_factory=set)
    patient_ids: set[str] = field(default_factory=set)
    per_type: dict[str, int] = field(default_factory=dict)  # changed rows per resource type
    complete: bool = False

    def merge(self, other: PullResult) -> None:
        self.fetched += other.fetched
        self.changed += other.changed
        self.deleted += other.deleted
        self.skipped += other.skipped
        self.thread_ids |= other.thread_ids
        self.patient_ids |= other.patient_ids
        for k, v in other.per_type.items():
            self.per_type[k] = self.per_type.get(k, 0) + v


@dataclass(slots=True)
class _Page:
    """A decoded search page: its resources of the type searched, their ``lastUpdated`` span
    (see :func:`_page_span`) and the next link."""

    bundle: dict[str, Any]
    resources: list[dict[str, Any]]
    in_order: bool
    newest: datetime | None
    newest_raw: str | None
    next: str | None
    server_now: datetime | None  # the server's time of the answer (Bundle.meta.lastUpdated)


def _open_page(rtype: str, raw: bytes) -> _Page:
    bundle = decode_bundle(raw)
    resources = [res for e in bundle.get("entry") or ()
                 if isinstance(e, dict) and isinstance(res := e.get("resource"), dict)
                 and res.get("resourceType") == rtype
                 and _mode(e.get("search")) == "match"]
    meta = bundle.get("meta")
    now = parse_instant(meta.get("lastUpdated")) if isinstance(meta, dict) else None
    return _Page(bundle, resources, *_page_span(resources), next_link(bundle), now)


def _mode(search: Any) -> Any:
    """An entry's search mode: "match" when the entry says nothing usable (absent, or not an
    object: a hostile page must not stop the pull)."""
    return search.get("mode", "match") if isinstance(search, dict) else "match"


_NO_META: dict[str, Any] = {}  # read only


def _page_span(resources: list[dict[str, Any]]) -> tuple[bool, datetime | None, str | None]:
    """(in ``lastUpdated`` order, the newest ``lastUpdated``, its string) of a page's resources
    (those without a readable one are left out)."""
    raws = [m.get("lastUpdated") if isinstance(m := res.get("meta"), dict) else None
            for res in resources]
    first = raws[0] if raws else None
    if isinstance(first, str) and len(first) > 19 and first[10] == "T":
        # One fixed-width format and zone (a server writes them all alike): the strings sort
        # as the instants do, and only the newest needs parsing.
        n, z = len(first), (first[-1] if first[-1] == "Z" else first[-6:])
        if _fixed_width(raws, n, z):
            in_order = all(map(operator.le, raws, itertools.islice(raws, 1, None)))
            newest, oldest = (raws[-1], raws[0]) if in_order else (max(raws), min(raws))
            when = parse_instant(newest)
            if when is not None and parse_instant(oldest) is not None:
                return in_order, when, newest
    in_order, page_max, page_max_raw, prev = True, None, None, None
    for res in resources:
        d, raw = _lu(res)
        if d is None:
            continue
        if prev is not None and d < prev:
            in_order = False
        prev = d
        if page_max is None or d > page_max:
            page_max, page_max_raw = d, raw
    return in_order, page_max, page_max_raw


def _fixed_width(raws: list[Any], n: int, zone: str) -> bool:
    """True when every item is a string of length ``n`` (> 19) with a "T" at [10] that ends
    with ``zone``. Checked on the strings joined (each check one C-level pass, not a Python
    step per item): a page has up to 1,000 of them, and a sync ~50k."""
    try:
        joined = "".join(raws)  # TypeError: not all strings
    except TypeError:
        return False
    if set(map(len, raws)) != {n}:
        return False
    m, k = len(raws), len(zone)
    # item i is joined[i*n:(i+1)*n]: its character j is every n-th one of joined from j
    return joined[10::n] == "T" * m and all(
        joined[n - k + j::n] == zone[j] * m for j in range(k))


def _lu(res: dict[str, Any]) -> tuple[datetime | None, str | None]:
    meta = res.get("meta")
    if not isinstance(meta, dict):
        return None, None
    raw = meta.get("lastUpdated")
    return parse_instant(raw), raw if isinstance(raw, str) else None


class Puller:
    def __init__(
        self, client: FhirClient, store: CacheAPI, *, page_size: int = 1000,
        overlap: timedelta = timedelta(seconds=0.5), types: Iterable[str] = DEFAULT_TYPES,
        on_progress: Callable[[str, int], None] | None = None, history_page_size: int = 100,
        rules_worker: bool | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.page_size = page_size
        self.overlap = overlap
        self.types = tuple(types)
        self.on_progress = on_progress  # (resource_type, resources so far in this pass)
        self._flat_threads: dict[str, str] = {}  # message id -> thread id (flat servers)
        self.history_page_size = history_page_size
        self.history_unsupported = False
        # Classify in a helper process: None = when a pass is big (a full page of patients
        # or Communications) and the machine has a second CPU; True/False = always/never.
        self.rules_worker = rules_worker
        self._rules = _RulesPass(store, False)
        self._exec: ThreadPoolExecutor | None = None  # a pass's page thread

    # --- public ------------------------------------------------------------------------------

    async def pull(self) -> PullResult:
        """One complete pass over every type. Raises on network errors (cursors stay safe)."""
        with relaxed_gc():  # pages of parsed JSON: see gcpause.relaxed_gc
            self._exec = ThreadPoolExecutor(1, thread_name_prefix="triage-tui-pull")
            try:
                return await self._pull()
            finally:
                self._exec.shutdown(wait=False)  # a page being written finishes on its own
                self._exec = None

    async def _pull(self) -> PullResult:
        before = self.client.requests
        result = PullResult()
        # rules changed since the last pass: every thread is classified again
        await asyncio.to_thread(self.store.mark_stale_rules)
        self._rules = _RulesPass(self.store, self.rules_worker)
        try:
            for rtype in self.types:
                result.merge(await self._pull_type(rtype))
            await self._fill_missing_patients(result)
        except Exception:
            # Stored pages stay stored: classify their threads now (best effort; they are
            # pending on disk, so a failure here or a crash leaves them to the next pass).
            try:
                await self._rules.finish()
            except Exception:  # noqa: BLE001 - the pull's own error is the one to raise
                log.warning("classifying pulled threads failed", exc_info=True)
            raise
        except BaseException:  # cancelled: the pending marks stay for the next pass
            self._rules.abort()
            raise
        # Each thread this pass (or an interrupted earlier one) stored, classified once.
        await self._rules.finish()
        result.requests = self.client.requests - before
        result.complete = True
        return result

    async def sweep_deletes(self, types: Iterable[str] = QUEUE_TYPES) -> PullResult:
        """Find resources deleted on the server through type ``_history`` and drop them.

        Per type: ``GET [type]/_history?_since=<last check - overlap>&_count=<small>``; with no
        changes since the last check that is one request with no entries. The check time comes
        from the server (``Bundle.meta.lastUpdated``, else the newest entry seen), never from
        this machine's clock. A resource counts as deleted when its newest history entry is a
        DELETE (a later re-create wins). Servers without type history (400/404/405/501, or no
        Bundle) turn the check off for this session; a pull still works there."""
        before = self.client.requests
        result = PullResult()
        if self.history_unsupported:
            result.complete = True
            return result
        for rtype in types:
            key = f"sync.deletes.{rtype}"
            cursor = self.store.get_meta(key) or self.store.get_cursor(rtype)
            if not cursor:
                continue  # nothing of this type cached yet: nothing to delete
            since = parse_instant(cursor)
            params: dict[str, Any] = {"_count": self.history_page_size}
            if since is not None:
                params["_since"] = format_instant(since - self.overlap)
            try:
                bundle = await self.client.search(f"{rtype}/_history", params)
            except FhirHTTPError as exc:
                if exc.status in (400, 404, 405, 501):  # no type-level history on this server
                    self.history_unsupported = True
                    break
                raise
            except OfflineError:
                raise
            except SyncError:  # answered, but not with a Bundle
                self.history_unsupported = True
                break
            mark = _max(since, parse_instant((bundle.get("meta") or {}).get("lastUpdated")))
            latest: dict[str, tuple[datetime | None, bool]] = {}  # id -> (when, deleted)
            while True:
                for entry in bundle.get("entry") or ():
                    parsed = _history_entry(rtype, entry)
                    if parsed is None:
                        continue
                    rid, when, deleted = parsed
                    mark = _max(mark, when)
                    prev = latest.get(rid)
                    # newest first (HAPI, the spec's examples); timestamps decide when present
                    if prev is None or (when is not None and prev[0] is not None
                                        and when > prev[0]):
                        latest[rid] = (when, deleted)
                nxt = next_link(bundle)
                if not nxt:
                    break
                bundle = await self.client.follow(nxt)
            gone = [rid for rid, (_, deleted) in latest.items() if deleted]
            if gone:
                have = await asyncio.to_thread(self.store.stored, rtype, gone)
                held = [g for g in gone if g in have]
                # the threads they belonged to (for the UI's change set), from the cache
                threads = set((await asyncio.to_thread(self.store.threads_of, rtype,
                                                       held)).values())
                n = await asyncio.to_thread(self.store.delete, rtype, held) if held else 0
                if n:
                    result.deleted += n
                    result.per_type[rtype] = result.per_type.get(rtype, 0) + n
                    result.thread_ids |= threads
            if mark is not None and mark != since:
                await asyncio.to_thread(self.store.set_meta, key, format_instant(mark))
        result.requests = self.client.requests - before
        result.complete = True
        return result

    # --- one type ----------------------------------------------------------------------------

    async def _pull_type(self, rtype: str) -> PullResult:
        result = PullResult()
        cursor_raw = self.store.get_cursor(rtype)
        cursor = parse_instant(cursor_raw)
        settled = cursor_raw is not None and self.store.get_meta(
            f"sync.settled.{rtype}") == cursor_raw
        start = cursor if cursor is None or settled else cursor - self.overlap
        server_now: datetime | None = None  # the server's time of the last page
        seen: set[tuple[str, str]] = set()
        high: datetime | None = cursor
        high_raw: str | None = cursor_raw
        ordered = True  # server honours _sort so far in this pass
        window = start
        unmarked = rtype in QUEUE_TYPES and self.store.get_meta(f"sync.deletes.{rtype}") is None
        raw: bytes | None = await self.client.search_page(rtype, self._params(window))
        fetch: asyncio.Future[bytes] | None = None
        try:
            while raw is not None:
                # The CPU work of a page (decode, parse, write) runs on the pass's own thread,
                # one step after another: the event loop (the UI's) only does the network.
                page = await self._cpu(_open_page, rtype, raw)
                raw = None
                if unmarked:
                    self._mark_deletes(rtype, page.bundle, cursor)
                    unmarked = False
                ordered = ordered and page.in_order
                server_now = page.server_now
                newest = page.newest
                if newest is not None and (high is None or newest > high):
                    high, high_raw = newest, page.newest_raw
                # Ask for the next page before this one is parsed and written: both overlap.
                request: Any = None
                keyset = False
                if page.next:
                    if ordered and newest is not None and (window is None or newest > window):
                        window = newest
                        keyset = True
                        request = self.client.search_page(rtype, self._params(window))
                    else:
                        request = self.client.follow_page(page.next)
                fetch = asyncio.ensure_future(request) if request is not None else None
                if rtype in RULES_HINT_TYPES and len(page.resources) >= WORKER_PAGE:
                    self._rules.big_pass()  # a big practice: start the rules worker now
                # everything below the page's newest has been seen: a safe resume point
                checkpoint = page.newest_raw if keyset else None
                self._page_stored(rtype, await self._cpu(
                    self._parse_and_store, rtype, page, seen, checkpoint), result)
                if fetch is not None:
                    raw = await fetch
                    fetch = None
        except BaseException:
            if fetch is not None:
                fetch.cancel()
            raise
        if high_raw is not None and high_raw != cursor_raw:
            await asyncio.to_thread(self.store.set_cursor, rtype, high_raw)
        # the last page was answered well after the newest stamp: nothing up to it can still
        # be committing, so the next pass needs no overlap below it
        if (ordered and high is not None and server_now is not None
                and server_now - high >= self.overlap and not (settled and high_raw == cursor_raw)):
            await asyncio.to_thread(self.store.set_meta, f"sync.settled.{rtype}", high_raw)
        return result

    async def _cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` on the pass's worker thread (pages are processed in order there)."""
        if self._exec is None:
            return await asyncio.to_thread(fn, *args)
        return await asyncio.get_running_loop().run_in_executor(
            self._exec, functools.partial(fn, *args))

    def _mark_deletes(self, rtype: str, bundle: dict[str, Any], cursor: datetime | None) -> None:
        """Where the first deletion check of a type starts: no later than this pull's first
        page (server time) and than the previous high-water mark, so a deletion of anything
        this pull or an earlier one cached is after it."""
        server_now = parse_instant((bundle.get("meta") or {}).get("lastUpdated"))
        candidates = [d for d in (server_now, cursor) if d is not None]
        if not candidates:  # no server time: from the oldest resource of this first page
            candidates = [d for d in (_lu(e.get("resource") or {})[0]
                                      for e in bundle.get("entry") or () if isinstance(e, dict))
                          if d is not None]
        if candidates:
            self.store.set_meta(f"sync.deletes.{rtype}", format_instant(min(candidates)))

    def _params(self, since: datetime | None) -> dict[str, Any]:
        params: dict[str, Any] = {"_sort": "_lastUpdated", "_count": self.page_size}
        if since is not None:
            params["_lastUpdated"] = "ge" + format_instant(since)
        return params

    def _page_stored(self, rtype: str, page: PullResult, result: PullResult) -> None:
        """Account for a page once it is written."""
        result.merge(page)
        if rtype == "Communication":
            self._rules.stored(page.thread_ids)
        if self.on_progress is not None:
            self.on_progress(rtype, result.fetched)

    async def _apply(self, rtype: str, resources: list[dict[str, Any]],
                     seen: set[tuple[str, str]]) -> PullResult:
        """Parse and write one page of resources (already decoded)."""
        return await asyncio.to_thread(self._parse_and_store, rtype,
                                       _Page({}, resources, True, None, None, None, None), seen,
                                       None)

    def _parse_and_store(self, rtype: str, page: _Page, seen: set[tuple[str, str]],
                         checkpoint: str | None) -> PullResult:
        """Parse a page and write it (then the type's cursor, ``checkpoint``, in the same
        transaction when it can be); blocking. The page's JSON is released here too."""
        result = PullResult(fetched=len(page.resources))
        meta: dict[str, str] = {}  # what the pull remembers of the page: written with it
        records, retracted, roles = self._parse_page(rtype, page.resources, seen, result, meta)
        page.bundle = page.resources = None  # type: ignore[assignment]  # freed off the loop
        if roles:
            records.extend(self._apply_roles(roles, meta))
        # the checkpoint goes with the page's rows (one commit), or after the retractions
        cursor = (rtype, checkpoint) if checkpoint is not None and not retracted else None
        if records or cursor is not None or meta:
            result.changed += self.store.upsert(records, defer_rules=True, cursor=cursor,
                                                meta=meta)
        if retracted:
            result.deleted += self.store.delete(rtype, retracted)
            if checkpoint is not None:
                self.store.set_cursor(rtype, checkpoint)
        for r in records:
            if isinstance(r, Thread):
                result.thread_ids.add(r.id)
                result.patient_ids.add(r.patient_id)
            elif isinstance(r, Message | Task):
                result.thread_ids.add(r.thread_id)
                if isinstance(r, Task) and r.patient_id:
                    result.patient_ids.add(r.patient_id)
            elif isinstance(r, Patient):
                result.patient_ids.add(r.id)
            elif hasattr(r, "patient_id"):
                result.patient_ids.add(r.patient_id)  # type: ignore[union-attr]
        if rtype == "Communication":
            result.thread_ids.update(retracted)
        if records or retracted:
            result.per_type[rtype] = result.changed + result.deleted
        return result

    def _parse_page(self, rtype: str, resources: list[dict[str, Any]],
                    seen: set[tuple[str, str]], result: PullResult, meta: dict[str, str]
                    ) -> tuple[list[Record], list[str], list[RoleInfo]]:
        """Records, retracted ids and practitioner roles of a page (new id + versions only).
        The thread of each flat message (no thread header: chained by ``inResponseTo``) goes
        in ``meta``, to be stored with the page (a later reply to it finds its thread)."""
        records: list[Record] = []
        retracted: list[str] = []
        roles: list[RoleInfo] = []
        extend, seen_add, resolve = records.extend, seen.add, self._resolve_thread
        practitioners = rtype == "PractitionerRole" or rtype == "Practitioner"
        for res in resources:
            rid = res.get("id")
            meta = res.get("meta")
            if meta.__class__ is not dict:
                meta = _NO_META  # absent, or not an object: malformed, reported below
            key = (str(rid), str(meta.get("versionId") or meta.get("lastUpdated") or ""))
            n = len(seen)
            seen_add(key)
            if len(seen) == n:  # seen in this pass
                continue
            if is_retracted(res):
                if isinstance(rid, str):
                    retracted.append(rid)
                continue
            try:
                if practitioners:
                    if rtype == "PractitionerRole":
                        roles.append(parse_role(res))
                    else:
                        records.append(self._practitioner_with_pool(res))
                    continue
                recs = parse_records(res, resolve)
            except MalformedResource as exc:
                result.skipped += 1
                log.info("skipped malformed %s", exc)  # type/id/reason only, no PHI
                continue
            except SHAPE_ERRORS as exc:  # a role or practitioner of an unexpected shape
                result.skipped += 1
                log.info("skipped malformed %s", unexpected_shape(rtype, res, exc))
                continue
            for r in recs:
                if isinstance(r, Message) and not res.get("partOf"):
                    self._flat_threads[r.id] = meta[f"sync.flat.{r.id}"] = r.thread_id
            extend(recs)
        return records, retracted, roles

    # --- flat threads, practitioners' pools, missing patients --------------------------------

    def _resolve_thread(self, message_id: str) -> str | None:
        tid = self._flat_threads.get(message_id)
        if tid is None:
            tid = self.store.get_meta(f"sync.flat.{message_id}")
            if tid is not None:
                self._flat_threads[message_id] = tid
        return tid

    def _practitioner_with_pool(self, res: dict[str, Any]) -> Practitioner:
        p = parse_practitioner(res)
        role = self.store.get_meta(f"sync.role.{p.id}")
        if role:
            pool, _, rver = role.partition("|")
            p = parse_practitioner(res, pool=_pool(pool))
            p = dataclasses.replace(p, version=f"{p.version}+r{rver}")
        return p

    def _apply_roles(self, roles: list[RoleInfo], meta: dict[str, str]) -> list[Record]:
        """The stored practitioners of active ``roles`` with their pool; each role's pool goes
        in ``meta`` too (a practitioner pulled later gets it: :meth:`_practitioner_with_pool`)."""
        out: list[Record] = []
        for role in roles:
            if not role.active:
                continue
            meta[f"sync.role.{role.practitioner_id}"] = f"{role.pool or ''}|{role.version}"
            p = self.store.practitioner(role.practitioner_id)
            if p is not None:
                base = p.version.split("+r", 1)[0]
                out.append(dataclasses.replace(p, pool=role.pool,
                                               version=f"{base}+r{role.version}"))
        return out

    async def _fill_missing_patients(self, result: PullResult) -> None:
        ids = [pid for pid in result.patient_ids if pid]
        have = await asyncio.to_thread(self.store.stored, "Patient", ids)
        wanted = sorted(pid for pid in ids if pid not in have)
        for i in range(0, len(wanted), PATIENT_BATCH):
            chunk = wanted[i:i + PATIENT_BATCH]
            bundle = await self.client.search(
                "Patient", {"_id": ",".join(chunk), "_count": len(chunk)})
            while True:
                page = await self._apply(
                    "Patient", [e["resource"] for e in bundle.get("entry") or ()
                                if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                                and e["resource"].get("resourceType") == "Patient"], set())
                result.merge(page)
                nxt = next_link(bundle)
                if not nxt:
                    break
                bundle = await self.client.follow(nxt)


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None or a >= b else b


def _id_from_url(url: Any, rtype: str) -> str | None:
    """``Type/id``, ``Type/id/_history/v`` or an absolute URL of either -> id."""
    if not isinstance(url, str):
        return None
    parts = url.split("?", 1)[0].rstrip("/").split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == rtype and parts[i + 1] not in ("", "_history"):
            return parts[i + 1]
    return None


def _history_entry(rtype: str, entry: Any) -> tuple[str, datetime | None, bool] | None:
    """(id, when, deleted) of one history Bundle entry; None when unusable."""
    if not isinstance(entry, dict):
        return None
    req = entry.get("request") if isinstance(entry.get("request"), dict) else {}
    resp = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    res = entry.get("resource") if isinstance(entry.get("resource"), dict) else None
    if res is not None and res.get("resourceType") != rtype:
        return None
    method = str(req.get("method") or "").upper()
    status = str(resp.get("status") or "")
    deleted = method == "DELETE" or (res is None and status.startswith("410"))
    if res is None and not deleted:
        return None
    rid = res.get("id") if res is not None else None
    if not isinstance(rid, str) or not rid:
        rid = _id_from_url(req.get("url"), rtype) or _id_from_url(entry.get("fullUrl"), rtype)
    if not rid:
        return None
    when = parse_instant(resp.get("lastModified")) or (_lu(res)[0] if res is not None else None)
    return rid, when, deleted


def _pool(value: str) -> Any:
    from triage_tui.domain.codes import Pool

    try:
        return Pool(value)
    except ValueError:
        return None


class _RulesPass:
    """Classifies the threads one pull pass stores (see ``Store.upsert(defer_rules=True)``).

    Small passes: everything at the end, in this process (``store.classify_pending``). Big
    passes (a Patient or Communication page of :data:`WORKER_PAGE` resources or more) start a
    :class:`~triage_tui.cache.rules_worker.RulesWorker` that loads the rules, reads the texts
    from the cache and classifies on another core while pages are still fetched (this process
    hands out thread ids and writes the codes): a thread goes to it once the page after the one
    that last touched it has been stored (its messages are then mostly all there; a later page
    that touches it again makes that result stale and it goes again). At the end what is still
    pending goes to the worker, and anything it could not do (stale, failed) is classified
    here. The worker is stopped at the end of the pass, or when the cache locks.
    """

    def __init__(self, store: CacheAPI, worker: bool | None) -> None:
        self.store = store
        self.allowed = worker is not False and rules_worker.available() and bool(
            getattr(store, "rules_shareable", False)) and hasattr(store, "rules_source")
        self.force = worker is True
        self.worker: rules_worker.RulesWorker | None = None
        self.waiting: set[str] = set()  # touched by the last page: not handed out yet
        self.queue: asyncio.Queue[set[str] | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self._unhook: Callable[[], None] | None = None  # the worker's lock hook

    def big_pass(self) -> None:
        """The pass looks big (a full page of patients or messages): start the worker, if
        allowed, so that it has loaded the rules when the first threads are ready."""
        if self.task is None and self.allowed:
            self._start()

    def stored(self, thread_ids: set[str]) -> None:
        """A page touching ``thread_ids`` was stored (and its rules marked pending)."""
        if self.task is None and self.allowed and self.force:
            self._start()
        ready, self.waiting = self.waiting - thread_ids, set(thread_ids)
        if ready and self.task is not None:
            self.queue.put_nowait(ready)

    def _start(self) -> None:
        try:
            worker = rules_worker.RulesWorker(*self.store.rules_source())  # type: ignore[attr-defined]
            worker.start()
        except (rules_worker.RulesWorkerError, CacheLocked) as exc:
            log.info("%s; classifying in this process", exc or "cache locked")
            self.allowed = False
            return
        self.worker = worker
        # the child holds the fields' key: it goes when the cache locks
        self._unhook = self.store.on_lock(worker.kill)  # type: ignore[attr-defined]
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        """Hand ready threads to the worker as soon as they are ready, and write its answers
        as they come back (:meth:`_write`, a task of its own): the worker queues what it is
        handed, so it is never idle while this waits for answers, and the end of the pass
        waits only for the threads of its last pages."""
        answers: asyncio.Queue[tuple[list[tuple[str, int, str, str]], Future] | None] = asyncio.Queue()
        assert self.worker is not None
        writer = asyncio.ensure_future(self._write(self.worker, answers))
        handed: dict[str, int] = {}  # thread id -> the generation of it handed out this pass
        try:
            while self.worker is not None:
                ids = await self.queue.get()
                last = ids is None
                while not self.queue.empty():  # merge what queued up meanwhile
                    more = self.queue.get_nowait()
                    if more is None:
                        last = True
                    else:
                        ids = (ids or set()) | more
                if last:  # the end of the pass: every pending thread, with messages or not
                    await self._hand_out(None, answers, handed, need_messages=False)
                    break
                if ids:
                    await self._hand_out(sorted(ids), answers, handed, need_messages=True)
        except BaseException:  # cancelled (abort) or failed: the pending marks stay on disk
            writer.cancel()
            raise
        answers.put_nowait(None)
        await writer

    async def _hand_out(self, ids: list[str] | None, answers: asyncio.Queue, handed: dict[str, int],
                        *, need_messages: bool) -> None:
        """Read the texts of the pending threads among ``ids`` (all when None) and submit them
        to the worker in batches. A thread already handed out in the same version is not
        handed out again (its answer is on the way); one whose answer turns out stale stays
        pending, and :meth:`finish` classifies it here."""
        for part_ids in ([None] if ids is None else
                         [ids[i:i + BATCH] for i in range(0, len(ids), BATCH)]):
            worker = self.worker
            if worker is None:
                return
            todo = await asyncio.to_thread(self.store.rules_pending_ids,  # type: ignore[attr-defined]
                                           part_ids, need_messages=need_messages, skip=handed)
            handed.update(todo)
            for i in range(0, len(todo), BATCH):
                part = todo[i:i + BATCH]
                answers.put_nowait((part, worker.submit([tid for tid, _ in part])))

    async def _write(self, worker: rules_worker.RulesWorker, answers: asyncio.Queue) -> None:
        """Write the worker's answers in the order they were asked for (``None`` ends).
        Answers already in when one is written go in the same transaction (each one rewrites
        pages all over the threads table: fewer, bigger writes cost less). A failed worker is
        let go: the threads it did not answer (or did not find) stay pending for
        :meth:`finish`."""
        ready: list[tuple[str, int, str, str | None]] = []
        jobs: list = []  # taken from the queue, not written yet (a None ends)
        failed = False
        while True:
            job = jobs.pop(0) if jobs else await answers.get()
            if job is None:
                break
            part, fut = job
            if failed:
                continue  # its answer will not come: the thread stays pending
            try:
                codes = await asyncio.wait_for(asyncio.wrap_future(fut), worker.timeout)
            except (rules_worker.RulesWorkerError, asyncio.TimeoutError) as exc:
                log.info("%s; classifying in this process", exc or "rules worker timed out")
                failed = True
                self.worker = None  # not restarted in this pass: finish() classifies here
                await asyncio.to_thread(worker.kill)
                continue
            ready += [(tid, g, *code) for (tid, g), code in zip(part, codes) if code is not None]
            if not jobs and not answers.empty():
                jobs.append(answers.get_nowait())
            if jobs and jobs[0] is not None and jobs[0][1].done():
                continue  # answered already: written together with this one
            await asyncio.to_thread(self.store.apply_rules, ready)
            ready = []
        if ready:
            await asyncio.to_thread(self.store.apply_rules, ready)

    async def finish(self) -> None:
        """Classify everything still pending (this pass's and an interrupted one's)."""
        try:
            if self.task is not None:
                self.queue.put_nowait(None)  # the rest, including threads without messages
                await self.task
        finally:
            self.close()
        await asyncio.to_thread(self.store.classify_pending)

    def close(self) -> None:
        """Let the worker go (it ends on its own; nothing waits for it here)."""
        worker, self.worker = self.worker, None
        self._forget_hook()
        if worker is not None:
            worker.close(wait=False)

    def abort(self) -> None:
        """The pass was cancelled: stop at once (the pending marks stay on disk)."""
        if self.task is not None:
            self.task.cancel()
        worker, self.worker = self.worker, None
        self._forget_hook()
        if worker is not None:
            worker.kill()

    def _forget_hook(self) -> None:
        unhook, self._unhook = self._unhook, None
        if unhook is not None:
            unhook()
