"""Storage directly (bulk load, clock), seeding, the simulator hook and the CLI command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import types

import httpx
import pytest

from triage_tui.server.sample import small_practice
from triage_tui.server.storage import Storage


def test_bulk_load_is_fast_and_indexed(tmp_path):
    pats = [{"resourceType": "Patient", "id": f"p{i}"} for i in range(100)]
    comms = [{"resourceType": "Communication", "id": f"c{i}", "status": "completed",
              "subject": {"reference": f"Patient/p{i % 100}"}, "sent": "2025-01-01T00:00:00Z",
              "payload": [{"contentString": "x" * 200}]} for i in range(10_000)]
    s = Storage(tmp_path / "b.db")
    t0 = time.perf_counter()
    assert s.bulk_load(pats + comms) == 10_100
    assert time.perf_counter() - t0 < 5
    _, page = s.search("Communication", [("subject", "Patient/p7"), ("_total", "accurate")])
    assert page.total == 100
    stamps = [s.read("Communication", f"c{i}").lu for i in range(50)]
    assert stamps == sorted(set(stamps))
    s.close()


def test_clock_never_goes_back_across_reopen(tmp_path):
    s = Storage(tmp_path / "c.db")
    s.bulk_load(small_practice())
    last = max(s.read("Task", f"task-{i}").lu for i in range(1, 7))
    s._last_us += 10_000_000  # pretend the clock ran ahead (bursts)
    _, st = s.create({"resourceType": "Patient"})
    s.close()
    s = Storage(tmp_path / "c.db")
    _, st2 = s.create({"resourceType": "Patient"})
    assert st2.lu > st.lu > last
    s.close()


def test_seed_with_generator_when_available(tmp_path):
    try:
        from triage_tui.server.synth import generate_practice  # noqa: F401
    except ImportError:
        pytest.skip("synthetic generator not written yet")
    from triage_tui.server.seed import seed_storage

    s = Storage(tmp_path / "s.db")
    n = seed_storage(s, 3, 10)
    assert n > 10 and s.count("Communication") > 0
    assert seed_storage(s, 3, 10) == 0  # only an empty db is seeded
    s.close()


def test_simulator_hook(tmp_path, monkeypatch):
    """The background task calls Simulator(seed).arrival(now, view) and stores the result."""
    import asyncio

    from triage_tui.server import simulate

    calls = []

    class FakeSimulator:
        def __init__(self, seed: int) -> None:
            self.seed = seed

        def arrival(self, now, view):
            pats = view("Patient", {})
            open_threads = view.search("Communication", {"part-of:missing": "true", "status": "in-progress"})
            calls.append((len(pats), len(open_threads)))
            n = len(calls)
            return [{"resourceType": "Communication", "id": f"sim-{n}", "status": "in-progress",
                     "subject": {"reference": f"Patient/{pats[0]['id']}"}}]

    fake = types.ModuleType("triage_tui.server.synth.simulate")
    fake.Simulator = FakeSimulator
    monkeypatch.setitem(sys.modules, "triage_tui.server.synth.simulate", fake)
    s = Storage(tmp_path / "sim.db")
    s.bulk_load(small_practice())

    async def main():
        task = asyncio.create_task(simulate.run_simulator(s, 1, (0.01, 0.02)))
        await asyncio.sleep(0.2)
        task.cancel()

    asyncio.run(main())
    assert calls and calls[0] == (3, 6)
    assert s.read("Communication", "sim-1").resource()["status"] == "in-progress"
    s.close()


def _free_port() -> int:
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def test_cli_server_runs(tmp_path):
    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage_tui", "server", "--port", str(port), "--db",
         str(tmp_path / "cli.db"), "--token", "clitoken"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}/fhir"
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.get(f"{base}/metadata", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert r.status_code == 200
        assert httpx.get(f"{base}/Patient").status_code == 401
        assert httpx.get(f"{base}/Patient", headers={"Authorization": "Bearer clitoken"}).status_code == 200
        assert httpx.post(f"http://127.0.0.1:{port}/_test/faults", json={"mode": "error500"}).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)
