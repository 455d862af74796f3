"""Triage rules as data: typed model, TOML loading, merging and validation.

The shipped defaults live next to this module (``data/*.toml``); a practice overrides them in
``config_dir()/rules.toml`` with the same keys. Merging: tables merge key by key, any other
value (lists included) replaces the default; lists under the top-level ``[extend]`` table are
appended to the merged lists instead (``[extend.category.refill.terms] en = ["rx plz"]``).

Every error names the file and the key at fault (``rules.toml: category.refill.patterns.en[2]:
...``). This is the only I/O of the triage package: reading its rule files.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from triage_tui.domain.codes import Category, Pool, Priority
from triage_tui.errors import UserError

__all__ = [
    "RulesError",
    "Settings",
    "CategoryRule",
    "UrgentRule",
    "Cues",
    "Acuity",
    "Fuzzy",
    "ClinicCalendar",
    "Rules",
    "load_rules",
    "default_rules",
    "user_rules_path",
    "DEFAULT_FILES",
]

DEFAULT_FILES = ("policy.toml", "en.toml", "es.toml")
"""The shipped rule files, merged in this order before the user's file."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RulesError(UserError):
    """A rules file is unreadable or invalid. ``file`` and ``key`` say where."""

    def __init__(self, file: str, key: str | None, problem: str) -> None:
        self.file = file
        self.key = key
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {problem}")


# --------------------------------------------------------------------------- typed model


@dataclass(frozen=True, slots=True)
class Settings:
    """``[settings]``: how terms are weighed and how far cues reach."""

    default_category: Category = Category.CLINICAL
    """Category of a message no category rule matches (clinical: a nurse reads it)."""
    subject_weight: float = 2.0
    """A match in the subject line counts this many times a match in the body."""
    term_weight: float = 1.0
    """Score of one match of an ordinary category term."""
    strong_weight: float = 3.0
    """Score of one match of a category's ``strong_terms`` (nearly unambiguous phrases)."""
    pattern_weight: float = 2.0
    """Score of one match of a category's ``patterns``."""
    urgent_category_weight: float = 2.0
    """Score an urgent match adds to its group's category (non-negated matches only)."""
    negation_window: int = 5
    """A negation cue negates a term when it ends at most this many words before the term,
    in the same clause."""
    post_negation_window: int = 4
    """A post-negation cue ("... has resolved") negates a term at most this many words after."""
    hypothetical_window: int = 4
    """Like ``negation_window`` for hypothetical cues ("if I get ...")."""
    secondary_weight: float = 1.0
    """Category matches in the body after a secondary-intent marker (``[cues] secondary``:
    "also", "PS", "one more thing", "otra cosa") count this many times: the first request is
    the primary need."""
    languages: tuple[str, ...] = ("en", "es")
    """Languages whose terms are active. All are applied to every message: patients mix
    languages and the language on file is often wrong."""


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """``[category.<name>]``: what makes a message belong to one category."""

    name: Category
    terms: tuple[str, ...] = ()
    """Words and phrases (folded; ``*`` suffix = any ending), all active languages."""
    strong_terms: tuple[str, ...] = ()
    """Phrases that almost always mean this category (weigh ``strong_weight``)."""
    patterns: tuple[str, ...] = ()
    """Regular expressions over the folded text (lower case, no accents)."""
    negatable: bool = False
    """Whether negated matches are ignored ("no fever" says nothing for clinical)."""
    weight: float = 1.0
    """Multiplies every score of this category (below 1 for a generic category such as
    clinical, whose words also appear in requests of the specific ones)."""


@dataclass(frozen=True, slots=True)
class UrgentRule:
    """``[urgent.<id>]``: a group of phrasings that need a provider now."""

    id: str
    priority: Priority = Priority.URGENT
    """Priority a non-negated match gives the message (urgent | asap | stat)."""
    category: Category = Category.CLINICAL
    """Category an urgent match votes for."""
    terms: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    description: str = ""
    """Shown in explanations ("possible allergic reaction")."""


