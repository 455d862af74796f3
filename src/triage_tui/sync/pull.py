"""Incremental pull: per resource type, by ``_lastUpdated``, into the cache.

How a pass over one type works (``Puller._pull_type``):

* The cursor (``store.get_cursor(type)``) is the high-water ``meta.lastUpdated`` below which
  everything has been seen. A pass asks ``_lastUpdated=ge(cursor - overlap)``,
  ``_sort=_lastUpdated``, ``_count=page_size``. The overlap (default 0.5 s) catches resources
  whose timestamp was taken before a concurrent commit became visible; raise it for servers with
  long-running transactions. With ``_count=1000`` and the overlap narrower than 1,000 distinct
  millisecond timestamps, a pass with no changes is one request per type.
* Keyset windows, not deep offsets: when a sorted page has a next link, the next request is a
  fresh search from the page's highest ``lastUpdated`` (servers cap offset paging, and offset
  pages skip rows when something is updated mid-pass). The cursor is checkpointed after every
  such page, so an interrupted sync resumes where it stopped. The server's ``next`` link is
  followed when keyset cannot progress (a whole page with the same timestamp) and when the
  server ignores ``_sort`` (then the cursor only moves after the complete pass).
* Records are deduplicated on id + versionId (in the pass, and by ``store.upsert``);
  ``entered-in-error`` resources are removed; deleted ones are found through ``_history``
  (:meth:`Puller.sweep_deletes`), which the engine runs every few cycles.
* Threads and Tasks referencing a patient the cache does not hold trigger one batched
  ``Patient?_id=a,b,c`` search per 100 ids (never one request per thread).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from triage_tui.cache.api import CacheAPI, Record
from triage_tui.domain.fhir import (
    MalformedResource,
    RoleInfo,
    format_instant,
    is_retracted,
    parse_instant,
    parse_practitioner,
    parse_records,
    parse_role,
)
from triage_tui.domain.models import Message, Patient, Practitioner, Task, Thread
from triage_tui.sync.client import FhirClient, next_link
from triage_tui.sync.errors import FhirHTTPError

log = logging.getLogger(__name__)

# Order matters a little: practitioners before roles, patients before the queue.
DEFAULT_TYPES: tuple[str, ...] = (
    "Practitioner", "PractitionerRole", "Patient", "Communication", "Task",
    "MedicationRequest", "Appointment", "Observation",
)
QUEUE_TYPES: tuple[str, ...] = ("Communication", "Task")
PATIENT_BATCH = 100


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
        on_progress: Callable[[str, int], None] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.page_size = page_size
        self.overlap = overlap
        self.types = tuple(types)
        self.on_progress = on_progress  # (resource_type, resources so far in this pass)
        self._flat_threads: dict[str, str] = {}  # message id -> thread id (flat servers)
        self.history_unsupported = False

    # --- public ------------------------------------------------------------------------------

    async def pull(self) -> PullResult:
        """One complete pass over every type. Raises on network errors (cursors stay safe)."""
        before = self.client.requests
        result = PullResult()
        for rtype in self.types:
            result.merge(await self._pull_type(rtype))
        await self._fill_missing_patients(result)
        result.requests = self.client.requests - before
        result.complete = True
        return result

    async def sweep_deletes(self, types: Iterable[str] = QUEUE_TYPES) -> PullResult:
        """Find resources deleted on the server since the cursor, through type ``_history``."""
        before = self.client.requests
        result = PullResult()
        if self.history_unsupported:
            result.complete = True
            return result
        for rtype in types:
            cursor = self.store.get_meta(f"sync.deletes.{rtype}") or self.store.get_cursor(rtype)
            if not cursor:
                continue
            since = parse_instant(cursor)
            params: dict[str, Any] = {"_count": self.page_size}
            if since is not None:
                params["_since"] = format_instant(since - self.overlap)
            try:
                bundle = await self.client.search(f"{rtype}/_history", params)
            except FhirHTTPError as exc:
                if exc.status in (400, 404, 405, 501):  # no type-level history on this server
                    self.history_unsupported = True
                    break
                raise
            gone: list[str] = []
            alive: set[str] = set()
            newest = since
            while True:
                for entry in bundle.get("entry") or ():
                    if not isinstance(entry, dict):
                        continue
                    req = entry.get("request") or {}
                    res = entry.get("resource")
                    if isinstance(res, dict) and res.get("id"):
                        alive.add(str(res["id"]))
                        d, _ = _lu(res)
                        if d and (newest is None or d > newest):
                            newest = d
                    if req.get("method") == "DELETE":
                        rid = (req.get("url") or "").rstrip("/").split("/")[-1]
                        if rid:
                            gone.append(rid)
                nxt = next_link(bundle)
                if not nxt:
                    break
                bundle = await self.client.follow(nxt)
            gone = [g for g in dict.fromkeys(gone) if g not in alive]
            if gone:
                n = await asyncio.to_thread(self.store.delete, rtype, gone)
                result.deleted += n
                result.thread_ids.update(gone if rtype == "Communication" else ())
            if newest is not None:
                self.store.set_meta(f"sync.deletes.{rtype}", format_instant(newest))
        result.requests = self.client.requests - before
        result.complete = True
        return result

    # --- one type ----------------------------------------------------------------------------

    async def _pull_type(self, rtype: str) -> PullResult:
        result = PullResult()
        cursor_raw = self.store.get_cursor(rtype)
        cursor = parse_instant(cursor_raw)
        start = cursor - self.overlap if cursor is not None else None
        seen: set[tuple[str, str]] = set()
        high: datetime | None = cursor
        high_raw: str | None = cursor_raw
        ordered = True  # server honours _sort so far in this pass
        window = start
        bundle = await self.client.search(rtype, self._params(window))
        fetched = 0
        while True:
            resources = [e["resource"] for e in bundle.get("entry") or ()
                         if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                         and e["resource"].get("resourceType") == rtype
                         and (e.get("search") or {}).get("mode", "match") == "match"]
            page_max: datetime | None = None
            page_max_raw: str | None = None
            prev: datetime | None = None
            for res in resources:
                d, raw = _lu(res)
                if d is None:
                    continue
                if prev is not None and d < prev:
                    ordered = False
                prev = d
                if page_max is None or d > page_max:
                    page_max, page_max_raw = d, raw
            if page_max is not None and (high is None or page_max > high):
                high, high_raw = page_max, page_max_raw
            nxt = next_link(bundle)
            # Decide the next request before writing this page, so that both overlap.
            request: Any = None
            keyset = False
            if nxt:
                if ordered and page_max is not None and (window is None or page_max > window):
                    window = page_max
                    keyset = True
                    request = self.client.search(rtype, self._params(window))
                else:
                    request = self.client.follow(nxt)
            fetch = asyncio.ensure_future(request) if request is not None else None
            try:
                page = await self._apply(rtype, resources, seen)
            except BaseException:
                if fetch is not None:
                    fetch.cancel()
                raise
            result.merge(page)
            fetched += len(resources)
            if self.on_progress is not None:
                self.on_progress(rtype, fetched)
            if keyset and page_max_raw is not None:
                # Everything below page_max has been seen: a safe resume point.
                await asyncio.to_thread(self.store.set_cursor, rtype, page_max_raw)
            if fetch is None:
                break
            bundle = await fetch
        if high_raw is not None and high_raw != cursor_raw:
            await asyncio.to_thread(self.store.set_cursor, rtype, high_raw)
        result.fetched = fetched
        return result

    def _params(self, since: datetime | None) -> dict[str, Any]:
        params: dict[str, Any] = {"_sort": "_lastUpdated", "_count": self.page_size}
        if since is not None:
            params["_lastUpdated"] = "ge" + format_instant(since)
        return params

    async def _apply(self, rtype: str, resources: list[dict[str, Any]],
                     seen: set[tuple[str, str]]) -> PullResult:
        result = PullResult()
        records: list[Record] = []
        retracted: list[str] = []
        roles: list[RoleInfo] = []
        for res in resources:
            rid = res.get("id")
            version = str((res.get("meta") or {}).get("versionId") or (res.get("meta") or {})
                          .get("lastUpdated") or "")
            key = (str(rid), version)
            if key in seen:
                continue
            seen.add(key)
            if is_retracted(res):
                if isinstance(rid, str):
                    retracted.append(rid)
                continue
            try:
                if rtype == "PractitionerRole":
                    roles.append(parse_role(res))
                    continue
                if rtype == "Practitioner":
                    records.append(self._practitioner_with_pool(res))
                    continue
                recs = parse_records(res, self._resolve_thread)
            except MalformedResource as exc:
                result.skipped += 1
                log.info("skipped malformed %s", exc)  # type/id/reason only, no PHI
                continue
            for r in recs:
                if isinstance(r, Message) and not res.get("partOf"):
                    self._flat_threads[r.id] = r.thread_id
                    self.store.set_meta(f"sync.flat.{r.id}", r.thread_id)
            records.extend(recs)
        if roles:
            records.extend(await asyncio.to_thread(self._apply_roles, roles))
        if records:
            result.changed += await asyncio.to_thread(self.store.upsert, records)
        if retracted:
            result.deleted += await asyncio.to_thread(self.store.delete, rtype, retracted)
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

    def _apply_roles(self, roles: list[RoleInfo]) -> list[Record]:
        out: list[Record] = []
        for role in roles:
            if not role.active:
                continue
            self.store.set_meta(f"sync.role.{role.practitioner_id}",
                                f"{role.pool or ''}|{role.version}")
            p = self.store.practitioner(role.practitioner_id)
            if p is not None:
                base = p.version.split("+r", 1)[0]
                out.append(dataclasses.replace(p, pool=role.pool,
                                               version=f"{base}+r{role.version}"))
        return out

    async def _fill_missing_patients(self, result: PullResult) -> None:
        def missing() -> list[str]:
            return sorted(pid for pid in result.patient_ids
                          if pid and self.store.version_of("Patient", pid) is None)

        wanted = await asyncio.to_thread(missing)
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


def _pool(value: str) -> Any:
    from triage_tui.domain.codes import Pool

    try:
        return Pool(value)
    except ValueError:
        return None
