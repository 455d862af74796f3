"""The synthetic practice: determinism, valid R4 shapes, mapping, mix and realism."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from triage_tui.domain.codes import (
    BUSINESS_STATUS_SYSTEM,
    CATEGORY_SYSTEM,
    DEFAULT_POOL,
    LANGUAGE_SYSTEM,
    POOL_SYSTEM,
    Category,
    Pool,
)
from triage_tui.server.synth import (
    CATEGORY_MIX,
    HOSTILE_TEXTS,
    SLA_HOURS,
    generate_practice,
    generate_practice_with_truth,
)

from .fhircheck import check, coding_of, references

ORDER = [
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "MedicationRequest",
    "Appointment",
    "Observation",
    "header",
    "message",
    "Task",
]


def kind(r: dict) -> str:
    if r["resourceType"] == "Communication":
        return "message" if "partOf" in r else "header"
    return r["resourceType"]


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def split(resources):
    out: dict[str, list[dict]] = {k: [] for k in ORDER}
    for r in resources:
        out[kind(r)].append(r)
    return out


# -- determinism --------------------------------------------------------------------------------


def test_same_seed_same_bytes(now):
    a = json.dumps(list(generate_practice(5, 150, now)), ensure_ascii=False)
    b = json.dumps(list(generate_practice(5, 150, now)), ensure_ascii=False)
    assert a == b


def test_different_seed_or_now_differs(now):
    a = list(generate_practice(5, 150, now))
    b = list(generate_practice(6, 150, now))
    assert a != b
    assert {r["id"] for r in a}.isdisjoint({r["id"] for r in b})
    c = list(generate_practice(5, 150, now + timedelta(days=1)))
    assert [r["id"] for r in a] == [r["id"] for r in c]  # same shape, shifted in time
    assert a != c


def test_naive_now_is_utc_and_default_now_is_recent(now):
    naive = now.replace(tzinfo=None)
    assert list(generate_practice(5, 30, naive)) == list(generate_practice(5, 30, now))
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    sent = [
        parse(r["sent"]) for r in generate_practice(5, 30) if r["resourceType"] == "Communication"
    ]
    assert max(sent) <= datetime.now(UTC)
    assert max(sent) >= before - timedelta(days=5)


def test_generator_is_lazy_iterator_and_small_sizes(now):
    it = generate_practice(1, 0, now)
    assert iter(it) is it
    res = list(it)
    assert {r["resourceType"] for r in res} <= {"Practitioner", "PractitionerRole"}
    one = split(generate_practice(1, 1, now))
    assert len(one["header"]) == 1 and len(one["Task"]) == 1 and len(one["Patient"]) == 1


# -- shape and mapping ---------------------------------------------------------------------------


def test_every_resource_passes_r4_shape_checks(practice2k):
    resources, _ = practice2k
    for r in resources:
        check(r)
    json.dumps(resources)  # plain JSON types only


def test_dependency_order_and_every_reference_resolves_backwards(practice2k):
    resources, _ = practice2k
    kinds = [ORDER.index(kind(r)) for r in resources]
    assert kinds == sorted(kinds)
    seen: set[str] = set()
    ids = [r["id"] for r in resources]
    assert len(ids) == len(set(ids))
    for r in resources:
        for ref in references(r):
            assert ref in seen, f"{r['resourceType']}/{r['id']} -> {ref} not yielded before"
        seen.add(f"{r['resourceType']}/{r['id']}")


def test_threads_messages_tasks_follow_design_mapping(practice2k, by_id, now):
    resources, truth = practice2k
    s = split(resources)
    assert len(s["header"]) == len(s["Task"]) == 2000
    msgs_by_thread: dict[str, list[dict]] = {}
    for m in s["message"]:
        msgs_by_thread.setdefault(m["partOf"][0]["reference"], []).append(m)
    role_pool = {
        r["practitioner"]["reference"]: coding_of(r["code"][0], POOL_SYSTEM)["code"]
        for r in s["PractitionerRole"]
    }
    task_for = {t["focus"]["reference"]: t for t in s["Task"]}
    assert len(task_for) == 2000  # one Task per thread
    for h in s["header"]:
        href = f"Communication/{h['id']}"
        cat = coding_of(h["category"][0], CATEGORY_SYSTEM)["code"]
        msgs = msgs_by_thread[href]
        assert msgs[0]["sender"]["reference"] == h["subject"]["reference"]  # patient starts
        assert msgs[0]["sent"] == h["sent"]
        times = [parse(m["sent"]) for m in msgs]
        assert times == sorted(times) and times[-1] <= now
        for m in msgs:
            assert m["subject"] == h["subject"]
            assert coding_of(m["category"][0], CATEGORY_SYSTEM)["code"] == cat
            assert m["recipient"]
        for prev, m in zip(msgs, msgs[1:], strict=False):
            if m["sender"]["reference"].startswith("Practitioner/"):
                assert m["inResponseTo"][0]["reference"] == f"Communication/{prev['id']}"
        t = task_for[href]
        assert t["for"] == {k: v for k, v in h["subject"].items()}
        assert t["priority"] == h["priority"]
        pool = coding_of(t["performerType"][0], POOL_SYSTEM)["code"]
        bs = coding_of(t["businessStatus"], BUSINESS_STATUS_SYSTEM)["code"]
        if bs == "escalated" or h["priority"] != "routine":
            assert pool == Pool.PROVIDER
        else:
            assert pool == DEFAULT_POOL[Category(cat)]
        if h["status"] == "completed":
            assert (t["status"], bs) == ("completed", "done")
            assert msgs[-1]["sender"]["reference"].startswith("Practitioner/") or msgs[-2][
                "sender"
            ]["reference"].startswith("Practitioner/")
        else:
            assert h["status"] == "in-progress"
            assert (t["status"], bs) in {
                ("requested", "unassigned"),
                ("accepted", "claimed"),
                ("requested", "escalated"),
            }
        if bs in ("claimed", "done"):
            assert role_pool[t["owner"]["reference"]] == pool
        else:
            assert "owner" not in t
        due = parse(t["restriction"]["period"]["end"]) - parse(t["authoredOn"])
        hours = 2 if h["priority"] != "routine" else SLA_HOURS[Category(cat)]
        assert due == timedelta(hours=hours)
        tr = truth[h["id"]]
        assert tr.task_id == t["id"] and tr.category == cat
        assert list(tr.message_ids) == [m["id"] for m in msgs]


def test_context_resources_back_their_threads(practice2k, by_id):
    resources, truth = practice2k
    n_med = n_appt = n_obs = 0
    for tr in truth.values():
        pref = f"Patient/{tr.patient_id}"
        if tr.category is Category.REFILL:
            assert tr.medication_id, tr
        if tr.medication_id:
            n_med += 1
            assert by_id[f"MedicationRequest/{tr.medication_id}"]["subject"]["reference"] == pref
        if tr.appointment_id:
            n_appt += 1
            a = by_id[f"Appointment/{tr.appointment_id}"]
            assert pref in {p["actor"]["reference"] for p in a["participant"]}
        for oid in tr.observation_ids:
            n_obs += 1
            assert by_id[f"Observation/{oid}"]["subject"]["reference"] == pref
    assert n_med >= 600 and n_appt >= 250 and n_obs >= 300
    interp = Counter(
        r["interpretation"][0]["coding"][0]["code"]
        for r in resources
        if r["resourceType"] == "Observation"
    )
    assert set(interp) == {"H", "L", "N"}


def test_staff_pools_and_identifiers(practice2k):
    s = split(practice2k[0])
    assert 10 <= len(s["Practitioner"]) <= 16
    pools = Counter(coding_of(r["code"][0], POOL_SYSTEM)["code"] for r in s["PractitionerRole"])
    assert set(pools) == {p.value for p in Pool}


# -- mix and realism ---------------------------------------------------------------------------


def test_category_mix(practice2k):
    _, truth = practice2k
    counts = Counter(t.category for t in truth.values())
    for cat, pct in CATEGORY_MIX.items():
        assert abs(counts[cat] / 2000 * 100 - pct) <= 1.0, (cat, counts[cat])
    assert CATEGORY_MIX == {
        "refill": 32,
        "appointment": 24,
        "results": 18,
        "clinical": 15,
        "admin": 11,
    }


def test_patients_about_a_third_of_threads_and_ten_percent_spanish(practice2k):
    resources, truth = practice2k
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert len(patients) == pytest.approx(2000 / 3, abs=2)
    langs = Counter(
        coding_of(p["communication"][0]["language"], LANGUAGE_SYSTEM)["code"] for p in patients
    )
    assert 0.08 <= langs["es"] / len(patients) <= 0.12
    per_patient = Counter(t.patient_id for t in truth.values())
    assert max(per_patient.values()) >= 3  # some patients have several threads


def test_spanish_patients_write_in_spanish(practice2k, by_id):
    _, truth = practice2k
    markers = (
        "¿",
        "á",
        "é",
        "í",
        "ó",
        "ú",
        "ñ",
        " de ",
        " la ",
        " el ",
        "mi ",
        "por favor",
        "gracias",
        "hola",
        "necesit",
        "tengo",
        "quisiera",
        " que ",
    )
    es = en = es_hits = en_hits = 0
    for tr in truth.values():
        text = by_id[f"Communication/{tr.message_ids[0]}"]["payload"][0]["contentString"].lower()
        hit = any(m in text for m in markers[:6]) or any(m in text for m in markers[6:])
        if tr.language == "es":
            es += 1
            es_hits += hit
        else:
            en += 1
            en_hits += "¿" in text or "ñ" in text
    assert es >= 100 and es_hits / es >= 0.9
    assert en_hits / en <= 0.03


def test_urgent_share_and_tricky_cases(practice2k, by_id):
    _, truth = practice2k
    ts = list(truth.values())
    urgent = [t for t in ts if t.urgent]
    assert 0.02 <= len(urgent) / len(ts) <= 0.07
    assert any(not t.urgent_keyword for t in urgent)  # described, not named
    assert any(t.urgent_keyword for t in urgent)
    assert any(t.priority == "routine" for t in urgent)  # the server priority is not always right
    assert any(t.priority != "routine" for t in urgent)
    assert any(t.priority != "routine" for t in ts if not t.urgent)  # nor always wrong
    assert len({t.urgent_kind for t in urgent}) >= 5
    assert sum(t.negated for t in ts) >= 40 and not any(t.negated and t.urgent for t in ts)
    assert sum(t.history for t in ts) >= 20
    assert sum(t.caregiver for t in ts) >= 100
    multi = [t for t in ts if len(t.intents) > 1]
    assert len(multi) >= 150
    assert any(t.intents == ("refill", "appointment") for t in multi)
    assert sum(t.typo for t in ts) >= 300
    # Urgent threads are mostly open and recent: the client has to catch them.
    assert sum(not t.closed for t in urgent) / len(urgent) >= 0.6


def test_distinct_phrasings(practice2k, by_id):
    _, truth = practice2k
    firsts = [
        by_id[f"Communication/{t.message_ids[0]}"]["payload"][0]["contentString"]
        for t in truth.values()
    ]
    assert len({f[:30] for f in firsts}) >= 300
    assert len(set(firsts)) >= 1900
    texts = " ".join(firsts).lower()
    for phrase in ("writing for my", "no chest pain", "refill", "appointment", "lab results"):
        assert phrase in texts, phrase


def test_closed_history_and_open_queue(practice2k):
    _, truth = practice2k
    closed = sum(t.closed for t in truth.values())
    assert 0.3 <= closed / 2000 <= 0.5


def test_hostile_texts_present_and_switchable(practice2k, now):
    resources, truth = practice2k
    payloads = [r["payload"][0]["contentString"] for r in resources if "payload" in r]
    for h in HOSTILE_TEXTS:
        assert any(h in p for p in payloads), repr(h[:40])
    n_hostile = sum(any(h in p for h in HOSTILE_TEXTS) for p in payloads)
    assert 0.003 <= n_hostile / len(payloads) <= 0.03
    assert any(t.hostile for t in truth.values())
    assert max(len(p) for p in payloads) >= 20 * 1024

    clean, ctruth = generate_practice_with_truth(11, 400, now, hostile=False)
    for r in clean:
        blob = json.dumps(r, ensure_ascii=False)
        assert "\\u001b" not in blob and "\\u0000" not in blob and "\u202e" not in blob
        assert "[/" not in blob
    assert not any(t.hostile for t in ctruth.values())


def test_no_truth_labels_in_fhir(practice2k):
    resources, _ = practice2k
    blob = json.dumps(resources)
    for word in ("urgent_kind", "urgent_keyword", "caregiver", "negated", '"extension"', "truth"):
        assert word not in blob


@pytest.mark.parametrize("seed, n", [(11, 2000), (42, 300), (42, 180)])
def test_most_open_threads_are_within_their_response_time(seed, n, now, practice2k):
    """A practice keeps most open threads within its commitment: about 15% overdue (10-20%)
    and some due within 4 hours, so the overdue flag means something (demo: seed 42)."""
    resources = practice2k[0] if (seed, n) == (11, 2000) else generate_practice(seed, n, now)
    due = [datetime.fromisoformat(t["restriction"]["period"]["end"].replace("Z", "+00:00"))
           for t in resources if t["resourceType"] == "Task" and t["status"] != "completed"]
    overdue = sum(d < now for d in due) / len(due)
    soon = sum(now <= d < now + timedelta(hours=4) for d in due) / len(due)
    assert 0.10 <= overdue <= 0.20, overdue
    assert 0.08 <= soon <= 0.30, soon
