"""In a real browser: a reviewer opens a bad answer in Analytics, pins the moment that answers it,
and the group's regression score appears once the worker has checked it; when retrieval changes
(the video leaves the group) and the check runs again, the score changes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import choose, open_page, screenshot
from tests.e2e.test_ingest_in_browser import (
    a_ready_talk_in_a_group,
    ask_the_group_and_rate,
    sign_up,
)

pytestmark = pytest.mark.e2e

QUESTION = "Who is staying with us for three more years?"


def test_a_reviewer_pins_the_right_moment_and_sees_the_regression_score(app_url, page, tmp_path):
    sign_up(page, app_url, "rita")
    a_ready_talk_in_a_group(page, tmp_path)

    ask_the_group_and_rate(page, QUESTION, "Thumbs down")

    open_page(page, "Analytics", "Answers to review")
    expect(page.get_by_text("No pinned questions yet")).to_be_visible(timeout=30_000)
    choose(page, "Open an exchange", "three more", re.compile("three more years"),
           then=page.get_by_text("Not reviewed yet"))
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_text(re.compile("^Reviewed by rita"))).to_be_visible(timeout=30_000)

    choose(page, "Sentence (type to search)", "Globex", re.compile("Globex"))
    page.get_by_role("button", name="Play from there").click()
    page.wait_for_function("() => [...document.querySelectorAll('video')].some(v => v.currentTime >= 8.5)",
                           timeout=30_000)
    screenshot(page, "26-review-pin")
    page.get_by_role("button", name="Pin this moment").click()
    expect(page.get_by_text(re.compile("^Pinned: “Who is staying"))).to_be_visible(timeout=30_000)

    # The worker checks the group's pinned question; the section follows the job and shows the score.
    score = page.get_by_test_id("stMetric").filter(has_text="Regression seek@5")
    expect(score).to_contain_text("100%", timeout=60_000)
    expect(page.get_by_text(re.compile(r"Last checked .*\(pinned\): 1 of 1 question found"))).to_be_visible()
    score.scroll_into_view_if_needed()
    screenshot(page, "27-regression-score")

    # What retrieval sees changes: the video leaves the group. Run again, and the score follows.
    open_page(page, "Groups")
    expect(page.get_by_text(re.compile(r"1\. Quarterly review"))).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Remove", exact=True).click()
    expect(page.get_by_text("No videos in this group yet.")).to_be_visible(timeout=30_000)
    open_page(page, "Analytics")
    page.get_by_role("button", name="Run again").click()
    score = page.get_by_test_id("stMetric").filter(has_text="Regression seek@5")
    expect(score).to_contain_text("0%", timeout=60_000)
    expect(score).to_contain_text("-100%")  # the change since the previous check
    expect(page.get_by_text(re.compile(r"Last checked .*\(run again\): 0 of 1 question found"))).to_be_visible()
    page.wait_for_timeout(1000)  # let the history chart draw
    score.scroll_into_view_if_needed()
    screenshot(page, "28-regression-score-changed")
