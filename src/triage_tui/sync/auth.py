"""Sign-in to the FHIR server: a static bearer token, or OAuth 2.0 client credentials.

* :class:`StaticToken`: ``--token`` / ``TRIAGE_TUI_TOKEN`` (demo and test servers), or the one
  the user typed when the server refused the old one. Given once, it is kept in the encrypted
  cache (``meta``, like the OAuth access token) so later runs need neither: never a plain file
  (``config.toml`` refuses a ``[server] token`` key).
* :class:`ClientCredentials`: SMART backend-services style ``client_credentials`` grant with a
  client secret. The token endpoint comes from configuration or is discovered at
  ``{base}/.well-known/smart-configuration``. The access token is kept in memory and, when a
  :class:`TokenCache` is given (the encrypted cache's ``meta`` table), survives restarts there:
  never in a plain file.
* :class:`BearerAuth`: the ``httpx.Auth`` that puts the token on every request and, on a 401,
  refreshes it **once** and resends; a second 401 is returned to the caller (the client raises
  :class:`AuthError`) and ``on_refused`` is called so the UI can ask the user.

Tokens and secrets are never logged and never appear in error messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any, Protocol

import httpx

from triage_tui.sync.client import check_server_url
from triage_tui.sync.errors import AuthError, OfflineError, SyncError

log = logging.getLogger(__name__)

SMART_CONFIG = ".well-known/smart-configuration"
EXPIRY_MARGIN = 30.0  # seconds: refresh a token this long before it expires
CACHE_KEY = "auth.access_token"
STATIC_KEY = "auth.bearer_token"


class TokenProvider(Protocol):
    kind: str  # "static" | "client-credentials"

    async def token(self, *, refresh: bool = False, stale: str | None = None) -> str:
        """A bearer token; ``refresh=True`` after the server refused ``stale``."""
        ...


class TokenCache(Protocol):
    """Where an access token may be kept between runs: ``Store.get_meta``/``set_meta``
    (encrypted at rest). Never a plain file."""

    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...


class SignInRequired(AuthError):
    """The server refused the credentials even after one refresh: ask the user."""


class StaticToken:
    kind = "static"

    def __init__(self, token: str, *, cache: TokenCache | None = None,
                 save: bool = True) -> None:
        self.cache = cache
        self._token = self._check(token)
        if save:
            self._save()

    def __repr__(self) -> str:  # never show the token
        return "StaticToken(<hidden>)"

    @staticmethod
    def _check(token: str) -> str:
        if not token or any(c.isspace() for c in token):
            raise ValueError("a bearer token is one non-empty word")
        return token

    @classmethod
    def missing(cls, cache: TokenCache | None = None) -> StaticToken:
        """No token yet: requests go without one, the server's 401 calls ``on_refused`` (the
        app asks the user) and :meth:`replace` then supplies it."""
        self = cls.__new__(cls)
        self.cache, self._token = cache, ""
        return self

    @classmethod
    def cached(cls, cache: TokenCache) -> StaticToken | None:
        """The token a previous run kept in the encrypted cache, if any."""
        try:
            raw = cache.get_meta(STATIC_KEY)
        except Exception:  # noqa: BLE001 - a locked or odd cache: no token
            return None
        if not raw:
            return None
        try:
            return cls(raw, cache=cache, save=False)
        except ValueError:
            return None

    def _save(self) -> None:
        if self.cache is None:
            return
        try:
            self.cache.set_meta(STATIC_KEY, self._token)
        except Exception:  # noqa: BLE001
            log.info("bearer token not kept (cache unavailable)")

    async def token(self, *, refresh: bool = False, stale: str | None = None) -> str:
        return self._token  # nothing to refresh: a second 401 asks the user

    def replace(self, token: str) -> None:
        """The user typed a new token: use it now, keep it (encrypted) for later runs."""
        self._token = self._check(token)
        self._save()


class ClientCredentials:
    kind = "client-credentials"

    def __init__(self, base_url: str, client_id: str, client_secret: str, *,
                 token_endpoint: str | None = None, scope: str | None = None,
                 cache: TokenCache | None = None, allow_insecure_http: bool = False,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time, timeout: float = 15.0) -> None:
        self.base_url = check_server_url(base_url, allow_insecure_http=allow_insecure_http)
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.allow_insecure_http = allow_insecure_http
        self.token_endpoint = (check_server_url(token_endpoint,
                                                allow_insecure_http=allow_insecure_http)
                               if token_endpoint else None)
        self.cache = cache
        self.clock = clock
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport,
                                       follow_redirects=False, verify=True,
                                       headers={"User-Agent": "triage-tui"})
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0  # token requests made (tests)
        self._load_cached()

    def __repr__(self) -> str:  # never show the secret
        return f"ClientCredentials({self.base_url!r}, client_id={self.client_id!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- cache ----------------------------------------------------------------------------------
    def _cache_key(self) -> str:
        return f"{CACHE_KEY}:{self.client_id}"

    def _load_cached(self) -> None:
        if self.cache is None:
            return
        try:
            raw = self.cache.get_meta(self._cache_key())
            data = json.loads(raw) if raw else None
        except Exception:  # noqa: BLE001 - a locked or odd cache just means "fetch one"
            return
        if isinstance(data, dict) and isinstance(data.get("token"), str):
            self._token, self._expires = data["token"], float(data.get("expires", 0))

    def _save_cached(self) -> None:
        if self.cache is None or self._token is None:
            return
        try:
            self.cache.set_meta(self._cache_key(), json.dumps(
                {"token": self._token, "expires": self._expires}))
        except Exception:  # noqa: BLE001
            log.info("access token not cached (cache unavailable)")

    # --- discovery and fetch ----------------------------------------------------------------------
    async def discover(self) -> str:
        """The token endpoint from ``.well-known/smart-configuration`` (or the configured one)."""
        if self.token_endpoint:
            return self.token_endpoint
        url = f"{self.base_url}/{SMART_CONFIG}"
        try:
            r = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise OfflineError(f"{type(exc).__name__} reading the server's "
                               "smart-configuration") from None
        endpoint = None
        if r.status_code == 200:
            try:
                endpoint = r.json().get("token_endpoint")
            except (ValueError, AttributeError):
                endpoint = None
        if not isinstance(endpoint, str) or not endpoint:
            raise SyncError("the server has no .well-known/smart-configuration with a "
                            "token_endpoint; set [server] token_endpoint in config.toml")
        self.token_endpoint = check_server_url(endpoint,
                                               allow_insecure_http=self.allow_insecure_http)
        return self.token_endpoint

    async def token(self, *, refresh: bool = False, stale: str | None = None) -> str:
        async with self._lock:
            valid = self._token is not None and self.clock() < self._expires - EXPIRY_MARGIN
            if valid and (not refresh or (stale is not None and stale != self._token)):
                return self._token  # type: ignore[return-value] # (or refreshed meanwhile)
            await self._fetch()
            assert self._token is not None
            return self._token

    async def _fetch(self) -> None:
        endpoint = await self.discover()
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        self.fetches += 1
        try:
            r = await self._http.post(endpoint, data=form,
                                      auth=httpx.BasicAuth(self.client_id, self._secret),
                                      headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise OfflineError(f"{type(exc).__name__} talking to the token endpoint") from None
        try:
            body: Any = r.json()
        except ValueError:
            body = {}
        if r.status_code != 200 or not isinstance(body, dict) or \
                not isinstance(body.get("access_token"), str):
            err = body.get("error") if isinstance(body, dict) else None
            status = r.status_code if r.status_code >= 400 else 401
            raise SignInRequired(status, f"the token endpoint refused client "
                                 f"{self.client_id!r}" + (f" ({err})" if isinstance(err, str)
                                                          and err.isascii() and len(err) < 40
                                                          else ""))
        self._token = body["access_token"]
        try:
            lifetime = float(body.get("expires_in", 300))
        except (TypeError, ValueError):
            lifetime = 300.0
        self._expires = self.clock() + max(lifetime, 1.0)
        self._save_cached()


class BearerAuth(httpx.Auth):
    """httpx auth flow: bearer token; one refresh and resend on 401, then give up."""

    requires_request_body = True  # the body is resent after a refresh

    def __init__(self, provider: TokenProvider,
                 on_refused: Callable[[], None] | None = None) -> None:
        self.provider = provider
        self.on_refused = on_refused
        self.refreshes = 0
        self.refused = False  # True after a 401 that a refresh did not cure

    def sync_auth_flow(self, request: httpx.Request):  # type: ignore[override]
        raise RuntimeError("BearerAuth needs an httpx.AsyncClient")

    async def async_auth_flow(  # type: ignore[override]
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.provider.token()
        if token:  # (none yet: StaticToken.missing)
            request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            self.refused = False
            return
        try:
            fresh = await self.provider.token(refresh=True, stale=token)
        except AuthError:
            fresh = None
        if fresh is not None and fresh != token:
            self.refreshes += 1
            request.headers["Authorization"] = f"Bearer {fresh}"
            response = yield request
            if response.status_code != 401:
                self.refused = False
                return
        self.refused = True
        if self.on_refused is not None:
            try:
                self.on_refused()
            except Exception:  # noqa: BLE001 - a UI callback must not break the request
                log.exception("on_refused callback failed")


def provider_for(base_url: str, *, token: str | None = None, client_id: str | None = None,
                 client_secret: str | None = None, token_endpoint: str | None = None,
                 scope: str | None = None, cache: TokenCache | None = None,
                 allow_insecure_http: bool = False) -> TokenProvider | None:
    """The provider the settings ask for: client credentials win over a static token; with
    neither, the token a previous run kept in ``cache`` (None if there is none)."""
    if client_id and client_secret:
        return ClientCredentials(base_url, client_id, client_secret,
                                 token_endpoint=token_endpoint, scope=scope, cache=cache,
                                 allow_insecure_http=allow_insecure_http)
    if token:
        return StaticToken(token, cache=cache)  # kept (encrypted) for the next run
    if cache is not None:
        return StaticToken.cached(cache)
    return None