@dataclass(frozen=True, slots=True)
class Cues:
    """``[cues]``: words that change what a match means (all active languages merged)."""

    negation: tuple[str, ...] = ()
    """Before a term in the same clause: "no", "denies", "sin", "no tengo"."""
    pseudo_negation: tuple[str, ...] = ()
    """Phrases containing a cue that do not negate ("not sure", "no idea", "no se quita")."""
    post_negation: tuple[str, ...] = ()
    """After a term in the same clause: "has resolved", "ya se quito"."""
    hypothetical: tuple[str, ...] = ()
    """Before a term: "if i get", "en caso de"."""
    history: tuple[str, ...] = ()
    """Anywhere in the clause: "last year", "years ago", "history of", "hace anos"."""
    current: tuple[str, ...] = ()
    """Cancel a history cue in the same clause: "now", "again", "today", "ahora"."""
    clause_break: tuple[str, ...] = ()
    """Words that end the reach of a cue ("but", "pero"); punctuation always does."""
    current_clause: tuple[str, ...] = ()
    """Like ``current`` but only in the match's own clause (``history_break`` bounds it):
    "now", "still". "Had a stroke in 2021 and he's stable now" stays history; "I had chest
    pain last year and it's back" (``current``: "back") does not."""
    history_break: tuple[str, ...] = ()
    """Extra words that end the reach of a history cue ("and", "y")."""
    secondary: tuple[str, ...] = ()
    """Markers of a second request ("also", "PS", "one more thing", "otra cosa"): category
    matches after the first one weigh ``settings.secondary_weight``."""


