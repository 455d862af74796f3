"""``triage-tui demo``: the app against an in-process reference server with synthetic data.

Everything lives in a temporary directory that is removed on exit: the server's database, the
encrypted cache (unlocked with a random key: no prompt, no keyring, no configuration file).
The app syncs over HTTP like against a real server; new patient messages arrive every 20-60 s.
"""

from __future__ import annotations

import argparse

NAME = "demo"
HELP = "try the app on a synthetic practice (in-process server, throwaway cache)"
DESCRIPTION = (
    "Start the reference FHIR server on a free loopback port with a seeded synthetic practice "
    "(new patient messages arrive every 20-60 s), sync it into a throwaway encrypted cache and "
    "open the inbox. All data is synthetic and removed on exit."
)
ORDER = 10

DEMO_STAFF_ID = "S1001"  # the generator's first staff member (a nurse with claimed threads)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=42, help="synthetic practice seed (42)")
    parser.add_argument("--threads", type=int, default=300, help="message threads (300)")
    parser.add_argument("--interval", type=float, default=5.0,
                        help="seconds between syncs (5; the server adds messages every 20-60 s)")
    parser.add_argument("--theme", default=None, help="triage-dark, triage-light, triage-contrast")
    parser.add_argument("--ascii", action="store_true", help="plain ASCII glyphs")


def demo_user(base_url: str, token: str) -> tuple[str, str]:
    """(reference, display name) of the demo's staff member, asked of the server over HTTP."""
    import httpx

    from triage_tui.domain.codes import STAFF_ID_SYSTEM

    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
        bundle = http.get(f"{base_url}/Practitioner",
                          params={"identifier": f"{STAFF_ID_SYSTEM}|{DEMO_STAFF_ID}"}).json()
        entries = bundle.get("entry") or http.get(f"{base_url}/Practitioner",
                                                  params={"_count": 1}).json().get("entry") or []
    if not entries:
        return "Practitioner/demo", "Demo user"
    res = entries[0]["resource"]
    name = (res.get("name") or [{}])[0]
    label = " ".join([*name.get("given", []), name.get("family", "")]).strip() or res["id"]
    return f"Practitioner/{res['id']}", label


DEMO_CLINIC = "Riverside Family Clinic"
DEMO_PHONE = "(555) 010-0100"  # 555-01xx: reserved for fiction
DEMO_TIMEZONE = "America/New_York"


def demo_practice(base_url: str, token: str):
    """Synthetic ``[practice]`` settings: a fictional clinic, and a provider of the generated
    practice (asked of the server) so every shipped template can be sent in the demo."""
    import httpx

    from triage_tui.config import PracticeConfig

    provider = "Dr. Rivera"
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
        bundle = http.get(f"{base_url}/Practitioner", params={"_count": 100}).json()
    for entry in bundle.get("entry") or ():
        name = ((entry.get("resource") or {}).get("name") or [{}])[0]
        if "Dr." in (name.get("prefix") or ()) and name.get("family"):
            provider = f"Dr. {name['family']}"
            break
    return PracticeConfig(provider_name=provider, clinic_name=DEMO_CLINIC,
                          clinic_phone=DEMO_PHONE, timezone=DEMO_TIMEZONE)


def run(args: argparse.Namespace) -> int:
    import os
    import secrets
    import signal
    import shutil
    import tempfile
    from pathlib import Path

    from triage_tui.errors import UserError

    if args.threads < 1:
        raise UserError("--threads must be at least 1")
    tmp = Path(tempfile.mkdtemp(prefix="triage-tui-demo-"))
    os.environ["TRIAGE_TUI_HOME"] = str(tmp)  # no user config, rules or caches are touched
    server = store = None
    try:
        from triage_tui.app import TriageApp
        from triage_tui.cache import open_store
        from triage_tui.config import Config
        from triage_tui.server.runner import ServerThread
        from triage_tui.sync import FhirClient, SyncEngine

        token = secrets.token_urlsafe(24)
        print(f"triage-tui demo: starting the reference server ({args.threads} threads)…")
        server = ServerThread(tmp / "server.db", token, seed=args.seed, n_threads=args.threads,
                              simulate=True).start()
        base_url = server.base_url
        user_ref, user_label = demo_user(base_url, token)
        # A generated key; shown on the lock screen (ctrl+l) so the demo can be unlocked again.
        passphrase = secrets.token_hex(4)
        store = open_store(base_url, user_ref, passphrase=passphrase, data_dir=tmp / "data",
                           keyring_ok=False)

        def engine(store, **callbacks):
            client = FhirClient(base_url, token, allow_insecure_http=True)
            return SyncEngine(client, store, user_ref, interval=args.interval, **callbacks)

        config = Config(idle_lock_minutes=0, ascii_glyphs=args.ascii,
                        practice=demo_practice(base_url, token),
                        **({"theme": args.theme} if args.theme else {}))
        app = TriageApp(config, store=store,
                        server_label=f"demo, passphrase {passphrase}, {base_url}",
                        user_ref=user_ref, user_label=f"{user_label} (demo)",
                        sync_factory=engine)
        # A closed terminal (SIGHUP) or kill (SIGTERM) still ends in `finally` below.
        for sig in (signal.SIGHUP, signal.SIGTERM):
            signal.signal(sig, lambda *_: app.exit())
        app.run()
        return 0
    finally:
        if store is not None:
            store.close()
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
