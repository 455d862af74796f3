"""FHIR R4 JSON <-> domain models. Pure functions, no I/O.

Reading: :func:`parse_records` turns one resource into the records the cache stores (a flat
Communication may become a Thread *and* a Message); :func:`parse_resource` returns the main one.
Both are tolerant of missing optional fields and raise :class:`MalformedResource` for resources
the client cannot use (no id, a message without a thread or sender...). The pull catches it,
skips and counts the resource, and goes on.

Writing: :func:`reply_communication` and :func:`task_update` build valid R4 resources.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from triage_tui.domain.codes import (
    BUSINESS_STATUS_SYSTEM,
    CATEGORY_SYSTEM,
    CLIENT_MESSAGE_ID_SYSTEM,
    LANGUAGE_SYSTEM,
    MRN_SYSTEM,
    POOL_SYSTEM,
    BusinessStatus,
    Category,
    Pool,
    Priority,
    TaskStatus,
)
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

Record = Patient | Practitioner | Thread | Message | Task | Medication | Appointment | Observation

RETRACTED_STATUSES = frozenset({"entered-in-error"})


class MalformedResource(ValueError):
    """A resource the client cannot map. Carries type and id only (never PHI)."""

    def __init__(self, resource_type: str, id: str | None, reason: str) -> None:
        super().__init__(f"{resource_type}/{id or '?'}: {reason}")
        self.resource_type = resource_type
        self.id = id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RoleInfo:
    """A PractitionerRole reduced to the pool it puts a practitioner in (not a cache record)."""

    id: str
    version: str
    practitioner_id: str
    pool: Pool | None
    active: bool = True


# --- small helpers ---------------------------------------------------------------------------


def parse_instant(value: Any) -> datetime | None:
    """FHIR instant/dateTime/date -> aware UTC datetime; None when absent or unparseable."""
    if not isinstance(value, str) or not value:
        return None
    if value[10:11] == "T":  # a full instant ("...Z", "...+00:00"): one C call, usually
        try:
            dt = _fromiso(value)
        except ValueError:
            pass
        else:
            tz = dt.tzinfo
            if tz is UTC:
                return dt
            return dt.replace(tzinfo=UTC) if tz is None else dt.astimezone(UTC)
    v = value.strip()
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    try:
        if len(v) == 4:
            dt = datetime(int(v), 1, 1)
        elif len(v) == 7:
            dt = datetime(int(v[:4]), int(v[5:7]), 1)
        else:
            dt = datetime.fromisoformat(v)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


_fromiso = datetime.fromisoformat  # "...Z" gives tzinfo=UTC (Python 3.11+)


def format_instant(dt: datetime) -> str:
    """Aware datetime -> FHIR instant in UTC with milliseconds (``2024-05-01T10:00:00.123Z``)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def ref_id(ref: Any, resource_type: str | None = None) -> str | None:
    """``{"reference": "Patient/1"}`` -> ``"1"`` (None if absent or of another type)."""
    if isinstance(ref, dict):
        ref = ref.get("reference")
    if not isinstance(ref, str):
        return None
    typ, sep, rid = ref.partition("/")
    if sep and rid and "/" not in rid:  # the usual "Type/id"
        return None if resource_type is not None and typ != resource_type else rid
    if "/" not in ref:
        return None
    parts = ref.rstrip("/").split("/")
    # absolute URLs and versioned references: .../Type/id[/_history/v]
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2:  # "Patient/", "/": no id
        return None
    typ, rid = parts[-2], parts[-1]
    if resource_type is not None and typ != resource_type:
        return None
    return rid or None


def ref_str(ref: Any) -> str | None:
    """``{"reference": ".../Patient/1/_history/2"}`` -> ``"Patient/1"``."""
    if isinstance(ref, dict):
        ref = ref.get("reference")
    if not isinstance(ref, str):
        return None
    _, sep, rid = ref.partition("/")
    if sep and rid and "/" not in rid:  # already "Type/id"
        return ref
    if "/" not in ref:
        return None
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2 or not parts[-1]:  # "Patient/", "/": no id
        return None
    return f"{parts[-2]}/{parts[-1]}"


