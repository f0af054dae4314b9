"""In a real browser, against a real OpenID Connect provider on 127.0.0.1 (oidc-provider-mock):
Alice signs in with her company account, gets an Ask Video account from her verified email, joins
the workspace she was invited to, and signs out of both."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core import workspaces
from db.models import User
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, make_account
from tests.web_server import WebServer, free_port

pytestmark = pytest.mark.e2e
EMAIL = "alice@example.com"


@pytest.fixture
def provider(tmp_path):
    """oidc-provider-mock on a free port, knowing Alice with a verified email."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "provider.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "provider.log").read_text()) from None
            time.sleep(0.2)
    claims = {"email": EMAIL, "email_verified": True, "name": "Alice Example"}
    request = urllib.request.Request(f"{url}/users/{urllib.parse.quote(EMAIL)}", method="PUT",
                                     data=json.dumps(claims).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).close()
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=10)
    log.close()


def _app_with_company_sign_in(provider: str, tmp_path) -> WebServer:
    port = free_port()
    app = f"http://127.0.0.1:{port}"
    config = tmp_path / "secrets.toml"  # as README shows for .streamlit/secrets.toml
    config.write_text(f'[auth]\nredirect_uri = "{app}/oauth2callback"\ncookie_secret = "{secrets.token_hex(32)}"\n'
                      f'client_id = "ask-video"\nclient_secret = "not-a-real-secret"\n'
                      f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n')
    return WebServer(tmp_path / "web.log", "--secrets.files", str(config), port=port)


def _company_sign_in(browser, provider: str, app: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    # The provider's pages link a stylesheet on the internet: nothing here leaves this machine.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
               else route.abort())
    page.goto(app)
    page.get_by_role("button", name="Sign in with your company account").click()
    page.wait_for_url(f"{provider}/oauth2/authorize**", timeout=30_000)
    page.get_by_placeholder("sub").fill(EMAIL)
    page.get_by_role("button", name="Authorize").click()
    return page


def test_company_sign_in_makes_the_account_joins_the_invited_workspace_and_signs_out(clean_db, browser, provider,
                                                                                     tmp_path):
    with clean_db.session() as s:
        owner = make_account(s, "olga")
        team = workspaces.create_workspace(s, owner.id, "Support team")
        workspaces.invite(s, owner.id, team, role="editor", email=EMAIL)
    server = _app_with_company_sign_in(provider, tmp_path)
    try:
        page = _company_sign_in(browser, provider, server.url)
        expect(page.get_by_role("heading", name="Library")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Signed in as alice")).to_be_visible()
        page.reload()  # the session holds
        expect(page.get_by_text("Signed in as alice")).to_be_visible(timeout=30_000)
        with clean_db.session() as s:
            alice = s.scalars(select(User).where(User.email == EMAIL)).one()
            joined = {w.name: w.role for w in workspaces.list_workspaces(s, alice.id)}
        assert joined == {"Personal": "owner", "Support team": "editor"}
        expect(page.get_by_placeholder("Words in a title, or said in a video")).to_be_visible()  # settled
        screenshot(page, "34-company-sign-in")

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{provider}/oauth2/end_session**", timeout=30_000)
        page.get_by_role("button", name="End session").click()
        expect(page.get_by_role("button", name="Sign in with your company account")).to_be_visible(timeout=30_000)
        page.reload()
        expect(page.get_by_role("button", name="Sign in with your company account")).to_be_visible(timeout=30_000)
        assert not page.get_by_text("Signed in as").count()
    finally:
        server.close()


def test_an_account_with_the_same_email_is_linked_only_with_its_password(clean_db, browser, provider, tmp_path):
    with clean_db.session() as s:
        make_account(s, "admin")
        make_account(s, "alice")  # alice@example.com, made with a password before company sign-in
    server = _app_with_company_sign_in(provider, tmp_path)
    try:
        page = _company_sign_in(browser, provider, server.url)
        expect(page.get_by_text(re.compile(r"exists already \(alice\)"))).to_be_visible(timeout=30_000)
        page.get_by_label("Password of that account").fill("a wrong guess")
        page.get_by_role("button", name="Link and sign in").click()
        expect(page.get_by_text("That is not the password of that account.")).to_be_visible(timeout=30_000)
        page.get_by_label("Password of that account").fill(PASSWORD)
        page.get_by_role("button", name="Link and sign in").click()
        expect(page.get_by_role("heading", name="Library")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Signed in as alice")).to_be_visible()
        with clean_db.session() as s:
            assert s.scalars(select(User.company_identity).where(User.email == EMAIL)).one().endswith(EMAIL)
    finally:
        server.close()
