"""The synthetic practice: deterministic, seeded FHIR R4 demo and test data (issue 2, point 3).

- :func:`generate_practice` yields Patients, Practitioners, PractitionerRoles, context resources
  (MedicationRequest, Appointment, Observation), thread headers, messages and Tasks, following
  the DESIGN.md mapping.
- :func:`generate_practice_with_truth` also returns the ground truth per thread (urgent, negated,
  caregiver, language ...), which is never written into the FHIR.
- :data:`HOSTILE_TEXTS`: texts a terminal UI must render inertly.
- :mod:`triage_tui.server.synth.simulate`: live demo traffic.
"""

from triage_tui.server.synth._common import CATEGORY_MIX, SLA_HOURS, ThreadTruth
from triage_tui.server.synth.hostile import HOSTILE_SUBJECTS, HOSTILE_TEXTS
from triage_tui.server.synth.practice import generate_practice, generate_practice_with_truth

__all__ = [
    "CATEGORY_MIX",
    "HOSTILE_SUBJECTS",
    "HOSTILE_TEXTS",
    "SLA_HOURS",
    "ThreadTruth",
    "generate_practice",
    "generate_practice_with_truth",
]