def _codes(concept: Any, system: str | None = None) -> list[str]:
    out: list[str] = []
    for c in concept if isinstance(concept, list) else (concept,):
        if isinstance(c, dict):
            for coding in c.get("coding") or ():
                if (isinstance(coding, dict) and (code := coding.get("code"))
                        and (system is None or coding.get("system") == system)):
                    out.append(code if code.__class__ is str else str(code))
    return out


_ENUM_VALUES: dict[Any, dict[Any, Any]] = {
    e: {m.value: m for m in e} for e in (Priority, Category, Pool, TaskStatus, BusinessStatus)}
_PRIORITIES = _ENUM_VALUES[Priority]
_CATEGORIES = _ENUM_VALUES[Category]
_POOLS = _ENUM_VALUES[Pool]
_TASK_STATUSES = _ENUM_VALUES[TaskStatus]
_BUSINESS_STATUSES = _ENUM_VALUES[BusinessStatus]
_ROUTINE = Priority.ROUTINE
_NO_DICT: dict[str, Any] = {}  # read only: what a missing or non-object element reads as


def _enum(enum_cls: Any, value: Any, default: Any = None) -> Any:
    """``enum_cls(value)``, or ``default`` when no member has that value (a dict lookup)."""
    members = _ENUM_VALUES.get(enum_cls)
    if members is None:
        members = _ENUM_VALUES[enum_cls] = {m.value: m for m in enum_cls}
    try:
        return members.get(value, default)
    except TypeError:  # unhashable: a JSON list or object where a code belongs
        return default


def _meta(res: dict[str, Any]) -> tuple[str, str, Any]:
    """(id, version, meta.lastUpdated as written: parse_instant it where needed)."""
    rtype = res.get("resourceType") or "?"
    if rtype.__class__ is not str:
        rtype = str(rtype)
    rid = res.get("id")
    if not isinstance(rid, str) or not rid:
        raise MalformedResource(rtype, None, "no id")
    meta = res.get("meta")
    if not isinstance(meta, dict):
        meta = _NO_DICT
    version = meta.get("versionId")
    last = meta.get("lastUpdated")  # parsed only by the callers that use it
    if version is None:
        # Some servers omit versionId: fall back to lastUpdated so that changes still show.
        version = last or "0"
    return rid, version if version.__class__ is str else str(version), last


def _human_name(res: dict[str, Any]) -> tuple[str, str]:
    names = res.get("name") or []
    if not isinstance(names, list) or not names:
        return "", ""
    for pick in names:
        if isinstance(pick, dict) and pick.get("use") == "official":
            break
    else:
        pick = names[0]
        if not isinstance(pick, dict):
            return "", ""
    given = " ".join([g if g.__class__ is str else str(g) for g in pick.get("given") or () if g])
    family = pick.get("family") or ""
    if family.__class__ is not str:
        family = str(family)
    if not given and not family and pick.get("text"):
        return str(pick["text"]), ""
    return given, family


def is_retracted(res: dict[str, Any]) -> bool:
    """True for resources the cache must drop (``status = entered-in-error``)."""
    status = res.get("status")
    return isinstance(status, str) and status in RETRACTED_STATUSES


# --- parsers ---------------------------------------------------------------------------------


def _priority(res: dict[str, Any]) -> Priority:
    try:
        return _PRIORITIES.get(res.get("priority"), _ROUTINE)
    except TypeError:  # unhashable: a JSON list or object where a code belongs
        return _ROUTINE


def _category(res: dict[str, Any]) -> Category | None:
    codes = _codes(res.get("category"), CATEGORY_SYSTEM)
    return _CATEGORIES.get(codes[0]) if codes else None


def _patient_of_communication(res: dict[str, Any]) -> str | None:
    pid = ref_id(res.get("subject"), "Patient")
    if pid:
        return pid
    pid = ref_id(res.get("sender"), "Patient")
    if pid:
        return pid
    for r in res.get("recipient") or ():
        pid = ref_id(r, "Patient")
        if pid:
            return pid
    return None


