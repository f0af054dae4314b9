"""In a real browser a person makes an API token on the Settings page, a script uses it against
the same server, and once revoked on the page the script is refused."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, screenshot
from tests.e2e.test_accounts_in_browser import sign_up

pytestmark = pytest.mark.e2e


def test_make_a_token_use_it_from_a_script_then_revoke_it(app_url, page):
    sign_up(page, app_url, "tokyn")
    open_page(page, "Settings", "API tokens")
    page.get_by_label("Name", exact=True).fill("Nightly report")
    page.get_by_role("button", name="Make token").click()
    expect(page.get_by_text("Copy it now")).to_be_visible(timeout=30_000)
    shown = page.get_by_test_id("stCode").filter(has_text="avt_").first
    expect(shown).to_be_visible(timeout=30_000)
    secret = shown.inner_text().strip()
    screenshot(page, "api-tokens-01-made")

    script = httpx.Client(base_url=app_url + "/api/v1", headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    [workspace] = script.get("/workspaces").json()
    assert workspace["personal"]

    page.reload()  # shown once: gone after a reload, listed with its last use
    expect(page.get_by_text("Nightly report")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Copy it now")).to_have_count(0)
    revoke = page.get_by_role("button", name="Revoke")
    revoke.click()
    expect(revoke).to_have_count(2, timeout=30_000)  # the popover is open: its button confirms
    revoke.last.click()
    expect(page.get_by_text("revoked 20", exact=False)).to_be_visible(timeout=30_000)  # the list says so
    screenshot(page, "api-tokens-02-revoked")
    assert script.get("/workspaces").status_code == 401
