"""Templates as data: shipped defaults (``data/*.toml``) and the user's own files.

One file per template and language::

    id = "refill-sent-pharmacy"          # variants of one template share the id
    title = "Refill sent to your pharmacy"
    category = "refill"                  # refill | appointment | results | clinical | admin
    language = "en"                      # BCP-47 primary tag
    keywords = ["approved", "pharmacy"]  # optional, for the picker's search
    body = '''
    Hi {patient.first_name}, ...
    '''

User templates live in ``locations.config_dir()/templates/*.toml``. A user file with the id and
language of a shipped one replaces it. :meth:`TemplateLibrary.refresh` re-reads the folder when
a file was added, changed or removed (one ``stat`` per file), so new templates show without a
restart. A bad user file does not stop the others: it is reported in
:attr:`TemplateLibrary.errors`, naming the file and the key at fault.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from triage_tui import locations
from triage_tui.domain.codes import Category
from triage_tui.domain.templates import fuzzy
from triage_tui.domain.templates.context import TemplateContext
from triage_tui.domain.templates.render import (
    Missing,
    PlaceholderError,
    Segment,
    parse_body,
    placeholders,
    render_body,
)
from triage_tui.errors import UserError

__all__ = [
    "DEFAULT_LANGUAGE",
    "Rendered",
    "Template",
    "TemplateError",
    "TemplateGroup",
    "TemplateLibrary",
    "SearchHit",
    "load_template",
    "user_templates_dir",
]

DEFAULT_LANGUAGE = "en"
_KEYS = {"id", "title", "category", "language", "body", "keywords"}
_CATEGORY_ORDER = {c.value: i for i, c in enumerate(Category)}


class TemplateError(UserError):
    """A template file that cannot be used; says which file and key."""

    def __init__(self, file: str, key: str | None, problem: str) -> None:
        self.file, self.key = file, key
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


@dataclass(frozen=True, slots=True)
class Template:
    id: str
    title: str
    category: Category | None
    language: str
    body: str
    segments: tuple[Segment, ...]
    keywords: tuple[str, ...] = ()
    source: str = "<default>"

    @property
    def variables(self) -> tuple[str, ...]:
        return placeholders(self.segments)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A template filled for one thread. ``missing`` non-empty: the reply cannot be sent."""

    template: Template
    text: str
    missing: tuple[Missing, ...]
    fallback: bool = False  # no variant in the patient's language: DEFAULT_LANGUAGE used

    @property
    def ok(self) -> bool:
        return not self.missing


@dataclass(slots=True)
class TemplateGroup:
    """The language variants of one template id."""

    id: str
    variants: dict[str, Template] = field(default_factory=dict)

    @property
    def main(self) -> Template:
        return self.variants.get(DEFAULT_LANGUAGE) or next(iter(self.variants.values()))

    @property
    def title(self) -> str:
        return self.main.title

    @property
    def category(self) -> Category | None:
        return self.main.category

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.variants))

    def pick(self, language: str | None) -> tuple[Template, bool]:
        """The variant in ``language``; else the default language's (or any), and True."""
        lang = (language or DEFAULT_LANGUAGE).split("-")[0].lower()
        if lang in self.variants:
            return self.variants[lang], False
        return self.main, True

    def render(self, context: TemplateContext) -> Rendered:
        template, fallback = self.pick(context.language)
        text, missing = render_body(template.segments, context.values, context.reasons)
        return Rendered(template, text.strip("\n"), missing, fallback)


@dataclass(frozen=True, slots=True)
class SearchHit:
    group: TemplateGroup
    score: int
    positions: tuple[int, ...]  # matched character positions in ``group.title`` (may be empty)


def _str(data: dict, key: str, name: str, *, required: bool = True) -> str:
    v = data.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v.strip()):
        raise TemplateError(name, key, "missing or not a non-empty string")
    return v


