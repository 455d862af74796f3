"""Names and patient facts: Faker is called once per seed to fill pools, then sampled.

Calling Faker per resource is slow; a few hundred names per pool, sampled with the seeded
``random.Random`` of the generator, read as naturally and keep 10k threads well under 10 s.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from triage_tui.domain.codes import LANGUAGE_SYSTEM, MRN_SYSTEM

# Fictional numbers: 555-0100 .. 555-0199 are reserved for fiction in the NANP.
AREA_CODES = ("212", "312", "415", "503", "602", "617", "713", "919", "305", "206", "404", "720")


@dataclass(frozen=True, slots=True)
class NamePools:
    first_female: tuple[str, ...]
    first_male: tuple[str, ...]
    last: tuple[str, ...]


@lru_cache(maxsize=8)
def name_pools(seed: int) -> dict[str, NamePools]:
    """{"en": ..., "es": ...} pools from Faker en_US, es_MX and es_ES, seeded by ``seed``."""
    from faker import Faker  # imported lazily: module import stays cheap

    def pools(locales: list[tuple[str, int]], n_first: int, n_last: int) -> NamePools:
        ff: list[str] = []
        fm: list[str] = []
        last: list[str] = []
        for i, (loc, share) in enumerate(locales):
            fk = Faker(loc)
            fk.seed_instance(seed * 31 + i)
            nf, nl = n_first * share // 100, n_last * share // 100
            ff += [fk.first_name_female() for _ in range(nf)]
            fm += [fk.first_name_male() for _ in range(nf)]
            last += [fk.last_name() for _ in range(nl)]
        dedup = lambda xs: tuple(dict.fromkeys(xs))  # noqa: E731 - keep first-seen order
        return NamePools(dedup(ff), dedup(fm), dedup(last))

    return {
        "en": pools([("en_US", 100)], 400, 600),
        "es": pools([("es_MX", 75), ("es_ES", 25)], 200, 300),
    }


@dataclass(slots=True)
class PatientInfo:
    id: str
    given: str
    family: str
    gender: str  # male | female
    birth: date
    lang: str  # en | es
    phone: str = ""
    mrn: str = ""
    pcp_id: str | None = None
    pcp_family: str = ""
    pharmacy: str = ""
    meds: list = field(default_factory=list)  # [(MedicationRequest id, Med, repeats)]

    @property
    def name(self) -> str:
        return f"{self.given} {self.family}"

    def age_days(self, today: date) -> int:
        return (today - self.birth).days

    def group(self, today: date) -> str:
        """infant (< 1 y) | child (< 16 y) | adult | elderly (>= 75 y)."""
        d = self.age_days(today)
        if d < 365:
            return "infant"
        if d < 16 * 365:
            return "child"
        if d >= 75 * 365:
            return "elderly"
        return "adult"


def phone(rng: random.Random) -> str:
    return f"({rng.choice(AREA_CODES)}) 555-01{rng.randrange(100):02d}"


def birth_date(rng: random.Random, today: date) -> date:
    r = rng.random()
    if r < 0.02:
        days = rng.randint(10, 120)  # infants
    elif r < 0.12:
        days = rng.randint(366, 16 * 365 - 1)
    elif r < 0.30:
        days = rng.randint(75 * 365, 94 * 365)
    else:
        days = rng.randint(18 * 365, 75 * 365 - 1)
    return today - timedelta(days=days)


def patient_resource(p: PatientInfo) -> dict:
    lang_display = {"en": "English", "es": "Spanish"}[p.lang]
    return {
        "resourceType": "Patient",
        "id": p.id,
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MR",
                            "display": "Medical record number",
                        }
                    ]
                },
                "system": MRN_SYSTEM,
                "value": p.mrn,
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": p.family, "given": [p.given]}],
        "telecom": [{"system": "phone", "value": p.phone, "use": "mobile"}],
        "gender": p.gender,
        "birthDate": p.birth.isoformat(),
        "communication": [
            {
                "language": {
                    "coding": [{"system": LANGUAGE_SYSTEM, "code": p.lang, "display": lang_display}],
                    "text": lang_display,
                },
                "preferred": True,
            }
        ],
    }


def patient_from_resource(res: dict) -> PatientInfo | None:
    """Read back what :func:`patient_resource` wrote (tolerant of other servers' Patients)."""
    try:
        name = (res.get("name") or [{}])[0]
        given = (name.get("given") or [""])[0]
        family = name.get("family", "")
        lang = "en"
        for comm in res.get("communication") or []:
            for c in (comm.get("language") or {}).get("coding") or []:
                code = (c.get("code") or "").split("-")[0].lower()
                if code in ("en", "es"):
                    lang = code
        birth = date.fromisoformat(res["birthDate"][:10]) if res.get("birthDate") else date(1970, 1, 1)
        return PatientInfo(
            id=res["id"], given=given or "there", family=family, gender=res.get("gender", "female"),
            birth=birth, lang=lang,
        )
    except (KeyError, ValueError, TypeError, IndexError):
        return None


def fmt_dob(d: date, lang: str) -> str:
    return d.strftime("%d/%m/%Y") if lang == "es" else d.strftime("%m/%d/%Y")


def today_of(now: datetime) -> date:
    return now.date()
