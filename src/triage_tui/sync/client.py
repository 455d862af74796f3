"""An async FHIR R4 client on httpx: bearer token, timeouts, TLS always verified.

Plain ``http://`` is allowed only to loopback unless the caller passes ``allow_insecure_http``.
Error statuses become typed errors (:mod:`triage_tui.sync.errors`) carrying the
OperationOutcome text. Idempotent reads are retried on throttling, 5xx and network errors with
capped full-jitter backoff, honouring ``Retry-After`` and the IETF ``RateLimit`` fields; writes
are never retried here (the outbox owns their retries and their idempotency).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from triage_tui.sync.backoff import full_jitter, retry_after_seconds
from triage_tui.sync.errors import (
    FhirHTTPError,
    InsecureServerError,
    OfflineError,
    RateLimitedError,
    SyncError,
    error_for,
)

FHIR_JSON = "application/fhir+json"
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
USER_AGENT = "triage-tui"


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_server_url(url: str, *, allow_insecure_http: bool = False) -> str:
    """Validate and normalise the base URL (no trailing slash). Raises a UserError."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureServerError(f"not a server URL: {url!r} (expected https://host/fhir)")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback_host(parts.hostname):
        raise InsecureServerError(
            f"refusing plain http to {parts.hostname}: patient data must travel over https "
            "(pass --allow-insecure-http only for a test server on a trusted network)")
    if parts.username or parts.password:
        raise InsecureServerError("credentials in the server URL are not supported; use a token")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def version_from_etag(etag: str | None) -> str | None:
    """``W/"3"`` -> ``3`` (opaque: compare as strings)."""
    if not etag:
        return None
    e = etag.strip()
    if e.startswith("W/"):
        e = e[2:]
    return e.strip('"') or None


def etag_for(version: str) -> str:
    return f'W/"{version}"'


def outcome_text(body: Any) -> str:
    """The human text of an OperationOutcome (diagnostics / details.text of each issue)."""
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return ""
    texts = []
    for issue in body.get("issue") or ():
        if not isinstance(issue, dict):
            continue
        details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
        t = issue.get("diagnostics") or details.get("text")
        if t:
            texts.append(str(t))
    return "; ".join(texts)


@dataclass(slots=True)
class FhirResponse:
    status: int
    body: Any
    headers: httpx.Headers

    @property
    def version(self) -> str | None:
        v = version_from_etag(self.headers.get("etag"))
        if v is None and isinstance(self.body, dict):
            v = (self.body.get("meta") or {}).get("versionId")
        return v


class FhirClient:
    """One server, one token. ``on_transport(ok: bool)`` reports reachability after each call."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        allow_insecure_http: bool = False,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        on_transport: Callable[[bool], None] | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        """``auth`` (e.g. :class:`triage_tui.sync.auth.BearerAuth`) replaces ``token``."""
        self.base_url = check_server_url(base_url, allow_insecure_http=allow_insecure_http)
        self._base = urlsplit(self.base_url)
        headers = {"Accept": f"{FHIR_JSON}, application/json;q=0.9", "User-Agent": USER_AGENT}
        if token and auth is None:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            headers=headers, timeout=timeout, transport=transport, follow_redirects=False,
            verify=True, auth=auth,
        )
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._not_before = 0.0  # monotonic time before which we do not call (server throttled us)
        self.on_transport = on_transport
        self.requests = 0  # count of HTTP requests actually sent (benchmarks, tests)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> FhirClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- URLs ------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def same_server(self, url: str) -> str:
        """A server-given URL (next link), pinned to our base: never send the token elsewhere.

        Servers behind a proxy often answer with their internal host name; the path and query
        are kept and the scheme/host are ours, as long as the path lies under our base path.
        """
        parts = urlsplit(url)
        if not parts.scheme:  # relative link
            return self.url(url)
        base_path = self._base.path.rstrip("/")
        if (parts.scheme, parts.netloc) == (self._base.scheme, self._base.netloc):
            return url
        if parts.path == base_path or parts.path.startswith(base_path + "/"):
            return urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        raise SyncError(f"server sent a link outside {self.base_url}; refusing to follow it")

    # --- core request --------------------------------------------------------------------------

    async def request(
        self, method: str, path_or_url: str, *, params: Mapping[str, Any] | None = None,
        json_body: Any = None, headers: Mapping[str, str] | None = None, retry: bool | None = None,
        ok_statuses: tuple[int, ...] = (),
        raw: bool = False,
    ) -> FhirResponse:
        """Send one request; raise a typed error for error statuses not in ``ok_statuses``.

        ``retry`` defaults to True for GET/HEAD only. ``raw``: a successful answer's body is
        the bytes received, not decoded (errors are decoded as usual).
        """
        url = self.same_server(path_or_url) if "://" in path_or_url else self.url(path_or_url)
        if retry is None:
            retry = method in ("GET", "HEAD")
        hdrs = dict(headers or {})
        content = None
        if json_body is not None:
            hdrs["Content-Type"] = FHIR_JSON
            content = json.dumps(json_body, separators=(",", ":")).encode()
        attempt = 0
        while True:
            wait = self._not_before - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
            try:
                self.requests += 1
                resp = await self._http.request(method, url, params=params, content=content,
                                                headers=hdrs)
                body_bytes = await resp.aread()
            except httpx.TransportError as exc:
                self._report(False)
                if retry and attempt < self.max_retries:
                    await self._sleep(self._delay(attempt, None))
                    attempt += 1
                    continue
                raise OfflineError(f"{type(exc).__name__} talking to {self._base.netloc}") from None
            self._report(True)
            status = resp.status_code
            if raw and status < 400:
                return FhirResponse(status, body_bytes, resp.headers)
            body = _decode(body_bytes)
            if status < 400 or status in ok_statuses:
                return FhirResponse(status, body, resp.headers)
            ra = retry_after_seconds(resp.headers, status=status)
            if status == 429 and ra is not None:
                self._not_before = max(self._not_before, time.monotonic() + ra)
            err = error_for(status, outcome_text(body) or resp.reason_phrase, outcome=body
                            if isinstance(body, dict) else None, retry_after=ra, method=method,
                            url=_redact(url))
            if retry and err.transient and attempt < self.max_retries:
                await self._sleep(self._delay(attempt, ra))
                attempt += 1
                continue
            raise err

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        d = full_jitter(attempt, base=self.backoff_base, cap=self.backoff_cap, rng=self._rng)
        return max(d, retry_after) if retry_after is not None else d

    def _report(self, ok: bool) -> None:
        if self.on_transport is not None:
            self.on_transport(ok)

    # --- FHIR interactions -------------------------------------------------------------------

    async def capabilities(self) -> dict[str, Any]:
        r = await self.request("GET", "metadata", retry=False)
        return r.body if isinstance(r.body, dict) else {}

    async def ping(self) -> bool:
        """True when the server answers at all (any HTTP status)."""
        try:
            await self.request("GET", "metadata", retry=False, ok_statuses=tuple(range(400, 600)))
        except OfflineError:
            return False
        return True

    async def read(self, resource_type: str, id: str) -> FhirResponse | None:
        """GET Type/id; None when 404/410 (absent or deleted)."""
        r = await self.request("GET", f"{resource_type}/{id}", ok_statuses=(404, 410))
        return None if r.status in (404, 410) else r

    async def search(self, resource_type: str, params: Mapping[str, Any]) -> dict[str, Any]:
        r = await self.request("GET", resource_type, params=params)
        return _bundle(r.body)

    async def follow(self, url: str) -> dict[str, Any]:
        r = await self.request("GET", url)
        return _bundle(r.body)

    async def search_page(self, resource_type: str, params: Mapping[str, Any]) -> bytes:
        """:meth:`search`, the Bundle left undecoded: :func:`decode_bundle` it off the event
        loop (a 1,000-resource page is ~1 MB of JSON, ~10 ms of CPU)."""
        r = await self.request("GET", resource_type, params=params, raw=True)
        return r.body

    async def follow_page(self, url: str) -> bytes:
        """:meth:`follow`, undecoded (see :meth:`search_page`)."""
        r = await self.request("GET", url, raw=True)
        return r.body

    async def update(self, resource: dict[str, Any], *, if_match: str | None = None,
                     retry: bool = False) -> FhirResponse:
        hdrs = {"If-Match": etag_for(if_match)} if if_match is not None else None
        return await self.request("PUT", f"{resource['resourceType']}/{resource['id']}",
                                  json_body=resource, headers=hdrs, retry=retry)

    async def create(self, resource: dict[str, Any], *, if_none_exist: str | None = None
                     ) -> FhirResponse:
        hdrs = {"If-None-Exist": if_none_exist} if if_none_exist else None
        body = {k: v for k, v in resource.items() if k != "id"}
        return await self.request("POST", resource["resourceType"], json_body=body, headers=hdrs,
                                  retry=False)


def next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or ():
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None


def decode_bundle(data: bytes) -> dict[str, Any]:
    """The Bundle of a :meth:`FhirClient.search_page` answer (SyncError if it is none)."""
    return _bundle(_decode(data))


def _bundle(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise SyncError("server answered a search without a Bundle")
    return body


def _decode(data: bytes) -> Any:
    """The JSON value of a response body, or None when it is none.

    orjson reads a page of 1,000 resources in half the time of the standard parser (an initial
    sync reads ~50 MB). It refuses what the standard parser accepts and JSON does not: NaN and
    a lone surrogate escape (``"\\ud800"``: JSON syntax, not Unicode). Such a body is read by
    the standard parser, and each lone surrogate becomes U+FFFD: one hostile message would
    otherwise be text no UTF-8 encoder takes, and its page could never be stored (every later
    sync would stop there). The one difference left: an integer over 64 bits comes as a float
    (no FHIR integer is that big, and the mapping checks ``isinstance(v, int)`` where it wants
    one)."""
    if not data:
        return None
    try:
        return orjson.loads(data)
    except ValueError:  # orjson.JSONDecodeError is one
        pass
    try:
        return _replace_lone_surrogates(json.loads(data))
    except ValueError:
        return None


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_lone_surrogates(obj: Any) -> Any:
    if isinstance(obj, str):
        return _LONE_SURROGATE.sub("\ufffd", obj)
    if isinstance(obj, list):
        return [_replace_lone_surrogates(v) for v in obj]
    if isinstance(obj, dict):
        return {_replace_lone_surrogates(k): _replace_lone_surrogates(v) for k, v in obj.items()}
    return obj


def _redact(url: str) -> str:
    """Drop the query (search parameters may hold identifiers) from URLs kept in errors."""
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))


__all__ = ["FhirClient", "FhirResponse", "FhirHTTPError", "OfflineError", "RateLimitedError",
           "check_server_url", "decode_bundle", "etag_for", "next_link", "version_from_etag",
           "outcome_text"]
