"""Message triage: rules as data, categorize, detect urgency, route, response-time timers.

Pure Python (no I/O but reading the rule files). Typical use::

    rules = load_rules()                      # shipped defaults + config_dir()/rules.toml
    c = classify(rules, subject, text, server_category=thread.category)
    pool = route(rules, c.category, c.urgent)
    due = due_at(rules, c.category, c.priority, received)
    state = due_state(due, now)               # 'overdue' | 'due_soon' | 'ok'
    rows.sort(key=lambda r: queue_sort_key(r.priority, r.due, now, received=r.received))
"""

from triage_tui.domain.triage.engine import Classification, Match, classify
from triage_tui.domain.triage.policy import (
    DUE_SOON,
    DueState,
    add_business_time,
    business_time_between,
    due_at,
    due_state,
    queue_sort_key,
    route,
)
from triage_tui.domain.triage.rules import (
    ClinicCalendar,
    Rules,
    RulesError,
    default_rules,
    load_rules,
    rules_fingerprint,
    rules_from_texts,
    user_rules_path,
)

__all__ = [
    "Classification",
    "ClinicCalendar",
    "DUE_SOON",
    "DueState",
    "Match",
    "Rules",
    "RulesError",
    "add_business_time",
    "business_time_between",
    "classify",
    "default_rules",
    "due_at",
    "due_state",
    "load_rules",
    "queue_sort_key",
    "route",
    "rules_fingerprint",
    "rules_from_texts",
    "user_rules_path",
]
