"""Test-only fault injection and request statistics (ASGI middleware).

Enabled only when the app is built with ``faults=True`` (tests; the CLI's hidden
``--test-faults``). Endpoints, outside the FHIR base and without auth:

  POST   /_test/faults  {"mode": ..., "count": N, "retry_after": s, "delay": s,
                          "method": "PUT", "path_contains": "Communication"}   add a rule
  GET    /_test/faults  list the rules;   DELETE /_test/faults  clear them
  GET    /_test/stats   request counts since start or the last DELETE /_test/stats
  DELETE /_test/stats   reset the counts

Modes (each applies to the next ``count`` matching requests under /fhir):
  error500           answer 500 with an OperationOutcome; nothing is performed
  rate429            answer 429 with ``Retry-After: <retry_after>``; nothing is performed
  ratelimit429       answer 429 with ``RateLimit: "default";r=0;t=<retry_after>``
  drop_after_commit  perform the request (and commit), then close the connection without a
                     complete answer: the client sees a transport error
  slow               wait ``delay`` seconds, then perform the request normally
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from triage_tui.server import fhirtime

MODES = ("error500", "rate429", "ratelimit429", "drop_after_commit", "slow")
FHIR_JSON = b"application/fhir+json; charset=utf-8"


class DroppedConnection(Exception):
    """Raised after the response headers went out: uvicorn then closes the transport."""


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


logging.getLogger("uvicorn.error").addFilter(_DropFilter())


@dataclass
class Rule:
    mode: str
    count: int = 1
    retry_after: float = 1
    delay: float = 1.0
    method: str | None = None
    path_contains: str | None = None

    def matches(self, method: str, target: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path_contains or self.path_contains in target


class FaultState:
    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.counts: Counter[str] = Counter()
        self.by_type: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.total = 0
        self.since = fhirtime.format_instant(fhirtime.now_us())
        self.lock = threading.Lock()

    def take(self, method: str, target: str) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, target):
                    rule.count -= 1
                    if rule.count <= 0:
                        self.rules.remove(rule)
                    return rule
        return None

    def count(self, method: str, path: str) -> None:
        rest = path[len("/fhir"):].strip("/")
        rtype = rest.split("/", 1)[0] if rest else "(base)"
        with self.lock:
            self.total += 1
            self.counts[f"{method} {rtype}"] += 1
            self.by_type[rtype] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {"since": self.since, "total": self.total, "requests": dict(self.counts),
                    "by_type": dict(self.by_type), "by_status": dict(self.by_status)}

    def reset_stats(self) -> None:
        with self.lock:
            self.counts.clear()
            self.by_type.clear()
            self.by_status.clear()
            self.total = 0
            self.since = fhirtime.format_instant(fhirtime.now_us())


async def _send_json(send, status: int, body: Any, headers: list[tuple[bytes, bytes]] = ()) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", FHIR_JSON), (b"content-length", str(len(data)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": data})


def _outcome(msg: str, code: str) -> dict:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": msg}]}


class FaultMiddleware:
    """Outermost middleware: /_test endpoints, statistics, injected faults."""

    def __init__(self, app, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        method: str = scope["method"]
        if path.startswith("/_test/"):
            return await self._control(path, method, receive, send)
        if not (path == "/fhir" or path.startswith("/fhir/")):
            return await self.app(scope, receive, send)
        self.state.count(method, path)
        status_box: list[int] = []

        async def counting_send(message) -> None:
            if message["type"] == "http.response.start":
                status_box.append(message["status"])
                with self.state.lock:
                    self.state.by_status[str(message["status"])] += 1
            await send(message)

        qs = scope.get("query_string", b"").decode("latin-1")
        rule = self.state.take(method, path + ("?" + qs if qs else ""))
        if rule is None:
            return await self.app(scope, receive, counting_send)
        if rule.mode == "slow":
            await asyncio.sleep(rule.delay)
            return await self.app(scope, receive, counting_send)
        if rule.mode == "error500":
            return await _send_json(counting_send, 500, _outcome("Injected fault: error500", "exception"))
        if rule.mode == "rate429":
            return await _send_json(counting_send, 429, _outcome("Too many requests", "throttled"),
                                    [(b"retry-after", str(int(rule.retry_after)).encode())])
        if rule.mode == "ratelimit429":
            t = str(int(rule.retry_after)).encode()
            return await _send_json(counting_send, 429, _outcome("Too many requests", "throttled"), [
                (b"ratelimit", b'"default";r=0;t=' + t),
                (b"ratelimit-policy", b'"default";q=100;w=60'),
            ])
        if rule.mode == "drop_after_commit":
            captured: list[dict] = []

            async def capture(message) -> None:
                captured.append(message)

            await self.app(scope, receive, capture)  # the write is committed when this returns
            start = next((m for m in captured if m["type"] == "http.response.start"), None)
            if start is not None:
                await counting_send(start)  # headers (with Content-Length), then no body
            raise DroppedConnection("drop_after_commit: response dropped on purpose")
        return await self.app(scope, receive, counting_send)

    async def _control(self, path: str, method: str, receive, send) -> None:
        if path == "/_test/faults":
            if method == "GET":
                with self.state.lock:
                    return await _send_json(send, 200, [asdict(r) for r in self.state.rules])
            if method == "DELETE":
                with self.state.lock:
                    self.state.rules.clear()
                return await _send_json(send, 200, [])
            if method == "POST":
                body = b""
                while True:
                    msg = await receive()
                    body += msg.get("body", b"")
                    if not msg.get("more_body"):
                        break
                try:
                    spec = json.loads(body or b"{}")
                    if spec.get("mode") not in MODES:
                        raise ValueError(f"mode must be one of {', '.join(MODES)}")
                    rule = Rule(mode=spec["mode"], count=int(spec.get("count", 1)),
                                retry_after=float(spec.get("retry_after", 1)),
                                delay=float(spec.get("delay", 1.0)), method=spec.get("method"),
                                path_contains=spec.get("path_contains"))
                except (ValueError, TypeError, AttributeError) as exc:
                    return await _send_json(send, 400, _outcome(f"Bad fault rule: {exc}", "invalid"))
                with self.state.lock:
                    self.state.rules.append(rule)
                return await _send_json(send, 201, asdict(rule))
        if path == "/_test/stats":
            if method == "GET":
                return await _send_json(send, 200, self.state.stats())
            if method == "DELETE":
                self.state.reset_stats()
                return await _send_json(send, 200, self.state.stats())
        return await _send_json(send, 404, _outcome(f"No test endpoint {method} {path}", "not-found"))
