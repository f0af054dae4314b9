"""A bookmarked page opened first thing after the server starts works like any other visit.

Before, until someone opened `/`, `/chat?group=1` showed "This app has encountered an error":
Streamlit ran the page file alone (its old pages-directory mode), without the entry script.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import auth, groups
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, make_account
from tests.web_server import WebServer

pytestmark = pytest.mark.e2e


def test_a_deep_link_is_the_first_page_opened_after_a_restart(clean_db, browser, tmp_path):
    with clean_db.session() as s:
        account = make_account(s, "dana")
        group_id = groups.create_group(s, account.id, "Onboarding")
        token = auth.start_session(s, account.id, days=1)
    server = WebServer(tmp_path / "web.log")  # freshly started: no page has run in it yet
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": "askvideo_session", "value": token, "url": server.url}])
        page = context.new_page()
        page.goto(f"{server.url}/chat?group={group_id}")
        expect(page.get_by_role("heading", name="Ask")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("This group has no videos yet")).to_be_visible()  # the group the link names
        expect(page.get_by_text("Signed in as")).to_be_visible()  # the entry script ran: sidebar and all
        assert not page.get_by_text("This app has encountered an error").count()
        screenshot(page, "05-deep-link-after-restart")
        context.close()
    finally:
        server.close()


def test_a_link_opened_signed_out_asks_for_sign_in_and_then_opens_what_it_names(clean_db, browser, tmp_path):
    with clean_db.session() as s:
        account = make_account(s, "dora")
        group_id = groups.create_group(s, account.id, "Onboarding")
    server = WebServer(tmp_path / "web.log")
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{server.url}/chat?group={group_id}")
        expect(page.get_by_role("tab", name="Sign in")).to_be_visible(timeout=30_000)
        assert not page.get_by_text("Page not found").count()
        page.get_by_label("Username or email").fill("dora")
        page.get_by_label("Password").first.fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("heading", name="Ask")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("This group has no videos yet")).to_be_visible()  # the group the link named
        assert f"group={group_id}" in page.url
        screenshot(page, "06-deep-link-signed-out")
        context.close()
    finally:
        server.close()
