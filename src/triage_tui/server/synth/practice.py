"""The synthetic practice: patients, staff, context resources, threads, messages and Tasks.

Output is a deterministic function of ``(seed, n_threads, now)``: every random choice comes
from ``random.Random`` instances seeded from ``seed`` (one for content, one for ids), every
time is an offset from ``now``. Ground truth about each thread (urgent or not, negated alarm,
caregiver, language ...) is returned next to the FHIR, never inside it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from triage_tui.domain.codes import (
    STAFF_ID_SYSTEM,
    BusinessStatus,
    Category,
    Pool,
    Priority,
    TaskStatus,
)
from triage_tui.server.synth import _common as C
from triage_tui.server.synth import phrases as P
from triage_tui.server.synth.hostile import HOSTILE_SUBJECTS, HOSTILE_TEXTS
from triage_tui.server.synth.people import (
    PatientInfo,
    birth_date,
    fmt_dob,
    name_pools,
    patient_resource,
    phone,
)

URGENT_RATE = 0.035  # truly urgent threads (infants: much higher, see _plan_thread)
MULTI_INTENT_RATE = 0.12
NEGATION_RATE = 0.05
HISTORY_RATE = 0.03
SPANISH_SHARE = 0.10
HOSTILE_RATE = 0.012  # share of patient messages carrying a hostile text
CLOSED_RATE = 0.40

STAFF_PLAN: tuple[tuple[Pool, int], ...] = (
    (Pool.PHARMACY, 2),
    (Pool.SCHEDULING, 2),
    (Pool.NURSING, 4),
    (Pool.PROVIDER, 3),
    (Pool.FRONT_DESK, 2),
)
_SIG = {
    Pool.PHARMACY: "- {given}, PharmD",
    Pool.SCHEDULING: "- {given} (scheduling)",
    Pool.NURSING: "- {given}, RN",
    Pool.PROVIDER: "- Dr. {family}",
    Pool.FRONT_DESK: "- {given} at the front desk",
}
_SIG_ES = {
    **_SIG,
    Pool.SCHEDULING: "- {given} (citas)",
    Pool.FRONT_DESK: "- {given} (recepción)",
    Pool.NURSING: "- {given}, enfermería",
}


# Open threads: a practice that keeps its response-time commitment most of the time.
OPEN_OVERDUE_RATE = 0.15
"""Share of open threads past their due time (a flag that means something when it shows)."""
OPEN_DUE_SOON_RATE = 0.15
"""Share of open threads due within DUE_SOON_HOURS (the inbox's "due soon" marker)."""
DUE_SOON_HOURS = 4.0


def open_standings(rng: random.Random, block: int = 20) -> list[str]:
    """One shuffled block of standings for the next open threads: ``overdue``, ``soon`` (due
    within DUE_SOON_HOURS) or ``ok``, in the rates above. Drawn block by block, so any seed and
    size gets close to those rates (independent draws wandered to 24% overdue)."""
    n_over = round(block * OPEN_OVERDUE_RATE)
    n_soon = round(block * OPEN_DUE_SOON_RATE)
    out = ["overdue"] * n_over + ["soon"] * n_soon + ["ok"] * (block - n_over - n_soon)
    rng.shuffle(out)
    return out


def open_age_hours(rng: random.Random, sla_hours: float, standing: str) -> float:
    """Age of an open thread's first message, from where it stands against its due time:
    overdue by up to half the commitment, due soon, or comfortably within it."""
    soon = min(DUE_SOON_HOURS, sla_hours)  # a 2-hour commitment is "due soon" from the start
    if standing == "overdue":
        return sla_hours + rng.uniform(0.05, 0.5) * sla_hours
    if standing == "soon" or soon >= sla_hours:
        return max(0.1, sla_hours - rng.uniform(0.05, 0.95) * soon)
    return rng.uniform(0.1, sla_hours - soon)


@dataclass(slots=True)
class Staff:
    id: str
    given: str
    family: str
    gender: str
    pool: Pool
    role_id: str = ""

    @property
    def display(self) -> str:
        return (
            f"Dr. {self.given} {self.family}"
            if self.pool is Pool.PROVIDER
            else f"{self.given} {self.family}"
        )

    def ref(self) -> dict:
        return C.ref("Practitioner", self.id, self.display)

    def sig(self, lang: str) -> str:
        return (_SIG_ES if lang == "es" else _SIG)[self.pool].format(
            given=self.given, family=self.family
        )


def practitioner_resource(s: Staff, index: int) -> dict:
    name: dict = {"use": "official", "family": s.family, "given": [s.given]}
    if s.pool is Pool.PROVIDER:
        name["prefix"] = ["Dr."]
        name["suffix"] = ["MD"]
    elif s.pool is Pool.NURSING:
        name["suffix"] = ["RN"]
    return {
        "resourceType": "Practitioner",
        "id": s.id,
        "identifier": [{"system": STAFF_ID_SYSTEM, "value": f"S{1001 + index}"}],
        "active": True,
        "name": [name],
        "gender": s.gender,
    }


def role_resource(s: Staff) -> dict:
    return {
        "resourceType": "PractitionerRole",
        "id": s.role_id,
        "active": True,
        "practitioner": s.ref(),
        "code": [{"coding": [C.pool_coding(s.pool)], "text": C.POOL_DISPLAY[s.pool]}],
    }


# --------------------------------------------------------------------------------------------
# Context for the templates
# --------------------------------------------------------------------------------------------

_REL = {
    # (group, patient gender) -> (en relation, es relation)
    ("infant", "female"): (("baby", "daughter", "baby girl"), ("bebé", "hija")),
    ("infant", "male"): (("baby", "son", "baby boy"), ("bebé", "hijo")),
    ("child", "female"): (("daughter",), ("hija",)),
    ("child", "male"): (("son",), ("hijo",)),
    ("elderly", "female"): (("mom", "mother", "grandma"), ("mamá", "abuela")),
    ("elderly", "male"): (("dad", "father", "grandpa"), ("papá", "abuelo")),
    ("adult", "female"): (("wife",), ("esposa",)),
    ("adult", "male"): (("husband",), ("esposo",)),
}
_WRITER_EN = {
    "baby": ("mom", "dad"),
    "daughter": ("mom", "dad"),
    "son": ("mom", "dad"),
    "baby girl": ("mom", "dad"),
    "baby boy": ("mom", "dad"),
    "mom": ("daughter", "son"),
    "mother": ("daughter", "son"),
    "dad": ("daughter", "son"),
    "father": ("daughter", "son"),
    "grandma": ("granddaughter", "grandson"),
    "grandpa": ("granddaughter", "grandson"),
    "wife": ("wife", "husband"),
    "husband": ("wife", "husband"),
}
_WRITER_ES = {
    "bebé": ("la mamá", "el papá"),
    "hija": ("la mamá", "el papá"),
    "hijo": ("la mamá", "el papá"),
    "mamá": ("la hija", "el hijo"),
    "papá": ("la hija", "el hijo"),
    "abuela": ("la nieta", "el nieto"),
    "abuelo": ("la nieta", "el nieto"),
    "esposa": ("la esposa", "el esposo"),
    "esposo": ("la esposa", "el esposo"),
}


def _fmt_slot(dt: datetime, lang: str) -> str:
    if lang == "es":
        return f"el {P.WEEKDAYS_ES[dt.weekday()]} {dt.day} a las {dt.hour}:{dt.minute:02d}"
    h12 = dt.hour % 12 or 12
    ampm = "am" if dt.hour < 12 else "pm"
    return f"{P.WEEKDAYS_EN[dt.weekday()]} {dt.month}/{dt.day} at {h12}:{dt.minute:02d} {ampm}"


def _ordinal(n: int) -> str:
    suf = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suf}"


