"""The CapabilityStatement served at /fhir/metadata, generated from the search parameter table."""

from __future__ import annotations

from typing import Any

from triage_tui import __version__
from triage_tui.server import fhirtime
from triage_tui.server.searchparams import PARAMS, RESOURCE_TYPES, SORT_DATE

_INTERACTIONS = ["read", "vread", "update", "delete", "history-instance", "history-type",
                 "create", "search-type"]


def capability_statement(base: str) -> dict[str, Any]:
    resources = []
    for rtype in RESOURCE_TYPES:
        params = [{"name": "_id", "type": "token"}, {"name": "_lastUpdated", "type": "date"}]
        params += [{"name": p.name, "type": p.kind} for p in PARAMS[rtype].values()]
        refs = [p.name for p in PARAMS[rtype].values() if p.kind == "reference"]
        rev = sorted(f"{other}:{p.name}" for other in RESOURCE_TYPES
                     for p in PARAMS[other].values()
                     if p.kind == "reference" and (not p.targets or rtype in p.targets))
        entry: dict[str, Any] = {
            "type": rtype,
            "interaction": [{"code": c} for c in _INTERACTIONS],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": True,
            "conditionalCreate": True,
            "conditionalRead": "not-supported",
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchInclude": [f"{rtype}:{r}" for r in refs],
            "searchRevInclude": rev,
            "searchParam": params,
        }
        sort = ["_lastUpdated"] + ([SORT_DATE[rtype][0]] if rtype in SORT_DATE else [])
        entry["extension"] = [{"url": "http://triage-tui.example.org/fhir/StructureDefinition/sort",
                               "valueString": ",".join(sort)}]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": fhirtime.format_instant(fhirtime.now_us())[:10],
        "publisher": "triage-tui (reference server for demo and tests)",
        "kind": "instance",
        "software": {"name": "triage-tui reference FHIR server", "version": __version__},
        "implementation": {"description": "triage-tui reference FHIR R4 server", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": False,
                "description": "Authorization: Bearer <token> on every request except /metadata",
            },
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "searchParam": [
                {"name": "_count", "type": "number"}, {"name": "_sort", "type": "string"},
                {"name": "_total", "type": "token"}, {"name": "_elements", "type": "string"},
            ],
        }],
    }
