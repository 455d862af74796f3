"""Search parameters per resource type and the extraction of their index values.

Each parameter is (kind, paths[, target types]). Paths are dotted FHIR paths; a step that
meets a list applies to every item. Index rows are produced once per write and stored in the
``idx_token`` / ``idx_ref`` / ``idx_date`` tables (see storage.py), so searches never parse JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from triage_tui.server import fhirtime

RESOURCE_TYPES = (
    "Patient", "Practitioner", "PractitionerRole", "Communication", "Task",
    "MedicationRequest", "Appointment", "Observation", "AuditEvent",
)

_REF_RE = re.compile(r"^(?:https?://\S+/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$")


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str  # token | reference | date | string
    paths: tuple[str, ...]
    targets: tuple[str, ...] = ()  # reference: allowed target types (empty = any)


def _p(name: str, kind: str, *paths: str, targets: tuple[str, ...] = ()) -> Param:
    return Param(name, kind, tuple(paths), targets)


_PATIENT_ONLY = ("Patient",)

PARAMS: dict[str, dict[str, Param]] = {
    "Patient": {p.name: p for p in [
        _p("identifier", "token", "identifier"),
        _p("name", "string", "name.given", "name.family", "name.text"),
        _p("family", "string", "name.family"),
        _p("given", "string", "name.given"),
        _p("birthdate", "date", "birthDate"),
        _p("gender", "token", "gender"),
        _p("active", "token", "active"),
        _p("language", "token", "communication.language"),
        _p("general-practitioner", "reference", "generalPractitioner"),
    ]},
    "Practitioner": {p.name: p for p in [
        _p("identifier", "token", "identifier"),
        _p("name", "string", "name.given", "name.family", "name.text"),
        _p("family", "string", "name.family"),
        _p("given", "string", "name.given"),
        _p("active", "token", "active"),
    ]},
    "PractitionerRole": {p.name: p for p in [
        _p("identifier", "token", "identifier"),
        _p("practitioner", "reference", "practitioner"),
        _p("role", "token", "code"),
        _p("specialty", "token", "specialty"),
        _p("active", "token", "active"),
    ]},
    "Communication": {p.name: p for p in [
        _p("identifier", "token", "identifier"),
        _p("subject", "reference", "subject"),
        _p("patient", "reference", "subject", targets=_PATIENT_ONLY),
        _p("status", "token", "status"),
        _p("category", "token", "category"),
        _p("part-of", "reference", "partOf"),
        _p("based-on", "reference", "basedOn"),
        _p("sender", "reference", "sender"),
        _p("recipient", "reference", "recipient"),
        _p("encounter", "reference", "encounter"),
        _p("medium", "token", "medium"),
        _p("sent", "date", "sent"),
        _p("received", "date", "received"),
    ]},
    "Task": {p.name: p for p in [
        _p("identifier", "token", "identifier"),
        _p("status", "token", "status"),
        _p("business-status", "token", "businessStatus"),
        _p("intent", "token", "intent"),
        _p("priority", "token", "priority"),
        _p("code", "token", "code"),
        _p("performer", "token", "performerType"),
        _p("focus", "reference", "focus"),
        _p("subject", "reference", "for"),
        _p("patient", "reference", "for", targets=_PATIENT_ONLY),
        _p("owner", "reference", "owner"),
        _p("requester", "reference", "requester"),
        _p("part-of", "reference", "partOf"),
        _p("based-on", "reference", "basedOn"),
        _p("authored-on", "date", "authoredOn"),
        _p("modified", "date", "lastModified"),
        _p("period", "date", "executionPeriod"),
    ]},
    "MedicationRequest": {p.name: p for p in [
        _p("identifier", "token", "identifier"),
        _p("status", "token", "status"),
        _p("intent", "token", "intent"),
        _p("priority", "token", "priority"),
        _p("code", "token", "medicationCodeableConcept"),
        _p("medication", "reference", "medicationReference"),
        _p("subject", "reference", "subject"),
        _p("patient", "reference", "subject", targets=_PATIENT_ONLY),
        _p("requester", "reference", "requester"),
        _p("authoredon", "date", "authoredOn"),
    ]},
    "Appointment": {p.name: p for p in [
        _p("identifier", "token", "identifier"),
        _p("status", "token", "status"),
        _p("actor", "reference", "participant.actor"),
        _p("patient", "reference", "participant.actor", targets=_PATIENT_ONLY),
        _p("practitioner", "reference", "participant.actor", targets=("Practitioner",)),
        _p("service-type", "token", "serviceType"),
        _p("appointment-type", "token", "appointmentType"),
        _p("date", "date", "start"),
    ]},
    "Observation": {p.name: p for p in [
        _p("identifier", "token", "identifier"),
        _p("status", "token", "status"),
        _p("category", "token", "category"),
        _p("code", "token", "code"),
        _p("subject", "reference", "subject"),
        _p("patient", "reference", "subject", targets=_PATIENT_ONLY),
        _p("performer", "reference", "performer"),
        _p("based-on", "reference", "basedOn"),
        _p("date", "date", "effectiveDateTime", "effectivePeriod", "effectiveInstant"),
    ]},
    "AuditEvent": {p.name: p for p in [
        _p("type", "token", "type"),
        _p("subtype", "token", "subtype"),
        _p("action", "token", "action"),
        _p("outcome", "token", "outcome"),
        _p("agent", "reference", "agent.who"),
        _p("entity", "reference", "entity.what"),
        _p("patient", "reference", "entity.what", "agent.who", targets=_PATIENT_ONLY),
        _p("date", "date", "recorded"),
    ]},
}

# The date that ``_sort`` may use besides _lastUpdated, and that is kept in a column.
SORT_DATE: dict[str, tuple[str, str]] = {
    "Communication": ("sent", "sent"),
    "Task": ("authored-on", "authoredOn"),
    "MedicationRequest": ("authoredon", "authoredOn"),
    "Appointment": ("date", "start"),
    "Observation": ("date", "effectiveDateTime"),
    "AuditEvent": ("date", "recorded"),
}

# Reference paths _include may follow: "Type:param" -> param (a reference param of Type).
COMMON_PARAMS = ("_id", "_lastUpdated")
# Result parameters (control the answer, not the match set).
RESULT_PARAMS = (
    "_sort", "_count", "_include", "_revinclude", "_total", "_elements", "_summary",
    "_cursor", "_format", "_pretty",
)


def walk(resource: Any, path: str) -> Iterator[Any]:
    items = [resource]
    for step in path.split("."):
        nxt = []
        for it in items:
            if isinstance(it, dict) and step in it:
                v = it[step]
                if isinstance(v, list):
                    nxt.extend(v)
                else:
                    nxt.append(v)
        items = nxt
    yield from items


def parse_reference(ref: str) -> tuple[str, str] | None:
    """'Patient/1', 'http://x/fhir/Patient/1', 'Patient/1/_history/2' -> ('Patient', '1')."""
    m = _REF_RE.match(ref) if isinstance(ref, str) else None
    return (m.group(1), m.group(2)) if m else None


def _tokens(value: Any) -> Iterator[tuple[str | None, str]]:
    if isinstance(value, bool):
        yield None, "true" if value else "false"
    elif isinstance(value, str):
        yield None, value
    elif isinstance(value, dict):
        if "coding" in value:
            for c in value.get("coding") or []:
                if isinstance(c, dict) and c.get("code") is not None:
                    yield c.get("system"), str(c["code"])
        if "code" in value and not isinstance(value["code"], dict):  # Coding
            yield value.get("system"), str(value["code"])
        if "value" in value and isinstance(value["value"], str):  # Identifier
            yield value.get("system"), value["value"]


def normalize_string(s: str) -> str:
    return " ".join(s.lower().split())


def extract(rtype: str, resource: dict) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Index rows (without the resource key): tokens (param, system, code),
    refs (param, target_type, target_id), dates (param, lo, hi)."""
    tokens: list[tuple] = []
    refs: list[tuple] = []
    dates: list[tuple] = []
    for p in PARAMS.get(rtype, {}).values():
        for path in p.paths:
            for v in walk(resource, path):
                if p.kind == "token":
                    for system, code in _tokens(v):
                        tokens.append((p.name, system, code))
                elif p.kind == "string":
                    if isinstance(v, str):
                        tokens.append((p.name, None, normalize_string(v)))
                elif p.kind == "reference":
                    if isinstance(v, dict):
                        parsed = parse_reference(v.get("reference", ""))
                        if parsed and (not p.targets or parsed[0] in p.targets):
                            refs.append((p.name, parsed[0], parsed[1]))
                elif p.kind == "date":
                    rng = date_range(v)
                    if rng:
                        dates.append((p.name, rng[0], rng[1]))
    return tokens, refs, dates


def date_range(v: Any) -> tuple[int, int] | None:
    try:
        if isinstance(v, str):
            return fhirtime.parse_range(v)
        if isinstance(v, dict) and ("start" in v or "end" in v):  # Period
            lo = fhirtime.parse_range(v["start"])[0] if v.get("start") else fhirtime.MIN_US
            hi = fhirtime.parse_range(v["end"])[1] if v.get("end") else fhirtime.MAX_US
            return lo, hi
    except (ValueError, TypeError):
        return None
    return None


def sort_date(rtype: str, resource: dict) -> int:
    spec = SORT_DATE.get(rtype)
    if not spec:
        return fhirtime.MIN_US
    v = resource.get(spec[1])
    rng = date_range(v) if v is not None else None
    return rng[0] if rng else fhirtime.MIN_US
