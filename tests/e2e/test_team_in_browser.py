"""In a real browser: an owner makes a team workspace with a ready talk in a group and invites a
colleague by email; the colleague signs up through the link, lands in the team's library, asks
the group and rates the answer; the owner sees that exchange in the team's Analytics."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import choose, open_page, screenshot
from tests.e2e.test_ingest_in_browser import (
    a_ready_talk_in_a_group,
    ask_the_group_and_rate,
    sign_up,
    visible,
)

pytestmark = pytest.mark.e2e

QUESTION = "Who is staying with us for three more years?"


def test_an_invited_colleague_joins_asks_and_rates_and_the_owner_sees_it(app_url, browser, page, tmp_path):
    sign_up(page, app_url, "tessa")
    page.get_by_role("link", name="Workspace").first.click()
    visible(page, "Name").fill("Support team")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("heading", name="Support team")).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(r"[?&]ws=\d+"))
    a_ready_talk_in_a_group(page, tmp_path)

    page.get_by_role("link", name="Workspace").first.click()
    visible(page, "Email").fill("colin@example.com")
    page.get_by_role("button", name="Create invitation").click()
    link = page.get_by_text(re.compile(r"\?join=")).inner_text().strip()
    screenshot(page, "30-team-invitation")

    colleague = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        colleague.goto(link)
        expect(colleague.get_by_text(re.compile("invited to join Support team as viewer"))).to_be_visible(
            timeout=30_000)
        expect(visible(colleague, "Email")).to_have_value("colin@example.com")  # the invitation names it
        visible(colleague, "Username").fill("colin")
        visible(colleague, "Password").fill("a long enough password")
        visible(colleague, "Repeat password").fill("a long enough password")
        colleague.get_by_role("button", name="Create account").click()
        expect(colleague.get_by_role("heading", name="Library")).to_be_visible(timeout=30_000)
        expect(colleague.get_by_text("Quarterly review").first).to_be_visible(timeout=30_000)  # the team's library
        expect(colleague.get_by_role("link", name="Add videos")).to_have_count(0)  # a viewer adds nothing
        screenshot(colleague, "31-team-library-for-a-viewer")

        open_page(colleague, "Groups")
        ask_the_group_and_rate(colleague, QUESTION, "Thumbs up")
        screenshot(colleague, "32-team-viewer-asks")
        # The rating is stored by the run its click starts: reloaded, the conversation shows it
        # (closing the browser at once could cut that run short on a busy machine).
        colleague.reload()
        expect(colleague.get_by_role("radio", name="Thumbs up")).to_have_attribute("aria-checked", "true",
                                                                                    timeout=30_000)
    finally:
        colleague.context.close()

    open_page(page, "Analytics", "Answers to review")
    choose(page, "Open an exchange", "three more", re.compile("three more years"),
           then=page.get_by_text(re.compile("feedback: good")))  # the colleague's rating
    screenshot(page, "33-team-analytics")
