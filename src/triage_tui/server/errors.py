"""FHIR errors: an exception that carries an HTTP status and becomes an OperationOutcome."""

from __future__ import annotations

from typing import Any


class FhirError(Exception):
    """A request the server refuses. ``code`` is a FHIR ``issue-type`` code."""

    def __init__(
        self,
        status: int,
        diagnostics: str,
        *,
        code: str = "invalid",
        severity: str = "error",
        expression: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code
        self.severity = severity
        self.expression = expression
        self.headers = headers or {}

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.diagnostics, code=self.code, severity=self.severity,
                                 expression=self.expression)


def operation_outcome(
    diagnostics: str, *, code: str = "informational", severity: str = "information",
    expression: str | None = None,
) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def bad_request(msg: str, **kw: Any) -> FhirError:
    return FhirError(400, msg, **kw)


def unprocessable(msg: str, **kw: Any) -> FhirError:
    kw.setdefault("code", "invalid")
    return FhirError(422, msg, **kw)


def not_found(msg: str) -> FhirError:
    return FhirError(404, msg, code="not-found")


def gone(msg: str) -> FhirError:
    return FhirError(410, msg, code="deleted")


def precondition_failed(msg: str) -> FhirError:
    return FhirError(412, msg, code="conflict")
