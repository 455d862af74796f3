"""Validation of incoming resources: structure, required elements and code bindings of FHIR R4
for the resources the project uses (not full profile validation).

Raises :class:`FhirError` (400 for structure, 422 for content) with a diagnostics message that
names the element at fault. Never includes element *values* that could be PHI, only codes.
"""

from __future__ import annotations

import re
from typing import Any

from triage_tui.server import fhirtime
from triage_tui.server.errors import FhirError, bad_request, unprocessable
from triage_tui.server.searchparams import RESOURCE_TYPES

ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_REL_REF_RE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?$")
_ABS_REF_RE = re.compile(r"^https?://\S+/[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?$")

REQUEST_PRIORITY = {"routine", "urgent", "asap", "stat"}
COMMUNICATION_STATUS = {"preparation", "in-progress", "not-done", "on-hold", "stopped",
                        "completed", "entered-in-error", "unknown"}
TASK_STATUS = {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
               "in-progress", "on-hold", "failed", "completed", "entered-in-error"}
TASK_INTENT = {"unknown", "proposal", "plan", "order", "original-order", "reflex-order",
               "filler-order", "instance-order", "option"}
MEDREQ_STATUS = {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped",
                 "draft", "unknown"}
MEDREQ_INTENT = {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order",
                 "instance-order", "option"}
APPOINTMENT_STATUS = {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled",
                      "noshow", "entered-in-error", "checked-in", "waitlist"}
PARTICIPATION_STATUS = {"accepted", "declined", "tentative", "needs-action"}
OBSERVATION_STATUS = {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                      "entered-in-error", "unknown"}
GENDER = {"male", "female", "other", "unknown"}
AUDIT_ACTION = {"C", "R", "U", "D", "E"}
AUDIT_OUTCOME = {"0", "4", "8", "12"}


def check_id(rid: str) -> None:
    if not isinstance(rid, str) or not ID_RE.match(rid):
        raise bad_request("Invalid resource id (FHIR ids are 1-64 of [A-Za-z0-9-.])")


def _code(res: dict, key: str, allowed: set[str], rtype: str, *, required: bool = False) -> None:
    if key not in res:
        if required:
            raise unprocessable(f"{rtype}.{key} is required", code="required",
                                expression=f"{rtype}.{key}")
        return
    v = res[key]
    if not isinstance(v, str) or v not in allowed:
        shown = v if isinstance(v, str) and len(v) < 40 else type(v).__name__
        raise unprocessable(
            f"{rtype}.{key}: code {shown!r} is not in the required value set "
            f"({', '.join(sorted(allowed))})", code="code-invalid", expression=f"{rtype}.{key}")


def _required(res: dict, keys: tuple[str, ...], rtype: str, label: str) -> None:
    if not any(k in res and res[k] not in (None, [], {}, "") for k in keys):
        raise unprocessable(f"{rtype}.{label} is required", code="required",
                            expression=f"{rtype}.{label}")


def _datetime(res: dict, key: str, rtype: str, *, instant: bool = False) -> None:
    if key in res:
        ok = fhirtime.is_instant(res[key]) if instant else (
            fhirtime.is_datetime(res[key]) or fhirtime.is_date(res[key]))
        if not ok:
            kind = "instant" if instant else "dateTime"
            raise unprocessable(f"{rtype}.{key} is not a valid FHIR {kind}",
                                code="value", expression=f"{rtype}.{key}")


def _check_refs(node: Any, path: str, allow_urn: bool) -> None:
    if isinstance(node, dict):
        ref = node.get("reference")
        if "reference" in node:
            ok = isinstance(ref, str) and (
                _REL_REF_RE.match(ref) or _ABS_REF_RE.match(ref) or ref.startswith("#")
                or (allow_urn and ref.startswith("urn:uuid:")))
            if not ok:
                raise unprocessable(
                    f"{path}.reference must be of the form Type/id", code="value",
                    expression=path)
        for k, v in node.items():
            if k != "reference":
                _check_refs(v, f"{path}.{k}", allow_urn)
    elif isinstance(node, list):
        for item in node:
            _check_refs(item, path, allow_urn)


