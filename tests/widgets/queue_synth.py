"""Synthetic queue rows for the widget tests and the inbox benchmark (no real data)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from triage_tui.cache.api import QueueRow, ThreadDisplay

NOW = datetime(2025, 3, 4, 10, 30, tzinfo=timezone.utc)
CATEGORIES = ["refill", "appointment", "results", "clinical", "admin", None]
POOLS = {"refill": "pharmacy", "appointment": "scheduling", "results": "nursing",
         "clinical": "nursing", "admin": "front-desk", None: None}
PRIORITIES = ["routine"] * 12 + ["urgent"] * 2 + ["asap", "stat"]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lola"]
LAST = ["Alvarez", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Huang", "Ito", "Jones"]
SUBJECTS = ["Refill request", "Reschedule appointment", "Question about lab results",
            "Rash getting worse", "Billing question", "Side effects", "Need a note for work",
            "Blood pressure readings", "Chest tightness since last night", "Form to sign"]
WORDS = "please could you call me back about the dose my pharmacy says it was not sent".split()


def make_rows(n: int, *, seed: int = 1, now: datetime = NOW) -> list[QueueRow]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        cat = CATEGORIES[i % len(CATEGORIES)]
        last = now - timedelta(minutes=rnd.randrange(1, 60 * 24 * 20))
        due = None if rnd.random() < 0.3 else now + timedelta(minutes=rnd.randrange(-3000, 6000))
        closed = rnd.random() < 0.1
        owner = None if rnd.random() < 0.6 else f"Practitioner/{rnd.randrange(1, 6)}"
        rows.append(QueueRow(
            thread_id=f"t{i:06d}", patient_id=f"p{i % 997:05d}", category=cat,
            priority=rnd.choice(PRIORITIES), status="completed" if closed else "in-progress",
            created=last - timedelta(hours=1), last_message_at=last, last_from_patient=True,
            message_count=rnd.randrange(1, 9), task_id=f"task{i}", pool=POOLS[cat],
            owner_ref=owner, business_status="done" if closed else
            ("claimed" if owner else "unassigned"), due=due))
    return rows


def display_for(thread_id: str) -> ThreadDisplay:
    h = int(thread_id[1:]) if thread_id[1:].isdigit() else sum(map(ord, thread_id))
    name = f"{FIRST[h % len(FIRST)]} {LAST[(h // 7) % len(LAST)]}"
    subject = SUBJECTS[(h // 3) % len(SUBJECTS)]
    preview = " ".join(WORDS[(h + k) % len(WORDS)] for k in range(9))
    return ThreadDisplay(thread_id, name, subject, preview)


class Provider:
    """A display provider that records what it was asked for."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, thread_ids):
        self.calls.append(list(thread_ids))
        return {t: display_for(t) for t in thread_ids}
