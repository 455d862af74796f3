"""``triage-tui doctor`` checks: safe to paste into a support ticket.

Each check is a :class:`Check` (name, status ok|warn|fail|info, one line of detail). Nothing
here reads the cache's contents: no PHI can appear. Secrets (the bearer token, the client
secret, the passphrase) are never printed; their *presence* is, and every line is passed
through :func:`scrub` with the known secret values as a last guard.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from triage_tui import locations
from triage_tui.security.env import RISKY_VARIABLES, dev_mode

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
SKEW_WARN_S = 60.0
PACKAGES = ("textual", "rich", "httpx", "keyring", "cryptography", "sqlite-utils",
            "platformdirs", "starlette", "uvicorn")


@dataclass(frozen=True, slots=True)
class Check:
    section: str
    name: str
    status: str
    detail: str

    def line(self) -> str:
        return f"[{self.status:>4}] {self.section}: {self.name}: {self.detail}"


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "<secret>")
    return text


# --- terminal --------------------------------------------------------------------------------

def terminal_checks(environ: dict[str, str] | None = None) -> list[Check]:
    env = dict(os.environ if environ is None else environ)
    out = []
    term = env.get("TERM", "")
    out.append(Check("terminal", "TERM", OK if term and term != "dumb" else WARN,
                     (term or "(unset)") + (f", COLORTERM={env['COLORTERM']}"
                                            if env.get("COLORTERM") else "")))
    try:
        from rich.console import Console

        cs = Console(force_terminal=True, _environ=env).color_system or "none"
    except Exception:  # noqa: BLE001
        cs = "unknown"
    out.append(Check("terminal", "colours", OK if cs in ("256", "truecolor", "standard",
                                                         "windows") else WARN,
                     f"{cs} (themes and glyphs work in 16 colours; see ascii_glyphs)"))
    size = shutil.get_terminal_size((0, 0))
    ok = size.columns >= 80 and size.lines >= 24
    out.append(Check("terminal", "size", OK if ok else WARN,
                     f"{size.columns}x{size.lines}" + ("" if ok else " (80x24 is the minimum)")))
    raw = env.get("ESCDELAY")
    try:
        delay_ms = max(1, int(raw)) if raw else 100
    except ValueError:
        delay_ms = 100
    remote = bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY"))
    tmux = bool(env.get("TMUX"))
    status = WARN if remote and delay_ms < 200 else OK
    advice = (" over SSH a slow link can split Esc sequences: ESCDELAY=250 helps"
              if status == WARN else "")
    out.append(Check("terminal", "escape delay", status,
                     f"{delay_ms} ms (ESCDELAY {'set' if raw else 'default'}), "
                     f"{'ssh' if remote else 'local'}{', tmux' if tmux else ''};{advice}"
                     " no destructive action is on a bare Esc"))
    return out


# --- environment and configuration -----------------------------------------------------------

def environment_checks(environ: dict[str, str] | None = None,
                       config: Any = None) -> list[Check]:
    env = dict(os.environ if environ is None else environ)
    out = []
    from triage_tui.security.startup import cleared

    risky = [n for n in RISKY_VARIABLES if n in env]
    if cleared and not risky:
        out.append(Check("environment", "Textual debug variables", WARN,
                         ", ".join(cleared) + " were set and have been cleared at start-up"))
    elif risky:
        out.append(Check("environment", "Textual debug variables",
                         INFO if dev_mode(env) else WARN,
                         ", ".join(risky) + (" (kept: TRIAGE_TUI_DEV=1)" if dev_mode(env)
                                             else " (cleared at start-up)")))
    else:
        out.append(Check("environment", "Textual debug variables", OK, "none set"))
    for name in ("TRIAGE_TUI_TOKEN", "TRIAGE_TUI_CLIENT_SECRET", "TRIAGE_TUI_PASSPHRASE",
                 "TRIAGE_TUI_PASSPHRASE_FILE"):
        if env.get(name):
            out.append(Check("environment", name, INFO, "set (value not shown)"))
    cfg_file = locations.config_file()
    out.append(Check("config", "file", INFO,
                     f"{cfg_file}" + ("" if cfg_file.exists() else " (not present: defaults)")))
    if config is not None:
        out.append(Check("config", "sign-in",
                         OK, "OAuth client credentials" if getattr(config.server, "client_id", None)
                         else "static bearer token (kept encrypted in the cache once given)"))
        out.append(Check("config", "auto-lock", OK if config.idle_lock_minutes else WARN,
                         f"after {config.idle_lock_minutes} idle minutes"
                         if config.idle_lock_minutes else "off (idle_lock_minutes = 0)"))
        out.append(Check("config", "retention", INFO,
                         f"closed threads purged after {config.retention_days} days"
                         if getattr(config, "retention_days", 0) else "off"))
    return out


# --- keyring and cache -----------------------------------------------------------------------

def keyring_checks(timeout: float = 3.0) -> list[Check]:
    from triage_tui.cache import keys

    try:
        import keyring

        backend = keys._with_timeout(keyring.get_keyring, timeout)
        members = getattr(backend, "backends", None) or [backend]
        names = ", ".join(f"{type(b).__module__}.{type(b).__name__}" for b in members)
    except Exception as exc:  # noqa: BLE001
        return [Check("keyring", "backend", WARN, f"not available ({type(exc).__name__})")]
    trusted = keys.keyring_available(timeout)
    return [Check("keyring", "backend", OK if trusted else WARN,
                  f"{names}; " + ("trusted (an OS vault): the cache key can live there"
                                  if trusted else "not trusted: caches use a passphrase"))]


def cache_checks() -> list[Check]:
    from triage_tui.cache import fs, list_caches

    data = locations.data_dir()
    out = [Check("cache", "location", INFO, str(data))]
    try:
        fstype = fs.filesystem_type(data if data.exists() else data.parent) or "unknown"
    except Exception:  # noqa: BLE001
        fstype = "unknown"
    try:
        fs.check_local(data)
        out.append(Check("cache", "filesystem", OK, f"{fstype} (local)"))
    except Exception as exc:  # noqa: BLE001 - UserError text names the fs, no PHI
        out.append(Check("cache", "filesystem", FAIL, f"{fstype}: {exc}"))
    caches = list_caches(data)
    total = sum(p.stat().st_size for p in caches if p.exists())
    out.append(Check("cache", "caches", INFO, f"{len(caches)} file(s), {total / 1e6:.1f} MB"))
    if data.exists():
        mode = data.stat().st_mode & 0o777
        out.append(Check("cache", "permissions", OK if mode & 0o077 == 0 else WARN,
                         f"{oct(mode)}" + ("" if mode & 0o077 == 0 else
                                           " (others can list it: chmod 700)")))
    out.append(Check("logs", "location", INFO, str(locations.state_dir())))
    return out


# --- server ----------------------------------------------------------------------------------

def server_checks(url: str | None, *, allow_insecure_http: bool = False, timeout: float = 5.0,
                  transport: Any = None) -> list[Check]:
    import httpx

    from triage_tui.sync.client import check_server_url

    if not url:
        return [Check("server", "url", INFO, "not configured (--server or [server] url)")]
    try:
        base = check_server_url(url, allow_insecure_http=allow_insecure_http)
    except Exception as exc:  # noqa: BLE001
        return [Check("server", "url", FAIL, str(exc))]
    out = [Check("server", "url", INFO, base)]
    try:
        with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                          verify=True, headers={"Accept": "application/fhir+json"}) as client:
            t0 = time.monotonic()
            r = client.get(f"{base}/metadata")
            rtt = (time.monotonic() - t0) * 1000
            local = time.time()
            tls = _tls_version(r)
            body: Any = None
            try:
                body = r.json()
            except ValueError:
                body = None
            smart = None
            try:
                s = client.get(f"{base}/.well-known/smart-configuration")
                smart = s.status_code == 200 and "token_endpoint" in (s.json() or {})
            except (httpx.HTTPError, ValueError):
                smart = None
    except httpx.ConnectError as exc:
        return [*out, Check("server", "reachable", FAIL, f"cannot connect ({type(exc).__name__})")]
    except httpx.HTTPError as exc:
        return [*out, Check("server", "reachable", FAIL, type(exc).__name__)]
    ok = r.status_code == 200 and isinstance(body, dict) and \
        body.get("resourceType") == "CapabilityStatement"
    sw = (body or {}).get("software", {}) if isinstance(body, dict) else {}
    out.append(Check("server", "metadata", OK if ok else FAIL,
                     f"HTTP {r.status_code} in {rtt:.0f} ms"
                     + (f", FHIR {body.get('fhirVersion')}, {sw.get('name', '?')} "
                        f"{sw.get('version', '')}".rstrip() if ok else "")))
    if base.startswith("https://"):
        out.append(Check("server", "TLS", OK if tls and tls >= "TLSv1.2" else WARN,
                         f"{tls or 'unknown version'}, certificate verified"))
    else:
        out.append(Check("server", "TLS", WARN if not allow_insecure_http else INFO,
                         "plain http (loopback or --allow-insecure-http only)"))
    date = r.headers.get("date")
    if date:
        try:
            skew = local - parsedate_to_datetime(date).timestamp()
            out.append(Check("server", "clock skew", OK if abs(skew) < SKEW_WARN_S else WARN,
                             f"{skew:+.0f} s (this machine minus the server's Date header)"
                             + ("" if abs(skew) < SKEW_WARN_S else
                                ": tokens and _lastUpdated windows need a synced clock")))
        except (TypeError, ValueError):
            out.append(Check("server", "clock skew", WARN, "unreadable Date header"))
    else:
        out.append(Check("server", "clock skew", INFO, "no Date header"))
    out.append(Check("server", "sign-in discovery", INFO,
                     "smart-configuration with a token endpoint" if smart
                     else "no smart-configuration (static token, or set token_endpoint)"))
    return out


def _tls_version(response: Any) -> str | None:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    return ssl_object.version() if ssl_object is not None else None


# --- versions --------------------------------------------------------------------------------

def version_checks() -> list[Check]:
    from triage_tui import __version__

    out = [Check("versions", "triage-tui", INFO, __version__),
           Check("versions", "python", INFO, f"{platform.python_version()} "
                 f"({platform.python_implementation()}) on {platform.system()} "
                 f"{platform.release()} {platform.machine()}"),
           Check("versions", "sqlite", INFO, sqlite3.sqlite_version)]
    for pkg in PACKAGES:
        try:
            v = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            v = "not installed"
        out.append(Check("versions", pkg, INFO, v))
    return out


def run_checks(*, server: str | None, config: Any = None, allow_insecure_http: bool = False,
               secrets: Iterable[str | None] = (), transport: Any = None) -> list[Check]:
    checks = [*terminal_checks(), *environment_checks(config=config), *keyring_checks(),
              *cache_checks(),
              *server_checks(server, allow_insecure_http=allow_insecure_http,
                             transport=transport),
              *version_checks()]
    secrets = list(secrets)
    return [Check(c.section, c.name, c.status, scrub(c.detail, secrets)) for c in checks]


def as_json(checks: list[Check]) -> dict[str, Any]:
    worst = FAIL if any(c.status == FAIL for c in checks) else (
        WARN if any(c.status == WARN for c in checks) else OK)
    return {"status": worst, "checks": [asdict(c) for c in checks],
            "platform": sys.platform, "home_overridden": bool(os.environ.get("TRIAGE_TUI_HOME")),
            "state_dir": str(Path(locations.state_dir()))}
