"""The live simulator against an in-memory store view."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from triage_tui.server.synth import generate_practice
from triage_tui.server.synth.simulate import Simulator

from .fhircheck import check, references

OPEN = {"part-of:missing": "true", "status": "in-progress"}


class FakeStore:
    def __init__(self, resources):
        self.res = {f"{r['resourceType']}/{r['id']}": r for r in resources}
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, rtype: str, params: dict) -> list[dict]:
        self.calls.append((rtype, dict(params)))
        out = [r for r in self.res.values() if r["resourceType"] == rtype]
        if rtype == "Communication":
            assert params == OPEN
            out = [r for r in out if "partOf" not in r and r["status"] == "in-progress"]
        else:
            assert (rtype, params) == ("Patient", {})
        return out

    def add(self, resources):
        for r in resources:
            self.res[f"{r['resourceType']}/{r['id']}"] = r


@pytest.fixture
def store(now):
    return FakeStore(generate_practice(21, 150, now))


def run(sim, store, now, n):
    log = []
    for _ in range(n):
        now = now + timedelta(seconds=sim.next_delay())
        out = sim.arrival(now, store)
        store.add(out)
        log.append(out)
    return log


def test_arrivals_are_valid_and_resolve(store, now):
    sim = Simulator(3)
    log = run(sim, store, now, 60)
    shapes = {tuple(r["resourceType"] for r in out) for out in log}
    assert shapes == {("Communication", "Communication", "Task"), ("Communication",)}
    for out in log:
        for r in out:
            check(r)
            for ref in references(r):
                assert ref in store.res, ref
        msg = next(r for r in out if "payload" in r)
        assert msg["sender"]["reference"].startswith("Patient/")
        if len(out) == 3:
            h, m, t = out
            assert h["status"] == "in-progress" and "payload" not in h
            assert m["partOf"][0]["reference"] == f"Communication/{h['id']}"
            assert t["focus"]["reference"] == f"Communication/{h['id']}"
            assert t["status"] == "requested"
    new_threads = [out[0]["id"] for out in log if len(out) == 3]
    assert set(new_threads) == set(sim.truth)


def test_uses_only_two_cached_calls(store, now):
    sim = Simulator(3, refresh_every=5)
    run(sim, store, now, 20)
    kinds = [c[0] for c in store.calls]
    assert kinds.count("Patient") == 1
    assert kinds.count("Communication") == 4


def test_deterministic_for_same_seed_and_store(now):
    logs = []
    for _ in range(2):
        store = FakeStore(generate_practice(21, 60, now))
        logs.append(json.dumps(run(Simulator(9), store, now, 25), ensure_ascii=False))
    assert logs[0] == logs[1]
    other = json.dumps(run(Simulator(10), FakeStore(generate_practice(21, 60, now)), now, 25))
    assert other != logs[0]


def test_ids_do_not_collide_with_practice_of_same_seed(now):
    store = FakeStore(generate_practice(4, 60, now))
    before = set(store.res)
    log = run(Simulator(4), store, now, 30)
    new = [f"{r['resourceType']}/{r['id']}" for out in log for r in out]
    assert len(new) == len(set(new)) and before.isdisjoint(new)


def test_delay_range_and_empty_store(now):
    sim = Simulator(1)
    delays = [sim.next_delay() for _ in range(500)]
    assert all(20 <= d <= 60 for d in delays) and max(delays) - min(delays) > 30
    assert sim.arrival(now, FakeStore([])) == []


def test_urgent_arrivals_happen(now):
    store = FakeStore(generate_practice(2, 90, now))
    sim = Simulator(2)
    run(sim, store, now, 300)
    assert any(t.urgent for t in sim.truth.values())
    assert sim.urgent_followups
