"""The values a template can use, taken from one thread's context.

:func:`build_context` picks, for one thread, the patient's first name, the medication the thread
is about, its pharmacy, the next appointment, the result the thread is about, and the practice's
settings. It never guesses: when the choice is ambiguous (two active medications and neither is
named in the thread) the variable stays missing, with a reason the nurse can act on. A reply
with a wrong medication is worse than a reply that waits for a human.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from triage_tui.domain.models import Appointment, Medication, Message, Observation, Patient
from triage_tui.domain.templates.render import clean_value

__all__ = ["Practice", "TemplateContext", "build_context", "format_date", "format_time"]

INACTIVE_MEDICATION = frozenset({"stopped", "cancelled", "entered-in-error", "completed",
                                 "revoked"})
UPCOMING_APPOINTMENT = frozenset({"booked", "pending", "proposed", "arrived", "checked-in"})
RECENT_RESULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class Practice:
    """Practice settings the templates use (from the practice's config; not patient data)."""

    provider_name: str = ""
    """The provider named in replies ("Dr. Okafor")."""
    clinic_name: str = ""
    clinic_phone: str = ""
    timezone: str = "UTC"
    """IANA zone in which appointment dates and times are written."""

    def tz(self) -> tzinfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return timezone.utc


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """Variable values (plain strings) and, for the ones without a value, why."""

    values: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    language: str = "en"
    patient_name: str = ""  # full name, for the review screen (never rendered by templates)


_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_ES_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_ES_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre")


def format_date(dt: datetime, language: str) -> str:
    """``Tuesday, March 18`` / ``martes 18 de marzo`` (no locale database needed)."""
    if language == "es":
        return f"{_ES_DAYS[dt.weekday()]} {dt.day} de {_ES_MONTHS[dt.month - 1]}"
    return f"{_EN_DAYS[dt.weekday()]}, {_EN_MONTHS[dt.month - 1]} {dt.day}"


def format_time(dt: datetime, language: str) -> str:
    """``9:30 AM`` / ``9:30``."""
    if language == "es":
        return f"{dt.hour}:{dt.minute:02d}"
    hour = dt.hour % 12 or 12
    return f"{hour}:{dt.minute:02d} {'AM' if dt.hour < 12 else 'PM'}"


def _fold(text: str) -> str:
    """Lower case without accents, for matching names in messages."""
    norm = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in norm if not unicodedata.combining(c))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", _fold(text)))


def _mentioned(name: str, words: set[str]) -> bool:
    """A name is mentioned when its first distinctive word (3+ letters) is in the thread."""
    keys = [w for w in re.findall(r"[a-z0-9]+", _fold(name)) if len(w) >= 3 and not w.isdigit()]
    return bool(keys) and keys[0] in words


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def _pick_medication(meds: Sequence[Medication], words: set[str]
                     ) -> tuple[Medication | None, str]:
    active = [m for m in meds if m.name.strip() and m.status not in INACTIVE_MEDICATION]
    if not active:
        return None, "no active medication in the patient's record"
    named = [m for m in active if _mentioned(m.name, words)]
    if len({_fold(m.name) for m in named}) == 1:
        return max(named, key=lambda m: _aware(m.authored) or datetime.min.replace(
            tzinfo=timezone.utc)), ""
    if len(named) > 1:
        return None, f"{len({_fold(m.name) for m in named})} medications named in the thread"
    if len(active) == 1:
        return active[0], ""
    return None, f"{len(active)} active medications, none named in the thread"


def _pick_appointment(appts: Sequence[Appointment], now: datetime) -> Appointment | None:
    future = [a for a in appts if a.start is not None and a.status in UPCOMING_APPOINTMENT
              and _aware(a.start) >= now]  # type: ignore[operator]
    return min(future, key=lambda a: _aware(a.start)) if future else None  # type: ignore


