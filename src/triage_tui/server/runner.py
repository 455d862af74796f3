"""Run the reference server in a background thread (tests, demo).

    with ServerThread(tmp_path / "fhir.db", "secret", seed=1, n_threads=20) as srv:
        httpx.get(srv.base_url + "/metadata")
        srv.restart()        # same port, same db: "server restarting mid-sync"
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from triage_tui.server.auth import TokenVerifier, static_token


class ServerThread:
    def __init__(
        self,
        db_path: Path | str,
        token: str,
        *,
        seed: int | None = None,
        n_threads: int = 300,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: bool = False,
        simulate: bool = False,
        simulate_interval: tuple[float, float] | None = None,
        verify_token: TokenVerifier | None = None,
        log_level: str = "warning",
        oauth: Any = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.token = token
        self.seed = seed
        self.n_threads = n_threads
        self.host = host
        self.port = port
        self.faults = faults
        self.simulate = simulate
        self.simulate_interval = simulate_interval
        self.verify_token = verify_token or static_token(token)
        self.log_level = log_level
        self.oauth = oauth  # server.oauth.OAuthIssuer: token endpoint + smart-configuration
        self.storage = None
        self._server = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.seeded = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/fhir"

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _bind(self) -> socket.socket:
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the
        # listening socket says TCP explicitly; without it every response waits ~40 ms (Nagle).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 5
        while True:
            try:
                sock.bind((self.host, self.port))
                break
            except OSError:
                if self.port == 0 or time.monotonic() > deadline:
                    sock.close()
                    raise
                time.sleep(0.05)
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        return sock

    def start(self) -> ServerThread:
        """Open the db (seeding it if empty and ``seed`` is set), listen, return when accepting."""
        import uvicorn

        from triage_tui.server.app import create_app
        from triage_tui.server.storage import Storage

        if self.running:
            return self
        self.storage = Storage(self.db_path)
        if self.seed is not None and self.storage.is_empty():
            from triage_tui.server.seed import seed_storage

            self.seeded = seed_storage(self.storage, self.seed, self.n_threads)
        verify = self.verify_token if self.oauth is None else self.oauth.verifier(self.verify_token)
        app = create_app(self.storage, verify_token=verify, faults=self.faults,
                         simulate_seed=(self.seed or 0) if self.simulate else None,
                         simulate_interval=self.simulate_interval)
        if self.oauth is not None:
            app = self.oauth.wrap(app)
        sock = self._bind()
        config = uvicorn.Config(app, log_level=self.log_level, access_log=False, lifespan="on",
                                timeout_graceful_shutdown=2, timeout_keep_alive=5)
        server = uvicorn.Server(config)
        self._server = server
        self._error = None

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # noqa: BLE001 - reported by start()
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name=f"fhir-server:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"FHIR server did not start: {self._error!r}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving (open connections are closed) and close the db."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout=5)
        self._thread = None
        self._server = None
        if self.storage is not None:
            self.storage.close()
            self.storage = None

    def restart(self) -> None:
        """Stop and start again on the same port with the same database."""
        self.stop()
        self.start()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
