"""Hypothesis state machine: compose, send, crash the client anywhere, restart, server down/up.

Invariant: a reply the user confirmed is never on the server twice; at the end (server up,
client restarted and drained) every confirmed reply is on the server exactly once.
Runs against the reference server over HTTP with the real encrypted Store.
"""

from __future__ import annotations

import asyncio
import itertools

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from triage_tui.cache.api import OutboxState
from triage_tui.domain.codes import CLIENT_MESSAGE_ID_SYSTEM
from triage_tui.sync.client import FhirClient
from triage_tui.sync.errors import OfflineError
from triage_tui.sync.outbox import Pusher, queue_reply
from triage_tui.sync.pull import Puller

from .conftest import TOKEN, faults, open_cache


STEPS = 8


class Crash(BaseException):
    """The client process dies here (BaseException: nothing catches it on the way)."""


def _copies(server, ids: list[str]) -> dict[str, int]:
    out = dict.fromkeys(ids, 0)
    if not ids:
        return out
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as h:
        for i in range(0, len(ids), 50):
            chunk = ids[i:i + 50]
            b = h.get(f"{server.base_url}/Communication", params={
                "identifier": ",".join(f"{CLIENT_MESSAGE_ID_SYSTEM}|{x}" for x in chunk),
                "_count": 1000}).json()
            for e in b.get("entry") or ():
                for ident in e["resource"].get("identifier") or ():
                    if ident.get("system") == CLIENT_MESSAGE_ID_SYSTEM and ident["value"] in out:
                        out[ident["value"]] += 1
                        # written once: a resend after a committed write would make version 2
                        assert e["resource"]["meta"]["versionId"] == "1"
    return out


def test_every_confirmed_reply_exactly_once(server, tmp_path):
    users = itertools.count()

    class Outbox(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            self.loop = asyncio.new_event_loop()
            self.user = f"u{next(users)}"
            self.confirmed: list[str] = []
            self.up = True
            if not server.running:
                server.start()
            self._open()
            self.run(Puller(self.client, self.store).pull())
            self.threads = [self.store.thread(r.thread_id) for r in self.store.queue()[:3]]

        def _open(self) -> None:
            self.store = open_cache(server, tmp_path, self.user)
            self.client = FhirClient(server.base_url, TOKEN, timeout=2.0, max_retries=0)
            self.pusher = Pusher(self.client, self.store, backoff_base=0.0, backoff_cap=0.0)
            self.reconciled = False

        def run(self, coro):
            return self.loop.run_until_complete(coro)

        def _send(self, limit=None):
            try:
                if not self.reconciled:
                    self.run(self.pusher.reconcile())
                    self.reconciled = True
                self.run(self.pusher.push(limit=limit))
            except OfflineError:
                pass

        @rule(n=st.integers(0, 2), text=st.sampled_from(["ok", "Refill sent.", "See you at 10."]))
        def compose(self, n: int, text: str) -> None:
            item = queue_reply(self.store, thread=self.threads[n], text=text,
                               sender_ref="Practitioner/pr0", user=self.user)
            self.confirmed.append(item.id)  # the UI says "queued" now

        @rule()
        def send(self) -> None:
            self._send()

        @precondition(lambda self: self.up)
        @rule(mode=st.sampled_from(["error500", "drop_after_commit", "rate429"]))
        def fault(self, mode: str) -> None:
            faults(server, mode=mode, count=1, retry_after=0, method="PUT")

        @rule(after_commit=st.booleans())
        def crash_while_sending(self, after_commit: bool) -> None:
            real = self.client.update

            async def dying(resource, **kw):
                if after_commit:
                    await real(resource, **kw)
                raise Crash

            self.client.update = dying
            try:
                self._send(limit=1)
            except Crash:
                pass
            self._restart_client()

        @rule()
        def restart_client(self) -> None:
            self._restart_client()

        def _restart_client(self) -> None:
            self.run(self.client.aclose())
            self.store.close()
            self._open()

        @precondition(lambda self: self.up)
        @rule()
        def server_down(self) -> None:
            server.stop()
            self.up = False

        @precondition(lambda self: not self.up)
        @rule()
        def server_up(self) -> None:
            server.start()
            self.up = True

        @invariant()
        def never_twice(self) -> None:
            if self.up and self.confirmed:
                assert max(_copies(server, self.confirmed).values()) <= 1
                for item in self.store.outbox([OutboxState.ACKED]):
                    assert _copies(server, [item.id])[item.id] == 1

        def teardown(self) -> None:
            try:
                if not self.up:
                    server.start()
                self._restart_client()
                # each push pass meets at most one leftover fault (a failed item holds its
                # thread), and a run queues at most one fault per step: drain for longer than that
                for _ in range(STEPS + 4):
                    self._send()
                    if not self.store.outbox([OutboxState.QUEUED, OutboxState.IN_FLIGHT]):
                        break
                states = {i.id: i.state for i in self.store.outbox()}
                assert all(states[c] == OutboxState.ACKED for c in self.confirmed), states
                copies = _copies(server, self.confirmed)
                assert all(v == 1 for v in copies.values()), copies
            finally:
                self.run(self.client.aclose())
                self.store.close()
                self.loop.close()

    run_state_machine_as_test(Outbox, settings=settings(
        max_examples=8, stateful_step_count=STEPS, deadline=None,
        suppress_health_check=list(HealthCheck)))
