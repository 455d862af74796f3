"""Sign-in (issue 8, part 1): static token and OAuth client credentials against the reference
server's real token endpoint; one refresh on 401, then the user is asked."""

from __future__ import annotations

import httpx
import pytest

from triage_tui.cache import open_store
from triage_tui.server.oauth import OAuthIssuer
from triage_tui.server.runner import ServerThread
from triage_tui.sync.auth import BearerAuth, ClientCredentials, SignInRequired, StaticToken
from triage_tui.sync.client import FhirClient
from triage_tui.sync.errors import AuthError, SyncError

CLIENT, SECRET = "triage-desk", "s3cret-Client-Secret-42"


@pytest.fixture
def issuer():
    return OAuthIssuer({CLIENT: SECRET}, lifetime=300)


@pytest.fixture
def server(tmp_path, issuer):
    with ServerThread(tmp_path / "fhir.db", "static-demo-token", oauth=issuer) as srv:
        yield srv


def test_smart_configuration_is_public(server):
    r = httpx.get(f"{server.base_url}/.well-known/smart-configuration")
    assert r.status_code == 200
    cfg = r.json()
    assert cfg["token_endpoint"] == f"{server.root_url}/oauth/token"
    assert "client_credentials" in cfg["grant_types_supported"]
    assert "client_secret_basic" in cfg["token_endpoint_auth_methods_supported"]


def test_token_endpoint_rfc6749_errors(server):
    url = f"{server.root_url}/oauth/token"
    ok = httpx.post(url, data={"grant_type": "client_credentials"}, auth=(CLIENT, SECRET))
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
    assert ok.headers["cache-control"] == "no-store"
    post = httpx.post(url, data={"grant_type": "client_credentials", "client_id": CLIENT,
                                 "client_secret": SECRET})
    assert post.status_code == 200
    bad = httpx.post(url, data={"grant_type": "client_credentials"}, auth=(CLIENT, "wrong"))
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert "Basic" in bad.headers["www-authenticate"]
    grant = httpx.post(url, data={"grant_type": "password"}, auth=(CLIENT, SECRET))
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    assert httpx.get(url).status_code == 405
    assert SECRET not in bad.text and SECRET not in grant.text
    # the issued token opens the FHIR API, the static demo token still does too
    tok = ok.json()["access_token"]
    assert httpx.get(f"{server.base_url}/Patient",
                     headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    assert httpx.get(f"{server.base_url}/Patient",
                     headers={"Authorization": "Bearer nope"}).status_code == 401


async def test_discovers_endpoint_and_refreshes_once_on_401(server, issuer):
    provider = ClientCredentials(server.base_url, CLIENT, SECRET)
    auth = BearerAuth(provider)
    client = FhirClient(server.base_url, auth=auth, max_retries=0)
    try:
        await client.search("Patient", {})
        assert provider.token_endpoint == f"{server.root_url}/oauth/token"
        assert issuer.issued == 1
        await client.search("Patient", {})
        assert issuer.issued == 1  # cached until it expires
        issuer.revoke_all()  # the server forgot it (expired early, restarted...)
        await client.search("Patient", {})
        assert issuer.issued == 2 and auth.refreshes == 1 and not auth.refused
    finally:
        await client.aclose()
        await provider.aclose()


async def test_second_401_asks_the_user(server, issuer):
    asked = []
    provider = ClientCredentials(server.base_url, CLIENT, SECRET)
    auth = BearerAuth(provider, on_refused=lambda: asked.append(1))
    client = FhirClient(server.base_url, auth=auth, max_retries=0)
    try:
        await client.search("Patient", {})
        issuer.revoke_all()
        issuer.clients[CLIENT] = "rotated-by-the-admin"  # our secret no longer works
        with pytest.raises(AuthError):
            await client.search("Patient", {})
        assert asked == [1] and auth.refused
        assert issuer.token_requests == 2  # one refresh attempt, no loop
    finally:
        await client.aclose()
        await provider.aclose()


async def test_static_token_refused_is_not_retried(server):
    asked = []
    auth = BearerAuth(StaticToken("expired-demo-token"), on_refused=lambda: asked.append(1))
    client = FhirClient(server.base_url, auth=auth, max_retries=3)
    try:
        with pytest.raises(AuthError):
            await client.search("Patient", {})
        assert client.requests == 1 and asked == [1]
        auth.provider.replace("static-demo-token")  # the user typed the right one
        await client.search("Patient", {})
    finally:
        await client.aclose()


async def test_wrong_secret_is_a_sign_in_error_without_the_secret(server):
    provider = ClientCredentials(server.base_url, CLIENT, "not-the-secret")
    try:
        with pytest.raises(SignInRequired) as err:
            await provider.token()
        assert "not-the-secret" not in str(err.value) and "not-the-secret" not in repr(provider)
        assert err.value.status == 401
    finally:
        await provider.aclose()


async def test_no_smart_configuration_needs_config(fhir_server):
    provider = ClientCredentials(fhir_server.base_url, CLIENT, SECRET)
    try:
        with pytest.raises(SyncError, match="token_endpoint"):
            await provider.token()
    finally:
        await provider.aclose()


async def test_configured_endpoint_skips_discovery(server, issuer):
    provider = ClientCredentials(server.base_url, CLIENT, SECRET,
                                 token_endpoint=f"{server.root_url}/oauth/token")
    try:
        assert await provider.token()
        assert issuer.issued == 1
    finally:
        await provider.aclose()


def test_token_endpoint_must_be_https_off_loopback():
    from triage_tui.sync.errors import InsecureServerError

    with pytest.raises(InsecureServerError):
        ClientCredentials("https://fhir.example.org/r4", CLIENT, SECRET,
                          token_endpoint="http://auth.example.org/token")


async def test_access_token_kept_in_the_encrypted_cache_only(server, issuer, tmp_path):
    store = open_store(server.base_url, "Practitioner/1", passphrase="pw", data_dir=tmp_path / "d")
    try:
        p1 = ClientCredentials(server.base_url, CLIENT, SECRET, cache=store)
        token = await p1.token()
        await p1.aclose()
        p2 = ClientCredentials(server.base_url, CLIENT, SECRET, cache=store)
        assert await p2.token() == token and issuer.issued == 1  # reused after a restart
        await p2.aclose()
        path = store.path
    finally:
        store.close()
    for f in path.parent.iterdir():
        assert token.encode() not in f.read_bytes()
        assert SECRET.encode() not in f.read_bytes()


async def test_sync_engine_with_client_credentials(server, issuer, tmp_path):
    from triage_tui.sync.engine import SyncEngine

    store = open_store(server.base_url, "Practitioner/1", passphrase="pw", data_dir=tmp_path / "d")
    provider = ClientCredentials(server.base_url, CLIENT, SECRET, cache=store)
    client = FhirClient(server.base_url, auth=BearerAuth(provider), max_retries=0)
    try:
        summary = await SyncEngine(client, store).sync_once()
        assert summary.ok, summary.error
        issuer.revoke_all()
        summary = await SyncEngine(client, store).sync_once()
        assert summary.ok and issuer.issued == 2
    finally:
        await client.aclose()
        await provider.aclose()
        store.close()
