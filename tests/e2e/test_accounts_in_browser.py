"""A person signs up in a real browser, reloads, stays signed in (by an HttpOnly cookie), signs out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, screenshot

pytestmark = pytest.mark.e2e


def visible(page, label):
    return page.get_by_label(label, exact=True).locator("visible=true")


def sign_up(page, app_url: str, username: str, *, shot: str | None = None) -> None:
    """Open the app and create an account; lands on the Library."""
    page.goto(app_url)
    expect(visible(page, "Username or email")).to_be_visible(timeout=30_000)
    if shot:
        screenshot(page, shot)
    page.get_by_role("tab", name="Create account").click()
    visible(page, "Username").fill(username)
    visible(page, "Email").fill(f"{username}@example.com")
    visible(page, "Password").fill("a long enough password")
    visible(page, "Repeat password").fill("a long enough password")
    page.evaluate(WATCH_THE_FORM)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible(timeout=30_000)
    assert page.evaluate("window.formLingered") is False  # gone before the Library showed, not after


# Notes whether the sign-up form is still on screen once the Library shows (it lingered a second).
WATCH_THE_FORM = """() => {
    window.formLingered = false;
    new MutationObserver(() => {
        const library = [...document.querySelectorAll('h1')].some(h => h.textContent.trim() === 'Library');
        if (library && document.querySelector('input[aria-label="Repeat password"]')) window.formLingered = true;
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_sign_up_survives_reload_and_sign_out_ends_it(app_url, page):
    sign_up(page, app_url, "erin", shot="01-sign-in")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(page, "02-home")

    page.reload()
    expect(page.get_by_role("heading", name="Library")).to_be_visible(timeout=30_000)
    # Set by the server: the page's scripts cannot read the token.
    cookie = next(c for c in page.context.cookies() if c["name"] == "askvideo_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and len(cookie["value"]) >= 40
    assert "askvideo_session" not in page.evaluate("document.cookie")
    page.reload()  # and again, from the cookie alone
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=30_000)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Ask Video")).to_be_visible(timeout=30_000)
    page.reload()
    expect(page.get_by_role("heading", name="Ask Video")).to_be_visible(timeout=30_000)
    assert not any(c["name"] == "askvideo_session" and c["value"] for c in page.context.cookies())


def test_wrong_password_shows_a_clear_message(app_url, page):
    page.goto(app_url)
    visible(page, "Username or email").fill("nobody")
    visible(page, "Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong username/email or password.")).to_be_visible(timeout=30_000)
    screenshot(page, "03-sign-in-error")


def test_removing_the_api_key_asks_first(app_url, page):
    sign_up(page, app_url, "kim")
    open_page(page, "Settings")
    visible(page, "New API key").fill("sk-live-abcdefghijklmnop1234")
    page.get_by_role("button", name="Save key").click()
    expect(page.get_by_text("sk-…1234")).to_be_visible(timeout=30_000)

    page.get_by_role("button", name="Remove key").click()  # opens the popover; nothing is removed yet
    confirm = page.get_by_role("button", name="Remove key").locator("visible=true").last
    expect(page.get_by_text("The key is deleted.")).to_be_visible(timeout=10_000)
    screenshot(page, "04-settings-remove-key")
    expect(page.get_by_text("sk-…1234")).to_be_visible()
    confirm.click()
    expect(page.get_by_text("No key stored")).to_be_visible(timeout=30_000)


def test_nothing_is_loaded_from_the_internet(app_url, page):
    """Every request the pages make goes to this app: no icon, font or script from another site
    (a ':material/…' page icon was fetched from Google's servers)."""
    from urllib.parse import urlparse

    elsewhere = []
    page.on("request", lambda request: elsewhere.append(request.url)
            if urlparse(request.url).scheme in ("http", "https")
            and urlparse(request.url).netloc != urlparse(app_url).netloc else None)
    sign_up(page, app_url, "nora")
    for name in ("Add videos", "Groups", "Ask", "Analytics", "Post templates", "Settings", "Library"):
        page.get_by_role("link", name=name).first.click()
        expect(page.get_by_role("heading", name=name if name != "Ask" else "Ask")).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1000)
    assert elsewhere == []
    assert page.locator("link[rel~='icon']").first.get_attribute("href").startswith(("/", app_url, "data:"))


def test_the_app_follows_a_dark_system_and_offers_a_switch(app_url, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="dark")
    page = context.new_page()
    page.goto(app_url)
    expect(visible(page, "Username or email")).to_be_visible(timeout=30_000)
    background = "getComputedStyle(document.querySelector('.stApp')).backgroundColor"

    def brightness() -> int:
        return sum(int(part) for part in page.evaluate(background).strip("rgba()").split(",")[:3])

    assert brightness() < 150  # dark, because the system is
    page.get_by_test_id("stMainMenu").click()
    screenshot(page, "06-theme-switch")
    page.get_by_role("menuitemradio", name="Light").click()
    page.wait_for_function(f"() => {{ const c = {background}; return c.startsWith('rgb(255'); }}", timeout=10_000)
    assert brightness() > 600
    context.close()
