"""In a real browser: search the library for a word said in a talk, and play the moment it is said."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, screenshot
from tests.e2e.test_accounts_in_browser import visible
from tests.e2e.test_ingest_in_browser import a_ready_talk_in_a_group, sign_up

pytestmark = pytest.mark.e2e


def test_search_for_a_spoken_word_and_play_the_moment(app_url, page, tmp_path):
    sign_up(page, app_url, "lena")
    a_ready_talk_in_a_group(page, tmp_path)
    open_page(page, "Library")
    visible(page, "Search").fill("globex")  # said at 0:09, in no title
    page.keyboard.press("Enter")
    found = page.get_by_role("button", name="Quarterly review · 00:09")
    expect(found).to_be_visible(timeout=30_000)
    expect(page.get_by_text("No title has these words.")).to_be_visible()
    sentence = page.get_by_text(re.compile("Our biggest customer, Globex, renewed for three years"))
    expect(sentence.locator("strong")).to_have_text("Globex")  # the searched word, marked
    expect(page.locator("video")).to_have_count(0)

    found.click()
    player = page.locator("video")
    expect(player).to_be_visible(timeout=30_000)
    page.wait_for_function("() => { const v = document.querySelector('video'); return v && v.currentTime >= 8.5; }",
                           timeout=30_000)
    assert player.evaluate("v => v.currentTime") < 14  # from the moment, not the end
    expect(player).to_be_in_viewport()
    screenshot(page, "16-library-said-in-the-videos")
