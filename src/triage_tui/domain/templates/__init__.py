"""Reply templates: shipped defaults and user files, filled from a thread's context (pure).

    library = TemplateLibrary()                      # shipped + config_dir()/templates/*.toml
    library.refresh()                                # picks up new or changed user files
    ctx = build_context(patient, messages=msgs, medications=meds, appointments=appts,
                        observations=obs, practice=Practice(...), now=now)
    rendered = library.get("refill-sent-pharmacy").render(ctx)
    if not rendered.ok: ...                          # rendered.missing says which and why
    unfilled(edited_text)                            # [[blanks]] left: cannot be sent

Placeholders are ``{patient.first_name}``-style names from :data:`VARIABLES`, looked up in a
dict of strings: nothing in a template or a value is ever evaluated.
"""

from triage_tui.domain.templates.context import (
    Practice,
    TemplateContext,
    build_context,
    format_date,
    format_time,
)
from triage_tui.domain.templates.library import (
    DEFAULT_LANGUAGE,
    Rendered,
    SearchHit,
    Template,
    TemplateError,
    TemplateGroup,
    TemplateLibrary,
    load_template,
    user_templates_dir,
)
from triage_tui.domain.templates.render import (
    FILL_PREFIX,
    VARIABLES,
    Missing,
    clean_value,
    marker,
    unfilled,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "FILL_PREFIX",
    "VARIABLES",
    "Missing",
    "Practice",
    "Rendered",
    "SearchHit",
    "Template",
    "TemplateContext",
    "TemplateError",
    "TemplateGroup",
    "TemplateLibrary",
    "build_context",
    "clean_value",
    "format_date",
    "format_time",
    "load_template",
    "marker",
    "unfilled",
    "user_templates_dir",
]
