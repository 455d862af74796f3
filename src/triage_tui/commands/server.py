"""``triage-tui server``: run the reference FHIR R4 server (demo and tests)."""

from __future__ import annotations

import argparse
from pathlib import Path

from triage_tui.errors import UserError

NAME = "server"
HELP = "run the reference FHIR R4 server (synthetic data, for the demo and tests)"
DESCRIPTION = (
    "Run the reference FHIR R4 server on HOST:PORT (base URL http://HOST:PORT/fhir), storing "
    "resources in an SQLite file. With --seed, an empty database is first filled with a "
    "synthetic practice. Every request except /fhir/metadata needs 'Authorization: Bearer TOKEN'."
)
ORDER = 80


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free)")
    parser.add_argument("--db", type=Path, required=True, help="SQLite file of the server")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed an EMPTY database with a synthetic practice from this seed")
    parser.add_argument("--threads", type=int, default=300,
                        help="message threads to generate when seeding (default 300)")
    parser.add_argument("--token", required=True, help="the bearer token clients must send")
    parser.add_argument("--simulate", action="store_true",
                        help="new patient messages arrive every 20-60 s")
    parser.add_argument("--test-faults", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import socket
    import time

    import uvicorn

    from triage_tui.server.app import create_app
    from triage_tui.server.auth import static_token
    from triage_tui.server.storage import Storage

    if not args.token:
        raise UserError("--token must not be empty")
    if args.threads < 0:
        raise UserError("--threads must be >= 0")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"triage-tui server: warning: binding {args.host}; the server is for synthetic data only")
    args.db.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    try:
        storage = Storage(args.db)
    except Exception as exc:
        raise UserError(f"cannot open server database {args.db}: {exc}") from None
    try:
        if args.seed is not None and storage.is_empty():
            from triage_tui.server.seed import seed_storage

            t0 = time.perf_counter()
            try:
                n = seed_storage(storage, args.seed, args.threads)
            except ImportError as exc:
                raise UserError(f"the synthetic data generator is not available: {exc}") from None
            print(f"triage-tui server: seeded {n} resources ({args.threads} threads, seed {args.seed}) "
                  f"in {time.perf_counter() - t0:.1f}s")
        app = create_app(storage, verify_token=static_token(args.token), faults=args.test_faults,
                         simulate_seed=(args.seed or 0) if args.simulate else None)
        try:
            family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
            # IPPROTO_TCP explicitly, so asyncio sets TCP_NODELAY on connections (no 40 ms stalls).
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((args.host, args.port))
            sock.listen(128)
        except OSError as exc:
            raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
        port = sock.getsockname()[1]
        print(f"triage-tui server: FHIR base http://{args.host}:{port}/fhir", flush=True)
        config = uvicorn.Config(app, log_level="info", lifespan="on")
        asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))
    finally:
        storage.close()
    return 0
