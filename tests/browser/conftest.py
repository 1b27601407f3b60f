"""Playwright drives Debian's Chromium (never a downloaded browser) against live_server."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
SCREENSHOT_DIR = Path(os.environ.get("SAE_TEST_OUTPUT", ".test-output")) / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    if executable is None:
        pytest.fail("Debian's chromium is not installed (scripts/ensure-test-tools.sh installs it)")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Reduced motion: Bootstrap then opens and closes dialogs without a transition, and a key
    # pressed while one was still fading in (ignored by Bootstrap) cannot make a test flaky.
    return {
        **browser_context_args,
        "viewport": {"width": 1360, "height": 900},
        "locale": "en-US",
        "reduced_motion": "reduce",
    }


def screenshooter(page, request) -> Callable[[str], Path]:
    """shot(step) for `page`: a full-page screenshot under .test-output/screenshots/, named
    after the test and numbered in the order taken."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    counter = iter(range(1, 1000))

    def shot(step: str) -> Path:
        path = SCREENSHOT_DIR / f"{test}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot


@pytest.fixture
def shot(page, request):
    """shot("step-name"): save a full-page screenshot of the test's page (screenshooter)."""
    return screenshooter(page, request)


@pytest.fixture
def signin_page(page, live_server):
    """signin_page(login, password): sign in through the real form and land on the console."""

    def _sign_in(login: str, password: str):
        page.goto(f"{live_server.url}/signin/")
        page.get_by_label("Login name").fill(login)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")
        return page

    return _sign_in
