"""Basic FHIR R4 shape checks for what the generator emits (not a full validator)."""

from __future__ import annotations

import re

from triage_tui.domain.codes import (
    BUSINESS_STATUS_SYSTEM,
    CATEGORY_SYSTEM,
    LANGUAGE_SYSTEM,
    MRN_SYSTEM,
    POOL_SYSTEM,
    STAFF_ID_SYSTEM,
    BusinessStatus,
    Category,
    Pool,
    Priority,
)

ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
EVENT_STATUS = {
    "preparation",
    "in-progress",
    "not-done",
    "on-hold",
    "stopped",
    "completed",
    "entered-in-error",
    "unknown",
}
TASK_STATUS = {
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
}
MR_STATUS = {
    "active",
    "on-hold",
    "cancelled",
    "completed",
    "entered-in-error",
    "stopped",
    "draft",
    "unknown",
}
APPT_STATUS = {
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
}
PARTICIPATION_STATUS = {"accepted", "declined", "tentative", "needs-action"}
OBS_STATUS = {
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
}
PRIORITIES = {p.value for p in Priority}


class ShapeError(AssertionError):
    pass


def need(cond: object, msg: str) -> None:
    if not cond:
        raise ShapeError(msg)


def coding_of(cc: dict, system: str) -> dict:
    for c in cc.get("coding", []):
        if c.get("system") == system:
            return c
    raise ShapeError(f"no coding with system {system} in {cc}")


def is_ref(x: object, rtype: str) -> bool:
    return isinstance(x, dict) and str(x.get("reference", "")).startswith(f"{rtype}/")


def references(node: object) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            out.append(node["reference"])
        for v in node.values():
            out += references(v)
    elif isinstance(node, list):
        for v in node:
            out += references(v)
    return out


def check(r: dict) -> None:
    t = r.get("resourceType")
    need(isinstance(r.get("id"), str) and ID_RE.match(r["id"]), f"bad id {r.get('id')!r}")
    need("meta" not in r, "meta must not be set")
    fn = CHECKS.get(t)
    need(fn is not None, f"unexpected resourceType {t}")
    fn(r)


def _patient(r: dict) -> None:
    need(r["name"][0]["family"] and r["name"][0]["given"][0], "name")
    need(r["gender"] in {"male", "female", "other", "unknown"}, "gender")
    need(DATE_RE.match(r["birthDate"]), "birthDate")
    need(any(i["system"] == MRN_SYSTEM and i["value"] for i in r["identifier"]), "MRN")
    need(r["telecom"][0]["system"] == "phone" and r["telecom"][0]["value"], "telecom")
    lang = coding_of(r["communication"][0]["language"], LANGUAGE_SYSTEM)
    need(lang["code"] in {"en", "es"}, "language")


def _practitioner(r: dict) -> None:
    need(any(i["system"] == STAFF_ID_SYSTEM and i["value"] for i in r["identifier"]), "staff id")
    need(r["name"][0]["family"], "name")


def _role(r: dict) -> None:
    need(is_ref(r["practitioner"], "Practitioner"), "practitioner")
    need(coding_of(r["code"][0], POOL_SYSTEM)["code"] in {p.value for p in Pool}, "pool")


def _med(r: dict) -> None:
    need(r["status"] in MR_STATUS and r["intent"] == "order", "status/intent")
    need(r["medicationCodeableConcept"]["text"], "medication")
    need(is_ref(r["subject"], "Patient"), "subject")
    need(r["dosageInstruction"][0]["text"], "dose")
    n = r["dispenseRequest"]["numberOfRepeatsAllowed"]
    need(isinstance(n, int) and n >= 0, "repeats")
    need(r["dispenseRequest"]["performer"]["display"], "pharmacy")
    need(INSTANT_RE.match(r["authoredOn"]), "authoredOn")


def _appt(r: dict) -> None:
    need(r["status"] in APPT_STATUS, "status")
    need(
        INSTANT_RE.match(r["start"]) and INSTANT_RE.match(r["end"]) and r["start"] < r["end"],
        "times",
    )
    need(r["participant"], "participant")
    for p in r["participant"]:
        need(p["status"] in PARTICIPATION_STATUS and "reference" in p["actor"], "participant")
    need(any(is_ref(p["actor"], "Patient") for p in r["participant"]), "patient participant")
    need(
        any(is_ref(p["actor"], "Practitioner") for p in r["participant"]),
        "practitioner participant",
    )


def _obs(r: dict) -> None:
    need(r["status"] in OBS_STATUS, "status")
    need(r["code"]["text"], "code")
    need(is_ref(r["subject"], "Patient"), "subject")
    need(INSTANT_RE.match(r["effectiveDateTime"]), "effective")
    q = r["valueQuantity"]
    need(isinstance(q["value"], int | float) and q["unit"], "valueQuantity")
    rr = r["referenceRange"][0]
    need(rr["low"]["value"] <= rr["high"]["value"], "range")
    interp = r["interpretation"][0]["coding"][0]
    need(interp["code"] in {"H", "L", "N"}, "interpretation")
    v = q["value"]
    expect = "H" if v > rr["high"]["value"] else "L" if v < rr["low"]["value"] else "N"
    need(interp["code"] == expect, f"interpretation {interp['code']} for {v} in {rr}")


def _comm(r: dict) -> None:
    need(r["status"] in EVENT_STATUS, "status")
    need(
        coding_of(r["category"][0], CATEGORY_SYSTEM)["code"] in {c.value for c in Category},
        "category",
    )
    need(is_ref(r["subject"], "Patient"), "subject")
    need(INSTANT_RE.match(r["sent"]), "sent")
    if "partOf" in r:  # message
        need("payload" in r and isinstance(r["payload"][0]["contentString"], str), "payload")
        need(is_ref(r["partOf"][0], "Communication"), "partOf")
        need(is_ref(r["sender"], "Patient") or is_ref(r["sender"], "Practitioner"), "sender")
        need(r["status"] == "completed", "message status")
        for irt in r.get("inResponseTo", []):
            need(is_ref(irt, "Communication"), "inResponseTo")
    else:  # header
        need("payload" not in r, "header payload")
        need(r["status"] in {"in-progress", "completed"}, "header status")
        need(r["topic"]["text"], "topic")
        need(r["priority"] in PRIORITIES, "priority")


def _task(r: dict) -> None:
    need(r["status"] in TASK_STATUS and r["intent"] == "order", "status/intent")
    need(r["priority"] in PRIORITIES, "priority")
    need(is_ref(r["focus"], "Communication") and is_ref(r["for"], "Patient"), "focus/for")
    need(coding_of(r["performerType"][0], POOL_SYSTEM)["code"] in {p.value for p in Pool}, "pool")
    bs = coding_of(r["businessStatus"], BUSINESS_STATUS_SYSTEM)["code"]
    need(bs in {b.value for b in BusinessStatus}, "businessStatus")
    need(INSTANT_RE.match(r["restriction"]["period"]["end"]), "due")
    need(INSTANT_RE.match(r["authoredOn"]), "authoredOn")
    if "owner" in r:
        need(is_ref(r["owner"], "Practitioner"), "owner")


CHECKS = {
    "Patient": _patient,
    "Practitioner": _practitioner,
    "PractitionerRole": _role,
    "MedicationRequest": _med,
    "Appointment": _appt,
    "Observation": _obs,
    "Communication": _comm,
    "Task": _task,
}
