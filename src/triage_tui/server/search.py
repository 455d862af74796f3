"""Compile FHIR search parameters into SQL over the storage's index tables.

Paging is keyset-based: the page token encodes the sort key and row id of the last entry
returned, so resources created or updated between page fetches never make another one be
skipped or repeated (an updated resource moves to its new place in the order; in ascending
``_lastUpdated`` order it shows up again on a later page, which is what a sync wants).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

from triage_tui.server import fhirtime
from triage_tui.server.errors import bad_request
from triage_tui.server.searchparams import (
    COMMON_PARAMS, PARAMS, RESOURCE_TYPES, RESULT_PARAMS, SORT_DATE, parse_reference,
    normalize_string,
)

DEFAULT_COUNT = 50
MAX_COUNT = 1000
_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


@dataclass
class Query:
    rtype: str
    where: list[str] = field(default_factory=list)
    args: list[object] = field(default_factory=list)
    sort_col: str = "r.rid"  # r.rid | r.lu | r.sd
    desc: bool = False
    count: int = DEFAULT_COUNT
    after: tuple[int, int] | None = None  # keyset: (sort value, rid) of the last entry seen
    includes: list[tuple[str, str, str | None]] = field(default_factory=list)  # (type, param, target)
    revincludes: list[tuple[str, str]] = field(default_factory=list)  # (source type, param)
    total: bool = False
    elements: list[str] | None = None
    summary_count: bool = False
    qhash: str = ""
    page_params: list[tuple[str, str]] = field(default_factory=list)  # params for next links


def encode_cursor(sort_value: int, rid: int, qhash: str) -> str:
    raw = json.dumps([sort_value, rid, qhash], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str, qhash: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        sv, rid, h = json.loads(raw)
        sv, rid = int(sv), int(rid)
    except Exception:
        raise bad_request("Invalid page token (_cursor)") from None
    if h != qhash:
        raise bad_request("Page token (_cursor) does not belong to this search")
    return sv, rid


def _split(values: str) -> list[str]:
    # FHIR: ',' separates alternatives; '\,' is a literal comma.
    out, cur, esc = [], "", False
    for ch in values:
        if esc:
            cur += ch
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == ",":
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def _prefixed(value: str) -> tuple[str, str]:
    if len(value) > 2 and value[:2] in _PREFIXES and not value[:2].isdigit():
        return value[:2], value[2:]
    return "eq", value


def _date_range(value: str, name: str) -> tuple[int, int]:
    try:
        # a '+' of a zone offset sent unencoded in a URL arrives as a space (HAPI tolerates it too)
        return fhirtime.parse_range(value.replace(" ", "+"))
    except ValueError:
        raise bad_request(f"Invalid date value for search parameter {name!r}") from None


def _point_cond(col: str, prefix: str, lo: int, hi: int, name: str) -> tuple[str, list]:
    """A point-in-time column (meta.lastUpdated) against a search range [lo, hi)."""
    conds = {
        "eq": (f"({col} >= ? AND {col} < ?)", [lo, hi]),
        "ne": (f"({col} < ? OR {col} >= ?)", [lo, hi]),
        "gt": (f"{col} >= ?", [hi]),
        "sa": (f"{col} >= ?", [hi]),
        "ge": (f"{col} >= ?", [lo]),
        "lt": (f"{col} < ?", [lo]),
        "eb": (f"{col} < ?", [lo]),
        "le": (f"{col} < ?", [hi]),
    }
    if prefix not in conds:
        raise bad_request(f"Unsupported prefix {prefix!r} for {name}")
    return conds[prefix]


def _range_cond(prefix: str, lo: int, hi: int, name: str) -> tuple[str, list]:
    """An indexed range [d.lo, d.hi) against a search range [lo, hi) (FHIR date semantics)."""
    eq = "(d.lo >= ? AND d.hi <= ?)"
    conds = {
        "eq": (eq, [lo, hi]),
        "ne": (f"NOT {eq}", [lo, hi]),
        "gt": ("d.hi > ?", [hi]),
        "lt": ("d.lo < ?", [lo]),
        "ge": (f"(d.hi > ? OR {eq})", [hi, lo, hi]),
        "le": (f"(d.lo < ? OR {eq})", [lo, lo, hi]),
        "sa": ("d.lo >= ?", [hi]),
        "eb": ("d.hi <= ?", [lo]),
    }
    if prefix not in conds:
        raise bad_request(f"Unsupported prefix {prefix!r} for {name}")
    return conds[prefix]


def query_hash(rtype: str, params: list[tuple[str, str]]) -> str:
    key = json.dumps([rtype, sorted(p for p in params if p[0] not in ("_cursor", "_count"))])
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def compile_query(rtype: str, params: list[tuple[str, str]]) -> Query:
    if rtype not in RESOURCE_TYPES:
        raise bad_request(f"Unsupported resource type {rtype!r}")
    q = Query(rtype)
    q.page_params = [(k, v) for k, v in params if k != "_cursor"]
    q.qhash = query_hash(rtype, params)
    type_params = PARAMS[rtype]
    cursor = None
    for raw_name, value in params:
        name, _, modifier = raw_name.partition(":")
        if name in RESULT_PARAMS:
            if name == "_cursor":
                cursor = value
            elif name == "_count":
                try:
                    q.count = max(0, min(int(value), MAX_COUNT))
                except ValueError:
                    raise bad_request("_count must be an integer") from None
            elif name == "_sort":
                _sort(q, value)
            elif name == "_total":
                if value not in ("none", "estimate", "accurate"):
                    raise bad_request("_total must be none, estimate or accurate")
                q.total = value in ("accurate", "estimate")
            elif name == "_include":
                if modifier not in ("", "iterate", "recurse"):
                    raise bad_request(f"Unsupported modifier on _include: {modifier!r}")
                q.includes.append(_include(rtype, value))
            elif name == "_revinclude":
                if modifier not in ("", "iterate", "recurse"):
                    raise bad_request(f"Unsupported modifier on _revinclude: {modifier!r}")
                q.revincludes.append(_revinclude(value))
            elif name == "_elements":
                q.elements = [e.strip() for e in value.split(",") if e.strip()]
            elif name == "_summary":
                if value == "count":
                    q.summary_count = True
                elif value != "false":
                    raise bad_request(f"_summary={value} is not supported (use count or false)")
            continue
        if name == "_id":
            if modifier:
                raise bad_request(f"Unsupported modifier :{modifier} on _id")
            ids = _split(value)
            q.where.append(f"r.id IN ({','.join('?' * len(ids))})")
            q.args.extend(ids)
            continue
        if name == "_lastUpdated":
            if modifier:
                raise bad_request(f"Unsupported modifier :{modifier} on _lastUpdated")
            ors, args = [], []
            for v in _split(value):
                prefix, v = _prefixed(v)
                lo, hi = _date_range(v, name)
                sql, a = _point_cond("r.lu", prefix, lo, hi, name)
                ors.append(sql)
                args.extend(a)
            q.where.append("(" + " OR ".join(ors) + ")")
            q.args.extend(args)
            continue
        p = type_params.get(name)
        if p is None:
            known = ", ".join(sorted([*type_params, *COMMON_PARAMS]))
            raise bad_request(
                f"Unknown search parameter {name!r} for resource type {rtype}. "
                f"Valid parameters: {known}", code="not-supported")
        table = {"token": "idx_token", "string": "idx_token", "reference": "idx_ref",
                 "date": "idx_date"}[p.kind]
        if modifier == "missing":
            if value not in ("true", "false"):
                raise bad_request(f"{raw_name} must be true or false")
            neg = "NOT " if value == "true" else ""
            q.where.append(f"{neg}EXISTS (SELECT 1 FROM {table} x INDEXED BY {table}_rp "
                           "WHERE x.res = r.rid AND x.param = ?)")
            q.args.append(name)
            continue
        if p.kind == "token":
            if modifier not in ("", "not"):
                raise bad_request(f"Unsupported modifier :{modifier} on {name}")
            ors, args = [], []
            for v in _split(value):
                if "|" in v:
                    system, code = v.split("|", 1)
                    if not system:
                        ors.append("(x.system IS NULL AND x.code = ?)")
                        args.append(code)
                    elif not code:
                        ors.append("x.system = ?")
                        args.append(system)
                    else:
                        ors.append("(x.system = ? AND x.code = ?)")
                        args.extend([system, code])
                else:
                    ors.append("x.code = ?")
                    args.append(v)
            op = "NOT IN" if modifier == "not" else "IN"
            q.where.append(f"r.rid {op} (SELECT x.res FROM idx_token x WHERE x.param = ? AND ("
                           + " OR ".join(ors) + "))")
            q.args.extend([name, *args])
        elif p.kind == "string":
            if modifier not in ("", "exact", "contains"):
                raise bad_request(f"Unsupported modifier :{modifier} on {name}")
            ors, args = [], []
            for v in _split(value):
                v = normalize_string(v)
                if modifier == "exact":
                    ors.append("x.code = ?")
                    args.append(v)
                elif modifier == "contains":
                    ors.append("instr(x.code, ?) > 0")
                    args.append(v)
                else:
                    ors.append("(x.code >= ? AND x.code < ?)")
                    args.extend([v, v + "\U0010ffff"])
            q.where.append("r.rid IN (SELECT x.res FROM idx_token x WHERE x.param = ? AND ("
                           + " OR ".join(ors) + "))")
            q.args.extend([name, *args])
        elif p.kind == "reference":
            ors, args = [], []
            for v in _split(value):
                if modifier:
                    if modifier not in RESOURCE_TYPES:
                        raise bad_request(f"Unsupported modifier :{modifier} on {name}")
                    ttype, tid = modifier, v
                elif "/" in v:
                    parsed = parse_reference(v)
                    if not parsed:
                        raise bad_request(f"Invalid reference value for {name}: expected Type/id")
                    ttype, tid = parsed
                else:
                    ttype, tid = None, v
                if ttype:
                    ors.append("(x.tid = ? AND x.ttype = ?)")
                    args.extend([tid, ttype])
                else:
                    ors.append("x.tid = ?")
                    args.append(tid)
            q.where.append("r.rid IN (SELECT x.res FROM idx_ref x WHERE x.param = ? AND ("
                           + " OR ".join(ors) + "))")
            q.args.extend([name, *args])
        elif p.kind == "date":
            if modifier:
                raise bad_request(f"Unsupported modifier :{modifier} on {name}")
            ors, args = [], []
            for v in _split(value):
                prefix, v = _prefixed(v)
                lo, hi = _date_range(v, name)
                sql, a = _range_cond(prefix, lo, hi, name)
                ors.append(sql)
                args.extend(a)
            q.where.append("r.rid IN (SELECT d.res FROM idx_date d WHERE d.param = ? AND ("
                           + " OR ".join(ors) + "))")
            q.args.extend([name, *args])
    if cursor is not None:
        q.after = _decode_cursor(cursor, q.qhash)
    return q


def _sort(q: Query, value: str) -> None:
    keys = [k.strip() for k in value.split(",") if k.strip()]
    if len(keys) != 1:
        raise bad_request("Exactly one _sort key is supported")
    key = keys[0]
    desc = key.startswith("-")
    key = key.lstrip("-")
    sort_param = SORT_DATE.get(q.rtype, (None,))[0]
    if key == "_lastUpdated":
        q.sort_col = "r.lu"
    elif key == sort_param:
        q.sort_col = "r.sd"
    elif key == "_id":
        q.sort_col = "r.rid"  # creation order; ids are opaque
    else:
        allowed = ", ".join(k for k in ("_lastUpdated", sort_param) if k)
        raise bad_request(f"Cannot sort {q.rtype} by {key!r} (supported: {allowed})")
    q.desc = desc


def _include(rtype: str, value: str) -> tuple[str, str, str | None]:
    parts = value.split(":")
    if len(parts) not in (2, 3) or parts[0] != rtype:
        raise bad_request(f"Unsupported _include {value!r} (expected {rtype}:param)")
    p = PARAMS[rtype].get(parts[1])
    if p is None or p.kind != "reference":
        raise bad_request(f"_include {value!r}: {parts[1]!r} is not a reference parameter of {rtype}")
    return rtype, parts[1], parts[2] if len(parts) == 3 else None


def _revinclude(value: str) -> tuple[str, str]:
    parts = value.split(":")
    if len(parts) not in (2, 3) or parts[0] not in RESOURCE_TYPES:
        raise bad_request(f"Unsupported _revinclude {value!r} (expected Type:param)")
    p = PARAMS[parts[0]].get(parts[1])
    if p is None or p.kind != "reference":
        raise bad_request(f"_revinclude {value!r}: not a reference parameter of {parts[0]}")
    return parts[0], parts[1]
