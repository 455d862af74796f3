"""SQLite storage of the reference FHIR server (stdlib sqlite3, WAL).

Tables:
  res        one row per resource (current version): type, id, version, lu (meta.lastUpdated,
             µs), sd (the type's sort date, µs), deleted flag, body (JSON text with meta).
  hist       every version (body NULL for a deletion); indexed by lu for type-level _history.
  idx_token  token and string search values; idx_ref references; idx_date date ranges.
  kv         schema version and the write clock.

Every write gets a ``meta.lastUpdated`` strictly greater (by >= 1 ms) than any earlier write,
assigned and committed under one lock, so a client that syncs with ``_lastUpdated=gt<last seen>``
never misses a write. All methods are thread-safe (one connection, one re-entrant lock).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage_tui.server import fhirtime, search as searchmod
from triage_tui.server.errors import (
    FhirError, bad_request, gone, not_found, precondition_failed, unprocessable,
)
from triage_tui.server.searchparams import (
    PARAMS, RESOURCE_TYPES, extract, parse_reference, sort_date,
)
from triage_tui.server.validation import references, validate

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS res (
    rid INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    lu INTEGER NOT NULL,
    sd INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS res_type_id ON res(type, id);
CREATE INDEX IF NOT EXISTS res_type_lu ON res(type, lu);
CREATE INDEX IF NOT EXISTS res_type_sd ON res(type, sd);
CREATE TABLE IF NOT EXISTS hist (
    rid INTEGER NOT NULL,
    version INTEGER NOT NULL,
    lu INTEGER NOT NULL,
    method TEXT NOT NULL,
    body TEXT,
    PRIMARY KEY (rid, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS hist_lu ON hist(lu);
CREATE TABLE IF NOT EXISTS idx_token (res INTEGER NOT NULL, param TEXT NOT NULL, system TEXT, code TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_token_q ON idx_token(param, code, res);
DROP INDEX IF EXISTS idx_token_r;
CREATE INDEX IF NOT EXISTS idx_token_rp ON idx_token(res, param);
CREATE TABLE IF NOT EXISTS idx_ref (res INTEGER NOT NULL, param TEXT NOT NULL, ttype TEXT NOT NULL, tid TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_ref_q ON idx_ref(param, tid, ttype, res);
DROP INDEX IF EXISTS idx_ref_r;
CREATE INDEX IF NOT EXISTS idx_ref_rp ON idx_ref(res, param);
CREATE TABLE IF NOT EXISTS idx_date (res INTEGER NOT NULL, param TEXT NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS idx_date_q ON idx_date(param, lo);
DROP INDEX IF EXISTS idx_date_r;
CREATE INDEX IF NOT EXISTS idx_date_rp ON idx_date(res, param);
"""

_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class Stored:
    """One version of a resource as stored."""

    rtype: str
    id: str
    version: int
    lu: int  # meta.lastUpdated, µs since epoch
    body: str | None  # JSON text (None for a deletion in history)
    deleted: bool = False
    method: str = "PUT"

    @property
    def version_id(self) -> str:
        return str(self.version)

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    @property
    def last_updated(self) -> str:
        return fhirtime.format_instant(self.lu)

    def resource(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}


@dataclass
class SearchPage:
    matches: list[str]  # JSON bodies
    match_keys: list[tuple[str, str]]  # (type, id) of each match
    includes: list[tuple[str, str, str]]  # (type, id, body)
    total: int | None
    next_cursor: str | None


def parse_etag(value: str) -> str:
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    return v.strip('"')


