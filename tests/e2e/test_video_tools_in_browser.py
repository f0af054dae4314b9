"""In a real browser: a ready video's chapters, summary, a clip cut by the worker, and a comment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, screenshot
from tests.e2e.test_accounts_in_browser import visible
from tests.e2e.test_ingest_in_browser import add_captioned_video, sign_up
from tests.media_factory import TALK, srt, video

pytestmark = pytest.mark.e2e


def test_chapters_summary_clip_and_comment(app_url, page, tmp_path):
    sign_up(page, app_url, "vic")
    captions = tmp_path / "review.srt"
    captions.write_bytes(srt(TALK))
    add_captioned_video(page, video(tmp_path / "Review.mp4", seconds=20), captions)
    open_page(page, "Library")
    expect(page.get_by_text("Ready")).to_be_visible(timeout=120_000)
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_role("tab", name="Chapters")).to_be_visible(timeout=30_000)
    # The player's file comes from disk by byte range, as browsers ask for video.
    src = page.locator("video").first.get_attribute("src")
    part = page.request.get(src if src.startswith("http") else app_url + src, headers={"Range": "bytes=100-199"})
    assert part.status == 206 and len(part.body()) == 100

    # The summary: key sentences, each a moment to play.
    page.get_by_role("button", name="Summarize").click()
    expect(page.get_by_text(re.compile("^Extractive summary"))).to_be_visible(timeout=60_000)
    screenshot(page, "15-video-chapters-and-summary")

    # A clip of 0:02–0:08, cut by the background worker, offered for download.
    page.get_by_role("tab", name="Clips").click()
    visible(page, "From").fill("0:02")
    visible(page, "To").fill("0:08")
    page.get_by_role("button", name="Make clip").click()
    expect(page.get_by_role("link", name="Download")).to_be_visible(timeout=120_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename.endswith("00.02–00.08.mp4")
    screenshot(page, "16-video-clip")

    # A comment at a moment, written as plain text.
    page.get_by_role("tab", name="Comments").click()
    page.get_by_role("textbox", name="Comment", exact=True).fill("<i>Check</i> the **revenue** figure")
    visible(page, "At (optional)").fill("0:05")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("<i>Check</i> the **revenue** figure")).to_be_visible(timeout=30_000)
    screenshot(page, "17-video-comment")
