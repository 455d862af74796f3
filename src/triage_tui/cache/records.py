"""How each domain record maps onto a table: plain (indexable) columns and one encrypted
``phi`` column.

Plain columns hold only what indexing needs: resource ids, versions, timestamps, category,
priority, status, pool, owner id. Everything else (names, birth dates, identifiers, phone,
message text, subjects, medication names, results...) goes into ``phi``: either the raw UTF-8
of a single text field (messages, thread subjects: no JSON to parse at search time) or a
compact JSON object of the PHI fields.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any

import orjson

from triage_tui.domain.models import (
    Appointment,
    Medication,
    Message,
    Observation,
    Patient,
    Practitioner,
    Task,
    Thread,
)


def _base_type(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return tp


def _encoding(tp: Any) -> str:
    """How a field's value is stored: the expression applied to a non-None value ``v``."""
    base = _base_type(tp)
    if base is datetime or base is date:
        return "v.isoformat()"
    if isinstance(base, type) and issubclass(base, Enum):
        return "v._value_"  # what the .value property returns, without the descriptor call
    if base is bool:
        return "int(v)"
    return "v"  # str, int, float: as it is


_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "v": lambda v: v,
    "v.isoformat()": lambda v: None if v is None else v.isoformat(),
    "v._value_": lambda v: None if v is None else v._value_,
    "int(v)": lambda v: None if v is None else int(v),
}


def _encoder(tp: Any) -> Callable[[Any], Any]:
    return _ENCODERS[_encoding(tp)]


def _field_expr(name: str, tp: Any) -> str:
    """The stored value of field ``name`` of record ``r``, as a Python expression (generated
    code: see ``TableSpec._row_function``)."""
    expr = _encoding(tp)
    return f"r.{name}" if expr == "v" else f"(None if (v := r.{name}) is None else {expr})"


_EXTRA_EXPRS = {"messages": ["_sort_ts(r.sent)", "int(r.from_patient)"]}
"""The computed plain columns (``TableSpec.extra``) of a table, as expressions of ``r``."""


def _decoder(tp: Any) -> Callable[[Any], Any]:
    base = _base_type(tp)
    if base is datetime:
        f = datetime.fromisoformat
        return lambda v: None if v is None else f(v)
    if base is date:
        g = date.fromisoformat
        return lambda v: None if v is None else g(v)
    if isinstance(base, type) and issubclass(base, Enum):
        return lambda v: None if v is None else base(v)
    if base is bool:
        return lambda v: None if v is None else bool(v)
    return lambda v: v


def _json_phi(obj: dict[str, Any]) -> bytes:
    """The stored form of a JSON ``phi``: compact, UTF-8, non-ASCII as it is."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# Value types orjson writes exactly as _json_phi does (or refuses, as an int beyond 64 bits or
# a lone surrogate: then _json_phi writes or raises as always). A float is written alike only
# in fixed notation (repr's exponent form differs: "1e-05" vs "0.00001"): checked per value.
# Any other type (a str or int subclass, a date left unconverted...) takes _json_phi.
_ORJSON_EXACT = frozenset({str, int, bool, type(None)})
_ORJSON_ERROR = orjson.JSONEncodeError


def _phi_json_slow(obj: dict[str, Any]) -> bytes:
    """_json_phi's bytes for an object with a value outside :data:`_ORJSON_EXACT`."""
    dumps, frepr = orjson.dumps, float.__repr__
    for v in obj.values():
        t = type(v)
        if t in _ORJSON_EXACT:
            continue
        if t is not float or dumps(v) != frepr(v).encode():
            return _json_phi(obj)
    try:
        return dumps(obj)
    except _ORJSON_ERROR:
        return _json_phi(obj)


_DATETIME_OR_NONE = frozenset({datetime, type(None)})
_UTC_ONLY = frozenset({timezone.utc})
_tzinfo = operator.attrgetter("tzinfo")


