"""The reference FHIR R4 server as an ASGI (Starlette) app.

``create_app(storage, verify_token=static_token("secret"))`` serves the FHIR base at ``/fhir``.
Storage calls are short and run on the event loop; the storage lock makes them atomic.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from triage_tui.server import bundle as bundlemod
from triage_tui.server import fhirtime
from triage_tui.server.auth import TokenVerifier, bearer_token
from triage_tui.server.capability import capability_statement
from triage_tui.server.errors import FhirError, bad_request, not_found, operation_outcome
from triage_tui.server.faults import FaultMiddleware, FaultState
from triage_tui.server.searchparams import RESOURCE_TYPES
from triage_tui.server.storage import Storage, Stored
from triage_tui.server.validation import check_id

log = logging.getLogger("triage_tui.server")

FHIR_JSON = "application/fhir+json; charset=utf-8"
_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir", "text/json")
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _fhir(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        content = b""
    elif isinstance(body, (bytes, str)):
        content = body
    else:
        content = _DUMPS(body)
    return Response(content, status_code=status, headers=headers, media_type=FHIR_JSON)


def _error(exc: FhirError) -> Response:
    return _fhir(exc.status, exc.outcome(), exc.headers)


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}/fhir"


def _prefer(request: Request) -> str:
    for part in request.headers.get("prefer", "").split(";"):
        k, _, v = part.strip().partition("=")
        if k.strip() == "return":
            return v.strip().strip('"')
    return "representation"


def _http_date(us: int) -> str:
    return formatdate(us / 1_000_000, usegmt=True)


def _resource_response(status: int, stored: Stored, request: Request, *, created: bool = False
                       ) -> Response:
    base = _base(request)
    headers = {"ETag": stored.etag, "Last-Modified": _http_date(stored.lu)}
    loc = f"{base}/{stored.rtype}/{stored.id}/_history/{stored.version}"
    if created:
        headers["Location"] = loc
    if request.method in ("PUT", "POST"):
        headers["Content-Location"] = loc
        prefer = _prefer(request)
        if prefer == "minimal":
            return _fhir(status, None, headers)
        if prefer == "OperationOutcome":
            return _fhir(status, operation_outcome(
                f"{stored.rtype}/{stored.id} stored as version {stored.version}"), headers)
    return _fhir(status, stored.body, headers)


async def _json_body(request: Request) -> Any:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype not in _JSON_TYPES:
        raise FhirError(415, f"Unsupported Content-Type {ctype!r}: send application/fhir+json",
                        code="not-supported")
    raw = await request.body()
    if not raw.strip():
        raise bad_request("Request body is empty", code="structure")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"Malformed JSON in request body: {exc}", code="structure") from None


def _rtype(request: Request) -> str:
    t = request.path_params["rtype"]
    if t not in RESOURCE_TYPES:
        raise not_found(f"Unsupported resource type {t!r}")
    return t


def _handler(fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    async def wrapped(self: Any, request: Request) -> Response:
        try:
            return await fn(self, request)
        except FhirError as exc:
            return _error(exc)
        except Exception:  # never a half answer: a 500 with an OperationOutcome
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return _fhir(500, operation_outcome("Internal server error", code="exception",
                                                severity="error"))

    wrapped.__name__ = fn.__name__
    return wrapped


def _search_params(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in items if v != ""]


class FhirApp:
    """Request handlers bound to one Storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # -- search --

    def search_bundle(self, rtype: str, params: list[tuple[str, str]], base: str,
                      self_url: str | None = None) -> str:
        q, page = self.storage.search(rtype, params)
        now = fhirtime.format_instant(fhirtime.now_us())
        parts = [f'{{"resourceType":"Bundle","id":"{uuid.uuid4()}","meta":{{"lastUpdated":"{now}"}}',
                 ',"type":"searchset"']
        if page.total is not None:
            parts.append(f',"total":{page.total}')
        links = [{"relation": "self",
                  "url": self_url or f"{base}/{rtype}" + (f"?{urlencode(params)}" if params else "")}]
        if page.next_cursor:
            links.append({"relation": "next", "url": f"{base}/{rtype}?"
                          + urlencode([*q.page_params, ("_cursor", page.next_cursor)])})
        parts.append(',"link":' + _DUMPS(links))
        entries = []
        for (t, rid), body in zip(page.match_keys, page.matches, strict=True):
            if q.elements is not None:
                body = _DUMPS(_subset(json.loads(body), q.elements))
            entries.append(f'{{"fullUrl":"{base}/{t}/{rid}","resource":{body},'
                           '"search":{"mode":"match"}}')
        for t, rid, body in page.includes:
            entries.append(f'{{"fullUrl":"{base}/{t}/{rid}","resource":{body},'
                           '"search":{"mode":"include"}}')
        if entries:
            parts.append(',"entry":[' + ",".join(entries) + "]")
        parts.append("}")
        return "".join(parts)

    @_handler
    async def search_get(self, request: Request) -> Response:
        rtype = _rtype(request)
        params = _search_params(request.query_params.multi_items())
        return _fhir(200, self.search_bundle(rtype, params, _base(request), str(request.url)))

    @_handler
    async def search_post(self, request: Request) -> Response:
        rtype = _rtype(request)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raw = (await request.body()).decode("utf-8", "replace")
        if ctype and ctype != "application/x-www-form-urlencoded":
            raise FhirError(415, "POST _search needs an application/x-www-form-urlencoded body",
                            code="not-supported")
        params = _search_params(request.query_params.multi_items() + parse_qsl(raw))
        return _fhir(200, self.search_bundle(rtype, params, _base(request)))

    # -- type level --

    @_handler
    async def create(self, request: Request) -> Response:
        rtype = _rtype(request)
        body = await _json_body(request)
        status, stored = self.storage.create(body, rtype=rtype,
                                             if_none_exist=request.headers.get("if-none-exist"))
        return _resource_response(status, stored, request, created=status == 201)

    # -- instance level --

    @_handler
    async def read(self, request: Request) -> Response:
        rtype = _rtype(request)
        rid = request.path_params["rid"]
        if rid == "_history":
            raise FhirError(400, "Type-level _history is not supported; use _lastUpdated search",
                            code="not-supported")
        check_id(rid)
        return _resource_response(200, self.storage.read(rtype, rid), request)

    @_handler
    async def update(self, request: Request) -> Response:
        rtype = _rtype(request)
        rid = request.path_params["rid"]
        body = await _json_body(request)
        status, stored = self.storage.update(rtype, rid, body,
                                             if_match=request.headers.get("if-match"))
        return _resource_response(status, stored, request, created=status == 201)

    @_handler
    async def delete(self, request: Request) -> Response:
        rtype = _rtype(request)
        rid = request.path_params["rid"]
        check_id(rid)
        stored = self.storage.delete(rtype, rid, if_match=request.headers.get("if-match"))
        return _fhir(200, operation_outcome(f"Deleted {rtype}/{rid} (version {stored.version})"),
                     {"ETag": stored.etag})

    @_handler
    async def history(self, request: Request) -> Response:
        rtype = _rtype(request)
        rid = request.path_params["rid"]
        check_id(rid)
        count = 100
        since = None
        for k, v in request.query_params.multi_items():
            if k == "_count":
                try:
                    count = max(1, min(int(v), 1000))
                except ValueError:
                    raise bad_request("_count must be an integer") from None
            elif k == "_since":
                try:
                    since = fhirtime.parse_range(v)[0]
                except ValueError:
                    raise bad_request("_since must be a FHIR instant") from None
            elif k not in ("_format", "_pretty"):
                raise bad_request(f"Unknown _history parameter {k!r} (supported: _count, _since)")
        versions = self.storage.history(rtype, rid, count=count, since_us=since)
        base = _base(request)
        entries = []
        for v in versions:
            e: dict[str, Any] = {"fullUrl": f"{base}/{rtype}/{rid}"}
            if v.body:
                e["resource"] = json.loads(v.body)
            e["request"] = {"method": v.method,
                            "url": rtype if v.method == "POST" else f"{rtype}/{rid}"}
            e["response"] = {"status": "410 Gone" if v.deleted else
                             ("201 Created" if v.method == "POST" else "200 OK"),
                             "etag": v.etag, "lastModified": v.last_updated}
            entries.append(e)
        return _fhir(200, {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "history",
                           "total": len(entries),
                           "link": [{"relation": "self", "url": str(request.url)}],
                           "entry": entries})

    @_handler
    async def vread(self, request: Request) -> Response:
        rtype = _rtype(request)
        rid = request.path_params["rid"]
        check_id(rid)
        return _resource_response(200, self.storage.vread(rtype, rid, request.path_params["vid"]),
                                  request)

    # -- system level --

    @_handler
    async def metadata(self, request: Request) -> Response:
        return _fhir(200, capability_statement(_base(request)))

    @_handler
    async def base_post(self, request: Request) -> Response:
        body = await _json_body(request)
        base = _base(request)

        def search(rtype: str, params: list[tuple[str, str]]) -> dict:
            return json.loads(self.search_bundle(rtype, params, base))

        status, out = bundlemod.process(self.storage, body, base, prefer=_prefer(request),
                                        search=search)
        return _fhir(status, out)

    @_handler
    async def base_get(self, request: Request) -> Response:
        raise FhirError(400, "System-level search is not supported; search one resource type",
                        code="not-supported")

    @_handler
    async def not_supported(self, request: Request) -> Response:
        raise FhirError(405, f"{request.method} is not supported on {request.url.path}",
                        code="not-supported")


