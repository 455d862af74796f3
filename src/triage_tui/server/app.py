"""The reference FHIR R4 server as an ASGI (Starlette) app.

``create_app(storage, verify_token=static_token("secret"))`` serves the FHIR base at ``/fhir``.
Storage calls are short and run on the event loop; the storage lock makes them atomic.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from triage_tui.server import bundle as bundlemod
from triage_tui.server import fhirtime
from triage_tui.server import search as searchmod
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
        """Instance history: ``GET [type]/[id]/_history``, newest first."""
        rtype = _rtype(request)
        rid = request.path_params["rid"]
        check_id(rid)
        hp = _history_params(request.query_params.multi_items(), allow_cursor=False)
        now = fhirtime.format_instant(fhirtime.now_us())
        versions = self.storage.history(rtype, rid, count=hp.count, since_us=hp.since)
        return _fhir(200, _history_bundle(_base(request), versions, now, str(request.url), None,
                                          total=len(versions)))

    @_handler
    async def type_history(self, request: Request) -> Response:
        """Type history: ``GET [type]/_history?_since=&_at=&_count=``, newest first.

        Paged by keyset on the history row (lastUpdated, row, version) with an opaque
        ``_cursor`` token bound to the query, so writes between pages skip or repeat nothing."""
        rtype = _rtype(request)
        items = request.query_params.multi_items()
        hp = _history_params(items, allow_cursor=True)
        qhash = searchmod.query_hash(f"{rtype}/_history", [(k, v) for k, v in items
                                                          if k not in ("_format", "_pretty")])
        after = _decode_history_cursor(hp.cursor, qhash) if hp.cursor else None
        # taken before the read: a client may use it as its next _since (every later write
        # is stamped at or after it)
        now = fhirtime.format_instant(fhirtime.now_us())
        versions, key = self.storage.type_history(rtype, count=hp.count, since_us=hp.since,
                                                  at=hp.at, after=after)
        base = _base(request)
        next_url = None
        if key is not None:
            keep = [(k, v) for k, v in items if k not in ("_cursor", "_count")]
            next_url = f"{base}/{rtype}/_history?" + urlencode(
                [*keep, ("_count", str(hp.count)), ("_cursor", _encode_history_cursor(key, qhash))])
        return _fhir(200, _history_bundle(base, versions, now, str(request.url), next_url))

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


@dataclass
class _HistoryParams:
    count: int = 100
    since: int | None = None
    at: tuple[int, int] | None = None
    cursor: str | None = None


def _instant_param(name: str, value: str) -> tuple[int, int]:
    try:
        # a '+' of a zone offset sent unencoded in a URL arrives as a space
        return fhirtime.parse_range(value.replace(" ", "+"))
    except ValueError:
        raise bad_request(f"{name} must be a FHIR instant or date: {value!r}") from None


def _history_params(items: list[tuple[str, str]], *, allow_cursor: bool) -> _HistoryParams:
    hp = _HistoryParams()
    for k, v in items:
        if k == "_count":
            try:
                hp.count = max(1, min(int(v), searchmod.MAX_COUNT))
            except ValueError:
                raise bad_request("_count must be an integer") from None
        elif k == "_since":
            hp.since = _instant_param("_since", v)[0]
        elif k == "_at" and allow_cursor:
            prefix, value = (v[:2], v[2:]) if v[:2] in ("gt", "ge", "lt", "le", "eq") else ("eq", v)
            lo, hi = _instant_param("_at", value)
            hp.at = {"eq": (lo, hi), "ge": (lo, fhirtime.MAX_US), "gt": (hi, fhirtime.MAX_US),
                     "le": (fhirtime.MIN_US, hi), "lt": (fhirtime.MIN_US, lo)}[prefix]
        elif k == "_cursor" and allow_cursor:
            hp.cursor = v
        elif k not in ("_format", "_pretty"):
            supported = "_count, _since, _at" if allow_cursor else "_count, _since"
            raise bad_request(f"Unknown _history parameter {k!r} (supported: {supported})")
    return hp


def _encode_history_cursor(key: tuple[int, int, int], qhash: str) -> str:
    raw = _DUMPS(["h", *key, qhash]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_history_cursor(token: str, qhash: str) -> tuple[int, int, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        tag, lu, key, version, h = json.loads(raw)
        if tag != "h":
            raise ValueError(tag)
        cursor = (int(lu), int(key), int(version))
    except Exception:
        raise bad_request("Invalid page token (_cursor)") from None
    if h != qhash:
        raise bad_request("Page token (_cursor) does not belong to this history query")
    return cursor


def _history_entry(base: str, v: Stored) -> str:
    """One Bundle.entry of a history Bundle (JSON text; the stored body is embedded as is)."""
    if v.deleted:
        method, url, status = "DELETE", f"{v.rtype}/{v.id}", "200 OK"
    elif v.method == "POST":
        method, url, status = "POST", v.rtype, "201 Created"
    else:
        method, url, status = "PUT", f"{v.rtype}/{v.id}", "200 OK"
    resource = f',"resource":{v.body}' if v.body else ""
    return (f'{{"fullUrl":{_DUMPS(f"{base}/{v.rtype}/{v.id}")}{resource},'
            f'"request":{{"method":"{method}","url":{_DUMPS(url)}}},'
            f'"response":{{"status":"{status}","etag":{_DUMPS(v.etag)},'
            f'"lastModified":"{v.last_updated}"}}}}')


def _history_bundle(base: str, versions: list[Stored], now: str, self_url: str,
                    next_url: str | None, *, total: int | None = None) -> str:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    parts = [f'{{"resourceType":"Bundle","id":"{uuid.uuid4()}","meta":{{"lastUpdated":"{now}"}}',
             ',"type":"history"']
    if total is not None:
        parts.append(f',"total":{total}')
    parts.append(',"link":' + _DUMPS(links))
    if versions:
        parts.append(',"entry":[' + ",".join(_history_entry(base, v) for v in versions) + "]")
    parts.append("}")
    return "".join(parts)


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
        Route(rt + "/_history", h.type_history, methods=["GET"]),
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
