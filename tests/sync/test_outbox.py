"""Outbox push against the reference server with injected faults (real encrypted Store)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from triage_tui.cache.api import OutboxState
from triage_tui.domain.codes import CLIENT_MESSAGE_ID_SYSTEM, Pool
from triage_tui.sync.client import FhirClient
from triage_tui.sync.errors import OfflineError
from triage_tui.sync.outbox import Pusher, claim, queue_reply, route
from triage_tui.sync.pull import Puller

from .conftest import TOKEN, clear_faults, faults, open_cache

ME = "Practitioner/pr0"


def server_copies(server, cid: str) -> list[dict]:
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as h:
        b = h.get(f"{server.base_url}/Communication",
                  params={"identifier": f"{CLIENT_MESSAGE_ID_SYSTEM}|{cid}"}).json()
    return [e["resource"] for e in b.get("entry") or ()]


def server_get(server, path: str) -> httpx.Response:
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as h:
        return h.get(f"{server.base_url}/{path}")


class Clock:
    def __init__(self) -> None:
        self.t = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, s: float) -> None:
        self.t += timedelta(seconds=s)


async def _pulled(client, store):
    await Puller(client, store).pull()
    row = sorted(store.queue(), key=lambda r: r.thread_id)[0]
    return store.thread(row.thread_id)


def _reply(store, thread, text="Your refill was sent to the pharmacy."):
    return queue_reply(store, thread=thread, text=text, sender_ref=ME, user="nurse1")


async def test_reply_acked_once_and_visible(server, store, client):
    thread = await _pulled(client, store)
    item = _reply(store, thread)
    assert store.outbox([OutboxState.QUEUED])[0].id == item.id  # durable before any send
    res = await Pusher(client, store).push()
    assert res.acked == 1
    assert [c["id"] for c in server_copies(server, item.id)] == [item.id]
    assert any(m.id == item.id for m in store.messages(thread.id))
    assert store.outbox([OutboxState.ACKED])[0].server_version == "1"


async def test_500_then_retry(server, store, client):
    thread = await _pulled(client, store)
    item = _reply(store, thread)
    clock = Clock()
    pusher = Pusher(client, store, clock=clock, backoff_base=1, backoff_cap=2)
    faults(server, mode="error500", count=2, method="PUT")
    for _ in range(3):
        await pusher.push()
        clock.advance(5)
    got = store.outbox()[0]
    assert got.state == OutboxState.ACKED and got.attempts == 3
    assert len(server_copies(server, item.id)) == 1


@pytest.mark.parametrize("mode", ["rate429", "ratelimit429"])
async def test_429_honours_retry_after(server, store, mode):
    slept: list[float] = []

    async def fake_sleep(s: float) -> None:
        slept.append(s)

    client = FhirClient(server.base_url, TOKEN, sleep=fake_sleep)
    thread = await _pulled(client, store)
    _reply(store, thread)
    clock = Clock()
    pusher = Pusher(client, store, clock=clock, backoff_base=0.01, backoff_cap=0.01)
    faults(server, mode=mode, count=1, retry_after=30, method="PUT")
    res = await pusher.push()
    assert res.retry_later == 1
    got = store.outbox()[0]
    assert got.state == OutboxState.QUEUED
    assert got.next_attempt_at - clock() >= timedelta(seconds=30)
    clock.advance(10)
    assert (await pusher.push()).attempted == 0  # not before the server said
    clock.advance(25)
    assert (await pusher.push()).acked == 1
    assert slept and max(slept) > 25  # the client also held every request back meanwhile
    await client.aclose()


async def test_dropped_response_after_commit_is_not_resent(server, store, client):
    thread = await _pulled(client, store)
    item = _reply(store, thread)
    faults(server, mode="drop_after_commit", count=1, method="PUT")
    with pytest.raises(OfflineError):
        await Pusher(client, store).push()
    assert store.outbox()[0].state == OutboxState.QUEUED
    clock = Clock()
    clock.advance(3600)
    res = await Pusher(client, store, clock=clock).push()
    assert res.acked == 1
    copies = server_copies(server, item.id)
    assert len(copies) == 1 and copies[0]["meta"]["versionId"] == "1"  # no second write


async def test_crash_in_flight_reconciled_before_resend(server, store, client, tmp_path):
    thread = await _pulled(client, store)
    item = _reply(store, thread)
    # the process dies right after the server committed: the row is in_flight on disk
    got = store.outbox()[0]
    got.state = OutboxState.IN_FLIGHT
    got.attempts = 1
    store.update_outbox(got)
    await client.update(item.payload)
    store.close()
    again = open_cache(server, tmp_path)
    try:
        pusher = Pusher(client, again)
        r = await pusher.reconcile()
        assert r.acked == 1
        assert (await pusher.push()).attempted == 0
        assert len(server_copies(server, item.id)) == 1
    finally:
        again.close()


async def test_crash_in_flight_not_on_server_is_sent(server, store, client):
    thread = await _pulled(client, store)
    item = _reply(store, thread)
    got = store.outbox()[0]
    got.state = OutboxState.IN_FLIGHT
    store.update_outbox(got)
    pusher = Pusher(client, store)
    assert (await pusher.reconcile()).acked == 0
    assert store.outbox()[0].state == OutboxState.QUEUED
    assert (await pusher.push()).acked == 1
    assert len(server_copies(server, item.id)) == 1


async def test_4xx_goes_to_review_with_server_text(server, store, client):
    thread = await _pulled(client, store)
    item = _reply(store, thread)
    bad = store.outbox()[0]
    bad.payload["status"] = "not-a-status"
    store.update_outbox(bad)
    res = await Pusher(client, store).push()
    assert res.needs_review == 1
    got = store.outbox()[0]
    assert got.state == OutboxState.NEEDS_REVIEW
    assert got.last_error and "status" in got.last_error
    assert server_get(server, f"Communication/{item.id}").status_code == 404


async def test_slow_server_times_out_then_delivers_once(server, store):
    async with FhirClient(server.base_url, TOKEN, timeout=0.3) as slow_client:
        thread = await _pulled(slow_client, store)
        item = _reply(store, thread)
        faults(server, mode="slow", delay=1.0, count=1, method="PUT")
        with pytest.raises(OfflineError):
            await Pusher(slow_client, store).push()
        await asyncio.sleep(1.0)  # the slow request completes on the server meanwhile
        clock = Clock()
        clock.advance(3600)
        assert (await Pusher(slow_client, store, clock=clock).push()).acked == 1
    assert len(server_copies(server, item.id)) == 1


async def test_task_conflict_keeps_user_work(server, store, client):
    thread = await _pulled(client, store)
    task = store.task_for_thread(thread.id)
    # someone else claims it first (directly on the server)
    other = server_get(server, f"Task/{task.id}").json()
    other["owner"] = {"reference": "Practitioner/pr1"}
    other["businessStatus"]["coding"][0]["code"] = "claimed"
    other["status"] = "accepted"
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as h:
        h.put(f"{server.base_url}/Task/{task.id}", json=other).raise_for_status()
    seen = []
    claim(store, task, user="nurse1", user_ref=ME)
    reply = _reply(store, thread, "I'll take this one.")
    res = await Pusher(client, store, on_conflict=seen.append).push()
    assert len(res.conflicts) == 1 and seen and "Staff1" in seen[0].message or "pr1" in seen[0].message
    now = server_get(server, f"Task/{task.id}").json()
    assert now["owner"]["reference"] == "Practitioner/pr1"  # nothing overwritten
    states = {i.id: i.state for i in store.outbox()}
    assert states[reply.id] == OutboxState.NEEDS_REVIEW  # the reply is held back
    assert store.draft(thread.id).text == "I'll take this one."  # and the text kept
    assert server_get(server, f"Communication/{reply.id}").status_code == 404
    assert store.task_for_thread(thread.id).owner_ref == "Practitioner/pr1"  # cache refreshed


async def test_claim_then_route_chain_without_false_conflict(server, store, client):
    thread = await _pulled(client, store)
    task = store.task_for_thread(thread.id)
    claim(store, task, user="nurse1", user_ref=ME)
    route(store, task, Pool.PROVIDER, user="nurse1", escalate=True)  # same seen version
    res = await Pusher(client, store).push()
    assert res.acked == 2 and not res.conflicts
    now = server_get(server, f"Task/{task.id}").json()
    assert now["performerType"][0]["coding"][0]["code"] == "provider"
    assert "owner" not in now


async def test_task_if_match_412_from_race(server, store, client):
    thread = await _pulled(client, store)
    task = store.task_for_thread(thread.id)
    claim(store, task, user="nurse1", user_ref=ME)
    pusher = Pusher(client, store)
    real_read = client.read

    async def read_then_race(rtype, rid):
        r = await real_read(rtype, rid)
        if rtype == "Task":  # someone writes between our read and our PUT
            body = dict(r.body)
            body.pop("meta", None)
            body["owner"] = {"reference": "Practitioner/pr2"}
            with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as h:
                h.put(f"{server.base_url}/Task/{rid}", json=body).raise_for_status()
            client.read = real_read
        return r

    client.read = read_then_race
    res = await pusher.push()
    assert len(res.conflicts) == 1
    assert server_get(server, f"Task/{task.id}").json()["owner"]["reference"] == "Practitioner/pr2"
    clear_faults(server)
