"""The local audit trail as FHIR R4 AuditEvents (upload) and as JSON lines / CSV (export).

The trail itself is the cache's append-only, HMAC-chained ``audit`` table
(``Store.audit`` / ``verify_audit`` / ``audit_log``). This module:

* maps each row to a valid R4 ``AuditEvent`` (:func:`audit_event`): ``type``/``subtype``
  codes, ``action``, ``recorded``, ``agent.who`` = the signed-in Practitioner,
  ``entity.what`` = the Communication/Task reference, ``source.observer``. No PHI: the
  encrypted ``detail`` is never sent, only references and codes;
* queues rows not yet uploaded into the outbox as ``OutboxKind.AUDIT`` items with a
  deterministic id (cache id + sequence number), so queueing twice is harmless and the
  outbox's exactly-once machinery does the rest (:func:`queue_audit_events`,
  :class:`AuditingPusher`);
* writes the trail as JSON lines or CSV (:func:`export_rows`), with the chain's verdict.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from triage_tui.cache.api import CacheAPI, OutboxItem, OutboxKind
from triage_tui.cache.store import AuditEntry
from triage_tui.sync.outbox import Pusher, PushResult

log = logging.getLogger(__name__)

UPLOADED_KEY = "audit.uploaded_seq"
OBSERVER = "triage-tui"
_NS = uuid.UUID("5b0c7a4e-2f1d-4b8e-9c1a-7d3e6f0a9b21")

DCM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
TRIAGE_ACTIONS = "http://triage-tui.example.org/fhir/CodeSystem/audit-action"


@dataclass(frozen=True, slots=True)
class ActionCodes:
    type: dict[str, str]
    subtype: dict[str, str] | None
    action: str  # C R U D E


def _c(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


_USER_AUTH = _c(DCM, "110114", "User Authentication")
_REST = _c(AUDIT_TYPE, "rest", "RESTful Operation")

ACTIONS: dict[str, ActionCodes] = {
    "unlock": ActionCodes(_USER_AUTH, _c(DCM, "110122", "Login"), "E"),
    "lock": ActionCodes(_USER_AUTH, _c(DCM, "110123", "Logout"), "E"),
    "view": ActionCodes(_REST, _c(RESTFUL, "read", "read"), "R"),
    "send": ActionCodes(_REST, _c(RESTFUL, "create", "create"), "C"),
    "reply": ActionCodes(_REST, _c(RESTFUL, "create", "create"), "C"),
    "claim": ActionCodes(_REST, _c(RESTFUL, "update", "update"), "U"),
    "release": ActionCodes(_REST, _c(RESTFUL, "update", "update"), "U"),
    "route": ActionCodes(_REST, _c(RESTFUL, "update", "update"), "U"),
    "escalate": ActionCodes(_REST, _c(RESTFUL, "update", "update"), "U"),
    "close": ActionCodes(_REST, _c(RESTFUL, "update", "update"), "U"),
    "export": ActionCodes(_c(DCM, "110106", "Export"), None, "R"),
    "purge": ActionCodes(_REST, _c(RESTFUL, "delete", "delete"), "D"),
    "wipe": ActionCodes(_REST, _c(RESTFUL, "delete", "delete"), "D"),
}
_OTHER = ActionCodes(_REST, None, "E")

_ENTITY_TYPES = ("Communication/", "Task/", "Patient/")
_PLAIN_ENTITY = re.compile(r"^[a-z][a-z_-]{0,31}$")


def audit_event_id(cache_id: str, seq: int) -> str:
    """A FHIR id that is the same every time the row is queued (idempotency key)."""
    return str(uuid.uuid5(_NS, f"{cache_id}:{seq}"))


def _who(user: str) -> dict[str, Any]:
    if user.startswith("Practitioner/") or user.startswith("PractitionerRole/"):
        return {"reference": user}
    return {"identifier": {"system": "urn:triage-tui:login", "value": user}}


def audit_event(entry: AuditEntry, *, event_id: str) -> dict[str, Any]:
    """A valid R4 AuditEvent for one audit row: codes and references only (no PHI)."""
    codes = ACTIONS.get(entry.action, _OTHER)
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=timezone.utc)
    recorded = at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")
    subtypes = [codes.subtype] if codes.subtype else []
    subtypes.append(_c(TRIAGE_ACTIONS, entry.action[:64], entry.action[:64]))
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": event_id,
        "type": codes.type,
        "subtype": subtypes,
        "action": codes.action,
        "recorded": recorded,
        "outcome": "0",
        "agent": [{"who": _who(entry.user), "requestor": True}],
        "source": {"observer": {"display": OBSERVER},
                   "type": [_c(SOURCE_TYPE, "1", "User Device")]},
    }
    if entry.entity and entry.entity.startswith(_ENTITY_TYPES):
        event["entity"] = [{"what": {"reference": entry.entity}}]
    elif entry.entity and _PLAIN_ENTITY.match(entry.entity):  # "analytics", "report": code-made
        event["entity"] = [{"what": {"display": entry.entity}}]
    return event


def queue_audit_events(store: CacheAPI, *, limit: int | None = None) -> int:
    """Queue audit rows not uploaded yet as AuditEvents in the outbox; returns how many.

    Safe to call often and concurrently with itself: ids are deterministic and ``enqueue``
    ignores ids it already has.
    """
    mark = int(store.get_meta(UPLOADED_KEY) or 0)
    entries = [e for e in store.audit_log() if e.seq > mark]  # type: ignore[attr-defined]
    if limit is not None:
        entries = entries[:limit]
    if not entries:
        return 0
    cache_id = getattr(store, "cache_id", "cache")
    items = []
    for e in entries:
        eid = audit_event_id(cache_id, e.seq)
        items.append(OutboxItem(id=eid, kind=OutboxKind.AUDIT, resource_type="AuditEvent",
                                payload=audit_event(e, event_id=eid), user=e.user,
                                created=e.at, updated=e.at))
    store.enqueue(items)
    store.set_meta(UPLOADED_KEY, str(entries[-1].seq))
    return len(items)


class AuditingPusher(Pusher):
    """A :class:`Pusher` that queues new audit rows as AuditEvents before each push."""

    async def push(self, *, limit: int | None = None) -> PushResult:
        try:
            await asyncio.to_thread(queue_audit_events, self.store)
        except Exception as exc:  # noqa: BLE001 - the replies must still go out
            log.warning("audit events not queued: %s", type(exc).__name__)
        return await super().push(limit=limit)


def engine_with_audit(client: Any, store: CacheAPI, user_ref: str | None = None,
                      **kw: Any) -> Any:
    """A :class:`SyncEngine` whose pusher uploads the audit trail as AuditEvents."""
    from triage_tui.sync.engine import SyncEngine

    pusher = AuditingPusher(client, store, on_conflict=kw.pop("on_conflict", None))
    return SyncEngine(client, store, user_ref, pusher=pusher, **kw)


# --- export ---------------------------------------------------------------------------------

EXPORT_FIELDS = ("seq", "recorded", "user", "action", "entity")


def export_rows(entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    """The rows of an export: no ``detail`` (encrypted at rest; may quote patient data)."""
    return [{"seq": e.seq, "recorded": e.at.isoformat(), "user": e.user, "action": e.action,
             "entity": e.entity or ""} for e in entries]


def render_export(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(EXPORT_FIELDS), lineterminator="\n")
        w.writeheader()
        for r in rows:
            # neutralise spreadsheet formulas (CSV injection): entity/user come from data
            w.writerow({k: _csv_safe(v) for k, v in r.items()})
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}")


def _csv_safe(v: Any) -> Any:
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v
