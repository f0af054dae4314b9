"""A person uploads a captioned video in a real browser, watches it become ready, and seeks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, screenshot
from tests.e2e.test_accounts_in_browser import visible
from tests.media_factory import TALK, srt, video

pytestmark = pytest.mark.e2e


def sign_up(page, app_url, name):
    page.goto(app_url)
    page.get_by_role("tab", name="Create account").click()
    visible(page, "Username").fill(name)
    visible(page, "Email").fill(f"{name}@example.com")
    visible(page, "Password").fill("a long enough password")
    visible(page, "Repeat password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible(timeout=30_000)


def add_captioned_video(page, media, captions, *, shot: str | None = None) -> None:
    """On Add videos: pick the file (our picker streams it to the server), give its captions, add it."""
    open_page(page, "Add videos")
    page.locator(".drop input[type=file]").set_input_files(str(media))
    expect(page.get_by_text("Captions (optional)")).to_be_visible(timeout=30_000)
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(captions))
    expect(page.get_by_text(captions.name)).to_be_visible(timeout=30_000)
    # The server has read the captions (a click while that run is under way can be lost with it).
    expect(page.get_by_text("These captions are the transcript")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0, timeout=30_000)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Add 1 video", exact=True).click()
    expect(page.get_by_text(re.compile("queued"))).to_be_visible(timeout=60_000)


def a_ready_talk_in_a_group(page, tmp_path, group: str = "Business", *, shot: str | None = None) -> None:
    """The set-up several stories start from: the captioned Quarterly review, uploaded and ready,
    alone in a new group, with the Groups page open (`shot` names a picture of the new, empty group)."""
    captions = tmp_path / "review.srt"
    captions.write_bytes(srt(TALK))
    add_captioned_video(page, video(tmp_path / "Quarterly review.mp4", seconds=20), captions)
    open_page(page, "Library")
    expect(page.get_by_text("Ready")).to_be_visible(timeout=120_000)
    open_page(page, "Groups")
    page.get_by_role("button", name="New group").click()
    page.get_by_label("Name", exact=True).fill(group)
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_text("No videos in this group yet.")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Create group")).to_be_hidden(timeout=10_000)  # the pop-up closed itself
    if shot:
        screenshot(page, shot)
    page.get_by_label("Add videos", exact=True).click()
    page.get_by_role("option", name=re.compile("Quarterly review")).click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add to group").click()
    expect(page.get_by_text(re.compile(r"1\. Quarterly review"))).to_be_visible(timeout=30_000)


def ask_the_group_and_rate(page, question: str, thumb: str) -> None:
    """From the Groups page: Ask this group `question`, then rate the answer ("Thumbs up" or "Thumbs down")."""
    page.get_by_role("link", name="Ask this group").click()
    page.get_by_placeholder("Ask about these videos").fill(question)
    page.keyboard.press("Enter")
    rating = page.get_by_role("radio", name=thumb)
    expect(rating).to_be_visible(timeout=60_000)
    rating.click()
    expect(rating).to_have_attribute("aria-checked", "true", timeout=30_000)


def test_upload_process_and_seek(app_url, page, tmp_path):
    sign_up(page, app_url, "uma")
    screenshot(page, "10-library-empty")
    captions = tmp_path / "review.srt"
    captions.write_bytes(srt(TALK))
    add_captioned_video(page, video(tmp_path / "Quarterly review.mp4", seconds=20), captions, shot="11-upload-ready")
    screenshot(page, "12-upload-queued")

    open_page(page, "Library")
    expect(page.get_by_text("Ready")).to_be_visible(timeout=120_000)  # the worker did it; the list refreshed itself
    screenshot(page, "13-library-ready")
    page.get_by_role("button", name="Quarterly review").click()
    expect(page.get_by_role("heading", name="Quarterly review")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Transcript").click()
    page.get_by_role("button", name="00:09").click()
    player = page.locator("video")
    expect(player).to_be_visible(timeout=30_000)
    page.wait_for_function("() => { const v = document.querySelector('video'); return v && v.currentTime >= 8.5; }",
                           timeout=30_000)
    screenshot(page, "14-video-detail")
    source = player.evaluate("v => v.currentSrc")
    assert "/files/video/" in source  # our route, checked on every request
    assert page.request.get(source, headers={"Range": "bytes=0-99"}).status == 206

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
    assert page.request.get(source).status == 403  # the player's address ended with the sign-in