def isoformat_column(values: list[Any]) -> list[str | None]:
    """``[None if v is None else v.isoformat() for v in values]``, in two C calls when every
    value is a ``datetime`` (not a subclass) in ``timezone.utc`` or None: orjson writes those
    exactly as isoformat does (microseconds only when not 0, "+00:00"; isoformat goes through
    printf, 0.6 us a value, and a 10k-thread sync stores ~70k). Anything else (another zone:
    orjson rounds an offset's seconds; a date, a string) is converted one by one, as before."""
    if (_DATETIME_OR_NONE.issuperset(map(type, values))
            and _UTC_ONLY.issuperset(map(_tzinfo, filter(None, values)))):
        return orjson.loads(orjson.dumps(values))
    return [None if v is None else v.isoformat() for v in values]


def sort_ts(value: datetime | None) -> float | None:
    """Epoch seconds for ordering (naive datetimes are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


@dataclasses.dataclass(frozen=True)
class TableSpec:
    table: str
    cls: type
    resource_types: tuple[str, ...]  # FHIR resource types (and model names) that map here
    plain: tuple[str, ...]
    phi: tuple[str, ...]
    raw_phi: bool = False  # phi is the UTF-8 of the single field phi[0]
    extra: tuple[str, ...] = ()  # computed plain columns (see ``extra_values``)

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(self.cls)
        names = [f.name for f in dataclasses.fields(self.cls)]
        assert set(names) == set(self.plain) | set(self.phi), self.table
        object.__setattr__(self, "_enc", {n: _encoder(hints[n]) for n in names})
        object.__setattr__(self, "_dec", {n: _decoder(hints[n]) for n in names})
        object.__setattr__(self, "row", self._row_function(hints))
        object.__setattr__(self, "rows", self._rows_function(hints))
        object.__setattr__(self, "phi_bytes", self._phi_function(hints))

    def _row_function(self, hints: dict[str, Any]) -> Callable[[Any, Any], tuple]:
        """``row(record, phi)``: the values of :attr:`columns`, as one generated expression
        (the store builds ~50k rows per 10k-thread sync; a loop over per-field converters
        costs three times as much)."""
        items = [_field_expr(n, hints[n]) for n in self.plain] + _EXTRA_EXPRS.get(self.table, [])
        assert len(items) == len(self.plain) + len(self.extra), self.table
        src = f"def row(r, p):\n    return ({', '.join(items)}, p)\n"
        ns: dict[str, Any] = {"_sort_ts": sort_ts}
        exec(compile(src, f"<row of {self.table}>", "exec"), ns)  # noqa: S102 - built here
        return ns["row"]

    def _rows_function(self, hints: dict[str, Any]) -> Callable[[list, list], list[tuple]]:
        """``rows(records, phis)``: ``[row(r, p) for r, p in zip(records, phis)]``, with the
        datetime columns converted a column at a time (:func:`isoformat_column`)."""
        items, columns = [], []
        for n in self.plain:
            if _encoding(hints[n]) == "v.isoformat()":
                items.append(f"_c{len(columns)}")
                columns.append(n)
            else:
                items.append(_field_expr(n, hints[n]))
        items += _EXTRA_EXPRS.get(self.table, [])
        assert len(items) == len(self.plain) + len(self.extra), self.table
        lines = [f"    c{i} = _isos([r.{n} for r in recs])" for i, n in enumerate(columns)]
        loop = ", ".join(["r", "p"] + [f"_c{i}" for i in range(len(columns))])
        lists = ", ".join(["recs", "phis"] + [f"c{i}" for i in range(len(columns))])
        src = ("def rows(recs, phis):\n" + "".join(line + "\n" for line in lines)
               + f"    return [({', '.join(items)}, p) for {loop} in zip({lists})]\n")
        ns: dict[str, Any] = {"_sort_ts": sort_ts, "_isos": isoformat_column}
        exec(compile(src, f"<rows of {self.table}>", "exec"), ns)  # noqa: S102 - built here
        return ns["rows"]

    def _phi_function(self, hints: dict[str, Any]) -> Callable[[Any], bytes]:
        """``phi_bytes(record)``: the plaintext of the ``phi`` column, generated like ``row``.

        Raw: the UTF-8 of the single field (empty when None). JSON: the compact object of the
        PHI fields (``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)`` in UTF-8),
        written by orjson when its bytes are those exactly (see :data:`_ORJSON_EXACT`), which
        is about every record: a third of the cost."""
        if self.raw_phi:
            src = f"def phi_bytes(r):\n    return (r.{self.phi[0]} or '').encode('utf-8')\n"
        else:
            items = [f"{n!r}: {_field_expr(n, hints[n])}" for n in self.phi]
            src = (f"def phi_bytes(r):\n"
                   f"    d = {{{', '.join(items)}}}\n"
                   f"    if _exact.issuperset(map(type, d.values())):\n"
                   f"        try:\n"
                   f"            return _dumps(d)\n"
                   f"        except _error:\n"
                   f"            return _json_phi(d)\n"
                   f"    return _slow(d)\n")
        ns: dict[str, Any] = {"_exact": _ORJSON_EXACT, "_dumps": orjson.dumps,
                              "_error": _ORJSON_ERROR, "_json_phi": _json_phi,
                              "_slow": _phi_json_slow}
        exec(compile(src, f"<phi of {self.table}>", "exec"), ns)  # noqa: S102 - built here
        return ns["phi_bytes"]

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.plain, *self.extra, "phi")

    def plain_values(self, rec: Any) -> list[Any]:
        return list(self.row(rec, None)[:len(self.plain)])  # type: ignore[attr-defined]

    def extra_values(self, rec: Any) -> list[Any]:
        return list(self.row(rec, None)[len(self.plain):-1])  # type: ignore[attr-defined]

    def phi_fields(self, data: bytes) -> dict[str, Any]:
        if self.raw_phi:
            return {self.phi[0]: data.decode("utf-8")}
        dec = self._dec  # type: ignore[attr-defined]
        obj = json.loads(data)
        return {n: dec[n](obj.get(n)) for n in self.phi}

    def build(self, plain_row: typing.Sequence[Any], phi: dict[str, Any]) -> Any:
        dec = self._dec  # type: ignore[attr-defined]
        kw = {n: dec[n](v) for n, v in zip(self.plain, plain_row, strict=False)}
        kw.update(phi)
        return self.cls(**kw)


SPECS: dict[type, TableSpec] = {
    s.cls: s
    for s in (
        TableSpec("patients", Patient, ("Patient",), ("id", "version"),
                  ("given", "family", "birth_date", "mrn", "language", "phone")),
        TableSpec("practitioners", Practitioner, ("Practitioner",), ("id", "version", "pool"),
                  ("name",)),
        TableSpec("threads", Thread, ("Communication", "Thread"),
                  ("id", "version", "patient_id", "category", "priority", "status", "created",
                   "updated", "has_header"), ("subject",), raw_phi=True),
        TableSpec("messages", Message, ("Communication", "Message"),
                  ("id", "version", "thread_id", "sent", "sender_ref", "in_response_to", "status"),
                  ("text",), raw_phi=True, extra=("sent_ts", "from_patient")),
        TableSpec("tasks", Task, ("Task",),
                  ("id", "version", "thread_id", "patient_id", "pool", "status",
                   "business_status", "priority", "owner_ref", "due", "last_modified"), ()),
        TableSpec("medications", Medication, ("MedicationRequest", "Medication"),
                  ("id", "version", "patient_id", "status", "authored"),
                  ("name", "dose", "refills_remaining", "pharmacy")),
        TableSpec("appointments", Appointment, ("Appointment",),
                  ("id", "version", "patient_id", "start", "status"),
                  ("description", "practitioner")),
        TableSpec("observations", Observation, ("Observation", "DiagnosticReport"),
                  ("id", "version", "patient_id", "effective"),
                  ("name", "value", "unit", "reference_low", "reference_high", "interpretation")),
    )
}
BY_TABLE: dict[str, TableSpec] = {s.table: s for s in SPECS.values()}


def tables_for(resource_type: str) -> list[TableSpec]:
    return [s for s in SPECS.values() if resource_type in s.resource_types]
