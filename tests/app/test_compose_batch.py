"""Pilot tests of issue 7: the compose screen and the batch template flow, on the real
encrypted Store and the real reference FHIR server (synthetic refill practice)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pytest
from app_helpers import USER, deterministic_config, make_app

from triage_tui.cache import open_store
from triage_tui.cache.api import OutboxKind, OutboxState
from triage_tui.config import PracticeConfig
from triage_tui.domain.templates import Practice
from triage_tui.screens.batch_review import BatchReviewScreen
from triage_tui.screens.compose import ComposeScreen
from triage_tui.screens.inbox import InboxScreen
from triage_tui.sync import FhirClient, SyncEngine
from triage_tui.sync.pull import Puller
from triage_tui.widgets.queue_list import QueueList
from triage_tui.widgets.template_picker import TemplatePicker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "templates"))
from refill_practice import NURSE, refill_practice  # noqa: E402

PRACTICE = Practice("Dr. Okafor", "Elm Street Clinic", "555-0100", "America/New_York")


async def settle(pilot) -> None:
    """Let the UI and its workers finish (not the sync loop: it runs until the app stops)."""
    await pilot.pause()
    for _ in range(200):
        busy = [w for w in pilot.app.workers if w.group not in ("sync", "batch-states")
                and w.is_running]
        if not busy:
            break
        await pilot.pause(0.02)
    await pilot.pause()


@pytest.fixture
def practice_data():
    return refill_practice(30, 2)


@pytest.fixture
async def cache(tmp_path, fhir_server, practice_data):
    resources, _ = practice_data
    fhir_server.storage.bulk_load(resources, validate_each=True)
    store = open_store(fhir_server.base_url, USER, passphrase="pw", data_dir=tmp_path / "data",
                       keyring_ok=False)
    async with FhirClient(fhir_server.base_url, fhir_server.token) as client:
        await Puller(client, store).pull()
    yield store
    store.close()


def engine_factory(server):
    def make(store, **callbacks):
        client = FhirClient(server.base_url, server.token, backoff_base=0.01, backoff_cap=0.05)
        return SyncEngine(client, store, USER, interval=0.3, offline_cap=0.5, **callbacks)
    return make


def templated_app(store, **kw):
    """The app with the [practice] table of the config filled in."""
    return make_app(store, config=deterministic_config(practice=PracticeConfig(
        PRACTICE.provider_name, PRACTICE.clinic_name, PRACTICE.clinic_phone, PRACTICE.timezone)),
        **kw)


async def wait_for(pilot, cond, timeout=15.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("timed out")
        await pilot.pause(0.1)


def server_replies(server, thread_id: str) -> list[dict]:
    r = httpx.get(f"{server.base_url}/Communication", params={
        "part-of": f"Communication/{thread_id}", "_count": 100},
        headers={"Authorization": f"Bearer {server.token}"})
    r.raise_for_status()
    return [e["resource"] for e in r.json().get("entry", [])
            if e["resource"].get("sender", {}).get("reference") == f"Practitioner/{NURSE}"]


async def mark_refills(pilot) -> None:
    await settle(pilot)
    await pilot.press("2", "asterisk")  # refill view, mark every thread in it
    await settle(pilot)


async def test_batch_of_30_refills_reaches_the_server_once_each(cache, fhir_server,
                                                                practice_data) -> None:
    _, expected = practice_data
    app = templated_app(cache, sync_factory=engine_factory(fhir_server))
    async with app.run_test(size=(120, 40)) as pilot:
        await mark_refills(pilot)
        assert len(pilot.app.screen.query_one(QueueList).marked_ids) == 32
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, TemplatePicker)
        await pilot.press(*"sent pharm", "enter")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, BatchReviewScreen)
        assert review.batch.group.id == "refill-sent-pharmacy"
        assert review.batch.counts() == {"ready": 30, "blocked": 0, "left_out": 2,
                                         "urgent_left_out": 2}
        await pilot.press("c", "y")  # also claim and close each thread; confirm dialog
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert review.outcome is not None and len(review.outcome.queued) == 30
        await wait_for(pilot, lambda: cache.outbox_counts().get(OutboxState.ACKED, 0) == 60)
        await wait_for(pilot, lambda: all(r.state == OutboxState.ACKED
                                          for r in review.batch.replies if r.item_id))
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert not app.screen.query_one(QueueList).marked_ids  # acted: marks cleared
    for e in expected:
        replies = server_replies(fhir_server, e.thread_id)
        if e.urgent:
            assert replies == [], "urgent threads stay out of the batch"
            continue
        assert len(replies) == 1, e.thread_id
        text = replies[0]["payload"][0]["contentString"]
        greeting = f"Hola {e.first_name}:" if e.language == "es" else f"Hi {e.first_name},"
        assert text.startswith(greeting)
        assert f"{e.medication} ({e.dose})" in text and e.pharmacy in text
        assert "555-0100" in text and "[[" not in text
        assert replies[0]["inResponseTo"] == [{"reference": f"Communication/{e.thread_id}-m1"}]
        task = httpx.get(f"{fhir_server.base_url}/Task?focus=Communication/{e.thread_id}",
                         headers={"Authorization": f"Bearer {fhir_server.token}"}).json()
        t = task["entry"][0]["resource"]
        assert t["status"] == "completed" and t["owner"]["reference"] == USER
    audits = [a for a in cache.audit_log() if a.action == "send"]
    assert len(audits) == 1 and len(audits[0].detail["communications"]) == 30


async def test_batch_offline_queues_then_sends_on_reconnect(cache, fhir_server) -> None:
    app = templated_app(cache, sync_factory=engine_factory(fhir_server))
    async with app.run_test(size=(80, 24)) as pilot:
        await mark_refills(pilot)
        fhir_server.stop()
        await pilot.press("a", *"sent pharm", "enter")
        await settle(pilot)
        review = app.screen
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert len(review.outcome.queued) == 30
        await pilot.pause(1.0)
        counts = cache.outbox_counts()
        assert counts.get(OutboxState.ACKED, 0) == 0
        waiting = counts.get(OutboxState.QUEUED, 0) + counts.get(OutboxState.IN_FLIGHT, 0)
        assert waiting == 30  # one may be "in flight" while the pusher meets the dead server
        assert app.sync_state.queued == 30
        assert {r.state for r in review.batch.replies if r.item_id} <= {
            OutboxState.QUEUED, OutboxState.IN_FLIGHT}
        fhir_server.start()
        app.engine.kick()
        await wait_for(pilot, lambda: cache.outbox_counts().get(OutboxState.ACKED, 0) == 30)
        await wait_for(pilot, lambda: {r.state for r in review.batch.replies if r.item_id}
                       == {OutboxState.ACKED})


async def test_review_flags_missing_values_and_urgent_can_be_added(cache) -> None:
    app = templated_app(cache)
    app.practice = Practice("Dr. Okafor")  # no clinic phone: every reply misses it
    async with app.run_test(size=(120, 40)) as pilot:
        await mark_refills(pilot)
        await pilot.press("a", *"sent pharm", "enter")
        await settle(pilot)
        review = app.screen
        assert review.batch.counts()["blocked"] == 30
        first = review.current
        assert first.problems() == ["missing clinic.phone: not set in the practice settings"]
        # fix the first reply by hand; add an urgent thread on purpose
        urgent = next(i for i, r in enumerate(review.batch.replies) if r.urgent)
        review.batch.replies[0].text = first.text.replace("[[clinic.phone]]", "555-0199")
        review.query_one("#rows").highlighted = urgent
        await pilot.press("space")
        assert review.batch.replies[urgent].included
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert review.outcome.queued == [review.batch.replies[0].thread_id]
        assert len(review.outcome.not_sent) == 30  # 29 routine + the urgent one, all blocked
    replies = [i for i in cache.outbox() if i.kind == OutboxKind.REPLY]
    assert len(replies) == 1 and "555-0199" in replies[0].payload["payload"][0]["contentString"]


async def test_compose_one_reply_with_template_and_draft(cache, practice_data) -> None:
    _, expected = practice_data
    app = templated_app(cache)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        tid = pilot.app.screen.query_one(QueueList).cursor_thread_id
        e = next(x for x in expected if x.thread_id == tid)
        await pilot.press("r")
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await pilot.press(*"Back soon")
        await pilot.pause(1.2)  # debounce: the draft is on disk while the screen is open
        await settle(pilot)
        assert cache.draft(tid).text == "Back soon"
        await pilot.press("ctrl+t")
        await settle(pilot)
        await pilot.press(*"denied", "enter")
        await settle(pilot)
        assert compose.group.id == "refill-denied"
        assert "{fill.reason}" in compose.text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is compose  # blocked: the reason is a blank
        assert any("reason" in p for p in compose.problems)
        assert not cache.outbox()
        assert cache.draft(tid).template_id == "refill-denied"
        editor = compose.query_one("#editor")
        editor.load_text(compose.text.replace("{fill.reason}", "we need your blood tests first"))
        compose._update()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
    [item] = cache.outbox()
    text = item.payload["payload"][0]["contentString"]
    assert e.first_name in text and e.medication in text and "blood tests" in text
    assert cache.draft(tid) is None  # removed in the same transaction as the enqueue


async def test_leaving_compose_keeps_the_draft_and_reopening_restores_it(cache) -> None:
    app = templated_app(cache)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tid = pilot.app.screen.query_one(QueueList).cursor_thread_id
        await pilot.press("r", *"half written", "ctrl+g")
        await settle(pilot)
        assert cache.draft(tid).text == "half written"
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.text == "half written"
