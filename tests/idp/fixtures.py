"""Run the test identity provider as a subprocess for the whole test session.

Import ``identity_provider_fixture`` into a test module to use the ``identity_provider``
fixture; every module that does shares the one running provider.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = "spaceport-web"
CLIENT_SECRET = "spaceport-web-test-client-secret"
USERNAME = "alice"
PASSWORD = "alice-idp-password-42"
EMAIL = "alice@idp.example"
DIRECT_CALLBACK = "http://127.0.0.1/direct-callback"
REDIRECT_URIS = [
    "http://localhost/accounts/oidc/sso/login/callback/",
    "http://127.0.0.1/accounts/oidc/sso/login/callback/",
    DIRECT_CALLBACK,
]


@dataclass
class IdentityProvider:
    url: str
    state_dir: Path
    process: subprocess.Popen[bytes] | None = None
    signing_key_pem: bytes = b""
    kid: str = ""
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    username: str = USERNAME
    password: str = PASSWORD
    email: str = EMAIL
    _stopped: bool = field(default=False, repr=False)

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def set_roles(self, username: str, roles: list[str]) -> None:
        """Give ``username`` these role names in every token issued from now on."""
        path = self.state_dir / "roles.json"
        current = json.loads(path.read_text()) if path.exists() else {}
        current[username] = roles
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(current))
        tmp.replace(path)

    def provider_settings(self, provider_id: str = "sso") -> dict[str, Any]:
        """Spaceport's ``SOCIALACCOUNT_PROVIDERS`` pointing at this provider, as settings.py builds it."""
        return {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": provider_id,
                        "name": "Test identity provider",
                        "client_id": self.client_id,
                        "secret": self.client_secret,
                        "settings": {"server_url": self.issuer, "scope": ["openid", "profile", "email"]},
                    }
                ],
            }
        }

    def sign_in(self, session: requests.Session, response: requests.Response) -> requests.Response:
        """At the provider's login form (``response``): sign in, then approve the client."""
        login_form = parse_form(response.text)
        login_form.fields.update(username=self.username, password=self.password)
        authorize_page = session.post(
            urljoin(response.url, login_form.action or response.url),
            data=login_form.fields,
            headers={"Referer": response.url},
        )
        authorize_page.raise_for_status()
        consent = parse_form(authorize_page.text)
        assert "redirect_uri" in consent.fields, "the provider did not show its consent form"
        consent.fields["allow"] = "Authorize"
        return session.post(
            urljoin(authorize_page.url, consent.action or authorize_page.url),
            data=consent.fields,
            headers={"Referer": authorize_page.url},
            allow_redirects=False,
        )

    def tokens(self) -> dict[str, Any]:
        """Tokens for the test user through the authorization code flow, with the test as the client."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        session = requests.Session()
        login_page = session.get(
            f"{self.issuer}/authorize/",
            params={
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": DIRECT_CALLBACK,
                "scope": "openid profile email",
                "state": secrets.token_urlsafe(8),
                "nonce": secrets.token_urlsafe(8),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
            timeout=10,
        )
        approved = self.sign_in(session, login_page)
        location = approved.headers["Location"]
        assert location.startswith(DIRECT_CALLBACK), location
        code = parse_qs(urlsplit(location).query)["code"][0]
        answer = requests.post(
            f"{self.issuer}/token/",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": DIRECT_CALLBACK,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "code_verifier": verifier,
            },
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        if self._stopped or self.process is None:
            return
        self._stopped = True
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@dataclass
class Form:
    action: str = ""
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form: Form | None = None
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and self.form is None and values.get("method", "get").lower() == "post":
            self.form = Form(action=values.get("action", ""))
        elif tag == "input" and self.form is not None and not self._done:
            kind = values.get("type", "text").lower()
            if values.get("name") and kind not in ("submit", "button"):
                self.form.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.form is not None:
            self._done = True


def parse_form(html: str) -> Form:
    """The first POST form of a page, with its named input values."""
    parser = _FormParser()
    parser.feed(html)
    assert parser.form is not None, f"no form on the page: {html[:500]}"
    return parser.form


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _new_signing_key() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, jwk.JWK.from_pem(pem).thumbprint()


def start_identity_provider(state_dir: Path) -> IdentityProvider:
    port = _free_port()
    pem, kid = _new_signing_key()
    (state_dir / "signing-key.pem").write_bytes(pem)
    provider = IdentityProvider(url=f"http://127.0.0.1:{port}", state_dir=state_dir, signing_key_pem=pem, kid=kid)
    provider.set_roles(USERNAME, [])
    spec = {
        "users": [{"username": USERNAME, "email": EMAIL, "password": PASSWORD, "first_name": "Alice"}],
        "client": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": REDIRECT_URIS},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(IDP_STATE_DIR=str(state_dir), IDP_PORT=str(port), IDP_BOOTSTRAP=json.dumps(spec))
    log = (state_dir / "idp.log").open("wb")
    provider.process = subprocess.Popen(
        [sys.executable, "-m", "tests.idp.serve"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if provider.process.poll() is not None:
            raise RuntimeError(f"the test identity provider exited:\n{(state_dir / 'idp.log').read_text()}")
        try:
            if requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=1).ok:
                return provider
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    provider.stop()
    raise RuntimeError(f"the test identity provider did not answer:\n{(state_dir / 'idp.log').read_text()}")


_running: list[IdentityProvider] = []


@pytest.fixture(scope="session", name="identity_provider")
def identity_provider_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityProvider]:
    """The running provider; started once per session however many modules ask for it."""
    if not _running:
        _running.append(start_identity_provider(tmp_path_factory.mktemp("idp")))
    yield _running[0]
    _running[0].stop()