def load_template(text: str, name: str) -> Template:
    """Parse and check one template file's text. Raises :class:`TemplateError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(name, None, f"invalid TOML: {exc}") from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise TemplateError(name, unknown[0], f"unknown key (known: {', '.join(sorted(_KEYS))})")
    tid = _str(data, "id", name).strip()
    if not all(c.isalnum() or c in "-_." for c in tid):
        raise TemplateError(name, "id", "use letters, digits, '-', '_' and '.' only")
    title = " ".join(_str(data, "title", name).split())
    lang = _str(data, "language", name).strip().split("-")[0].lower()
    if not lang.isalpha() or len(lang) > 8:
        raise TemplateError(name, "language", f"not a language tag: {lang!r}")
    cat_raw = _str(data, "category", name, required=False).strip()
    try:
        category = Category(cat_raw) if cat_raw else None
    except ValueError:
        raise TemplateError(name, "category", f"unknown category {cat_raw!r} (known: "
                            f"{', '.join(c.value for c in Category)})") from None
    body = _str(data, "body", name)
    try:
        segments = parse_body(body)
    except PlaceholderError as exc:
        line = body.count("\n", 0, exc.offset) + 1
        raise TemplateError(name, "body", f"line {line} of the body: {exc}") from None
    kw = data.get("keywords", [])
    if not isinstance(kw, list) or not all(isinstance(k, str) for k in kw):
        raise TemplateError(name, "keywords", "must be a list of strings")
    return Template(tid, title, category, lang, body, segments, tuple(kw), name)


def user_templates_dir() -> Path:
    return locations.config_dir() / "templates"


def _shipped() -> list[Template]:
    pkg = resources.files("triage_tui.domain.templates") / "data"
    out = []
    for entry in sorted(pkg.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            out.append(load_template(entry.read_text(encoding="utf-8"), f"<default>/{entry.name}"))
    return out


_UNSET = object()


class TemplateLibrary:
    """Shipped and user templates, grouped by id. ``user_dir=None``: shipped only."""

    def __init__(self, user_dir: Path | None | object = _UNSET, *, shipped: bool = True) -> None:
        self.user_dir: Path | None = (user_templates_dir() if user_dir is _UNSET
                                      else user_dir)  # type: ignore[assignment]
        self._shipped = _shipped() if shipped else []
        self._signature: tuple | None = None
        self.errors: list[str] = []
        self._groups: dict[str, TemplateGroup] = {}
        self.refresh(force=True)

    # --- loading ----------------------------------------------------------------------------
    def _scan(self) -> tuple:
        d = self.user_dir
        if d is None or not d.is_dir():
            return ()
        sig = []
        for p in sorted(d.glob("*.toml")):
            try:
                st = p.stat()
            except OSError:
                continue
            sig.append((p.name, st.st_mtime_ns, st.st_size))
        return tuple(sig)

    def refresh(self, *, force: bool = False) -> bool:
        """Re-read the user folder if it changed; True when the library changed."""
        sig = self._scan()
        if not force and sig == self._signature:
            return False
        self._signature = sig
        errors: list[str] = []
        user: list[Template] = []
        for name, _, _ in sig:
            path = self.user_dir / name  # type: ignore[operator]
            try:
                user.append(load_template(path.read_text(encoding="utf-8"), str(path)))
            except TemplateError as exc:
                errors.append(str(exc))
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(f"{path}: cannot read: {exc}")
        groups: dict[str, TemplateGroup] = {}
        for t in [*self._shipped, *user]:  # user files last: they replace shipped variants
            groups.setdefault(t.id, TemplateGroup(t.id)).variants[t.language] = t
        self._groups = groups
        self.errors = errors
        return True

    # --- access -----------------------------------------------------------------------------
    def groups(self) -> list[TemplateGroup]:
        """Every template, by category (the Category order, then uncategorised), then title."""
        return sorted(self._groups.values(), key=lambda g: (
            _CATEGORY_ORDER.get(g.category.value if g.category else "", 99), g.title.lower()))

    def get(self, template_id: str) -> TemplateGroup | None:
        return self._groups.get(template_id)

    def __len__(self) -> int:
        return len(self._groups)

    def search(self, query: str, *, category: Category | str | None = None,
               groups: Iterable[TemplateGroup] | None = None) -> list[SearchHit]:
        """Fuzzy matches of ``query`` against titles (all languages), ids, categories and
        keywords, best first; among equal scores, templates of ``category`` first."""
        hits: list[SearchHit] = []
        cat = str(category) if category else None
        for g in (self.groups() if groups is None else groups):
            on_title = fuzzy.score(query, g.title)
            best = on_title[0] if on_title else None
            others = [g.id, str(g.category or ""), *(t.title for t in g.variants.values()),
                      *(k for t in g.variants.values() for k in t.keywords)]
            for text in others:
                s = fuzzy.score(query, text)
                if s is not None and (best is None or s[0] - 2 > best):
                    best = s[0] - 2  # a title match beats the same match elsewhere
            if best is None:
                continue
            pos = tuple(on_title[1]) if on_title else ()
            hits.append(SearchHit(g, best, pos))
        order = {id(h.group): i for i, h in enumerate(hits)}
        hits.sort(key=lambda h: (-h.score, not (cat and h.group.category
                                                and h.group.category.value == cat),
                                 order[id(h.group)]))
        return hits
