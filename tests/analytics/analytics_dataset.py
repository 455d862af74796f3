"""A small hand-built practice whose figures are worked out by hand (synthetic data only).

Clinic calendar: UTC, Monday-Friday 09:00-17:00, no holidays. Response times, pinned below
as in the shipped policy: refill 16 h, appointment 8 h, results 24 h, clinical 8 h, admin 24 h,
no category 16 h; urgent 4 h.
NOW = Wednesday 2025-03-12 12:00 UTC; the 7-day window is Thu 03-06 .. Wed 03-12.

T1  refill/pharmacy      patient Mon 03-10 10:00, a replies Mon 12:30   -> 2.5 bh    done
T2  refill/pharmacy      patient Fri 03-07 16:00, a replies Mon 10:00   -> 2 bh      done
T3  refill/pharmacy      patient Fri 03-07 09:00, a replies Tue 03-11 10:00 -> 17 bh (> 16: breach)
T4  appointment/sched.   patient Tue 03-11 08:00 (closed), b replies 09:30 -> 0.5 bh  done
T5  clinical/nursing     patient Sat 03-08 11:00, no answer: 19 bh by now (> 8: open breach);
                         open, unassigned, waiting 4 d 1 h
T6  clinical/nursing URGENT patient Wed 09:00, b replies 11:00 (2 bh <= 4), patient again 11:30;
                         open, claimed by b, waiting 30 min
T7  results/nursing      patient 02-20 10:00, a replies 11:00 (1 bh), patient again Thu 03-06
                         10:00; first message before the 7-day window; open, claimed by a, 6 d 2 h
T8  admin/front-desk     patient Mon 03-10 13:00, no answer: 15 bh (<= 24); open, 1 d 23 h
T9  results/nursing      a writes first Tue 03-11 14:00, patient 15:00, b replies Wed 10:00 -> 3 bh
T10 refill/pharmacy      all in 02-01 (outside 30 days too); done
T11 no category, no task patient 02-25 10:00; header in progress: open, pool (none), 15 days
T12 refill/pharmacy      patient Wed 03-05 16:00 (day before the window), a replies Thu 03-06
                         09:30 (1.5 bh)
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from triage_tui.domain.analytics import MessageFact, ThreadFact
from triage_tui.domain.codes import BusinessStatus, Category, Pool, Priority, TaskStatus
from triage_tui.domain.models import Message, Practitioner, Task, Thread
from triage_tui.domain.triage import ClinicCalendar, default_rules

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
A, B = "Practitioner/a", "Practitioner/b"
NINE_TO_FIVE = ((time(9), time(17)),)
CALENDAR = ClinicCalendar(timezone=ZoneInfo("UTC"), hours=(NINE_TO_FIVE,) * 5 + ((), ()),
                          holidays=frozenset())
# The response times the hand-worked answers use, pinned (the shipped policy may change).
HOURS = {"refill": 16, "appointment": 8, "results": 24, "clinical": 8, "admin": 24}
RESPONSE_TIME = {
    **{(c, Priority.ROUTINE): timedelta(hours=h) for c, h in HOURS.items()},
    ("default", Priority.ROUTINE): timedelta(hours=16),
    ("default", Priority.URGENT): timedelta(hours=4),
    ("default", Priority.ASAP): timedelta(hours=1),
    ("default", Priority.STAT): timedelta(minutes=15),
}
RULES = dataclasses.replace(default_rules(), calendar=CALENDAR, response_time=RESPONSE_TIME)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


P = "Patient/p1"
DONE = (TaskStatus.COMPLETED, BusinessStatus.DONE, None)
# id: (category, pool, priority, [(sent, sender)], task (status, business status, owner) | None)
THREADS = {
    "T1": (Category.REFILL, Pool.PHARMACY, Priority.ROUTINE,
           [(at(3, 10, 10), P), (at(3, 10, 12, 30), A)], DONE),
    "T2": (Category.REFILL, Pool.PHARMACY, Priority.ROUTINE,
           [(at(3, 7, 16), P), (at(3, 10, 10), A)], DONE),
    "T3": (Category.REFILL, Pool.PHARMACY, Priority.ROUTINE,
           [(at(3, 7, 9), P), (at(3, 11, 10), A)], DONE),
    "T4": (Category.APPOINTMENT, Pool.SCHEDULING, Priority.ROUTINE,
           [(at(3, 11, 8), P), (at(3, 11, 9, 30), B)], DONE),
    "T5": (Category.CLINICAL, Pool.NURSING, Priority.ROUTINE, [(at(3, 8, 11), P)],
           (TaskStatus.REQUESTED, BusinessStatus.UNASSIGNED, None)),
    "T6": (Category.CLINICAL, Pool.NURSING, Priority.URGENT,
           [(at(3, 12, 9), P), (at(3, 12, 11), B), (at(3, 12, 11, 30), P)],
           (TaskStatus.ACCEPTED, BusinessStatus.CLAIMED, B)),
    "T7": (Category.RESULTS, Pool.NURSING, Priority.ROUTINE,
           [(at(2, 20, 10), P), (at(2, 20, 11), A), (at(3, 6, 10), P)],
           (TaskStatus.ACCEPTED, BusinessStatus.CLAIMED, A)),
    "T8": (Category.ADMIN, Pool.FRONT_DESK, Priority.ROUTINE, [(at(3, 10, 13), P)],
           (TaskStatus.REQUESTED, BusinessStatus.UNASSIGNED, None)),
    "T9": (Category.RESULTS, Pool.NURSING, Priority.ROUTINE,
           [(at(3, 11, 14), A), (at(3, 11, 15), P), (at(3, 12, 10), B)], DONE),
    "T10": (Category.REFILL, Pool.PHARMACY, Priority.ROUTINE,
            [(at(2, 1, 10), P), (at(2, 1, 11), A)], DONE),
    "T11": (None, None, Priority.ROUTINE, [(at(2, 25, 10), P)], None),
    "T12": (Category.REFILL, Pool.PHARMACY, Priority.ROUTINE,
            [(at(3, 5, 16), P), (at(3, 6, 9, 30), A)], DONE),
}
STAFF = [Practitioner("a", "1", "Alex Rivera", Pool.PHARMACY),
         Practitioner("b", "1", "Bea Okafor", Pool.NURSING)]


def facts() -> list[ThreadFact]:
    out = []
    for tid, (cat, pool, prio, msgs, task) in THREADS.items():
        out.append(ThreadFact(
            tid, cat and str(cat), pool and str(pool), priority=str(prio),
            created=msgs[0][0].timestamp(), task_status=task and str(task[0]),
            business_status=task and str(task[1]), owner=task and task[2],
            messages=tuple(MessageFact(s.timestamp(), who == P, who, tid) for s, who in msgs)))
    return out


def records() -> list:
    """The same practice as cache records (for the store round trip)."""
    out: list = list(STAFF)
    for tid, (cat, pool, prio, msgs, task) in THREADS.items():
        out.append(Thread(tid, "1", "p1", f"Subject {tid}", cat, prio, created=msgs[0][0]))
        for i, (sent, who) in enumerate(msgs):
            out.append(Message(f"{tid}-m{i}", "1", tid, f"text {i}", sent, who))
        if task is not None:
            out.append(Task(f"task-{tid}", "1", tid, "p1", pool, task[0], task[1], prio,
                            task[2], None, msgs[0][0]))
    return out
