"""In a real browser: a model's sentence that its source does not say carries a small marker whose
tooltip says so, and the rest of the answer reads as plain text."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, screenshot
from tests.e2e.test_ingest_in_browser import a_ready_talk_in_a_group, sign_up

pytestmark = pytest.mark.e2e


def a_chat_model_at(page, base_url: str) -> None:
    """In Settings: answer with the chat model of the OpenAI-compatible server at `base_url`."""
    open_page(page, "Settings")
    page.get_by_role("textbox", name="OpenAI-compatible base URL (optional)").fill(base_url)
    page.get_by_role("textbox", name="Chat model", exact=True).fill("fake-chat")
    page.get_by_role("button", name="Save models").click()
    expect(page.get_by_text("Model settings saved.")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0, timeout=30_000)  # settled


def test_an_unsupported_sentence_is_marked_with_a_tooltip(app_url, page, tmp_path, fake_openai):
    sign_up(page, app_url, "tess")
    a_ready_talk_in_a_group(page, tmp_path)

    a_chat_model_at(page, fake_openai.base_url)
    fake_openai.chat_reply = "Globex renewed for three years [1]. Globex renewed for <b>five</b> years [1]."

    open_page(page, "Groups")
    page.get_by_role("link", name="Ask this group").click()
    page.get_by_placeholder("Ask about these videos").fill("Which customer renewed?")
    page.keyboard.press("Enter")
    marker = page.locator('a[title="Source [1] does not clearly say this."]')
    expect(marker).to_have_count(1, timeout=60_000)
    expect(marker).to_have_text("⚠")
    message = page.locator('[data-testid="stChatMessage"]').filter(has=marker)
    expect(message).to_contain_text("Globex renewed for <b>five</b> years [1].")  # shown as text, not bold
    assert message.locator("b").count() == 0
    screenshot(page, "30-unsupported-claim")
