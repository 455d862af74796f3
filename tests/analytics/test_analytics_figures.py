"""The figures of ``domain.analytics`` on the hand-built practice of ``dataset.py``.

Every expected number below is worked out by hand in the dataset's docstring.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from analytics_dataset import NOW, RULES, facts

from triage_tui.domain import analytics as an
from triage_tui.domain.triage import business_time_between, default_rules


@pytest.fixture(scope="module")
def rep7() -> an.Report:
    return an.compute(facts(), now=NOW, days=7, rules=RULES)


def test_window(rep7):
    assert rep7.days[0] == date(2025, 3, 6) and rep7.days[-1] == date(2025, 3, 12)
    assert len(rep7.days) == 7


def test_volume(rep7):
    v = rep7.volume
    #                 Th Fr Sa Su Mo Tu We
    assert v.total == (1, 2, 1, 0, 2, 2, 2)
    assert v.by_category == {
        "admin": (0, 0, 0, 0, 1, 0, 0),
        "appointment": (0, 0, 0, 0, 0, 1, 0),
        "clinical": (0, 0, 1, 0, 0, 0, 2),
        "refill": (0, 2, 0, 0, 1, 0, 0),
        "results": (1, 0, 0, 0, 0, 1, 0),
    }
    assert v.by_pool == {
        "front-desk": (0, 0, 0, 0, 1, 0, 0),
        "nursing": (1, 0, 1, 0, 0, 1, 2),
        "pharmacy": (0, 2, 0, 0, 1, 0, 0),
        "scheduling": (0, 0, 0, 0, 0, 1, 0),
    }


def test_response_times(rep7):
    r = rep7.response
    assert r["refill"] == an.ResponseStats(3, 3, 2.5, 17.0)  # 2, 2.5, 17
    assert r["appointment"] == an.ResponseStats(1, 1, 0.5, 0.5)
    assert r["clinical"] == an.ResponseStats(2, 1, 2.0, 2.0)  # T5 unanswered
    assert r["admin"] == an.ResponseStats(1, 0, None, None)
    assert r["results"] == an.ResponseStats(1, 1, 3.0, 3.0)  # T9 from the patient's message
    assert r["all"] == an.ResponseStats(8, 6, 2.25, 17.0)  # 0.5 2 2 2.5 3 17


def test_breaches(rep7):
    b = rep7.breaches
    C = an.BreachCount
    assert b.by_category == {"admin": C(1, 0, 0), "appointment": C(1, 0, 0),
                             "clinical": C(2, 1, 1), "refill": C(3, 1, 0), "results": C(1, 0, 0)}
    assert b.by_pool == {"front-desk": C(1, 0, 0), "nursing": C(3, 1, 1),
                         "pharmacy": C(3, 1, 0), "scheduling": C(1, 0, 0)}
    assert b.total == C(8, 2, 1)
    assert b.total.rate == 0.25


def test_backlog(rep7):
    k = rep7.backlog
    #                     <1d 1-3d 3-7d >7d
    assert k.by_pool == {"(none)": (0, 0, 0, 1), "front-desk": (0, 1, 0, 0),
                         "nursing": (1, 0, 2, 0)}
    assert k.total == (1, 1, 2, 1)
    assert k.unassigned == 3  # T5, T8, T11


def test_staff_replies(rep7):
    assert rep7.staff == {"Practitioner/a": (1, 0, 0, 0, 2, 2, 0),
                          "Practitioner/b": (0, 0, 0, 0, 0, 1, 2)}


def test_thirty_days():
    rep = an.compute(facts(), now=NOW, days=30, rules=RULES)
    assert rep.days[0] == date(2025, 2, 11)
    assert sum(rep.volume.total) == 10 + 1 + 1 + 1  # + T7 02-20, T11 02-25, T12 03-05
    assert rep.response["results"] == an.ResponseStats(2, 2, 2.0, 3.0)  # T7 1 h, T9 3 h
    assert rep.response["refill"] == an.ResponseStats(4, 4, 2.25, 17.0)  # + T12 1.5 h
    assert rep.response["(none)"] == an.ResponseStats(1, 0, None, None)  # T11
    # T11: no category -> the policy default (16 h); unanswered for weeks
    assert rep.breaches.by_category["(none)"] == an.BreachCount(1, 1, 1)
    assert sum(rep.staff["Practitioner/a"]) == 6  # + T7's 02-20 reply
    assert rep.backlog == an.compute(facts(), now=NOW, days=7, rules=RULES).backlog


def test_nearest_rank():
    assert an.nearest_rank([], 90) is None
    assert an.nearest_rank([5.0], 90) == 5.0
    assert an.nearest_rank(list(range(1, 11)), 90) == 9
    assert an.nearest_rank(list(range(1, 11)), 50) == 5
    assert an.nearest_rank(list(range(1, 12)), 90) == 10


def test_business_clock_matches_the_policy():
    """The O(log n) clock agrees with the triage policy's business_time_between on the real
    default calendar (New York time, DST changes, holidays, weekends)."""
    cal = default_rules().calendar
    lo = NOW.timestamp() - 120 * 86400
    hi = NOW.timestamp() + 30 * 86400
    clock = an.BusinessClock(cal, lo, hi)
    rnd = random.Random(9)
    for _ in range(300):
        a = rnd.uniform(lo, hi)
        b = a + rnd.choice([rnd.uniform(0, 3600 * 6), rnd.uniform(0, 86400 * 20)])
        b = min(b, hi)
        from datetime import UTC, datetime
        da, db = datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC)
        want = business_time_between(cal, da, db).total_seconds()
        assert clock.seconds(a, b) == pytest.approx(want, abs=1e-3)


def test_rows_carry_every_number(rep7):
    rows = an.report_rows(rep7)
    assert all(tuple(r) == an.ROW_FIELDS for r in rows)

    def value(figure, group, key, day=""):
        hits = [r["value"] for r in rows
                if (r["figure"], r["group"], r["key"], r["day"]) == (figure, group, key, day)]
        assert len(hits) == 1, (figure, group, key, day)
        return hits[0]

    assert value("volume", "category", "clinical", "2025-03-12") == 2
    assert value("volume", "all", "all", "2025-03-07") == 2
    assert value("response_median", "all", "all") == 2.25
    assert value("response_p90", "category", "refill") == 17.0
    assert value("response_median", "category", "admin") is None
    assert value("breaches", "pool", "nursing") == 1
    assert value("breaches_open", "all", "all") == 1
    assert value("backlog", "pool", "nursing", "3-7 days") == 2
    assert value("backlog_unassigned", "all", "all") == 3
    assert value("replies", "staff", "Practitioner/a", "2025-03-11") == 2
    named = an.report_rows(an.compute(facts(), now=NOW, days=7, rules=RULES,
                                      staff_names={"Practitioner/a": "Alex Rivera"}))
    assert {r["key"] for r in named if r["figure"] == "replies"} == {"Alex Rivera",
                                                                     "Practitioner/b"}


def test_json_shape(rep7):
    js = an.report_json(rep7)
    assert js["since"] == "2025-03-06"
    assert js["response"]["all"]["median_business_hours"] == 2.25
    assert js["breaches"]["total"] == {"threads": 8, "breached": 2, "open_breached": 1}
    assert js["backlog"]["total"] == [1, 1, 2, 1]
    assert js["replies"]["Practitioner/b"]["total"] == 3


def test_empty_input():
    rep = an.compute([], now=NOW, days=7, rules=RULES)
    assert rep.volume.total == (0,) * 7
    assert rep.response == {"all": an.ResponseStats(0, 0, None, None)}
    assert rep.breaches.total.rate is None
    assert rep.backlog.total == (0, 0, 0, 0)
    assert an.report_rows(rep)  # still rows (zeros), no crash


def test_days_are_clinic_local_dates():
    """A message at 02:00 UTC is the previous evening in New York: it counts that day."""
    from datetime import UTC, datetime

    sent = datetime(2025, 3, 12, 2, 0, tzinfo=UTC).timestamp()
    t = an.ThreadFact("x", "refill", "pharmacy", messages=(an.MessageFact(sent, True),))
    rep = an.compute([t], now=NOW, days=2, rules=default_rules())
    assert rep.days == (date(2025, 3, 11), date(2025, 3, 12))
    assert rep.volume.total == (1, 0)
    assert rep.days[0] + timedelta(days=1) == rep.days[1]