def _reply_to(refs: Any) -> str | None:
    """The first Communication id of ``inResponseTo``."""
    irt = None
    for r in refs or ():
        irt = ref_id(r, "Communication")
        if irt:
            break
    return irt


def _thread(res: dict[str, Any], meta: tuple[str, str, Any] | None = None) -> Thread:
    rid, version, last = meta or _meta(res)
    # (the subject first: _patient_of_communication tries it again before the others)
    pid = ref_id(res.get("subject"), "Patient") or _patient_of_communication(res)
    if not pid:
        raise MalformedResource("Communication", rid, "thread without a patient subject")
    topic = res.get("topic")
    subject = topic.get("text") or "" if isinstance(topic, dict) else ""
    if subject.__class__ is not str:
        subject = str(subject)
    category = _category(res)
    priority = _priority(res)
    status = res.get("status") or "unknown"
    if status.__class__ is not str:
        status = str(status)
    created = parse_instant(res.get("sent"))
    updated = parse_instant(last)
    return Thread(rid, version, pid, subject, category, priority, status, created or updated,
                  updated, True)


def parse_communication(
    res: dict[str, Any], resolve_thread: Callable[[str], str | None] | None = None,
) -> list[Record]:
    """A Communication -> [Thread] (header), [Message] (in a thread) or [Thread, Message] (flat).

    ``resolve_thread(message_id)`` finds the thread of a message already seen (flat servers
    chain replies by ``inResponseTo``); when it cannot, the chain's first known message id is
    used as the thread id.
    """
    meta = _meta(res)
    rid, version, last = meta
    part_of = res.get("partOf")
    payload = res.get("payload")
    if res.get("resourceType") == "Communication" and not part_of and not payload:  # a header
        return [_thread(res, meta)]
    for p in payload or ():
        if isinstance(p, dict) and isinstance(text := p.get("contentString"), str):
            break
    else:
        if part_of and not payload:
            raise MalformedResource("Communication", rid, "message without payload")
        raise MalformedResource("Communication", rid, "payload has no contentString")
    tid = None
    for part in part_of or ():
        tid = ref_id(part, "Communication")
        if tid:
            break
    thread = None
    flat = not tid
    if flat:
        if part_of:
            raise MalformedResource("Communication", rid, "partOf is not a Communication")
        # Flat model: answers join the thread of the message they answer; others start a thread.
        irts = res.get("inResponseTo")
        irt = _reply_to(irts) if irts else None
        if irt:
            tid = (resolve_thread(irt) if resolve_thread else None) or irt
        else:
            pid = _patient_of_communication(res)
            if not pid:
                raise MalformedResource("Communication", rid, "message without a patient")
            topic = res.get("topic") if isinstance(res.get("topic"), dict) else {}
            subject = str(topic.get("text") or "") or " ".join(text.split()[:8])
            thread = Thread(
                rid, version, pid, subject, _category(res), _priority(res), "in-progress",
                parse_instant(res.get("sent")) or parse_instant(last), parse_instant(last), False,
            )
            tid = rid
    # the message
    sender = ref_str(res.get("sender"))
    if not sender:
        raise MalformedResource("Communication", rid, "message without a sender")
    if not flat:  # (a flat message's was looked up above: the same)
        irts = res.get("inResponseTo")
        irt = _reply_to(irts) if irts else None
    sent = parse_instant(res.get("sent")) or parse_instant(last)
    status = res.get("status") or "completed"
    if status.__class__ is not str:
        status = str(status)
    message = Message(rid, version, tid, text, sent, sender, irt, status)
    return [message] if thread is None else [thread, message]


