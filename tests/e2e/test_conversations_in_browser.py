"""In a real browser: a conversation survives a reload, an older one is reopened and continued, a
long conversation keeps its player in view, and one video or everything can be asked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, screenshot
from tests.e2e.test_claims_in_browser import a_chat_model_at
from tests.e2e.test_ingest_in_browser import (
    a_ready_talk_in_a_group,
    add_captioned_video,
    sign_up,
)
from tests.media_factory import srt, video

pytestmark = pytest.mark.e2e

SOURCE = re.compile(r"\[1\] Quarterly review · (\d\d):(\d\d)")
# Where the player is, relative to the window, and where it is playing.
PLAYER = """() => { const v = document.querySelector('video'); if (!v) return null;
    const r = v.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, height: window.innerHeight, time: v.currentTime}; }"""


def second(source) -> int:
    """The second a source button plays from."""
    minutes, seconds = SOURCE.search(source.inner_text()).groups()
    return int(minutes) * 60 + int(seconds)


def ask(page, question: str, placeholder: str = "Ask about these videos") -> None:
    """Ask and wait until the answer's first source is listed under it."""
    answers = page.get_by_role("button", name=SOURCE).count()
    page.get_by_placeholder(placeholder).fill(question)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=SOURCE)).to_have_count(answers + 1, timeout=60_000)


def test_conversations_last_and_every_scope_can_be_asked(app_url, page, tmp_path):
    page.set_viewport_size({"width": 1366, "height": 800})
    sign_up(page, app_url, "cleo")
    a_ready_talk_in_a_group(page, tmp_path)
    page.get_by_role("link", name="Ask this group").click()

    ask(page, "Which customer renewed?")
    expect(page).to_have_url(re.compile(r"conversation=\d+"), timeout=10_000)
    page.reload()  # the conversation is still there, from its URL
    expect(page.get_by_text("Which customer renewed?").first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name=SOURCE)).to_have_count(1, timeout=30_000)

    # A long conversation: the player stays in view where the last answer is.
    for question in ("How much did revenue grow?", "Where will we hire?", "Who is the biggest customer?",
                     "What grew by twenty percent?", "Which office is hiring?"):
        ask(page, question)
    sources = page.get_by_role("button", name=SOURCE)
    source = max((sources.nth(n) for n in range(sources.count())), key=second)  # the latest cited moment
    cited = second(source)
    assert cited > 0
    source.scroll_into_view_if_needed()
    source.click()
    page.wait_for_function(f"() => {{ const v = document.querySelector('video'); "
                           f"return v && Math.abs(v.currentTime - {cited}) < 1.5; }}", timeout=30_000)
    where = page.evaluate(PLAYER)
    assert where["top"] >= 0 and where["bottom"] <= where["height"], where  # seen, not heard 3,500 px above
    assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop") > 500
    screenshot(page, "23-long-conversation-player-in-view")

    # A new conversation, then the older one reopened from the sidebar and continued.
    page.get_by_role("button", name="New conversation").click()
    expect(page.get_by_role("button", name=SOURCE)).to_have_count(0, timeout=30_000)
    ask(page, "Where will we hire?")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name="Which customer renewed?").click()
    expect(page.get_by_role("button", name=SOURCE)).to_have_count(6, timeout=30_000)
    ask(page, "Who is our biggest customer?")
    expect(page.get_by_role("button", name=SOURCE)).to_have_count(7, timeout=30_000)
    screenshot(page, "24-conversation-reopened")

    # One video, from its Library page.
    open_page(page, "Library")
    page.get_by_role("button", name="Quarterly review", exact=True).click()
    page.get_by_role("link", name="Ask this video").click()
    expect(page.get_by_role("button", name=SOURCE)).to_have_count(0, timeout=30_000)
    ask(page, "Where will we hire?", placeholder="Ask about this video")
    expect(page.get_by_text(re.compile("Lisbon")).first).to_be_visible()
    # Everything the user has.
    page.get_by_test_id("stButtonGroup").get_by_text("Everything", exact=True).click()
    expect(page.get_by_text(re.compile(r"Questions search all 1 ready video"))).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name=SOURCE)).to_have_count(0, timeout=30_000)  # a new conversation
    ask(page, "Which customer renewed?")
    expect(page.get_by_text(re.compile("Globex")).first).to_be_visible()
    expect(sidebar.get_by_role("button", name="Which customer renewed?")).to_have_count(2, timeout=30_000)
    screenshot(page, "25-ask-everything")


KITCHEN_TALK = [(0.0, 5.0, "Welcome to kitchen safety training for all staff."),
                (5.0, 12.0, "The fire extinguisher hangs in the hallway next to the elevator.")]


def test_play_the_cited_moments_one_after_another(app_url, page, tmp_path, fake_openai):
    page.set_viewport_size({"width": 1366, "height": 800})
    sign_up(page, app_url, "reel")
    a_ready_talk_in_a_group(page, tmp_path)
    captions = tmp_path / "kitchen.srt"
    captions.write_bytes(srt(KITCHEN_TALK))
    add_captioned_video(page, video(tmp_path / "Kitchen safety.mp4", seconds=13), captions)
    open_page(page, "Library")
    expect(page.get_by_text("Ready")).to_have_count(2, timeout=120_000)
    open_page(page, "Groups")
    page.get_by_label("Add videos", exact=True).click()
    page.get_by_role("option", name=re.compile("Kitchen safety")).click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add to group").click()
    expect(page.get_by_text(re.compile(r"2\. Kitchen safety"))).to_be_visible(timeout=30_000)

    a_chat_model_at(page, fake_openai.base_url)
    fake_openai.chat_reply = "Globex renewed for three years [1]. The extinguisher is by the elevator [2]."
    open_page(page, "Groups")
    page.get_by_role("link", name="Ask this group").click()
    page.get_by_placeholder("Ask about these videos").fill("Which customer renewed?")
    page.keyboard.press("Enter")
    first, second = (page.get_by_role("button", name=re.compile(rf"^\[{n}\] ")) for n in (1, 2))
    expect(second).to_be_visible(timeout=60_000)

    page.get_by_role("button", name="Play the cited moments").click()
    reel = page.locator(".reel video")  # Playwright's locators see into the component's shadow root
    expect(reel).to_have_count(1, timeout=30_000)
    expect(first).to_have_attribute("data-testid", "stBaseButton-primary", timeout=30_000)  # [1] is playing
    page.wait_for_function("v => v.currentTime > 0 && !v.paused", arg=reel.element_handle(), timeout=30_000)
    screenshot(page, "26-play-the-cited-moments")
    # Near the end of the first moment, the reel moves on to the second, in the other video.
    first_src = reel.evaluate("v => v.currentSrc")
    reel.evaluate("v => { v.currentTime = Math.max(v.currentTime, v.duration - 0.3); }")
    expect(second).to_have_attribute("data-testid", "stBaseButton-primary", timeout=30_000)
    expect(first).to_have_attribute("data-testid", "stBaseButton-secondary")
    assert reel.evaluate("v => v.currentSrc") != first_src
    expect(page.locator(".reel .caption")).to_contain_text("2 of 2")
