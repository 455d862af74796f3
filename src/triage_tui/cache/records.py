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


def _encoder(tp: Any) -> Callable[[Any], Any] | None:
    """How a field's value is stored; None: as it is (str, int, float)."""
    base = _base_type(tp)
    if base is datetime or base is date:
        return lambda v: None if v is None else v.isoformat()
    if isinstance(base, type) and issubclass(base, Enum):
        return lambda v: None if v is None else v.value
    if base is bool:
        return lambda v: None if v is None else int(v)
    return None


def _same(v: Any) -> Any:
    return v


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
        enc = {n: _encoder(hints[n]) for n in names}
        object.__setattr__(self, "_enc", {n: f or _same for n, f in enc.items()})
        object.__setattr__(self, "_dec", {n: _decoder(hints[n]) for n in names})
        # plain_values: one attrgetter call, then only the columns that need converting
        get = operator.attrgetter(*self.plain)
        object.__setattr__(self, "_get_plain", get if len(self.plain) > 1 else
                           (lambda rec: (get(rec),)))
        object.__setattr__(self, "_conv_plain", tuple(
            (i, enc[n]) for i, n in enumerate(self.plain) if enc[n] is not None))

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.plain, *self.extra, "phi")

    def plain_values(self, rec: Any) -> list[Any]:
        vals = list(self._get_plain(rec))  # type: ignore[attr-defined]
        for i, f in self._conv_plain:  # type: ignore[attr-defined]
            vals[i] = f(vals[i])
        return vals

    def extra_values(self, rec: Any) -> list[Any]:
        if self.table == "messages":
            return [sort_ts(rec.sent), int(rec.from_patient)]
        return []

    def phi_bytes(self, rec: Any) -> bytes:
        if self.raw_phi:
            return (getattr(rec, self.phi[0]) or "").encode("utf-8")
        enc = self._enc  # type: ignore[attr-defined]
        return json.dumps(
            {n: enc[n](getattr(rec, n)) for n in self.phi}, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

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