def _subset(resource: dict, elements: list[str]) -> dict:
    keep = {"resourceType", "id", "meta", *elements}
    out = {k: v for k, v in resource.items() if k in keep}
    meta = dict(out.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}]
    out["meta"] = meta
    return out


class AuthMiddleware:
    """Every /fhir request except GET /fhir/metadata needs ``Authorization: Bearer <token>``."""

    def __init__(self, app, verify_token: TokenVerifier) -> None:
        self.app = app
        self.verify = verify_token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            path = scope["path"].rstrip("/")
            if (path == "/fhir" or path.startswith("/fhir/")) and path != "/fhir/metadata":
                headers = dict(scope["headers"])
                auth = headers.get(b"authorization", b"").decode("latin-1")
                token = bearer_token(auth)
                if token is None or not self.verify(token):
                    err = "" if token is None else ', error="invalid_token"'
                    msg = ("Authentication required: send Authorization: Bearer <token>"
                           if token is None else "Invalid bearer token")
                    resp = _fhir(401, operation_outcome(msg, code="login", severity="error"),
                                 {"WWW-Authenticate": f'Bearer realm="triage-tui"{err}'})
                    await resp(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def create_app(
    storage: Storage,
    *,
    verify_token: TokenVerifier,
    faults: bool = False,
    simulate_seed: int | None = None,
    simulate_interval: tuple[float, float] | None = None,
) -> Any:
    """Build the ASGI app. ``faults`` adds the /_test endpoints (tests only);
    ``simulate_seed`` starts the background arrival of new patient messages."""
    h = FhirApp(storage)
    rt = "/fhir/{rtype}"
    inst = "/fhir/{rtype}/{rid}"
    routes = [
        Route("/fhir/metadata", h.metadata, methods=["GET"]),
        Route("/fhir", h.base_post, methods=["POST"]),
        Route("/fhir/", h.base_post, methods=["POST"]),
        Route("/fhir", h.base_get, methods=["GET"]),
        Route(rt + "/_search", h.search_post, methods=["POST"]),
        Route(rt, h.search_get, methods=["GET"]),
        Route(rt, h.create, methods=["POST"]),
        Route(inst + "/_history/{vid}", h.vread, methods=["GET"]),
        Route(inst + "/_history", h.history, methods=["GET"]),
        Route(inst, h.read, methods=["GET"]),
        Route(inst, h.update, methods=["PUT"]),
        Route(inst, h.delete, methods=["DELETE"]),
        Route(inst, h.not_supported, methods=["PATCH", "POST"]),
        Route(rt, h.not_supported, methods=["PUT", "DELETE", "PATCH"]),
    ]

    @asynccontextmanager
    async def lifespan(app):
        task = None
        if simulate_seed is not None:
            from triage_tui.server.simulate import run_simulator

            task = asyncio.create_task(run_simulator(storage, simulate_seed, simulate_interval))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.storage = storage

    async def not_found_handler(request, exc):
        return _fhir(exc.status_code, operation_outcome(
            f"No route for {request.method} {request.url.path}", code="not-found",
            severity="error"))

    app.add_exception_handler(404, not_found_handler)
    app.add_exception_handler(405, not_found_handler)
    asgi: Any = AuthMiddleware(app, verify_token)
    if faults:
        asgi = FaultMiddleware(asgi, FaultState())

    # Lifespan must reach Starlette through the middlewares.
    return asgi
