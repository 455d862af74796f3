"""OAuth 2.0 client credentials for the reference server (SMART backend-services style).

``OAuthIssuer`` hands out short-lived bearer tokens at ``POST /oauth/token`` and advertises
the endpoint at ``GET /fhir/.well-known/smart-configuration`` (no auth, as in SMART App Launch
2.0). It wraps the server's ASGI app from outside, so the FHIR routes and the bearer check are
unchanged: :meth:`OAuthIssuer.verifier` accepts the issued tokens (and, optionally, the static
demo token).

    issuer = OAuthIssuer({"triage-desk": "s3cret"}, lifetime=300)
    ServerThread(db, "static-token", oauth=issuer)

Client authentication: ``client_secret_basic`` (HTTP Basic) or ``client_secret_post``
(``client_id`` + ``client_secret`` in the form). Errors follow RFC 6749 section 5.2. Tokens are
random (256 bits); only their SHA-256 is kept. Secrets and tokens are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from triage_tui.server.auth import TokenVerifier

TOKEN_PATH = "/oauth/token"
SMART_CONFIG_PATH = "/fhir/.well-known/smart-configuration"
DEFAULT_SCOPE = "system/*.rs system/Communication.cu system/Task.u system/AuditEvent.c"


@dataclass(slots=True)
class _Issued:
    client_id: str
    expires: float
    scope: str


class OAuthIssuer:
    def __init__(self, clients: dict[str, str], *, lifetime: int = 300,
                 clock: Callable[[], float] = time.time) -> None:
        self.clients = dict(clients)
        self.lifetime = lifetime
        self.clock = clock
        self._tokens: dict[bytes, _Issued] = {}
        self._lock = threading.Lock()
        self.issued = 0  # tokens handed out (tests)
        self.token_requests = 0

    # --- tokens ---------------------------------------------------------------------------------
    @staticmethod
    def _digest(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8", "replace")).digest()

    def issue(self, client_id: str, scope: str = DEFAULT_SCOPE) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            self._tokens = {k: v for k, v in self._tokens.items() if v.expires > now}
            self._tokens[self._digest(token)] = _Issued(client_id, now + self.lifetime, scope)
            self.issued += 1
        return {"access_token": token, "token_type": "bearer", "expires_in": self.lifetime,
                "scope": scope}

    def client_of(self, token: str) -> str | None:
        with self._lock:
            t = self._tokens.get(self._digest(token))
        return t.client_id if t is not None and t.expires > self.clock() else None

    def verify(self, token: str) -> bool:
        return self.client_of(token) is not None

    def revoke_all(self) -> None:
        """Forget every issued token (tests: "the token expired on the server")."""
        with self._lock:
            self._tokens.clear()

    def verifier(self, fallback: TokenVerifier | None = None) -> TokenVerifier:
        def verify(token: str) -> bool:
            return self.verify(token) or (fallback is not None and fallback(token))

        return verify

    def check_client(self, client_id: str, secret: str) -> bool:
        expected = self.clients.get(client_id)
        # compare even for unknown ids, so timing does not tell which ids exist
        ok = hmac.compare_digest(secret.encode(), (expected or "\x00" * 32).encode())
        return ok and expected is not None

    # --- ASGI -----------------------------------------------------------------------------------
    def wrap(self, app: Any) -> Any:
        """The server's ASGI app with the token endpoint and smart-configuration in front."""

        async def asgi(scope, receive, send) -> None:  # noqa: ANN001
            if scope["type"] == "http":
                path = scope["path"].rstrip("/")
                if path == SMART_CONFIG_PATH:
                    await self._smart_configuration(scope, send)
                    return
                if path == TOKEN_PATH:
                    await self._token(scope, receive, send)
                    return
            await app(scope, receive, send)

        return asgi

    async def _smart_configuration(self, scope, send) -> None:  # noqa: ANN001
        if scope["method"] not in ("GET", "HEAD"):
            await _json(send, 405, {"error": "method not allowed"})
            return
        await _json(send, 200, smart_configuration(_root(scope)))

    async def _token(self, scope, receive, send) -> None:  # noqa: ANN001
        self.token_requests += 1
        if scope["method"] != "POST":
            await _json(send, 405, {"error": "invalid_request",
                                    "error_description": "use POST"})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        if ctype != "application/x-www-form-urlencoded":
            await _oauth_error(send, 400, "invalid_request",
                               "send application/x-www-form-urlencoded")
            return
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, secret = _basic(headers.get("authorization", ""))
        used_basic = client_id is not None
        if not used_basic:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        if not client_id or secret is None or not self.check_client(client_id, secret):
            hdrs = {"www-authenticate": 'Basic realm="triage-tui"'} if used_basic else {}
            await _oauth_error(send, 401, "invalid_client", "unknown client or wrong secret",
                               hdrs)
            return
        grant = form.get("grant_type")
        if grant != "client_credentials":
            await _oauth_error(send, 400, "unsupported_grant_type",
                               "only client_credentials is supported")
            return
        await _json(send, 200, self.issue(client_id, form.get("scope") or DEFAULT_SCOPE),
                    {"cache-control": "no-store", "pragma": "no-cache"})


def smart_configuration(root: str) -> dict[str, Any]:
    return {
        "issuer": root,
        "token_endpoint": f"{root}{TOKEN_PATH}",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": DEFAULT_SCOPE.split(),
        "capabilities": ["client-confidential-symmetric"],
    }


def _root(scope) -> str:  # noqa: ANN001
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def _basic(authorization: str) -> tuple[str | None, str | None]:
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None, None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None, None
    cid, sep, secret = decoded.partition(":")
    if not sep:
        return None, None
    return unquote(cid), unquote(secret)  # RFC 6749 2.3.1: form-urlencoded before Basic


async def _json(send, status: int, body: dict, headers: dict[str, str] | None = None) -> None:  # noqa: ANN001
    data = json.dumps(body, separators=(",", ":")).encode()
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    hdrs += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": data})


async def _oauth_error(send, status: int, error: str, description: str,  # noqa: ANN001
                       headers: dict[str, str] | None = None) -> None:
    await _json(send, status, {"error": error, "error_description": description},
                {"cache-control": "no-store", **(headers or {})})