def parse_task(res: dict[str, Any]) -> Task:
    rid, version, last = _meta(res)
    tid = ref_id(res.get("focus"), "Communication")
    if not tid:
        raise MalformedResource("Task", rid, "task without a Communication focus")
    pid = ref_id(res.get("for"), "Patient") or ""
    pools = _codes(res.get("performerType"), POOL_SYSTEM)
    bs_codes = _codes(res.get("businessStatus"), BUSINESS_STATUS_SYSTEM)
    try:
        status = _TASK_STATUSES.get(res.get("status"))
    except TypeError:  # unhashable
        status = None
    if status is None:
        raise MalformedResource("Task", rid, "unknown status")
    owner = ref_str(res.get("owner"))
    if bs_codes:
        bstatus = _BUSINESS_STATUSES.get(bs_codes[0], BusinessStatus.UNASSIGNED)
    elif status is TaskStatus.COMPLETED:
        bstatus = BusinessStatus.DONE
    else:
        bstatus = BusinessStatus.CLAIMED if owner else BusinessStatus.UNASSIGNED
    due = res.get("restriction")
    if isinstance(due, dict):
        due = due.get("period")
        due = parse_instant(due.get("end")) if isinstance(due, dict) else None
    else:
        due = None
    return Task(
        rid, version, tid, pid, _POOLS.get(pools[0]) if pools else None, status, bstatus,
        _priority(res), owner, due, parse_instant(res.get("lastModified")) or parse_instant(last),
    )


def parse_patient(res: dict[str, Any]) -> Patient:
    rid, version, _ = _meta(res)
    given, family = _human_name(res)
    for ident in res.get("identifier") or ():
        if (isinstance(ident, dict) and ident.get("system") == MRN_SYSTEM
                and (mrn := ident.get("value"))):
            if mrn.__class__ is not str:
                mrn = str(mrn)
            break
    else:
        mrn = None
    language = "en"
    comms = res.get("communication") or []
    pref = [c for c in comms if isinstance(c, dict) and c.get("preferred")] or comms
    for c in pref:
        if isinstance(c, dict):
            lang = c.get("language")
            codes = _codes(lang, LANGUAGE_SYSTEM) or _codes(lang)
            if codes:
                language = codes[0].partition("-")[0].lower()
                break
    for t in res.get("telecom") or ():
        if isinstance(t, dict) and t.get("system") == "phone" and (phone := t.get("value")):
            if phone.__class__ is not str:
                phone = str(phone)
            break
    else:
        phone = None
    return Patient(rid, version, given, family, _date(res.get("birthDate")), mrn, language, phone)


def parse_practitioner(res: dict[str, Any], pool: Pool | None = None) -> Practitioner:
    rid, version, _ = _meta(res)
    names = res.get("name") or []
    prefix = ""
    if isinstance(names, list) and names and isinstance(names[0], dict):
        prefix = " ".join(str(p) for p in names[0].get("prefix") or [])
    given, family = _human_name(res)
    name = " ".join(x for x in (prefix, given, family) if x)
    return Practitioner(id=rid, version=version, name=name, pool=pool)


def parse_role(res: dict[str, Any]) -> RoleInfo:
    rid, version, _ = _meta(res)
    pid = ref_id(res.get("practitioner"), "Practitioner")
    if not pid:
        raise MalformedResource("PractitionerRole", rid, "role without a practitioner")
    pools = _codes(res.get("code") or [], POOL_SYSTEM)
    return RoleInfo(id=rid, version=version, practitioner_id=pid,
                    pool=_enum(Pool, pools[0]) if pools else None,
                    active=res.get("active") is not False)


def _patient_ref(res: dict[str, Any], *keys: str) -> str:
    for k in keys:
        pid = ref_id(res.get(k), "Patient")
        if pid:
            return pid
    raise MalformedResource(str(res.get("resourceType")), res.get("id"), "no patient reference")


def _concept_text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    text = concept.get("text")
    if text:
        return text if text.__class__ is str else str(text)
    for coding in concept.get("coding") or ():
        if isinstance(coding, dict) and (coding.get("display") or coding.get("code")):
            return str(coding.get("display") or coding.get("code"))
    return ""