def appt_when_text(rng: random.Random, start: datetime, lang: str) -> str:
    if lang == "es":
        return rng.choice(
            (
                f"del {P.WEEKDAYS_ES[start.weekday()]} {start.day}",
                f"del {start.day}/{start.month}",
                "de la próxima semana",
            )
        )
    wd = P.WEEKDAYS_EN[start.weekday()]
    return rng.choice(
        (
            f"on {wd} the {_ordinal(start.day)}",
            f"on {start.month}/{start.day}",
            f"on {wd}",
            f"this {wd}",
            f"on the {_ordinal(start.day)}",
            f"next {wd}",
        )
    )


def base_context(
    rng: random.Random,
    p: PatientInfo,
    *,
    lang: str,
    caregiver: bool,
    doc: str,
    now: datetime,
    pools: dict,
) -> dict[str, str]:
    """Every token a template may use, with plausible random fillers; callers override the
    ones backed by real resources (med, appointment, lab)."""
    today = now.date()
    group = p.group(today)
    rels_en, rels_es = _REL[(group, p.gender)]
    writer_female = rng.random() < 0.7
    if lang == "es":
        rel = rng.choice(rels_es)
        writer = _WRITER_ES[rel][0 if writer_female else 1]
    else:
        rel = rng.choice(rels_en)
        writer = _WRITER_EN[rel][0 if writer_female else 1]
    np_ = pools[lang]
    cg = rng.choice(np_.first_female if writer_female else np_.first_male)
    med = rng.choice(P.MEDS)
    lab = rng.choice(P.LABS)
    slot = now + timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 8))
    slot = slot.replace(
        hour=rng.choice((8, 9, 10, 11, 13, 14, 15, 16)), minute=rng.choice((0, 15, 30, 45))
    )
    slot2 = slot + timedelta(days=rng.randint(1, 3), hours=rng.choice((-2, 1, 2)))
    temp_c = rng.uniform(38.4, 40.2)
    ctx: dict[str, str] = dict(P.person(lang, caregiver, p.gender))
    ctx.update(
        pfirst=p.given,
        plast=p.family,
        pinit=p.family[:1],
        doc=doc,
        cg=cg,
        rel=rel,
        writer=writer,
        rel2=rng.choice(("sister", "wife", "daughter", "cousin")),
        dob=fmt_dob(p.birth, lang),
        phone=p.phone or "555-0100",
        med=med.plain_es if lang == "es" else med.plain_en,
        medname=med.es if lang == "es" else med.generic,
        rxname=med.es if lang == "es" else med.generic,
        dose=med.strength,
        pharm=p.pharmacy or rng.choice(P.PHARMACIES),
        n=str(rng.randint(1, 6)),
        when_past=rng.choice(P.WHEN_PAST),
        appt_when=appt_when_text(rng, slot, lang),
        condition=rng.choice(P.CONDITIONS),
        lab=lab.plain_es if lang == "es" else lab.plain_en,
        labname=lab.name,
        flag="",
        value="",
        unit=lab.unit,
        interp="",
        date=(now - timedelta(days=rng.randint(2, 40))).strftime("%m/%d"),
        dur=rng.choice(P.DURATIONS[lang]),
        bodypart=rng.choice(P.BODYPARTS[lang]),
        bp=f"{rng.randint(128, 168)}/{rng.randint(78, 99)}",
        sugar=str(rng.randint(130, 240)),
        amount=str(rng.randint(40, 900)),
        newmed=rng.choice(P.NEW_MEDS_ES if lang == "es" else P.NEW_MEDS_EN),
        time=rng.choice(P.ONSET_TIMES),
        weeks=str(max(1, p.age_days(today) // 7)),
        temp_f=f"{temp_c * 9 / 5 + 32:.1f}",
        temp_c=f"{temp_c:.1f}",
        young="1" if group in ("infant", "child") else "",
        year=str(today.year - rng.randint(1, 8)),
        slot=_fmt_slot(slot, lang),
        slot2=_fmt_slot(slot2, lang),
        repeats=str(rng.randint(1, 3)),
        sig="",
    )
    return ctx


def patient_text_for(rng: random.Random, p: PatientInfo, med: P.Med, lang: str) -> str:
    """How this patient names a medication: colloquial, generic, or misspelled."""
    r = rng.random()
    if lang == "es":
        return med.plain_es if r < 0.4 else med.es
    if r < 0.3:
        return med.plain_en
    if r < 0.45 and med.misspelled:
        return rng.choice(med.misspelled)
    return med.generic


def pick_urgent_kind(rng: random.Random, group: str, age_days: int) -> str:
    if group == "infant":
        return "infant_fever" if rng.random() < 0.8 else "breathing"
    if group == "child":
        kinds = ["breathing", "anaphylaxis"] + (["suicidal"] if age_days >= 12 * 365 else [])
        return rng.choice(kinds)
    return rng.choice(
        ("chest_pain", "chest_pain", "breathing", "anaphylaxis", "suicidal", "stroke", "stroke")
    )


class HostileDeck:
    """Deterministic dealer of hostile texts: cycles through the list so all of them show up."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        self.rng, self.rate, self.i, self.j = rng, rate, 0, 0

    def maybe(self, text: str) -> tuple[str, bool]:
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return text, False
        h = HOSTILE_TEXTS[self.i % len(HOSTILE_TEXTS)]
        self.i += 1
        r = self.rng.random()
        if r < 0.4 or len(h) > 1000:
            return h, True
        return (f"{text} {h}" if r < 0.7 else f"{h}\n{text}"), True

    def subject(self, subject: str) -> str:
        if self.rate <= 0 or self.rng.random() >= 0.3:
            return subject
        s = HOSTILE_SUBJECTS[self.j % len(HOSTILE_SUBJECTS)]
        self.j += 1
        return s


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class _Practice:
    def __init__(self, seed: int, n_threads: int, now: datetime, hostile: bool) -> None:
        if n_threads < 0:
            raise ValueError("n_threads must be >= 0")
        self.seed, self.n_threads, self.now = seed, n_threads, now
        self.today: date = now.date()
        self.rng = random.Random(seed)
        self.idrng = random.Random(f"triage-tui/synth/ids/{seed}")
        self.pools = name_pools(seed)
        self.deck = HostileDeck(
            random.Random(f"triage-tui/synth/hostile/{seed}"), HOSTILE_RATE if hostile else 0.0
        )
        self.duerng = random.Random(f"triage-tui/synth/due/{seed}")  # open threads' ages
        self.standings: list[str] = []  # open threads against their due time (open_standings)
        self.out: dict[str, list[dict]] = {
            k: []
            for k in (
                "Patient",
                "Practitioner",
                "PractitionerRole",
                "MedicationRequest",
                "Appointment",
                "Observation",
                "header",
                "message",
                "Task",
            )
        }
        self.truth: dict[str, C.ThreadTruth] = {}

    def nid(self) -> str:
        return C.new_id(self.idrng)

    # -- people ------------------------------------------------------------------------------
    def make_staff(self) -> None:
        rng, en = self.rng, self.pools["en"]
        self.staff: list[Staff] = []
        self.by_pool: dict[Pool, list[Staff]] = {}
        for pool, count in STAFF_PLAN:
            for _ in range(count):
                female = rng.random() < 0.6
                npool = self.pools["es"] if rng.random() < 0.15 else en
                s = Staff(
                    id=self.nid(),
                    given=rng.choice(npool.first_female if female else npool.first_male),
                    family=rng.choice(npool.last),
                    gender="female" if female else "male",
                    pool=pool,
                )
                s.role_id = self.nid()
                self.staff.append(s)
                self.by_pool.setdefault(pool, []).append(s)
        for i, s in enumerate(self.staff):
            self.out["Practitioner"].append(practitioner_resource(s, i))
        for s in self.staff:
            self.out["PractitionerRole"].append(role_resource(s))

    def make_patients(self) -> None:
        rng = self.rng
        n = max(1, round(self.n_threads / 3)) if self.n_threads else 0
        spanish = set(rng.sample(range(n), round(n * SPANISH_SHARE))) if n else set()
        mrns = rng.sample(range(10_000_000, 100_000_000), n)
        providers = self.by_pool[Pool.PROVIDER]
        self.patients: list[PatientInfo] = []
        for i in range(n):
            lang = "es" if i in spanish else "en"
            pool = self.pools[lang]
            female = rng.random() < 0.54
            pcp = rng.choice(providers)
            p = PatientInfo(
                id=self.nid(),
                given=rng.choice(pool.first_female if female else pool.first_male),
                family=rng.choice(pool.last)
                + (f"-{rng.choice(pool.last)}" if lang == "es" and rng.random() < 0.2 else ""),
                gender="female" if female else "male",
                birth=birth_date(rng, self.today),
                lang=lang,
                phone=phone(rng),
                mrn=str(mrns[i]),
                pcp_id=pcp.id,
                pcp_family=pcp.family,
                pharmacy=rng.choice(P.PHARMACIES),
            )
            self.patients.append(p)
            self.out["Patient"].append(patient_resource(p))
        self.staff_by_id = {s.id: s for s in self.staff}

    # -- context resources ---------------------------------------------------------------------
    def medication(self, p: PatientInfo) -> tuple[str, P.Med, int]:
        """One of the patient's MedicationRequests (created on first need, with siblings)."""
        rng = self.rng
        if not p.meds:
            group = p.group(self.today)
            choices = [m for m in P.MEDS if m.child_ok] if group in ("infant", "child") else P.MEDS
            for med in rng.sample(choices, rng.randint(1, 3)):
                mid, repeats = self.nid(), rng.choice((0, 0, 1, 2, 3, 5, 11))
                authored = self.now - timedelta(
                    days=rng.randint(20, 400), minutes=rng.randint(0, 1440)
                )
                self.out["MedicationRequest"].append(
                    {
                        "resourceType": "MedicationRequest",
                        "id": mid,
                        "status": "active",
                        "intent": "order",
                        "medicationCodeableConcept": {
                            "text": f"{med.generic} {med.strength} {med.form}"
                        },
                        "subject": C.ref("Patient", p.id, p.name),
                        "authoredOn": C.ts(authored),
                        "requester": C.ref("Practitioner", p.pcp_id, f"Dr. {p.pcp_family}"),
                        "dosageInstruction": [{"text": med.sig}],
                        "dispenseRequest": {
                            "numberOfRepeatsAllowed": repeats,
                            "performer": {"display": p.pharmacy},
                        },
                        "note": [{"text": f"Preferred pharmacy: {p.pharmacy}"}],
                    }
                )
                p.meds.append((mid, med, repeats))
        return rng.choice(p.meds)

    def appointment(self, p: PatientInfo) -> tuple[str, datetime]:
        rng = self.rng
        day = self.now + timedelta(days=rng.randint(1, 30))
        start = day.replace(hour=rng.randint(13, 21), minute=rng.choice((0, 15, 30, 45)), second=0)
        minutes = rng.choice((20, 30, 30, 40, 60))
        group = p.group(self.today)
        reasons = (
            P.APPOINTMENT_REASONS_CHILD if group in ("infant", "child") else P.APPOINTMENT_REASONS
        )
        aid = self.nid()
        doc = (
            self.staff_by_id[p.pcp_id]
            if rng.random() < 0.8
            else rng.choice(self.by_pool[Pool.PROVIDER])
        )
        self.out["Appointment"].append(
            {
                "resourceType": "Appointment",
                "id": aid,
                "status": "booked",
                "description": rng.choice(reasons),
                "start": C.ts(start),
                "end": C.ts(start + timedelta(minutes=minutes)),
                "minutesDuration": minutes,
                "created": C.ts(self.now - timedelta(days=rng.randint(1, 60))),
                "participant": [
                    {
                        "actor": C.ref("Patient", p.id, p.name),
                        "required": "required",
                        "status": "accepted",
                    },
                    {"actor": doc.ref(), "required": "required", "status": "accepted"},
                ],
            }
        )
        return aid, start

    def observations(self, p: PatientInfo, before: datetime) -> list[tuple[str, P.Lab, float, str]]:
        rng = self.rng
        out = []
        effective = before - timedelta(days=rng.randint(1, 7), minutes=rng.randint(0, 600))
        for lab in rng.sample(P.LABS, rng.choice((1, 1, 2, 3))):
            r = rng.random()
            span = lab.high - lab.low
            if r < 0.35:
                interp, v = "H", lab.high + rng.uniform(0.05, 0.6) * span
            elif r < 0.45 and lab.low > 0:
                interp, v = "L", max(lab.low - rng.uniform(0.05, 0.3) * span, lab.low / 4)
            else:
                interp, v = "N", rng.uniform(lab.low, lab.high)
            value: float = round(v, lab.decimals) if lab.decimals else int(round(v))
            oid = self.nid()
            self.out["Observation"].append(
                {
                    "resourceType": "Observation",
                    "id": oid,
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "laboratory",
                                    "display": "Laboratory",
                                }
                            ]
                        }
                    ],
                    "code": {"text": lab.name},
                    "subject": C.ref("Patient", p.id, p.name),
                    "effectiveDateTime": C.ts(effective),
                    "issued": C.ts(effective + timedelta(hours=rng.randint(4, 30))),
                    "valueQuantity": {
                        "value": value,
                        "unit": lab.unit,
                        "system": "http://unitsofmeasure.org",
                        "code": lab.unit,
                    },
                    "interpretation": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                                    "code": interp,
                                    "display": {"H": "High", "L": "Low", "N": "Normal"}[interp],
                                }
                            ]
                        }
                    ],
                    "referenceRange": [
                        {
                            "low": {
                                "value": lab.low,
                                "unit": lab.unit,
                                "system": "http://unitsofmeasure.org",
                                "code": lab.unit,
                            },
                            "high": {
                                "value": lab.high,
                                "unit": lab.unit,
                                "system": "http://unitsofmeasure.org",
                                "code": lab.unit,
                            },
                        }
                    ],
                }
            )
            out.append((oid, lab, value, interp))
        return out

    # -- threads -------------------------------------------------------------------------------
    def categories(self) -> list[Category]:
        counts = C.weighted_counts(self.n_threads, C.CATEGORY_MIX)
        cats = [c for c, k in counts.items() for _ in range(k)]
        self.rng.shuffle(cats)
        return cats

    def assign_patients(self, cats: list[Category]) -> list[PatientInfo]:
        rng, pts = self.rng, self.patients
        order = pts[:]
        rng.shuffle(order)
        chosen = [order[i] if i < len(order) else rng.choice(pts) for i in range(len(cats))]
        for i, cat in enumerate(cats):  # no refill threads for babies
            tries = 0
            while cat is Category.REFILL and chosen[i].group(self.today) == "infant" and tries < 20:
                chosen[i] = rng.choice(pts)
                tries += 1
        return chosen

    def thread(self, cat: Category, p: PatientInfo) -> None:
        rng, now, lang = self.rng, self.now, p.lang
        group = p.group(self.today)
        urgent = rng.random() < (0.3 if group == "infant" else URGENT_RATE)
        kind = pick_urgent_kind(rng, group, p.age_days(self.today)) if urgent else None
        extra = None
        if rng.random() < MULTI_INTENT_RATE:
            if cat is Category.REFILL and rng.random() < 0.6:
                extra = Category.APPOINTMENT
            elif cat is Category.APPOINTMENT and rng.random() < 0.5:
                extra = Category.REFILL
            else:
                extra = rng.choice([c for c in Category if c is not cat])
            if group == "infant" and extra is Category.REFILL:
                extra = None
        negated = not urgent and rng.random() < NEGATION_RATE
        history = not urgent and rng.random() < HISTORY_RATE
        caregiver = (
            group in ("infant", "child")
            or (group == "elderly" and rng.random() < 0.35)
            or (group == "adult" and rng.random() < 0.03)
        )
        if urgent:
            priority = (
                rng.choice((Priority.URGENT, Priority.ASAP, Priority.STAT))
                if rng.random() < 0.5
                else Priority.ROUTINE
            )
        else:
            r = rng.random()
            priority = (
                Priority.URGENT if r < 0.04 else Priority.ASAP if r < 0.05 else Priority.ROUTINE
            )
        closed = rng.random() < (0.2 if urgent else CLOSED_RATE)
        if closed:
            start = now - timedelta(days=rng.uniform(2, 60))
        else:
            # The draw the age used to be: kept so that every later choice of the content rng
            # (texts, people; tests/triage fingerprints them) stays what it was.
            rng.uniform(0.1, 14 if urgent else 96)
            if not self.standings:
                self.standings = open_standings(self.duerng)
            hours = open_age_hours(self.duerng, C.sla_hours(cat, priority), self.standings.pop())
            start = now - timedelta(hours=hours)
        start = start.replace(microsecond=0)

        doc = p.pcp_family
        ctx = base_context(
            rng, p, lang=lang, caregiver=caregiver, doc=doc, now=now, pools=self.pools
        )
        med_id = appt_id = None
        obs_ids: tuple[str, ...] = ()
        has_appt = has_obs = False
        if (
            cat is Category.REFILL
            or extra is Category.REFILL
            or (cat is Category.CLINICAL and rng.random() < 0.3)
        ):
            if group != "infant":
                med_id, med, repeats = self.medication(p)
                rx = med.es if lang == "es" else med.generic
                ctx.update(
                    med=patient_text_for(rng, p, med, lang),
                    dose=med.strength,
                    medname=rx,
                    rxname=rx,
                    repeats=str(max(repeats, 1)),
                )
                if rng.random() < 0.5:
                    ctx["medname"] = patient_text_for(rng, p, med, lang)
        if cat is Category.APPOINTMENT and rng.random() < 0.65:
            appt_id, astart = self.appointment(p)
            ctx["appt_when"] = appt_when_text(rng, astart, lang)
            has_appt = True
        if cat is Category.RESULTS and rng.random() < 0.85:
            obs = self.observations(p, start)
            obs_ids = tuple(o[0] for o in obs)
            _, lab, value, interp = obs[0]
            ctx.update(
                lab=lab.plain_es if lang == "es" else lab.plain_en,
                labname=lab.name,
                value=str(value),
                unit=lab.unit,
                flag=P.FLAG_WORDS[lang][interp],
                interp=P.INTERP_WORDS[lang][interp],
            )
            has_obs = True
        if not ctx["interp"]:
            ctx["interp"] = P.INTERP_WORDS[lang]["N"]

        first = P.first_message(
            rng,
            lang,
            ctx,
            cat,
            extra=extra,
            urgent_kind=kind,
            negation=negated,
            history=history,
            caregiver=caregiver,
            has_appt=has_appt,
            has_obs=has_obs,
        )

        # Shape of the conversation.
        r = rng.random()
        if closed:
            shape = "PS" if r < 0.7 else "PSP" if r < 0.9 else "PSPS"
        elif urgent:
            shape = "P" if r < 0.7 else "PP"
        else:
            shape = "P" if r < 0.55 else "PP" if r < 0.7 else "PSP"

        pool = C.pool_for(cat, priority)
        replier = rng.choice(self.by_pool[pool])
        ctx["sig"] = replier.sig(lang)
        span = (now - start).total_seconds()
        gaps = sorted(rng.uniform(0.05, 0.95) for _ in range(len(shape) - 1))
        if closed:
            times = [
                start + timedelta(seconds=rng.uniform(600, 20 * 3600) * (k + 1) / len(shape))
                for k in range(len(shape) - 1)
            ]
            times = sorted(times)
        else:
            times = [start + timedelta(seconds=g * span) for g in gaps]
        times = [start] + [t.replace(microsecond=0) for t in times]

        hid, tid = self.nid(), self.nid()
        patient_ref = C.ref("Patient", p.id, p.name)
        pcp_ref = C.ref("Practitioner", p.pcp_id, f"Dr. {p.pcp_family}")
        hostile_any = False
        msg_ids: list[str] = []
        prev_id: str | None = None
        prev_sender = None
        staff_turns = shape.count("S")
        s_seen = 0
        for k, who in enumerate(shape):
            mid = self.nid()
            if who == "P":
                if k == 0:
                    text = first.text
                elif prev_sender == "S":
                    text = P.later_patient_message(
                        rng, lang, ctx, "thanks" if closed and k == len(shape) - 1 else "followup"
                    )
                else:
                    text = P.later_patient_message(
                        rng, lang, ctx, "nudge_urgent" if urgent else "nudge"
                    )
                text, h = self.deck.maybe(text)
                hostile_any |= h
                sender, recipient = patient_ref, pcp_ref
                irt = prev_id if prev_sender == "S" else None
            else:
                s_seen += 1
                final = closed and s_seen == staff_turns
                text = P.staff_message(
                    rng, lang, ctx, cat, closing=final, urgent_kind=kind if final else None
                )
                sender, recipient = replier.ref(), patient_ref
                irt = prev_id
            self.out["message"].append(
                C.message(
                    mid,
                    header_id=hid,
                    patient_id=p.id,
                    patient_name=p.name,
                    category=cat,
                    text=text,
                    sender=sender,
                    recipient=recipient,
                    sent=times[k],
                    in_response_to=irt,
                )
            )
            msg_ids.append(mid)
            prev_id, prev_sender = mid, who

        subject = first.subject
        if hostile_any:
            subject = self.deck.subject(subject)
        self.out["header"].append(
            C.header(
                hid,
                patient_id=p.id,
                patient_name=p.name,
                subject_line=subject,
                category=cat,
                priority=priority,
                sent=start,
                closed=closed,
                recipient=pcp_ref,
            )
        )

        # Workflow.
        owner = None
        if closed:
            status, bstatus, owner = TaskStatus.COMPLETED, BusinessStatus.DONE, replier
        elif "S" in shape:
            status, bstatus, owner = TaskStatus.ACCEPTED, BusinessStatus.CLAIMED, replier
        else:
            r = rng.random()
            if r < 0.6:
                status, bstatus = TaskStatus.REQUESTED, BusinessStatus.UNASSIGNED
            elif r < 0.92:
                status, bstatus = TaskStatus.ACCEPTED, BusinessStatus.CLAIMED
                owner = rng.choice(self.by_pool[pool])
            else:
                status, bstatus, pool = (
                    TaskStatus.REQUESTED,
                    BusinessStatus.ESCALATED,
                    Pool.PROVIDER,
                )
        self.out["Task"].append(
            C.task(
                tid,
                header_id=hid,
                patient_id=p.id,
                patient_name=p.name,
                pool=pool,
                status=status,
                business_status=bstatus,
                priority=priority,
                authored=start,
                last_modified=times[-1],
                due=C.due_for(start, cat, priority),
                owner=owner.ref() if owner else None,
                description=f"Respond to patient message: {C.CATEGORY_DISPLAY[cat].lower()}",
            )
        )

        self.truth[hid] = C.ThreadTruth(
            thread_id=hid,
            task_id=tid,
            patient_id=p.id,
            category=cat,
            intents=(cat,) + ((extra,) if extra else ()),
            language=lang,
            urgent=urgent,
            urgent_kind=kind,
            urgent_keyword=first.urgent_keyword,
            negated=negated,
            history=history,
            caregiver=caregiver,
            priority=priority,
            closed=closed,
            hostile=hostile_any,
            typo=first.typo,
            message_ids=tuple(msg_ids),
            medication_id=med_id,
            appointment_id=appt_id,
            observation_ids=obs_ids,
        )

    def run(self) -> None:
        self.make_staff()
        self.make_patients()
        cats = self.categories()
        for cat, p in zip(cats, self.assign_patients(cats), strict=True):
            self.thread(cat, p)

    def resources(self) -> Iterator[dict]:
        for key in (
            "Patient",
            "Practitioner",
            "PractitionerRole",
            "MedicationRequest",
            "Appointment",
            "Observation",
            "header",
            "message",
            "Task",
        ):
            yield from self.out[key]


def generate_practice_with_truth(
    seed: int, n_threads: int, now: datetime | None = None, *, hostile: bool = True
) -> tuple[list[dict], dict[str, C.ThreadTruth]]:
    """The practice as a list of FHIR R4 resources (dependency order) and the ground truth per
    thread, keyed by header Communication id."""
    g = _Practice(seed, n_threads, C.as_utc(now), hostile)
    g.run()
    return list(g.resources()), g.truth


def generate_practice(
    seed: int, n_threads: int, now: datetime | None = None, *, hostile: bool = True
) -> Iterator[dict]:
    """Yield the synthetic practice as FHIR R4 resource dicts, in dependency order:
    Patients, Practitioners, PractitionerRoles, MedicationRequests, Appointments, Observations,
    thread-header Communications, message Communications, Tasks.

    Deterministic: the same ``seed``, ``n_threads`` and ``now`` give identical output. ``now``
    defaults to the current UTC time rounded down to the minute. ``hostile=False`` leaves out
    the hostile texts (markup, escapes, control characters ...)."""
    resources, _ = generate_practice_with_truth(seed, n_threads, now, hostile=hostile)
    yield from resources