@dataclass(frozen=True, slots=True)
class ClinicCalendar:
    """``[calendar]``: when the clinic works; response times count only these hours."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/New_York"))
    """IANA zone of the clinic."""
    hours: tuple[tuple[tuple[time, time], ...], ...] = ()
    """Open intervals per weekday, Monday first (``mon = ["08:00-12:00", "13:00-17:00"]``)."""
    holidays: frozenset[date] = frozenset()
    """Dates the clinic is closed."""


@dataclass(frozen=True, slots=True)
class Acuity:
    """``[acuity]``: flags a message urgent when a symptom word and acuity cues around it add up.

    Catches what no urgent phrase names ("there's a heaviness in my chest since breakfast and
    I'm sweaty"). Each symptom word has a weight (``[acuity.symptoms.<system>] en = {chest =
    2.0}``), each acuity cue a weight (``[acuity.cues] en = {"right now" = 1.5, "a little" =
    -1.5}``; negative weights de-escalate). A symptom that is negated, in the past or
    hypothetical does not count, nor does a cue right after a negation ("not worse")."""

    enabled: bool = True
    threshold: float = 3.5
    """Score at which the message is flagged."""
    priority: Priority = Priority.URGENT
    window: int = 12
    """Words either side of the symptom (within its sentence) where cues count."""
    other_symptom_factor: float = 0.5
    """Other symptom words in the window add this share of their weight (up to one symptom's worth)."""
    max_cue_score: float = 4.0
    """Positive cues add up to at most this much."""
    symptoms: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    """Folded term -> (system, weight)."""
    cues: Mapping[str, float] = field(default_factory=dict)
    """Folded cue phrase -> weight."""
    description: str = "symptom described with acuity cues"


@dataclass(frozen=True, slots=True)
class Fuzzy:
    """``[fuzzy]``: typo tolerance for urgent words ("chets pain", "brething", "sucidal").

    A message word that is not a known word and is one edit (insert, delete, substitute, swap
    two neighbours) away from exactly one word of the urgent lexicon (the words of the urgent
    terms and acuity symptoms, plus ``words``) is read as that word for the urgent scans."""

    enabled: bool = True
    min_length: int = 5
    """Lexicon words shorter than this are never the target of a correction."""
    words: tuple[str, ...] = ()
    """Extra lexicon words."""
    known: tuple[str, ...] = ()
    """Real words never corrected ("cooking" is not "choking", "chess" is not "chest")."""
    skip: tuple[str, ...] = ()
    """Lexicon words never used as a correction (rare words one edit from a common one:
    "writting" is "writing", not "writhing")."""


@dataclass(frozen=True, slots=True)
class SecondOpinion:
    """``[second_opinion]``: the learned model (``learned.py``) may raise a message the rules
    left routine to urgent, when its probability reaches ``threshold``. It never lowers one.
    ``threshold`` unset means the model's own, chosen when it was trained (its meta says how)."""

    enabled: bool = True
    threshold: float | None = None
    priority: Priority = Priority.URGENT
    description: str = "learned second opinion: reads like the urgent messages it was trained on"
    model: Any = field(default=None, compare=False, repr=False)
    """The loaded :class:`~triage_tui.domain.triage.learned.SecondOpinionModel` (None when off)."""

    @property
    def cut(self) -> float:
        """The probability threshold in effect."""
        if self.threshold is not None:
            return self.threshold
        return float(self.model.meta.get("threshold", 0.5)) if self.model is not None else 1.0


@dataclass(frozen=True, slots=True)
class Rules:
    """The whole validated rule set. Build with :func:`load_rules`."""

    settings: Settings
    categories: Mapping[Category, CategoryRule]
    urgent: Mapping[str, UrgentRule]
    cues: Cues
    routing: Mapping[Category, Pool]
    """``[routing]``: pool of each category."""
    urgent_pool: Pool
    """``routing.urgent``: pool of urgent messages (provider)."""
    calendar: ClinicCalendar
    response_time: Mapping[tuple[str, Priority], timedelta]
    """``[response_time.<category|default>] <priority> = hours``: business time to answer."""
    acuity: Acuity = field(default_factory=Acuity)
    fuzzy: Fuzzy = field(default_factory=Fuzzy)
    second_opinion: SecondOpinion = field(default_factory=SecondOpinion)
    sources: tuple[str, ...] = ()
    """Files merged to build these rules, in order (for ``--help`` and explanations)."""
    fingerprint: str = ""
    """Digest of the rule files, the learned model and the engine code (:func:`rules_fingerprint`):
    stored classifications made under another fingerprint are stale."""
    _cache: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def response_time_for(self, category: Category | str | None, priority: Priority | str) -> timedelta:
        p = Priority(priority)
        if category is not None:
            hit = self.response_time.get((str(category), p))
            if hit is not None:
                return hit
        return self.response_time[("default", p)]


# --------------------------------------------------------------------------- loading


def user_rules_path() -> Path:
    from triage_tui import locations

    return locations.config_dir() / "rules.toml"


class _Origins:
    """Which file set each key path (so that errors name the right file)."""

    def __init__(self) -> None:
        self.by_path: dict[tuple[str, ...], str] = {}

    def file_for(self, path: tuple[str, ...], default: str) -> str:
        for n in range(len(path), 0, -1):
            hit = self.by_path.get(path[:n])
            if hit:
                return hit
        return default


def _merge(base: dict, over: Mapping, origin: str, origins: _Origins, path: tuple[str, ...] = ()) -> None:
    for key, value in over.items():
        p = (*path, key)
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value, origin, origins, p)
        else:
            base[key] = _copy(value)
            origins.by_path[p] = origin
            # drop deeper origins: the whole subtree now comes from `origin`
            for q in [q for q in origins.by_path if len(q) > len(p) and q[: len(p)] == p]:
                del origins.by_path[q]


def _extend(base: dict, ext: Mapping, origin: str, origins: _Origins, path: tuple[str, ...]) -> None:
    for key, value in ext.items():
        p = (*path, key)
        if isinstance(value, Mapping):
            node = base.setdefault(key, {})
            if not isinstance(node, dict):
                raise RulesError(origin, ".".join(("extend", *p)), "extends a value that is not a table")
            _extend(node, value, origin, origins, p)
        elif isinstance(value, list):
            cur = base.get(key, [])
            if not isinstance(cur, list):
                raise RulesError(origin, ".".join(("extend", *p)), "extends a value that is not a list")
            base[key] = [*cur, *value]
            origins.by_path.setdefault(p, origin)
        else:
            raise RulesError(origin, ".".join(("extend", *p)), "[extend] takes lists only")