def parse_medication(res: dict[str, Any]) -> Medication:
    rid, version, _ = _meta(res)
    pid = ref_id(res.get("subject"), "Patient") or _patient_ref(res, "subject")
    name = _concept_text(res.get("medicationCodeableConcept"))
    if not name and isinstance(med := res.get("medicationReference"), dict):
        name = str(med.get("display") or "")
    for d in res.get("dosageInstruction") or ():
        if isinstance(d, dict) and (dose := d.get("text")):
            if dose.__class__ is not str:
                dose = str(dose)
            break
    else:
        dose = ""
    disp = res.get("dispenseRequest")
    if not isinstance(disp, dict):
        disp = _NO_DICT
    refills = disp.get("numberOfRepeatsAllowed")
    performer = disp.get("performer")
    pharmacy = performer.get("display") if isinstance(performer, dict) else None
    status = res.get("status") or "unknown"
    return Medication(
        rid, version, pid, name, dose, status if status.__class__ is str else str(status),
        refills if isinstance(refills, int) else None,
        (pharmacy if pharmacy.__class__ is str else str(pharmacy)) if pharmacy else None,
        parse_instant(res.get("authoredOn")),
    )


def parse_appointment(res: dict[str, Any]) -> Appointment:
    rid, version, _ = _meta(res)
    pid = None
    practitioner = None
    for p in res.get("participant") or ():
        if not isinstance(p, dict):
            continue
        actor = p.get("actor")
        ref = ref_str(actor)
        if not ref:
            continue
        if ref.startswith("Patient/"):
            if pid is None:
                pid = ref[8:]
        elif practitioner is None and ref.startswith("Practitioner/"):
            practitioner = str(actor.get("display") or ref)  # (actor: what ref_str read)
    if pid is None:
        pid = ref_id(res.get("subject"), "Patient")  # R5-style servers
    if pid is None:
        raise MalformedResource("Appointment", rid, "no patient participant")
    desc = res.get("description") or ""
    if desc.__class__ is not str:
        desc = str(desc)
    if not desc:
        types = res.get("serviceType")
        desc = _concept_text((types or [None])[0] if isinstance(types, list) else None)
    status = res.get("status") or "unknown"
    return Appointment(rid, version, pid, parse_instant(res.get("start")),
                       status if status.__class__ is str else str(status), desc, practitioner)


_NUMBER = (int, float)


def parse_observation(res: dict[str, Any]) -> Observation:
    rid, version, _ = _meta(res)
    pid = ref_id(res.get("subject"), "Patient") or _patient_ref(res, "subject")
    name = _concept_text(res.get("code"))
    value, unit = "", ""
    if isinstance(q := res.get("valueQuantity"), dict):
        value = q.get("value")
        value = "" if value is None else value if value.__class__ is str else str(value)
        unit = q.get("unit") or q.get("code") or ""
        if unit.__class__ is not str:
            unit = str(unit)
    elif (value := res.get("valueString")) is not None:
        if value.__class__ is not str:
            value = str(value)
    elif isinstance(value := res.get("valueCodeableConcept"), dict):
        value = _concept_text(value)
    else:
        value = ""
    low = high = None
    for rr in res.get("referenceRange") or ():
        if isinstance(rr, dict):
            lo, hi = rr.get("low") or _NO_DICT, rr.get("high") or _NO_DICT
            low = lo.get("value")
            if not isinstance(low, _NUMBER):
                low = None
            high = hi.get("value")
            if not isinstance(high, _NUMBER):
                high = None
            break
    codes = _codes(res.get("interpretation"))
    return Observation(
        rid, version, pid, name, value, unit,
        float(low) if low is not None else None, float(high) if high is not None else None,
        codes[0] if codes else None,
        parse_instant(res.get("effectiveDateTime") or res.get("issued")),
    )


_PARSERS: dict[str, Callable[[dict[str, Any]], Record]] = {
    "Task": parse_task,
    "Patient": parse_patient,
    "Practitioner": parse_practitioner,
    "MedicationRequest": parse_medication,
    "Appointment": parse_appointment,
    "Observation": parse_observation,
}


def parse_records(
    res: dict[str, Any], resolve_thread: Callable[[str], str | None] | None = None,
) -> list[Record]:
    """All records a resource maps to ([] for types the client does not keep)."""
    if not isinstance(res, dict):
        raise MalformedResource("?", None, "not a JSON object")
    rtype = res.get("resourceType")
    try:
        if rtype == "Communication":
            return parse_communication(res, resolve_thread)
        parser = _PARSERS.get(str(rtype))
        if parser is None:
            return []
        return [parser(res)]
    except MalformedResource:
        raise
    except SHAPE_ERRORS as exc:
        raise unexpected_shape(str(rtype), res, exc) from None


