"""`triage-tui demo` fills the [practice] table, so no shipped template waits on a practice
setting (provider, clinic name, phone) in the demo."""

from __future__ import annotations

from datetime import UTC, datetime

TOKEN = "test-token"  # tests/conftest.py: the reference server fixtures
from triage_tui.commands.demo import DEMO_CLINIC, DEMO_PHONE, demo_practice
from triage_tui.domain.templates import TemplateLibrary, build_context
from triage_tui.domain.templates.render import render_body

PRACTICE_VARIABLES = {"provider.name", "clinic.name", "clinic.phone"}


def test_demo_practice_fills_every_practice_variable(seeded_server) -> None:
    cfg = demo_practice(seeded_server.base_url, TOKEN)
    assert cfg.clinic_name == DEMO_CLINIC and cfg.clinic_phone == DEMO_PHONE
    if seeded_server.seeded_with == "synth":
        assert cfg.provider_name.startswith("Dr. ") and cfg.provider_name != "Dr. Rivera"
    ctx = build_context(None, practice=cfg.as_practice(), now=datetime(2025, 3, 1, tzinfo=UTC))
    assert PRACTICE_VARIABLES <= set(ctx.values)
    library = TemplateLibrary(None)
    used = set()
    for group in library.groups():
        for template in group.variants.values():
            _, miss = render_body(template.segments, ctx.values, ctx.reasons)
            missing = {m.name for m in miss}
            used |= PRACTICE_VARIABLES & set(template.variables)
            assert not missing & PRACTICE_VARIABLES, (group.id, template.language)
    assert used == PRACTICE_VARIABLES  # the shipped templates do use them