def _copy(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


def _read_toml(text: str, name: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(name, None, f"invalid TOML: {exc}") from None


def _default_texts() -> list[tuple[str, str]]:
    pkg = resources.files("triage_tui.domain.triage") / "data"
    return [(f"<default>/{n}", (pkg / n).read_text(encoding="utf-8")) for n in DEFAULT_FILES]


def _layers(path: Path | None, use_user_file: bool) -> list[tuple[str, str]]:
    layers = _default_texts()
    explicit = path is not None
    if path is None and use_user_file:
        path = user_rules_path()
    if path is not None:
        p = Path(path)
        try:
            layers.append((str(p), p.read_text(encoding="utf-8")))
        except FileNotFoundError:
            if explicit:
                raise RulesError(str(p), None, "file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RulesError(str(p), None, f"cannot read: {exc}") from None
    return layers


def load_rules(path: Path | None = None, *, use_user_file: bool = True) -> Rules:
    """Shipped defaults merged with the user's rules file, validated.

    ``path``: the user file; None means ``config_dir()/rules.toml`` when ``use_user_file``
    (a missing default user file is fine; a missing explicit ``path`` is an error).
    Raises :class:`RulesError` naming the file and key.
    """
    return rules_from_texts(_layers(path, use_user_file))


def rules_fingerprint(path: Path | None = None, *, use_user_file: bool = True) -> str:
    """What :attr:`Rules.fingerprint` of ``load_rules(path, use_user_file=...)`` would be,
    from the files alone (no parsing, no compiling: a few milliseconds). Raises
    :class:`RulesError` when a file cannot be read."""
    return _fingerprint(_layers(path, use_user_file))


def _fingerprint(layers: list[tuple[str, str]]) -> str:
    """A digest of everything a classification depends on: the rule files (names and texts),
    the learned model's file and the triage engine's own code. When it changes, classifications
    stored in a cache are stale (the cache reclassifies its threads)."""
    from triage_tui.domain.triage.learned import MODEL_PATH

    h = hashlib.sha256(_code_digest())
    for name, text in layers:
        h.update(name.encode("utf-8", "surrogatepass") + b"\0" + text.encode("utf-8", "surrogatepass") + b"\0")
    try:
        h.update(hashlib.sha256(MODEL_PATH.read_bytes()).digest())
    except OSError:
        h.update(b"no model")
    return h.hexdigest()


_CODE_DIGEST: bytes | None = None


def _code_digest() -> bytes:
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        h = hashlib.sha256()
        here = Path(__file__).resolve().parent
        for name in ("engine.py", "learned.py", "rules.py", "text.py"):
            try:
                h.update((here / name).read_bytes())
            except OSError:  # a zipped or frozen install: the version stands in for the code
                from importlib.metadata import PackageNotFoundError, version

                try:
                    h.update(version("triage-tui").encode())
                except PackageNotFoundError:
                    pass
        _CODE_DIGEST = h.digest()
    return _CODE_DIGEST


def default_rules() -> Rules:
    """The shipped defaults alone (cached: tests and benchmarks call this often)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_rules(use_user_file=False)
    return _DEFAULT


_DEFAULT: Rules | None = None


def rules_from_texts(layers: list[tuple[str, str]]) -> Rules:
    """Merge TOML texts ``[(file name, text), ...]`` in order and validate (used by tests)."""
    merged: dict = {}
    origins = _Origins()
    extends: list[tuple[str, dict]] = []
    for name, text in layers:
        data = _read_toml(text, name)
        ext = data.pop("extend", None)
        if ext is not None:
            if not isinstance(ext, dict):
                raise RulesError(name, "extend", "must be a table")
            extends.append((name, ext))
        _merge(merged, data, name, origins)
    for name, ext in extends:
        _extend(merged, ext, name, origins, ())
    default_name = layers[-1][0] if layers else "<rules>"
    rules = _Validator(merged, origins, default_name).rules()
    object.__setattr__(rules, "sources", tuple(n for n, _ in layers))
    object.__setattr__(rules, "fingerprint", _fingerprint(layers))
    from triage_tui.domain.triage.engine import compile_rules

    compile_rules(rules, ascii=True)  # pattern errors surface now, naming the file and key (the
    # ASCII variant: the one nearly every message uses; the Unicode one compiles on first need)
    return rules


# --------------------------------------------------------------------------- validation

_TIME_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|m|min|d)?\s*$")
_LANG = re.compile(r"^[a-z]{2,3}$")


class _Validator:
    def __init__(self, data: dict, origins: _Origins, default_file: str) -> None:
        self.data = data
        self.origins = origins
        self.default_file = default_file

    def fail(self, path: tuple[str, ...], problem: str) -> RulesError:
        clean = tuple(p for p in path if not p.startswith("["))
        key = ""
        for p in path:
            key += p if p.startswith("[") else (("." if key else "") + p)
        return RulesError(self.origins.file_for(clean, self.default_file), key or None, problem)

    def table(self, value: Any, path: tuple[str, ...], allowed: set[str] | None = None) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a table, not {type(value).__name__}")
        if allowed is not None:
            for k in value:
                if k not in allowed:
                    raise self.fail((*path, k), f"unknown key (expected one of: {', '.join(sorted(allowed))})")
        return value

    def enum(self, enum: type, value: Any, path: tuple[str, ...]) -> Any:
        try:
            return enum(value)
        except ValueError:
            choices = ", ".join(e.value for e in enum)
            raise self.fail(path, f"unknown value {value!r} (expected one of: {choices})") from None

    def number(self, value: Any, path: tuple[str, ...], *, integer: bool = False, minimum: float = 0) -> Any:
        ok = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            raise self.fail(path, f"must be {'an integer' if integer else 'a number'}, not {value!r}")
        if value < minimum:
            raise self.fail(path, f"must be >= {minimum}")
        return value

    def strings(self, value: Any, path: tuple[str, ...]) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(path, "must be a list of strings")
        for i, v in enumerate(value):
            if not isinstance(v, str) or not v.strip():
                raise self.fail((*path, f"[{i}]"), "must be a non-empty string")
        return tuple(value)

    def per_language(
        self, value: Any, path: tuple[str, ...], langs: tuple[str, ...], *, regex: bool = False
    ) -> tuple[str, ...]:
        """``{en = [...], es = [...]}`` -> the active languages' strings, in order."""
        tbl = self.table(value, path)
        out: list[str] = []
        for lang, items in tbl.items():
            if not _LANG.match(lang):
                raise self.fail((*path, lang), "expected a language code (en, es, ...)")
            strings = self.strings(items, (*path, lang))
            if regex:
                for i, pat in enumerate(strings):
                    self.regex(pat, (*path, lang, f"[{i}]"))
            if lang in langs:
                out.extend(strings)
        return tuple(out)

    def regex(self, pattern: str, path: tuple[str, ...]) -> None:
        try:
            compiled = re.compile(pattern, re.ASCII)  # the flags the engine compiles it with (re caches it)
        except re.error as exc:
            raise self.fail(path, f"invalid regular expression: {exc}") from None
        if compiled.groupindex or re.search(r"\\[1-9]|\(\?[aiLmsux]+\)", pattern):
            raise self.fail(path, "named groups, back-references and global flags are not allowed")
        if compiled.match(""):
            raise self.fail(path, "matches the empty string")

    # -- sections

    def rules(self) -> Rules:
        d = self.table(
            self.data,
            (),
            {
                "version", "settings", "category", "urgent", "cues", "routing", "calendar",
                "response_time", "acuity", "fuzzy", "second_opinion",
            },
        )
        version = d.get("version", 1)
        if version != 1:
            raise self.fail(("version",), f"unsupported rules version {version!r} (this triage-tui reads 1)")
        settings = self.settings(d.get("settings"))
        langs = settings.languages
        cats_tbl = self.table(d.get("category"), ("category",))
        categories = {}
        for name, body in cats_tbl.items():
            cat = self.enum(Category, name, ("category", name))
            categories[cat] = self.category(cat, body, langs)
        urgent = {}
        for uid, body in self.table(d.get("urgent"), ("urgent",)).items():
            rule = self.urgent_rule(uid, body, langs)
            if rule is not None:
                urgent[uid] = rule
        cues = self.cues(d.get("cues"), langs)
        routing, urgent_pool = self.routing(d.get("routing"))
        calendar = self.calendar(d.get("calendar"))
        response = self.response_time(d.get("response_time"))
        acuity = self.acuity(d.get("acuity"), langs)
        fuzzy = self.fuzzy(d.get("fuzzy"), langs)
        second = self.second_opinion(d.get("second_opinion"))
        return Rules(
            settings, categories, urgent, cues, routing, urgent_pool, calendar, response, acuity, fuzzy,
            second,
        )

    def flag(self, value: Any, path: tuple[str, ...]) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, "must be true or false")
        return value

    def weights(self, value: Any, path: tuple[str, ...], langs: tuple[str, ...]) -> dict[str, float]:
        """``{en = {"term" = 1.5, ...}, es = {...}}`` -> folded term -> weight (active languages)."""
        from triage_tui.domain.triage.text import fold

        out: dict[str, float] = {}
        for lang, items in self.table(value, path).items():
            if not _LANG.match(lang):
                raise self.fail((*path, lang), "expected a language code (en, es, ...)")
            tbl = self.table(items, (*path, lang))
            for term, w in tbl.items():
                p = (*path, lang, term)
                if not term.strip():
                    raise self.fail(p, "empty term")
                if isinstance(w, bool) or not isinstance(w, (int, float)):
                    raise self.fail(p, f"must be a number, not {w!r}")
                if lang in langs:
                    out[fold(term.strip())[0]] = float(w)
        return out

    def acuity(self, value: Any, langs: tuple[str, ...]) -> Acuity:
        path = ("acuity",)
        tbl = self.table(
            value, path,
            {"enabled", "threshold", "priority", "window", "other_symptom_factor", "max_cue_score",
             "symptoms", "cues", "description"},
        )
        kw: dict[str, Any] = {}
        for k, v in tbl.items():
            p = (*path, k)
            if k == "enabled":
                kw[k] = self.flag(v, p)
            elif k == "priority":
                kw[k] = self.raised_priority(v, p)
            elif k == "window":
                kw[k] = self.number(v, p, integer=True, minimum=1)
            elif k == "description":
                if not isinstance(v, str):
                    raise self.fail(p, "must be a string")
                kw[k] = v
            elif k == "symptoms":
                syms: dict[str, tuple[str, float]] = {}
                for system, body in self.table(v, p).items():
                    for term, w in self.weights(body, (*p, system), langs).items():
                        syms[term] = (system, w)
                kw[k] = syms
            elif k == "cues":
                kw[k] = self.weights(v, p, langs)
            else:
                kw[k] = float(self.number(v, p))
        return Acuity(**kw)

    def raised_priority(self, value: Any, path: tuple[str, ...]) -> Priority:
        """A priority a layer raises a message to: anything but routine."""
        prio = self.enum(Priority, value, path)
        if prio is Priority.ROUTINE:
            raise self.fail(path, "needs urgent, asap or stat")
        return prio

    def second_opinion(self, value: Any) -> SecondOpinion:
        path = ("second_opinion",)
        tbl = self.table(value, path, {"enabled", "threshold", "priority", "description"})
        kw: dict[str, Any] = {}
        for k, v in tbl.items():
            p = (*path, k)
            if k == "enabled":
                kw[k] = self.flag(v, p)
            elif k == "threshold":
                t = float(self.number(v, p))
                if not 0.0 < t < 1.0:
                    raise self.fail(p, "must be a probability between 0 and 1 (exclusive)")
                kw[k] = t
            elif k == "priority":
                kw[k] = self.raised_priority(v, p)
            else:
                if not isinstance(v, str):
                    raise self.fail(p, "must be a string")
                kw[k] = v
        if kw.get("enabled", True):
            from triage_tui.domain.triage.learned import ModelError, load_model

            try:
                kw["model"] = load_model()
            except ModelError as exc:
                raise self.fail((*path, "enabled"), f"{exc} (reinstall, or set enabled = false)") from None
        return SecondOpinion(**kw)

    def fuzzy(self, value: Any, langs: tuple[str, ...]) -> Fuzzy:
        path = ("fuzzy",)
        tbl = self.table(value, path, {"enabled", "min_length", "words", "known", "skip"})
        kw: dict[str, Any] = {}
        for k, v in tbl.items():
            p = (*path, k)
            if k == "enabled":
                kw[k] = self.flag(v, p)
            elif k == "min_length":
                kw[k] = self.number(v, p, integer=True, minimum=3)
            else:
                kw[k] = self.per_language(v, p, langs)
        return Fuzzy(**kw)

    def settings(self, value: Any) -> Settings:
        path = ("settings",)
        names = set(Settings.__slots__)
        tbl = self.table(value, path, names)
        kw: dict[str, Any] = {}
        for k, v in tbl.items():
            p = (*path, k)
            if k == "default_category":
                kw[k] = self.enum(Category, v, p)
            elif k == "languages":
                langs = self.strings(v, p)
                for i, lang in enumerate(langs):
                    if not _LANG.match(lang):
                        raise self.fail((*p, f"[{i}]"), "expected a language code (en, es, ...)")
                kw[k] = langs
            elif k.endswith("_window"):
                kw[k] = self.number(v, p, integer=True, minimum=0)
            else:
                kw[k] = float(self.number(v, p))
        return Settings(**kw)

    def category(self, cat: Category, body: Any, langs: tuple[str, ...]) -> CategoryRule:
        path = ("category", cat.value)
        tbl = self.table(body, path, {"terms", "strong_terms", "patterns", "negatable", "weight"})
        neg = tbl.get("negatable", False)
        if not isinstance(neg, bool):
            raise self.fail((*path, "negatable"), "must be true or false")
        weight = float(self.number(tbl.get("weight", 1.0), (*path, "weight")))
        return CategoryRule(
            name=cat,
            terms=self.per_language(tbl.get("terms"), (*path, "terms"), langs),
            strong_terms=self.per_language(tbl.get("strong_terms"), (*path, "strong_terms"), langs),
            patterns=self.per_language(tbl.get("patterns"), (*path, "patterns"), langs, regex=True),
            negatable=neg,
            weight=weight,
        )

    def urgent_rule(self, uid: str, body: Any, langs: tuple[str, ...]) -> UrgentRule | None:
        path = ("urgent", uid)
        tbl = self.table(body, path, {"priority", "category", "terms", "patterns", "description", "enabled"})
        enabled = tbl.get("enabled", True)
        if not isinstance(enabled, bool):
            raise self.fail((*path, "enabled"), "must be true or false")
        if not enabled:
            return None
        prio = self.enum(Priority, tbl.get("priority", "urgent"), (*path, "priority"))
        if prio is Priority.ROUTINE:
            raise self.fail((*path, "priority"), "an urgent group needs urgent, asap or stat")
        desc = tbl.get("description", "")
        if not isinstance(desc, str):
            raise self.fail((*path, "description"), "must be a string")
        return UrgentRule(
            id=uid,
            priority=prio,
            category=self.enum(Category, tbl.get("category", "clinical"), (*path, "category")),
            terms=self.per_language(tbl.get("terms"), (*path, "terms"), langs),
            patterns=self.per_language(tbl.get("patterns"), (*path, "patterns"), langs, regex=True),
            description=desc,
        )

    def cues(self, value: Any, langs: tuple[str, ...]) -> Cues:
        path = ("cues",)
        names = set(Cues.__slots__)
        tbl = self.table(value, path, names)
        return Cues(**{k: self.per_language(v, (*path, k), langs) for k, v in tbl.items()})

    def routing(self, value: Any) -> tuple[dict[Category, Pool], Pool]:
        path = ("routing",)
        tbl = self.table(value, path, {*(c.value for c in Category), "urgent"})
        routing: dict[Category, Pool] = {}
        for cat in Category:
            if cat.value not in tbl:
                raise self.fail((*path, cat.value), "missing: every category needs a pool")
            routing[cat] = self.enum(Pool, tbl[cat.value], (*path, cat.value))
        urgent = self.enum(Pool, tbl.get("urgent", "provider"), (*path, "urgent"))
        return routing, urgent

    def calendar(self, value: Any) -> ClinicCalendar:
        path = ("calendar",)
        tbl = self.table(value, path, {"timezone", "hours", "holidays"})
        tzname = tbl.get("timezone", "America/New_York")
        try:
            if not isinstance(tzname, str):
                raise ValueError
            tz = ZoneInfo(tzname)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail((*path, "timezone"), f"unknown time zone {tzname!r} (expected an IANA name such as America/Chicago)") from None
        hours_tbl = self.table(tbl.get("hours"), (*path, "hours"), set(WEEKDAYS))
        hours: list[tuple[tuple[time, time], ...]] = []
        for day in WEEKDAYS:
            p = (*path, "hours", day)
            raw = hours_tbl.get(day, [])
            if isinstance(raw, str):
                raw = [raw] if raw.strip() else []
            spans = []
            for i, item in enumerate(self.strings(raw, p) if raw else ()):
                m = _TIME_RANGE.match(item)
                ip = (*p, f"[{i}]")
                if not m:
                    raise self.fail(ip, f"expected HH:MM-HH:MM, not {item!r}")
                h1, m1, h2, m2 = map(int, m.groups())
                if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
                    raise self.fail(ip, f"not a time of day: {item!r}")
                start = time(h1, m1)
                end = time.max if h2 == 24 else time(h2, m2)
                if end <= start:
                    raise self.fail(ip, f"closes before it opens: {item!r}")
                if spans and start < spans[-1][1]:
                    raise self.fail(ip, "intervals must be in order and must not overlap")
                spans.append((start, end))
            hours.append(tuple(spans))
        if not any(hours):
            raise self.fail((*path, "hours"), "the clinic must be open at least one interval a week")
        holidays = set()
        raw_h = tbl.get("holidays", [])
        if not isinstance(raw_h, list):
            raise self.fail((*path, "holidays"), "must be a list of dates (2026-12-25)")
        for i, h in enumerate(raw_h):
            if isinstance(h, date):
                holidays.add(h)
                continue
            try:
                holidays.add(date.fromisoformat(h))
            except (TypeError, ValueError):
                raise self.fail((*path, "holidays", f"[{i}]"), f"not a date: {h!r} (expected YYYY-MM-DD)") from None
        return ClinicCalendar(timezone=tz, hours=tuple(hours), holidays=frozenset(holidays))

    def duration(self, value: Any, path: tuple[str, ...]) -> timedelta:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return timedelta(hours=value)
        if isinstance(value, str):
            m = _DURATION.match(value)
            if m:
                n = float(m.group(1))
                unit = m.group(2) or "h"
                if unit in ("m", "min"):
                    return timedelta(minutes=n)
                if unit == "d":
                    raise self.fail(path, "give business time in hours or minutes (\"8h\", \"30m\"), not days")
                return timedelta(hours=n)
        raise self.fail(path, f"expected business hours as a number or \"8h\"/\"30m\", not {value!r}")

    def response_time(self, value: Any) -> dict[tuple[str, Priority], timedelta]:
        path = ("response_time",)
        tbl = self.table(value, path, {"default", *(c.value for c in Category)})
        out: dict[tuple[str, Priority], timedelta] = {}
        for key, body in tbl.items():
            sub = self.table(body, (*path, key), {p.value for p in Priority})
            for prio, v in sub.items():
                out[(key, Priority(prio))] = self.duration(v, (*path, key, prio))
        for prio in Priority:
            if ("default", prio) not in out:
                raise self.fail((*path, "default", prio.value), "missing: every priority needs a default response time")
        return out