SHAPE_ERRORS = (TypeError, AttributeError, KeyError, ValueError, IndexError)
"""What a parser raises on JSON of a shape it does not expect (a list where an object belongs,
an object where a string does...): callers report it as :class:`MalformedResource`."""


def unexpected_shape(rtype: str, res: dict[str, Any], exc: BaseException) -> MalformedResource:
    rid = res.get("id")
    return MalformedResource(rtype, rid if isinstance(rid, str) else None,
                             f"unexpected shape ({type(exc).__name__})")


def parse_resource(res: dict[str, Any]) -> Record | None:
    """The main record of a resource: the Thread of a flat Communication, else the only one."""
    recs = parse_records(res)
    return recs[0] if recs else None


# --- builders --------------------------------------------------------------------------------


def reply_communication(
    client_id: str, thread: Thread, in_response_to: Message | None, text: str, sender_ref: str,
    now: datetime,
) -> dict[str, Any]:
    """A staff reply as a valid R4 Communication whose id is the client id (PUT = create)."""
    if not text.strip():
        raise ValueError("empty reply")
    patient = {"reference": f"Patient/{thread.patient_id}"}
    res: dict[str, Any] = {
        "resourceType": "Communication",
        "id": client_id,
        "identifier": [{"system": CLIENT_MESSAGE_ID_SYSTEM, "value": client_id}],
        "status": "completed",
        "subject": patient,
        "recipient": [patient],
        "sender": {"reference": sender_ref},
        "sent": format_instant(now),
        "payload": [{"contentString": text}],
    }
    if thread.has_header:
        res["partOf"] = [{"reference": f"Communication/{thread.id}"}]
    if in_response_to is not None:
        res["inResponseTo"] = [{"reference": f"Communication/{in_response_to.id}"}]
    elif not thread.has_header:
        res["inResponseTo"] = [{"reference": f"Communication/{thread.id}"}]
    if thread.category is not None:
        res["category"] = [{"coding": [{"system": CATEGORY_SYSTEM, "code": str(thread.category)}]}]
    return res


_UNSET: Any = object()


def task_update(
    task: dict[str, Any], *, owner_ref: str | None = _UNSET, pool: Pool | str | None = _UNSET,
    status: TaskStatus | str = _UNSET, business_status: BusinessStatus | str = _UNSET,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The server's Task JSON with the given changes applied (``owner_ref=None`` releases).

    Keeps every element the client does not know about; drops ``meta`` and ``text`` (the server
    regenerates them; a stale narrative would be wrong).
    """
    out = copy.deepcopy(task)
    out.pop("meta", None)
    out.pop("text", None)
    if owner_ref is not _UNSET:
        if owner_ref is None:
            out.pop("owner", None)
        else:
            out["owner"] = {"reference": owner_ref}
    if pool is not _UNSET:
        if pool is None:
            out.pop("performerType", None)
        else:
            out["performerType"] = [{"coding": [{"system": POOL_SYSTEM, "code": str(pool)}]}]
    if status is not _UNSET:
        out["status"] = str(status)
    if business_status is not _UNSET:
        out["businessStatus"] = {"coding": [{"system": BUSINESS_STATUS_SYSTEM,
                                             "code": str(business_status)}]}
    out["lastModified"] = format_instant(now or datetime.now(UTC))
    return out


def task_changes_applied(task: dict[str, Any], changes: dict[str, Any]) -> bool:
    """True when the server's Task already shows every change of ``changes`` (reconcile)."""
    for key, want in changes.items():
        if key == "owner_ref":
            if ref_str(task.get("owner")) != want:
                return False
        elif key == "pool":
            have = _codes(task.get("performerType") or [], POOL_SYSTEM)
            if (have[0] if have else None) != want:
                return False
        elif key == "status":
            if task.get("status") != want:
                return False
        elif key == "business_status":
            have = _codes(task.get("businessStatus") or {}, BUSINESS_STATUS_SYSTEM)
            if (have[0] if have else None) != want:
                return False
    return True