def references(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every (element path, reference string) in a resource."""
    out: list[tuple[str, str]] = []
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            out.append((path, node["reference"]))
        for k, v in node.items():
            out.extend(references(v, f"{path}.{k}" if path else k))
    elif isinstance(node, list):
        for item in node:
            out.extend(references(item, path))
    return out


def validate(resource: Any, rtype: str | None = None, *, allow_urn: bool = False) -> str:
    """Check a resource; return its resourceType. ``rtype`` = the type the URL names, if any."""
    if not isinstance(resource, dict):
        raise bad_request("Request body must be a JSON object (a FHIR resource)", code="structure")
    t = resource.get("resourceType")
    if not isinstance(t, str) or not t:
        raise bad_request("Missing resourceType", code="structure")
    if rtype is not None and t != rtype:
        raise bad_request(f"resourceType {t!r} does not match the URL ({rtype})", code="structure")
    if t not in RESOURCE_TYPES:
        raise FhirError(404 if rtype else 400, f"Unsupported resource type {t!r}",
                        code="not-supported")
    if "id" in resource:
        check_id(resource["id"])
    if "meta" in resource and not isinstance(resource["meta"], dict):
        raise bad_request(f"{t}.meta must be an object", code="structure")
    _check_refs({k: v for k, v in resource.items() if k != "meta"}, t, allow_urn)
    _TYPE_RULES[t](resource, t)
    return t


def _patient(r: dict, t: str) -> None:
    _code(r, "gender", GENDER, t)
    if "birthDate" in r and not fhirtime.is_date(r["birthDate"]):
        raise unprocessable(f"{t}.birthDate is not a valid FHIR date", code="value")
    if "active" in r and not isinstance(r["active"], bool):
        raise unprocessable(f"{t}.active must be a boolean", code="value")
    for i, ident in enumerate(r.get("identifier") or []):
        if not isinstance(ident, dict):
            raise unprocessable(f"{t}.identifier[{i}] must be an object", code="structure")


def _practitioner_role(r: dict, t: str) -> None:
    if "active" in r and not isinstance(r["active"], bool):
        raise unprocessable(f"{t}.active must be a boolean", code="value")


def _communication(r: dict, t: str) -> None:
    _code(r, "status", COMMUNICATION_STATUS, t, required=True)
    _code(r, "priority", REQUEST_PRIORITY, t)
    _datetime(r, "sent", t)
    _datetime(r, "received", t)
    payload = r.get("payload", [])
    if not isinstance(payload, list):
        raise unprocessable(f"{t}.payload must be an array", code="structure")
    for i, p in enumerate(payload):
        if not isinstance(p, dict) or not any(
                k in p for k in ("contentString", "contentAttachment", "contentReference")):
            raise unprocessable(f"{t}.payload[{i}].content[x] is required", code="required")


def _task(r: dict, t: str) -> None:
    _code(r, "status", TASK_STATUS, t, required=True)
    _code(r, "intent", TASK_INTENT, t, required=True)
    _code(r, "priority", REQUEST_PRIORITY, t)
    _datetime(r, "authoredOn", t)
    _datetime(r, "lastModified", t)


def _medication_request(r: dict, t: str) -> None:
    _code(r, "status", MEDREQ_STATUS, t, required=True)
    _code(r, "intent", MEDREQ_INTENT, t, required=True)
    _code(r, "priority", REQUEST_PRIORITY, t)
    _required(r, ("medicationCodeableConcept", "medicationReference"), t, "medication[x]")
    _required(r, ("subject",), t, "subject")
    _datetime(r, "authoredOn", t)


def _appointment(r: dict, t: str) -> None:
    _code(r, "status", APPOINTMENT_STATUS, t, required=True)
    _required(r, ("participant",), t, "participant")
    for i, p in enumerate(r.get("participant") or []):
        if not isinstance(p, dict):
            raise unprocessable(f"{t}.participant[{i}] must be an object", code="structure")
        _code(p, "status", PARTICIPATION_STATUS, f"{t}.participant[{i}]", required=True)
    _datetime(r, "start", t, instant=True)
    _datetime(r, "end", t, instant=True)


def _observation(r: dict, t: str) -> None:
    _code(r, "status", OBSERVATION_STATUS, t, required=True)
    _required(r, ("code",), t, "code")
    _datetime(r, "effectiveDateTime", t)


def _audit_event(r: dict, t: str) -> None:
    _required(r, ("type",), t, "type")
    _required(r, ("recorded",), t, "recorded")
    _datetime(r, "recorded", t, instant=True)
    _code(r, "action", AUDIT_ACTION, t)
    _code(r, "outcome", AUDIT_OUTCOME, t)
    _required(r, ("agent",), t, "agent")
    for i, a in enumerate(r.get("agent") or []):
        if not isinstance(a, dict) or not isinstance(a.get("requestor"), bool):
            raise unprocessable(f"{t}.agent[{i}].requestor is required (boolean)", code="required")
    src = r.get("source")
    if not isinstance(src, dict) or not src.get("observer"):
        raise unprocessable(f"{t}.source.observer is required", code="required")


def _none(r: dict, t: str) -> None:
    pass


_TYPE_RULES = {
    "Patient": _patient,
    "Practitioner": _patient,
    "PractitionerRole": _practitioner_role,
    "Communication": _communication,
    "Task": _task,
    "MedicationRequest": _medication_request,
    "Appointment": _appointment,
    "Observation": _observation,
    "AuditEvent": _audit_event,
}
