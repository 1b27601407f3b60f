"""The README's screenshots, taken from the demo as a newcomer sees it: Contact Management at
1366 px (light and dark), the New Contact panel, the Test result, the Merge Contacts report, and
the page at 375 px with the menu open. Each is also checked: no page scrolls sideways.

They are written to .test-output/screenshots/readme/; with SAE_README_SCREENSHOTS naming a
folder the README's own files are refreshed:
    SAE_README_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest \
        tests/browser/test_readme_screenshots.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import tour
from tests.browser.conftest import SCREENSHOT_DIR

pytestmark = pytest.mark.django_db(transaction=True)

TARGET = Path(os.environ.get("SAE_README_SCREENSHOTS") or SCREENSHOT_DIR / "readme")


def _context(browser, request, *, width: int, dark: bool = False):
    context = browser.new_context(
        viewport={"width": width, "height": 800},
        locale="en-US",
        reduced_motion="reduce",
        color_scheme="dark" if dark else "light",
    )
    request.addfinalizer(context.close)
    page = context.new_page()
    return page


def _sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/signin/")
    page.locator("input[name=username]").fill(tour.OWNER)
    page.locator("input[name=password]").fill(tour.PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state("load")


def _save(page, name: str, *, full_page: bool = False) -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(TARGET / f"{name}.png"), full_page=full_page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (name, width)


def test_readme_screenshots(browser, request, live_server):
    tour.demo_console(pending_request=False)
    page = _context(browser, request, width=1366)
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/contacts/")
    _save(page, "contact-management")
    page.get_by_test_id("create-contact").click()
    page.wait_for_function(tour.DIALOG_OPEN)
    _save(page, "new-contact")
    page.keyboard.press("Escape")
    expect(page.locator(tour.PANEL)).to_have_count(0)
    row = page.locator("#contact-rows tbody tr[data-contact-id]").filter(has_text="alice")
    row.get_by_role("button", name="Test").click()
    # The test really sends (email and robots to the loopback sinks): give a loaded machine time.
    expect(page.get_by_test_id("test-headline")).to_be_visible(timeout=30_000)
    page.wait_for_function(tour.DIALOG_OPEN)
    _save(page, "test-contact")
    page.keyboard.press("Escape")
    page.get_by_test_id("merge-contacts").click()
    page.wait_for_function(tour.DIALOG_OPEN)
    page.locator(tour.MODAL).get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("merge-report")).to_be_visible()
    _save(page, "merge-contacts")

    # The ARMS contacts table fits 1366 px as well: it does not scroll inside its card.
    page.goto(f"{live_server.url}/arms/contacts/")
    table = page.get_by_test_id("arms-contacts")
    fits = table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    _save(page, "arms-contacts")
    assert fits, "the ARMS contacts table scrolls at 1366 px"

    dark = _context(browser, request, width=1366, dark=True)
    _sign_in(dark, live_server.url)
    dark.goto(f"{live_server.url}/contacts/")
    _save(dark, "contact-management-dark")

    phone = _context(browser, request, width=375)
    _sign_in(phone, live_server.url)
    phone.goto(f"{live_server.url}/contacts/")
    _save(phone, "contact-management-375", full_page=True)
    phone.get_by_role("button", name="Menu").click()
    expect(phone.locator("nav.console-nav")).to_be_visible()
    phone.wait_for_function("() => !document.querySelector('.collapsing')")
    _save(phone, "menu-375", full_page=True)
