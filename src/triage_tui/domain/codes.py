"""Code systems, identifier systems and enumerations shared by client and reference server.

The mapping of the product onto FHIR R4 is described in ``shared/DESIGN.md``. Keep every URL
and code here so that the server, the generator, the sync engine and the UI agree.
"""

from __future__ import annotations

from enum import StrEnum

# Code systems owned by the project (example.org URLs: they name, they are not fetched).
CATEGORY_SYSTEM = "http://triage-tui.example.org/fhir/CodeSystem/triage-category"
POOL_SYSTEM = "http://triage-tui.example.org/fhir/CodeSystem/triage-pool"
BUSINESS_STATUS_SYSTEM = "http://triage-tui.example.org/fhir/CodeSystem/triage-business-status"
# Identifier systems.
MRN_SYSTEM = "http://triage-tui.example.org/fhir/sid/mrn"
CLIENT_MESSAGE_ID_SYSTEM = "urn:triage-tui:client-message-id"
STAFF_ID_SYSTEM = "http://triage-tui.example.org/fhir/sid/staff"
# HL7 systems.
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"


class Category(StrEnum):
    REFILL = "refill"
    APPOINTMENT = "appointment"
    RESULTS = "results"
    CLINICAL = "clinical"
    ADMIN = "admin"


class Priority(StrEnum):
    """FHIR ``request-priority`` codes, in increasing order of urgency."""

    ROUTINE = "routine"
    URGENT = "urgent"
    ASAP = "asap"
    STAT = "stat"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.ROUTINE: 0, Priority.URGENT: 1, Priority.ASAP: 2, Priority.STAT: 3}


class Pool(StrEnum):
    PHARMACY = "pharmacy"
    SCHEDULING = "scheduling"
    NURSING = "nursing"
    PROVIDER = "provider"
    FRONT_DESK = "front-desk"


class BusinessStatus(StrEnum):
    UNASSIGNED = "unassigned"
    CLAIMED = "claimed"
    ESCALATED = "escalated"
    DONE = "done"


class TaskStatus(StrEnum):
    """The subset of FHIR ``task-status`` the workflow uses."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"


# Default routing, category -> pool (the triage rules may override).
DEFAULT_POOL = {
    Category.REFILL: Pool.PHARMACY,
    Category.APPOINTMENT: Pool.SCHEDULING,
    Category.RESULTS: Pool.NURSING,
    Category.CLINICAL: Pool.NURSING,
    Category.ADMIN: Pool.FRONT_DESK,
}
