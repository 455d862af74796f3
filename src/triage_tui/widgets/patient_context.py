"""The patient banner and the context a thread's kind needs (refills: medications and pharmacy;
appointments: upcoming visits; results: values with reference ranges)."""

from __future__ import annotations

from datetime import date, datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text

from triage_tui.cache.api import PatientContext
from triage_tui.domain.models import Observation, Patient
from triage_tui.widgets.glyphs import Glyphs
from triage_tui.widgets.text import patient_text

LANGUAGES = {"en": "English", "es": "Spanish", "fr": "French", "vi": "Vietnamese",
             "zh": "Chinese", "pt": "Portuguese", "ar": "Arabic", "ru": "Russian"}

# Which sections a thread's category shows, in order.
SECTIONS = {
    "refill": ("medications", "results", "appointments"),
    "appointment": ("appointments", "medications"),
    "results": ("results", "appointments", "medications"),
    "clinical": ("medications", "results", "appointments"),
    "admin": ("appointments",),
    None: ("medications", "results", "appointments"),
}


def age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def banner(patient: Patient | None, today: date) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    if patient is None:
        t.append("Unknown patient", style="bold")
        return t
    t.append_text(patient_text(patient.display_name))
    t.stylize("bold")
    if patient.birth_date:
        t.append(f"  {age(patient.birth_date, today)}y  DOB {patient.birth_date.isoformat()}")
    t.append(f"  MRN {patient.mrn or '-'}")
    lang = patient.language or "en"
    t.append("  Lang ")
    t.append(LANGUAGES.get(lang, lang), style="bold" if lang != "en" else "")
    return t


def _flag(ob: Observation, glyphs: Glyphs) -> str:
    if ob.interpretation in ("H", "HH", "L", "LL", "A", "AA"):
        return f"{glyphs.urgent}{ob.interpretation}"
    return ""


def _range(ob: Observation) -> str:
    lo, hi = ob.reference_low, ob.reference_high
    if lo is None and hi is None:
        return ""
    if lo is None:
        return f"<{hi:g}"
    if hi is None:
        return f">{lo:g}"
    return f"{lo:g}-{hi:g}"


def context_view(ctx: PatientContext, category: str | None, now: datetime,
                 glyphs: Glyphs) -> Group:
    parts: list = []
    for section in SECTIONS.get(category, SECTIONS[None]):
        if section == "medications":
            meds = [m for m in ctx.medications if m.status == "active"]
            parts.append(Text("Active medications", style="bold underline"))
            if not meds:
                parts.append(Text("  none on file", style="dim"))
            for m in meds:
                line = Text("  ")
                line.append_text(patient_text(f"{m.name} {m.dose}".strip()))
                if m.refills_remaining is not None:
                    line.append(f"  refills {m.refills_remaining}",
                                style="bold" if m.refills_remaining == 0 else "")
                parts.append(line)
            pharmacies = sorted({m.pharmacy for m in meds if m.pharmacy})
            for ph in pharmacies:
                line = Text("  Pharmacy: ", style="bold")
                line.append_text(patient_text(ph))
                parts.append(line)
        elif section == "appointments":
            upcoming = sorted((a for a in ctx.appointments if a.start and a.start >= now
                               and a.status not in ("cancelled", "noshow")), key=lambda a: a.start)
            parts.append(Text("Upcoming appointments", style="bold underline"))
            if not upcoming:
                parts.append(Text("  none booked", style="dim"))
            for a in upcoming[:5]:
                line = Text(f"  {a.start:%a %Y-%m-%d %H:%M}  ")
                line.append_text(patient_text(" ".join(x for x in (a.description, a.practitioner)
                                                       if x)))
                parts.append(line)
        elif section == "results":
            recent = sorted(ctx.observations, key=lambda o: o.effective or now, reverse=True)[:8]
            parts.append(Text("Recent results", style="bold underline"))
            if not recent:
                parts.append(Text("  none on file", style="dim"))
            else:
                table = Table.grid(padding=(0, 1))
                for _ in range(5):
                    table.add_column()
                for o in recent:
                    table.add_row(Text(" "), patient_text(o.name),
                                  Text(f"{o.value} {o.unit}".strip(), style="bold" if
                                       _flag(o, glyphs) else ""),
                                  Text(_range(o), style="dim"), Text(_flag(o, glyphs),
                                                                     style="bold"))
                parts.append(table)
        parts.append(Text(""))
    return Group(*parts)
