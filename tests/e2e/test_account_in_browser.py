"""A person changes their password in a real browser, signs in again with it, then deletes their
account and is back at the sign-in page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, screenshot

pytestmark = pytest.mark.e2e

FIRST, SECOND = "a long enough password", "an even longer password"


def visible(page, label):
    return page.get_by_label(label, exact=True).locator("visible=true")


def test_change_the_password_sign_in_with_it_then_delete_the_account(app_url, page):
    page.goto(app_url)
    expect(visible(page, "Username or email")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Create account").click()
    visible(page, "Username").fill("quinn")
    visible(page, "Email").fill("quinn@example.com")
    visible(page, "Password").fill(FIRST)
    visible(page, "Repeat password").fill(FIRST)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible(timeout=30_000)

    open_page(page, "Settings", "Your account")
    visible(page, "Current password").fill(FIRST)  # the Password tab's: the others are hidden
    visible(page, "New password").fill(SECOND)
    visible(page, "Repeat new password").fill(SECOND)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed.")).to_be_visible(timeout=30_000)
    screenshot(page, "account-01-password-changed")

    page.get_by_role("button", name="Sign out").click()
    expect(visible(page, "Username or email")).to_be_visible(timeout=30_000)
    # The sign-in form's own field: while the page changes, Settings' "Password" tab can still be
    # on screen for a moment, and its label matches too.
    password = page.get_by_role("tabpanel", name="Sign in").get_by_label("Password", exact=True)
    visible(page, "Username or email").fill("quinn")
    password.fill(FIRST)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong username/email or password.")).to_be_visible(timeout=30_000)
    password.fill(SECOND)
    page.get_by_role("button", name="Sign in").click()
    # Signed in again where they signed out: the address still names the Settings page.
    expect(page.get_by_role("heading", name="Settings")).to_be_visible(timeout=30_000)

    open_page(page, "Settings")
    page.get_by_role("tab", name="Delete account").click()
    expect(page.get_by_text("Your account and everything in it go at once.")).to_be_visible(timeout=30_000)
    visible(page, "Current password").fill(SECOND)
    page.get_by_role("button", name="Delete account").click()  # opens the confirmation; nothing goes yet
    confirm = page.get_by_role("button", name="Delete my account and all its data")
    expect(confirm).to_be_visible(timeout=10_000)
    expect(page.get_by_text("Deleted for good: 0 videos and 0 stored files")).to_be_visible()
    screenshot(page, "account-02-delete-confirmation")
    confirm.click()

    expect(visible(page, "Username or email")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Ask Video")).to_be_visible()
    screenshot(page, "account-03-deleted-back-at-sign-in")
    page.reload()  # the cookie went too: still signed out
    expect(visible(page, "Username or email")).to_be_visible(timeout=30_000)
    visible(page, "Username or email").fill("quinn")
    visible(page, "Password").fill(SECOND)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong username/email or password.")).to_be_visible(timeout=30_000)
