"""In a real browser: a slide deck recorded without a word spoken is uploaded, becomes ready with
the text on its slides, and a question about a slide cites the screen, shows the slide, and plays
from the second it appears."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, screenshot
from tests.e2e.test_ingest_in_browser import sign_up
from tests.media_factory import slides

pytestmark = pytest.mark.e2e

DECK = [
    ("Board update", 0, 4),
    ("Revenue grew 42 percent\nin the third quarter", 4, 9),
    ("Hiring plan:\nthree data engineers", 9, 14),
]


def test_a_silent_slide_deck_answers_from_its_slides(app_url, page, tmp_path):
    sign_up(page, app_url, "sasha")
    open_page(page, "Add videos")
    page.locator(".drop input[type=file]").set_input_files(str(slides(tmp_path / "Board slides.mp4", DECK,
                                                                      size="640x360", fontsize=36)))
    expect(page.get_by_role("checkbox", name="Read text on screen")).to_be_checked(timeout=30_000)
    expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0, timeout=30_000)
    page.get_by_role("button", name="Add 1 video", exact=True).click()
    expect(page.get_by_text(re.compile("queued"))).to_be_visible(timeout=60_000)

    open_page(page, "Library")
    expect(page.get_by_text("Ready")).to_be_visible(timeout=120_000)
    open_page(page, "Groups")
    page.get_by_role("button", name="New group").click()
    page.get_by_label("Name", exact=True).fill("Board")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("button", name="Create group")).to_be_hidden(timeout=10_000)
    page.get_by_label("Add videos", exact=True).click()
    page.get_by_role("option", name=re.compile("Board slides")).click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add to group").click()
    expect(page.get_by_text(re.compile(r"1\. Board slides"))).to_be_visible(timeout=30_000)

    page.get_by_role("link", name="Ask this group").click()
    page.get_by_placeholder("Ask about these videos").fill("How many data engineers are we hiring?")
    page.keyboard.press("Enter")
    source = page.get_by_role("button", name=re.compile(r"\[1\] Board slides · .* on screen"))
    expect(source).to_be_visible(timeout=60_000)
    expect(page.locator("img[src*='/files/screen/']").first).to_be_visible(timeout=30_000)
    assert page.locator("img[src*='/files/screen/']").first.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.get_by_text(re.compile("On screen: .*data engineers"))).to_be_visible()
    source.click()
    page.wait_for_function("() => { const v = document.querySelector('video'); return v && v.currentTime >= 8.5; }",
                           timeout=30_000)
    screenshot(page, "60-screen-citation")

    open_page(page, "Library")
    page.get_by_role("button", name="Board slides", exact=True).click()
    expect(page.get_by_role("heading", name="Board slides")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Transcript").click()
    expect(page.get_by_text("Hiring plan:")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("On screen").first).to_be_visible()
    screenshot(page, "61-screen-transcript")