class Storage:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._deferred_refs: list[tuple[str, dict]] = []
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA temp_store=MEMORY")
        self.db.execute("PRAGMA cache_size=-65536")
        with self._lock:
            self.db.executescript(_SCHEMA)
            row = self.db.execute("SELECT v FROM kv WHERE k='schema'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO kv VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise RuntimeError(f"{self.path}: server db schema {row[0]}, expected {SCHEMA_VERSION}")
            last = self.db.execute("SELECT max(lu) FROM hist").fetchone()[0]
            # Planner statistics (the keyset/IN-subquery plans depend on them); cheap when fresh.
            self.db.execute("PRAGMA optimize=0x10002")
        self._last_us = int(last or 0)

    def close(self) -> None:
        with self._lock:
            try:
                self.db.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            self.db.close()

    # ---- clock and transactions ------------------------------------------------------------

    def _tick(self) -> int:
        now = fhirtime.now_us() // 1000 * 1000
        self._last_us = max(now, self._last_us + 1000)
        return self._last_us

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One SQLite transaction (nestable: inner blocks join the outer one).

        Reference-existence checks of writes are deferred to the end of the outermost block,
        so a transaction Bundle may reference resources it creates later in its own order."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            saved_clock = self._last_us
            self.db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            self._deferred_refs = []
            try:
                yield
                pending, self._deferred_refs = self._deferred_refs, []
                for where, resource in pending:
                    self._check_targets(resource, where)
            except BaseException:
                self._depth = 0
                self._deferred_refs = []
                self.db.execute("ROLLBACK")
                self._last_us = max(saved_clock, self._last_us)
                raise
            self._depth = 0
            self.db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: several reads see one consistent state."""
        with self._lock:
            if self._depth:
                yield
                return
            self.db.execute("BEGIN")
            try:
                yield
            finally:
                self.db.execute("COMMIT")

    # ---- reads -----------------------------------------------------------------------------

    def _row(self, rtype: str, rid: str) -> tuple | None:
        return self.db.execute(
            "SELECT rid, version, lu, deleted, body FROM res WHERE type=? AND id=?", (rtype, rid)
        ).fetchone()

    def read(self, rtype: str, rid: str) -> Stored:
        with self._lock:
            row = self._row(rtype, rid)
        if row is None:
            raise not_found(f"Resource {rtype}/{rid} is not known")
        if row[3]:
            raise gone(f"Resource {rtype}/{rid} was deleted (version {row[1]})")
        return Stored(rtype, rid, row[1], row[2], row[4])

    def vread(self, rtype: str, rid: str, vid: str) -> Stored:
        with self._lock:
            row = self._row(rtype, rid)
            if row is None:
                raise not_found(f"Resource {rtype}/{rid} is not known")
            try:
                v = int(vid)
            except ValueError:
                raise not_found(f"Version {vid} of {rtype}/{rid} is not known") from None
            h = self.db.execute("SELECT lu, method, body FROM hist WHERE rid=? AND version=?",
                                (row[0], v)).fetchone()
        if h is None:
            raise not_found(f"Version {vid} of {rtype}/{rid} is not known")
        if h[2] is None:
            raise gone(f"Version {vid} of {rtype}/{rid} is a deletion")
        return Stored(rtype, rid, v, h[0], h[2], method=h[1])

    def history(self, rtype: str, rid: str, *, count: int = 100, since_us: int | None = None
                ) -> list[Stored]:
        """Versions of one resource, newest first."""
        with self._lock:
            row = self._row(rtype, rid)
            if row is None:
                raise not_found(f"Resource {rtype}/{rid} is not known")
            rows = self.db.execute(
                "SELECT version, lu, method, body FROM hist WHERE rid=? AND lu >= ? "
                "ORDER BY version DESC LIMIT ?", (row[0], since_us or fhirtime.MIN_US, count)
            ).fetchall()
        return [Stored(rtype, rid, v, lu, body, deleted=body is None, method=m)
                for v, lu, m, body in rows]

    def type_history(self, rtype: str, *, count: int = 100, since_us: int | None = None,
                     at: tuple[int, int] | None = None, after: tuple[int, int, int] | None = None
                     ) -> tuple[list[Stored], tuple[int, int, int] | None]:
        """Versions of every resource of one type, newest first (``GET [type]/_history``).

        ``since_us``: versions written at or after it. ``at`` = [lo, hi): versions that were
        current at some point in it. Keyset paging: ``after`` is the (lu, rid, version) key of
        the last entry of the previous page; the second value returned is that key for this
        page when more rows follow. Writes between pages are newer than every key already
        handed out, so they never shift later pages (they belong to the next ``_since`` check).
        """
        where = ["r.type = ?"]
        args: list[object] = [rtype]
        if since_us is not None:
            where.append("h.lu >= ?")
            args.append(since_us)
        if at is not None:
            lo, hi = at
            where.append("h.lu < ?")
            args.append(hi)
            # the next version (if any) must not have replaced this one before the period
            where.append("NOT EXISTS (SELECT 1 FROM hist n WHERE n.rid = h.rid "
                         "AND n.version = h.version + 1 AND n.lu <= ?)")
            args.append(lo)
        if after is not None:
            where.append("(h.lu, h.rid, h.version) < (?, ?, ?)")
            args.extend(after)
        sql = ("SELECT h.lu, h.rid, h.version, h.method, h.body, r.id FROM hist h "
               "INDEXED BY hist_lu JOIN res r ON r.rid = h.rid "
               f"WHERE {' AND '.join(where)} "
               "ORDER BY h.lu DESC, h.rid DESC, h.version DESC LIMIT ?")
        with self.snapshot():
            rows = self.db.execute(sql, [*args, count + 1]).fetchall()
        more = len(rows) > count
        rows = rows[:count]
        out = [Stored(rtype, rid, v, lu, body, deleted=body is None, method=m)
               for lu, _key, v, m, body, rid in rows]
        nxt = (rows[-1][0], rows[-1][1], rows[-1][2]) if more and rows else None
        return out, nxt

    def exists(self, rtype: str, rid: str) -> bool:
        with self._lock:
            row = self._row(rtype, rid)
        return bool(row and not row[3])

    def count(self, rtype: str | None = None) -> int:
        with self._lock:
            if rtype:
                return self.db.execute(
                    "SELECT count(*) FROM res WHERE type=? AND deleted=0", (rtype,)).fetchone()[0]
            return self.db.execute("SELECT count(*) FROM res WHERE deleted=0").fetchone()[0]

    # ---- search ----------------------------------------------------------------------------

    def search(self, rtype: str, params: list[tuple[str, str]]) -> tuple[searchmod.Query, SearchPage]:
        q = searchmod.compile_query(rtype, params)
        with self.snapshot():
            return q, self._search(q)

    def search_resources(self, rtype: str, params: dict[str, str] | list[tuple[str, str]] | None = None
                         ) -> list[dict]:
        """Every match of a search, following pages (for in-process callers: simulator, tests)."""
        items = list(params.items()) if isinstance(params, dict) else list(params or [])
        items = [(k, v) for k, v in items if k not in ("_count", "_cursor")]
        out: list[dict] = []
        cursor = None
        while True:
            page_params = items + [("_count", str(searchmod.MAX_COUNT))]
            if cursor:
                page_params.append(("_cursor", cursor))
            _, page = self.search(rtype, page_params)
            out.extend(json.loads(b) for b in page.matches)
            if not page.next_cursor:
                return out
            cursor = page.next_cursor

    def _search(self, q: searchmod.Query) -> SearchPage:
        where = ["r.type = ?", "r.deleted = 0", *q.where]
        args: list[object] = [q.rtype, *q.args]
        total = None
        if q.total or q.summary_count or q.count == 0:
            total = self.db.execute(
                f"SELECT count(*) FROM res r WHERE {' AND '.join(where)}", args).fetchone()[0]
        if q.summary_count or q.count == 0:
            return SearchPage([], [], [], total, None)
        col = q.sort_col
        if q.after is not None:
            op = "<" if q.desc else ">"
            if col == "r.rid":
                where.append(f"r.rid {op} ?")
                args.append(q.after[1])
            else:
                where.append(f"({col}, r.rid) {op} (?, ?)")
                args.extend(q.after)
        direction = "DESC" if q.desc else "ASC"
        order = f"{col} {direction}" + ("" if col == "r.rid" else f", r.rid {direction}")
        sql = (f"SELECT r.rid, r.id, {col}, r.body FROM res r WHERE {' AND '.join(where)} "
               f"ORDER BY {order} LIMIT ?")
        rows = self.db.execute(sql, [*args, q.count + 1]).fetchall()
        next_cursor = None
        if len(rows) > q.count:
            rows = rows[: q.count]
            last = rows[-1]
            next_cursor = searchmod.encode_cursor(last[2], last[0], q.qhash)
        matches = [r[3] for r in rows]
        keys = [(q.rtype, r[1]) for r in rows]
        includes = self._includes(q, [r[0] for r in rows], {(q.rtype, r[1]) for r in rows})
        return SearchPage(matches, keys, includes, total, next_cursor)

    def _includes(self, q: searchmod.Query, rids: list[int], seen: set[tuple[str, str]]
                  ) -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = []
        if not rids or not (q.includes or q.revincludes):
            return out
        marks = ",".join("?" * len(rids))
        targets: list[tuple[str, str]] = []
        for _rtype, param, target_type in q.includes:
            for ttype, tid in self.db.execute(
                f"SELECT ttype, tid FROM idx_ref WHERE param=? AND res IN ({marks})", [param, *rids]
            ):
                if target_type and ttype != target_type:
                    continue
                targets.append((ttype, tid))
        for ttype, tid in targets:
            if (ttype, tid) in seen:
                continue
            seen.add((ttype, tid))
            row = self.db.execute("SELECT body FROM res WHERE type=? AND id=? AND deleted=0",
                                  (ttype, tid)).fetchone()
            if row:
                out.append((ttype, tid, row[0]))
        if q.revincludes:
            match_ids = [self.db.execute("SELECT id FROM res WHERE rid=?", (r,)).fetchone()[0]
                         for r in rids]
            id_marks = ",".join("?" * len(match_ids))
            for src_type, param in q.revincludes:
                for sid, body in self.db.execute(
                    f"SELECT r.id, r.body FROM idx_ref x JOIN res r ON r.rid = x.res "
                    f"WHERE x.param=? AND x.ttype=? AND x.tid IN ({id_marks}) "
                    f"AND r.type=? AND r.deleted=0 ORDER BY r.rid", [param, q.rtype, *match_ids, src_type]
                ):
                    if (src_type, sid) not in seen:
                        seen.add((src_type, sid))
                        out.append((src_type, sid, body))
        return out

    # ---- writes ----------------------------------------------------------------------------

    def _check_targets(self, resource: dict, where: str) -> None:
        for path, ref in references(resource):
            parsed = parse_reference(ref) if not ref.startswith("http") else None
            if not parsed or parsed[0] not in RESOURCE_TYPES:
                continue  # contained, external or a type this server does not hold
            row = self._row(*parsed)
            if row is None:
                raise unprocessable(
                    f"{where}: {path} refers to {parsed[0]}/{parsed[1]}, which is not known",
                    code="not-found", expression=path)
            if row[3]:
                raise unprocessable(
                    f"{where}: {path} refers to {parsed[0]}/{parsed[1]}, which was deleted",
                    code="not-found", expression=path)

    def _write(self, rtype: str, rid: str, resource: dict, row: tuple | None) -> Stored:
        """Store a new version (validated already) inside an atomic() block."""
        lu = self._tick()
        version = (row[1] + 1) if row else 1
        meta = {k: v for k, v in (resource.get("meta") or {}).items()
                if k not in ("versionId", "lastUpdated")}
        meta = {"versionId": str(version), "lastUpdated": fhirtime.format_instant(lu), **meta}
        doc = {"resourceType": rtype, "id": rid, "meta": meta}
        doc.update((k, v) for k, v in resource.items() if k not in ("resourceType", "id", "meta"))
        body = _DUMPS(doc)
        sd = sort_date(rtype, doc)
        if row is None:
            cur = self.db.execute(
                "INSERT INTO res (type, id, version, lu, sd, deleted, body) VALUES (?,?,?,?,?,0,?)",
                (rtype, rid, version, lu, sd, body))
            key = cur.lastrowid
            method = "POST"
        else:
            key = row[0]
            self.db.execute("UPDATE res SET version=?, lu=?, sd=?, deleted=0, body=? WHERE rid=?",
                            (version, lu, sd, body, key))
            self._drop_index(key)
            method = "PUT"
        self.db.execute("INSERT INTO hist VALUES (?,?,?,?,?)", (key, version, lu, method, body))
        self._index(key, rtype, doc)
        self._deferred_refs.append((f"{rtype}/{rid}", doc))
        return Stored(rtype, rid, version, lu, body, method=method)

    def _drop_index(self, key: int) -> None:
        for table in ("idx_token", "idx_ref", "idx_date"):
            self.db.execute(f"DELETE FROM {table} WHERE res=?", (key,))

    def _index(self, key: int, rtype: str, doc: dict) -> None:
        tokens, refs, dates = extract(rtype, doc)
        if tokens:
            self.db.executemany("INSERT INTO idx_token VALUES (?,?,?,?)", [(key, *t) for t in tokens])
        if refs:
            self.db.executemany("INSERT INTO idx_ref VALUES (?,?,?,?)", [(key, *t) for t in refs])
        if dates:
            self.db.executemany("INSERT INTO idx_date VALUES (?,?,?,?)", [(key, *t) for t in dates])

    def create(self, resource: Any, *, if_none_exist: str | None = None,
               rtype: str | None = None, assign_id: str | None = None) -> tuple[int, Stored]:
        """POST: a server-assigned id. Returns (201, stored) or, for a conditional create that
        matches one resource, (200, existing). Atomic with respect to other writes."""
        t = validate(resource, rtype, allow_urn=False)
        with self.atomic():
            if if_none_exist:
                existing = self._conditional_match(t, if_none_exist)
                if existing is not None:
                    return 200, existing
            rid = assign_id or str(uuid.uuid4())
            return 201, self._write(t, rid, resource, None)

    def _conditional_match(self, rtype: str, criteria: str) -> Stored | None:
        from urllib.parse import parse_qsl

        crit = criteria.split("?", 1)[1] if "?" in criteria else criteria
        params = parse_qsl(crit, keep_blank_values=True)
        if not params:
            raise bad_request("If-None-Exist has no search criteria")
        q = searchmod.compile_query(rtype, [*params, ("_count", "2")])
        page = self._search(q)
        if len(page.matches) > 1:
            raise precondition_failed(
                f"If-None-Exist criteria match more than one {rtype} resource")
        if page.matches:
            _, rid = page.match_keys[0]
            row = self._row(rtype, rid)
            return Stored(rtype, rid, row[1], row[2], row[4])
        return None

    def update(self, rtype: str, rid: str, resource: Any, *, if_match: str | None = None
               ) -> tuple[int, Stored]:
        """PUT: update, or update-as-create with the client's id. Returns (200|201, stored).

        An update that changes nothing (besides meta) keeps the current version (like HAPI)."""
        from triage_tui.server.validation import check_id

        check_id(rid)
        t = validate(resource, rtype)
        if "id" not in resource:
            raise bad_request("Resource id is required in the body of an update (PUT)")
        if resource["id"] != rid:
            raise bad_request(f"Resource id in the body does not match the URL ({rtype}/{rid})")
        with self.atomic():
            row = self._row(t, rid)
            if if_match is not None:
                want = parse_etag(if_match)
                if row is None:
                    raise precondition_failed(f"If-Match given but {t}/{rid} does not exist")
                if str(row[1]) != want:
                    raise precondition_failed(
                        f"Version conflict on {t}/{rid}: If-Match {want}, current version {row[1]}")
            if row is not None and not row[3] and _same_content(row[4], resource):
                return 200, Stored(t, rid, row[1], row[2], row[4])
            stored = self._write(t, rid, resource, row)
            return (201 if row is None else 200), stored

    def delete(self, rtype: str, rid: str, *, if_match: str | None = None) -> Stored:
        """Soft delete: later reads answer 410; the deletion is a version in _history."""
        if rtype not in RESOURCE_TYPES:
            raise not_found(f"Unsupported resource type {rtype!r}")
        with self.atomic():
            row = self._row(rtype, rid)
            if row is None:
                raise not_found(f"Resource {rtype}/{rid} is not known")
            if if_match is not None and str(row[1]) != parse_etag(if_match):
                raise precondition_failed(
                    f"Version conflict on {rtype}/{rid}: If-Match {parse_etag(if_match)}, "
                    f"current version {row[1]}")
            if row[3]:
                return Stored(rtype, rid, row[1], row[2], None, deleted=True, method="DELETE")
            lu = self._tick()
            version = row[1] + 1
            self.db.execute("UPDATE res SET version=?, lu=?, deleted=1 WHERE rid=?",
                            (version, lu, row[0]))
            self.db.execute("INSERT INTO hist VALUES (?,?,?,?,NULL)", (row[0], version, lu, "DELETE"))
            self._drop_index(row[0])
            return Stored(rtype, rid, version, lu, None, deleted=True, method="DELETE")

    # ---- bulk ------------------------------------------------------------------------------

    def bulk_load(self, resources: Iterable[dict], *, validate_each: bool = False,
                  batch: int = 5000) -> int:
        """Insert new resources fast (seeding, benchmarks): executemany in one transaction.

        Resources must have ids and must not exist yet. Their lastUpdated values are
        consecutive milliseconds from the current clock. No reference checks."""
        n = 0
        with self.atomic():
            self._deferred_refs = []
            next_rid = (self.db.execute("SELECT max(rid) FROM res").fetchone()[0] or 0) + 1
            res_rows, hist_rows, tok_rows, ref_rows, date_rows = [], [], [], [], []

            def flush() -> None:
                self.db.executemany("INSERT INTO res VALUES (?,?,?,?,?,?,0,?)", res_rows)
                self.db.executemany("INSERT INTO hist VALUES (?,?,?,'POST',?)", hist_rows)
                self.db.executemany("INSERT INTO idx_token VALUES (?,?,?,?)", tok_rows)
                self.db.executemany("INSERT INTO idx_ref VALUES (?,?,?,?)", ref_rows)
                self.db.executemany("INSERT INTO idx_date VALUES (?,?,?,?)", date_rows)
                for lst in (res_rows, hist_rows, tok_rows, ref_rows, date_rows):
                    lst.clear()

            for resource in resources:
                rtype = resource.get("resourceType")
                if validate_each:
                    validate(resource)
                elif rtype not in RESOURCE_TYPES:
                    raise bad_request(f"Unsupported resource type {rtype!r}")
                rid = resource.get("id") or str(uuid.uuid4())
                lu = self._tick()
                meta = {k: v for k, v in (resource.get("meta") or {}).items()
                        if k not in ("versionId", "lastUpdated")}
                doc = {"resourceType": rtype, "id": rid,
                       "meta": {"versionId": "1", "lastUpdated": fhirtime.format_instant(lu), **meta}}
                doc.update((k, v) for k, v in resource.items()
                           if k not in ("resourceType", "id", "meta"))
                body = _DUMPS(doc)
                key = next_rid
                next_rid += 1
                res_rows.append((key, rtype, rid, 1, lu, sort_date(rtype, doc), body))
                hist_rows.append((key, 1, lu, body))
                tokens, refs, dates = extract(rtype, doc)
                tok_rows.extend((key, *t) for t in tokens)
                ref_rows.extend((key, *t) for t in refs)
                date_rows.extend((key, *t) for t in dates)
                n += 1
                if len(res_rows) >= batch:
                    flush()
            flush()
        with self._lock:
            self.db.execute("ANALYZE")
        return n

    def is_empty(self) -> bool:
        with self._lock:
            return self.db.execute("SELECT 1 FROM res LIMIT 1").fetchone() is None


def _same_content(current_body: str, new: dict) -> bool:
    """True when ``new`` equals the stored body, ignoring meta.versionId/lastUpdated."""

    def norm(d: dict) -> dict:
        out = {k: v for k, v in d.items() if k != "meta"}
        meta = _meta_rest(d.get("meta") or {})
        if meta:
            out["meta"] = meta
        return out

    return norm(json.loads(current_body)) == norm(new)


def _meta_rest(meta: Any) -> Any:
    if not isinstance(meta, dict):
        return meta
    return {k: v for k, v in meta.items() if k not in ("versionId", "lastUpdated")}


__all__ = ["FhirError", "PARAMS", "SearchPage", "Storage", "Stored", "parse_etag"]
