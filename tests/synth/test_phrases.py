"""Templates and the typo function."""

from __future__ import annotations

import random
import string
from datetime import date

from triage_tui.domain.codes import Category
from triage_tui.server.synth import phrases as P
from triage_tui.server.synth.people import PatientInfo, name_pools
from triage_tui.server.synth.practice import base_context


def _ctx(lang: str, caregiver: bool, now):
    p = PatientInfo(
        id="p1",
        given="Ana",
        family="Ruiz",
        gender="female",
        birth=date(1950, 1, 2),
        lang=lang,
        phone="(212) 555-0101",
    )
    return base_context(
        random.Random(1), p, lang=lang, caregiver=caregiver, doc="Lee", now=now, pools=name_pools(3)
    )


def test_every_template_formats_with_a_full_context(now):
    assert len(P.all_templates()) == len(P.all_templates("en")) + len(P.all_templates("es"))
    for lang in ("en", "es"):
        names = set()
        for t in P.all_templates(lang):
            names |= {f[1] for f in string.Formatter().parse(t) if f[1]}
        for cg in (False, True):
            ctx = _ctx(lang, cg, now)
            assert names <= set(ctx), names - set(ctx)
            for t in P.all_templates(lang):
                t.format_map(ctx)


def test_third_person_for_caregivers(now):
    ctx = _ctx("en", True, now)
    assert P.fill("{I} {need} a refill on {my} {med}", ctx).startswith("she needs a refill on her ")
    es = _ctx("es", True, now)
    assert P.fill("{necesito} una receta de {mi} {med}", es).startswith(
        "necesita una receta de su "
    )


def test_typo_is_seeded_and_changes_text():
    text = "Hi Dr. Lee, I need a refill on my metformin. Thanks!"
    a = [P.typo(random.Random(i), text) for i in range(50)]
    b = [P.typo(random.Random(i), text) for i in range(50)]
    assert a == b
    assert sum(x != text for x in a) >= 45
    assert len(set(a)) >= 30
    long = "x" * 5000
    assert P.typo(random.Random(1), long) == long


def test_first_message_flags_and_subject(now):
    ctx = _ctx("en", False, now)
    rng = random.Random(4)
    kinds = set()
    for _ in range(200):
        m = P.first_message(rng, "en", ctx, Category.CLINICAL, urgent_kind="stroke", typo_rate=0)
        kinds.add(m.urgent_keyword)
        assert m.text and m.subject
    assert kinds == {True, False}
    m = P.first_message(
        random.Random(1), "es", _ctx("es", False, now), Category.REFILL, negation=True, typo_rate=0
    )
    assert m.text


def test_every_urgent_kind_has_text_in_both_languages():
    for lang in ("en", "es"):
        assert set(P.URGENT[lang]) == set(P.URGENT_KINDS)
        for kind in P.URGENT_KINDS:
            assert any(not kw for _, kw in P.URGENT[lang][kind]) or kind == "infant_fever"


def test_catalogue_sanity():
    assert len(P.MEDS) >= 30 and len({m.generic for m in P.MEDS}) >= 30
    for lab in P.LABS:
        assert lab.low < lab.high
    assert len(set(P.PHARMACIES)) == len(P.PHARMACIES)
