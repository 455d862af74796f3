"""Transaction and batch Bundles posted to the FHIR base.

transaction: all-or-nothing in one SQLite transaction; ``urn:uuid:`` fullUrls are resolved to
the ids the server assigns; entries are processed DELETE, POST, PUT, GET (FHIR order) and
answered in request order. batch: every entry on its own; failures become entry outcomes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from triage_tui.server.errors import FhirError, bad_request, operation_outcome
from triage_tui.server.searchparams import RESOURCE_TYPES
from triage_tui.server.storage import Storage, Stored

_STATUS_TEXT = {200: "200 OK", 201: "201 Created", 204: "204 No Content"}
_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


def _entry_request(entry: Any, i: int) -> tuple[str, str, dict]:
    if not isinstance(entry, dict):
        raise bad_request(f"Bundle.entry[{i}] must be an object", code="structure")
    req = entry.get("request")
    if not isinstance(req, dict) or not req.get("method") or not req.get("url"):
        raise bad_request(f"Bundle.entry[{i}].request.method and .url are required", code="required")
    method = str(req["method"]).upper()
    if method not in _ORDER or method == "PATCH":
        raise bad_request(f"Bundle.entry[{i}].request.method {method} is not supported")
    return method, str(req["url"]), req


def _split_url(url: str, base: str) -> tuple[list[str], list[tuple[str, str]]]:
    if url.startswith(base):
        url = url[len(base):]
    parts = urlsplit(url)
    segs = [s for s in parts.path.split("/") if s]
    return segs, parse_qsl(parts.query, keep_blank_values=False)


def _rewrite(node: Any, mapping: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "reference" and isinstance(v, str) and v.startswith("urn:uuid:"):
                if v not in mapping:
                    raise bad_request(f"Reference {v} does not match any fullUrl in the Bundle")
                out[k] = mapping[v]
            else:
                out[k] = _rewrite(v, mapping)
        return out
    if isinstance(node, list):
        return [_rewrite(x, mapping) for x in node]
    return node


def _response_entry(status: int, stored: Stored | None, base: str, *, prefer: str,
                    outcome: dict | None = None) -> dict:
    resp: dict[str, Any] = {"status": _STATUS_TEXT.get(status, str(status))}
    entry: dict[str, Any] = {}
    if stored is not None:
        entry["fullUrl"] = f"{base}/{stored.rtype}/{stored.id}"
        resp["location"] = f"{stored.rtype}/{stored.id}/_history/{stored.version}"
        resp["etag"] = stored.etag
        resp["lastModified"] = stored.last_updated
        if stored.body and prefer == "representation":
            entry["resource"] = json.loads(stored.body)
    if outcome is not None:
        resp["outcome"] = outcome
    entry["response"] = resp
    return entry


def _do_entry(storage: Storage, method: str, url: str, req: dict, entry: dict, base: str,
              prefer: str, search) -> dict:
    segs, params = _split_url(url, base)
    if not segs or segs[0] not in RESOURCE_TYPES:
        raise FhirError(404 if segs else 400, f"Unsupported request url {url!r}", code="not-supported")
    rtype = segs[0]
    if method == "POST":
        if len(segs) != 1:
            raise bad_request(f"POST url must be a resource type, not {url!r}")
        status, stored = storage.create(entry.get("resource"), rtype=rtype,
                                        if_none_exist=req.get("ifNoneExist"),
                                        assign_id=entry.get("_assigned_id"))
        return _response_entry(status, stored, base, prefer=prefer)
    if method == "PUT":
        if len(segs) != 2 or params:
            raise bad_request(f"PUT url must be Type/id (conditional update is not supported): {url!r}")
        status, stored = storage.update(rtype, segs[1], entry.get("resource"),
                                        if_match=req.get("ifMatch"))
        return _response_entry(status, stored, base, prefer=prefer)
    if method == "DELETE":
        if len(segs) != 2:
            raise bad_request(f"DELETE url must be Type/id: {url!r}")
        stored = storage.delete(rtype, segs[1], if_match=req.get("ifMatch"))
        return _response_entry(200, Stored(rtype, segs[1], stored.version, stored.lu, None),
                               base, prefer=prefer)
    # GET / HEAD
    if len(segs) == 1:
        return {"resource": search(rtype, params), "response": {"status": "200 OK"}}
    if len(segs) == 2:
        return _response_entry(200, storage.read(rtype, segs[1]), base, prefer="representation")
    if len(segs) == 4 and segs[2] == "_history":
        return _response_entry(200, storage.vread(rtype, segs[1], segs[3]), base,
                               prefer="representation")
    raise bad_request(f"Unsupported GET url in Bundle: {url!r}")


def process(storage: Storage, bundle: Any, base: str, *, prefer: str, search) -> tuple[int, dict]:
    """Run a transaction or batch Bundle. ``search(rtype, params) -> Bundle dict`` serves GETs."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise bad_request("POST to the base URL needs a Bundle of type transaction or batch",
                          code="structure")
    btype = bundle.get("type")
    if btype not in ("transaction", "batch"):
        raise bad_request(f"Bundle.type must be transaction or batch, not {btype!r}")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise bad_request("Bundle.entry must be an array", code="structure")
    reqs = [_entry_request(e, i) for i, e in enumerate(entries)]
    if btype == "batch":
        out = []
        for i, (method, url, req) in enumerate(reqs):
            try:
                with storage.atomic():
                    out.append(_do_entry(storage, method, url, req, entries[i], base, prefer, search))
            except FhirError as exc:
                out.append({"response": {"status": str(exc.status), "outcome": exc.outcome()}})
        return 200, _bundle("batch-response", out)

    results: list[dict | None] = [None] * len(entries)
    try:
        with storage.atomic():
            mapping: dict[str, str] = {}
            work = [dict(e) for e in entries]
            # Conditional creates first (so urn:uuid references point at the existing resource).
            for i, (method, url, req) in enumerate(reqs):
                full = entries[i].get("fullUrl")
                if method == "POST":
                    rtype = _split_url(url, base)[0][:1]
                    rtype = rtype[0] if rtype else ""
                    if req.get("ifNoneExist") and rtype in RESOURCE_TYPES:
                        existing = storage._conditional_match(rtype, req["ifNoneExist"])
                        if existing is not None:
                            results[i] = _response_entry(200, existing, base, prefer=prefer)
                            if isinstance(full, str) and full.startswith("urn:uuid:"):
                                mapping[full] = f"{rtype}/{existing.id}"
                            continue
                    new_id = str(uuid.uuid4())
                    work[i]["_assigned_id"] = new_id
                    if isinstance(full, str) and full.startswith("urn:uuid:"):
                        mapping[full] = f"{rtype}/{new_id}"
                elif method == "PUT" and isinstance(full, str) and full.startswith("urn:uuid:"):
                    segs = _split_url(url, base)[0]
                    if len(segs) == 2:
                        mapping[full] = f"{segs[0]}/{segs[1]}"
            for i in sorted(range(len(entries)), key=lambda k: _ORDER[reqs[k][0]]):
                if results[i] is not None:
                    continue
                method, url, req = reqs[i]
                try:
                    if "resource" in work[i]:
                        work[i]["resource"] = _rewrite(work[i]["resource"], mapping)
                    results[i] = _do_entry(storage, method, url, req, work[i], base, prefer, search)
                except FhirError as exc:
                    exc.diagnostics = f"Bundle.entry[{i}] ({method} {url}): {exc.diagnostics}"
                    raise
    except FhirError as exc:
        if not exc.diagnostics.startswith("Bundle"):
            exc.diagnostics = f"Transaction rolled back: {exc.diagnostics}"
        else:
            exc.diagnostics = f"Transaction rolled back. {exc.diagnostics}"
        raise
    return 200, _bundle("transaction-response", results)


def _bundle(btype: str, entries: list) -> dict:
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": btype, "entry": entries}


__all__ = ["process", "operation_outcome"]