def _pick_result(obs: Sequence[Observation], words: set[str], now: datetime
                 ) -> tuple[Observation | None, str]:
    usable = [o for o in obs if o.name.strip() and o.value.strip()]
    if not usable:
        return None, "no result in the patient's record"

    def latest(items: Iterable[Observation]) -> Observation:
        return max(items, key=lambda o: _aware(o.effective) or datetime.min.replace(
            tzinfo=timezone.utc))

    named = [o for o in usable if _mentioned(o.name, words)]
    if len({_fold(o.name) for o in named}) == 1:
        return latest(named), ""
    if named:
        return None, f"{len({_fold(o.name) for o in named})} results named in the thread"
    recent = [o for o in usable if o.effective is not None
              and _aware(o.effective) >= now - timedelta(days=RECENT_RESULT_DAYS)]
    if len({_fold(o.name) for o in recent}) == 1:
        return latest(recent), ""
    if recent:
        return None, f"{len(recent)} recent results, none named in the thread"
    return None, f"no result in the last {RECENT_RESULT_DAYS} days"


def build_context(
    patient: Patient | None, *, messages: Sequence[Message] = (),
    medications: Sequence[Medication] = (), appointments: Sequence[Appointment] = (),
    observations: Sequence[Observation] = (), practice: Practice = Practice(),
    now: datetime, subject: str = "",
) -> TemplateContext:
    """The variables of one thread. ``messages`` and ``subject`` are searched (patient messages
    only) for the medication or result the thread is about."""
    values: dict[str, str] = {}
    reasons: dict[str, str] = {}
    now = _aware(now)  # type: ignore[assignment]
    language = (patient.language if patient else "en") or "en"
    tz = practice.tz()

    def put(name: str, value: object, reason: str = "") -> None:
        v = clean_value(value)
        if v:
            values[name] = v
        else:
            reasons[name] = reason or "empty in the record"

    if patient is None:
        reasons["patient.first_name"] = "the patient is not in the cache"
    else:
        first = patient.given.split()[0] if patient.given.split() else ""
        put("patient.first_name", first, "the patient's record has no given name")
    text = " ".join([subject, *(m.text for m in messages if m.from_patient)])
    words = _words(text)

    med, why = _pick_medication(medications, words)
    if med is None:
        for n in ("medication.name", "medication.dose"):
            reasons[n] = why
    else:
        put("medication.name", med.name)
        put("medication.dose", med.dose, f"no dose recorded for {clean_value(med.name)}")
    if med is not None:
        put("pharmacy.name", med.pharmacy, f"no pharmacy recorded for {clean_value(med.name)}")
    else:
        pharmacies = {clean_value(m.pharmacy) for m in medications
                      if m.status not in INACTIVE_MEDICATION and clean_value(m.pharmacy)}
        if len(pharmacies) == 1:
            values["pharmacy.name"] = pharmacies.pop()
        else:
            reasons["pharmacy.name"] = (f"{len(pharmacies)} pharmacies on record" if pharmacies
                                        else "no pharmacy on record")

    appt = _pick_appointment(appointments, now)
    if appt is None:
        for n in ("appointment.date", "appointment.time", "appointment.provider"):
            reasons[n] = "no upcoming appointment booked"
    else:
        local = _aware(appt.start).astimezone(tz)  # type: ignore[union-attr]
        values["appointment.date"] = format_date(local, language)
        values["appointment.time"] = format_time(local, language)
        put("appointment.provider", appt.practitioner, "the appointment names no provider")

    result, why = _pick_result(observations, words, now)
    if result is None:
        reasons["result.name"] = reasons["result.value"] = why
    else:
        put("result.name", result.name)
        put("result.value", f"{result.value} {result.unit}".strip())

    put("provider.name", practice.provider_name, "not set in the practice settings")
    put("clinic.name", practice.clinic_name, "not set in the practice settings")
    put("clinic.phone", practice.clinic_phone, "not set in the practice settings")
    return TemplateContext(values, reasons, language,
                           clean_value(patient.display_name) if patient else "")
