"""Bearer-token authentication for the reference server.

The check is a plain function ``verify(token) -> bool`` (a :data:`TokenVerifier`), so a later
OAuth/SMART token endpoint only has to provide another verifier (e.g. one that looks tokens up
in an issued-token table) and pass it to ``create_app(verify_token=...)``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

TokenVerifier = Callable[[str], bool]


def static_token(secret: str) -> TokenVerifier:
    """A verifier that accepts exactly one shared secret (the demo's ``--token``)."""
    expected = secret.encode()

    def verify(token: str) -> bool:
        return hmac.compare_digest(token.encode(), expected)

    return verify


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
