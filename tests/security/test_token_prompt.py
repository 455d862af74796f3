"""The server rotates the bearer token mid-session (issue 8): after the refusal (one refresh,
then ``on_refused``) the app asks for a new token in a small masked modal with no PHI, keeps it
encrypted in the cache and sync resumes. Real reference server, real cache, ``open``'s wiring."""

from __future__ import annotations

import httpx
import pytest

from triage_tui.app import TriageApp
from triage_tui.cache import open_store
from triage_tui.commands.app import sync_factory
from triage_tui.config import Config
from triage_tui.screens.inbox import InboxScreen
from triage_tui.screens.sign_in import TokenScreen, ask_for_token
from triage_tui.server.runner import ServerThread
from triage_tui.sync.auth import STATIC_KEY

OLD, NEW = "tok-Before-rotation-5e1", "tok-After-rotation-9c4"
USER = "Practitioner/nurse-5"


@pytest.fixture
def rotating(tmp_path):
    valid = {"token": OLD}
    srv = ServerThread(tmp_path / "fhir.db", OLD, seed=7, n_threads=12,
                       verify_token=lambda t: t == valid["token"])
    with srv:
        with httpx.Client(headers={"Authorization": f"Bearer {OLD}"}) as http:
            http.put(f"{srv.base_url}/Practitioner/nurse-5", json={
                "resourceType": "Practitioner", "id": "nurse-5",
                "name": [{"family": "Five", "given": ["Nurse"]}]}).raise_for_status()
        yield srv, valid


async def _until(pilot, cond, tries: int = 200) -> bool:
    for _ in range(tries):
        if cond():
            return True
        await pilot.pause(0.05)
    return cond()


async def test_rotated_token_is_asked_for_and_sync_resumes(rotating, tmp_path):
    srv, valid = rotating
    store = open_store(srv.base_url, USER, passphrase="pw", data_dir=tmp_path / "data")
    config = Config(animations=False, idle_lock_minutes=0, lock_on_hangup=False,
                    retention_days=0)
    app: TriageApp
    factory = sync_factory(srv.base_url, USER, config, token=OLD, interval=0.3,
                           on_refused=lambda provider: ask_for_token(app, provider))
    app = TriageApp(config, store=store, server_label=srv.base_url, user_ref=USER,
                    user_label="Nurse Five", sync_factory=factory)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            assert await _until(pilot, lambda: len(store.queue()) > 0 and
                                app.sync_state.last_sync is not None)
            assert store.get_meta(STATIC_KEY) == OLD  # given once, kept encrypted
            names = {d.patient_name for d in
                     store.thread_display([r.thread_id for r in store.queue()]).values()}
            valid["token"] = NEW  # the administrator rotates the token
            app.engine.kick()
            assert await _until(pilot, lambda: isinstance(app.screen, TokenScreen))
            app.engine.kick()  # more refusals while the dialog is up: still one dialog
            await pilot.pause(0.5)
            assert sum(isinstance(s, TokenScreen) for s in app.screen_stack) == 1
            assert app.sync_state.detail == "sign-in refused"
            app.screen.query_one("#token").value = NEW
            await pilot.pause()
            shot = app.export_screenshot()
            assert NEW not in shot and "refused" in shot  # masked input
            # the dialog's own text: no patient data, only the server
            from textual.widgets import Static

            text = " ".join(str(w.render()) for w in app.screen.query(Static))
            assert names and not [n for n in names if n in text]
            assert srv.base_url in text
            await pilot.press("enter")
            assert await _until(pilot, lambda: isinstance(app.screen, InboxScreen))
            before = app.sync_state.last_sync
            assert await _until(pilot, lambda: app.sync_state.last_sync != before
                                and not app.sync_state.detail)
            assert store.get_meta(STATIC_KEY) == NEW
            await app.action_quit()
    finally:
        store.close()
    for f in (tmp_path / "data").iterdir():
        data = f.read_bytes()
        assert NEW.encode() not in data and OLD.encode() not in data, f.name
