"""rules §12 with axe-core: every console page, and every panel and dialog open (a refused submit's
errors shown too), in English and in Chinese, as the account owner and as carol (a RAM user
without ram:ListUsers), plus the sign-in page and the admin's pages: no serious or critical
violation. Each walk prints its figures (and keeps every violation, of any impact, in
.test-output/axe/<walk>.json)."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from playwright.sync_api import expect

from tests.browser import tour
from tests.browser.axe import AxeLedger

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def axe_page(browser, request):
    """A page of its own context: reduced motion (Bootstrap's fades off, so a dialog is scanned
    as it finally looks), the suite's viewport."""
    context = browser.new_context(
        viewport={"width": 1360, "height": 900}, locale="en-US", reduced_motion="reduce"
    )
    request.addfinalizer(context.close)
    return context.new_page()


def sign_in(page, base_url: str, login: str, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    page.goto(f"{base_url}/signin/")
    page.locator("input[name=username]").fill(login)
    page.locator("input[name=password]").fill(tour.PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state("load")


def assert_no_blocking(ledger: AxeLedger) -> None:
    ledger.save()
    print(ledger.summary())
    assert ledger.blocking == [], "\n".join(ledger.blocking)


@pytest.mark.parametrize("who", ["owner", "carol"])
@pytest.mark.parametrize("language", tour.LANGUAGES)
def test_every_console_page_panel_and_dialog_passes_axe(axe_page, live_server, language, who):
    demo = tour.demo_console(pending_request=who == "owner")
    sign_in(axe_page, live_server.url, tour.OWNER if who == "owner" else tour.CAROL, language)
    ledger = AxeLedger(f"console-{language}-{who}")
    walk = tour.Tour(
        axe_page, live_server.url, demo, visit=lambda stop: ledger.scan(axe_page, str(stop))
    )
    getattr(walk, who)()
    walked = {name for name, whose in tour.CONSOLE_PAGES.items() if whose in (who, "both")}
    assert walked - walk.seen == set(), "pages of CONSOLE_PAGES this walk did not show"
    assert_no_blocking(ledger)


@pytest.fixture
def dark_axe_page(browser, request):
    """As axe_page, with the system in dark mode (prefers-color-scheme: dark): theme.js turns
    Bootstrap's dark colour mode on."""
    context = browser.new_context(
        viewport={"width": 1360, "height": 900},
        locale="en-US",
        reduced_motion="reduce",
        color_scheme="dark",
    )
    request.addfinalizer(context.close)
    return context.new_page()


@pytest.mark.parametrize(("who", "language"), [("owner", "en"), ("carol", "zh-hans")])
def test_dark_mode_pages_panels_and_dialogs_pass_axe(dark_axe_page, live_server, language, who):
    """Issue 18: dark mode follows the system. A representative half of the light walks, run
    dark: the owner's walk in English (every owner page, panel and dialog) and carol's in
    Chinese (her pages and Request permission), so both languages and both kinds of principal
    are scanned dark without doubling the suite's time."""
    demo = tour.demo_console(pending_request=who == "owner")
    page = dark_axe_page
    sign_in(page, live_server.url, tour.OWNER if who == "owner" else tour.CAROL, language)
    assert page.evaluate("() => document.documentElement.dataset.bsTheme") == "dark"
    ledger = AxeLedger(f"console-dark-{language}-{who}")
    walk = tour.Tour(page, live_server.url, demo, visit=lambda stop: ledger.scan(page, str(stop)))
    getattr(walk, who)()
    assert_no_blocking(ledger)


@pytest.mark.parametrize("language", tour.LANGUAGES)
def test_the_side_panels_and_the_create_policy_dialog_pass_axe(axe_page, live_server, language):
    """The New Contact and Add Authorization side panels and the Create Policy dialog, each as
    it opens and after a refused submit, and carol's Request permission in place of the New
    Contact panel: scanned only while that panel or dialog is open (what is checked first)."""
    demo = tour.demo_console(pending_request=False)
    page = axe_page
    ledger = AxeLedger(f"panels-{language}")

    def scan(kind: str, where: str) -> None:
        expect(page.locator(tour.PANEL if kind == "panel" else tour.MODAL)).to_have_count(1)
        page.wait_for_function(tour.DIALOG_OPEN)
        ledger.scan(page, where)

    walk = tour.Tour(page, live_server.url, demo, visit=lambda stop: None)
    sign_in(page, live_server.url, tour.OWNER, language)
    page.goto(f"{live_server.url}/contacts/")
    walk.open_dialog("contacts:new", page.get_by_test_id("create-contact"), "New Contact")
    scan("panel", "New Contact panel")
    page.locator(tour.inside("[data-testid=contact-form] button[type=submit]")).first.click()
    walk.refused("New Contact panel, refused", "contacts:new")
    scan("panel", "New Contact panel, refused")
    walk.close_dialog()
    bob = demo.users["bob"]
    page.goto(f"{live_server.url}/ram/users/{bob.user_id}/?tab=permissions")
    opener = page.locator(f"a[href='/ram/users/{bob.user_id}/authorize/']")
    walk.open_dialog("ram:user_authorize", opener, "Add Authorization")
    scan("panel", "Add Authorization panel")
    page.locator(tour.inside("#authorize-form button[type=submit]:visible")).first.click()
    walk.refused("Add Authorization, refused", "ram:user_authorize")
    scan("panel", "Add Authorization panel, refused")
    walk.close_dialog()
    page.goto(f"{live_server.url}/ram/policies/create/")
    page.locator("#policy-editor textarea[name=document]").fill(tour.SEED_POLICY)
    walk.open_dialog(
        "ram:policy_create", page.locator("#policy-editor button[type=submit]"), "Create Policy"
    )
    scan("modal", "Create Policy dialog")
    page.locator(tour.inside("[data-testid=create-policy-form] button[type=submit]")).click()
    walk.refused("Create Policy dialog, refused", "ram:policy_create")
    scan("modal", "Create Policy dialog, refused")
    walk.close_dialog()
    # carol: Request permission, framed as the panel it takes the place of.
    page.get_by_role("button", name=re.compile("Sign out|退出登录")).click()
    sign_in(page, live_server.url, tour.CAROL, language)
    page.goto(f"{live_server.url}/contacts/")
    panel = walk.open_dialog("contacts:new", page.get_by_test_id("create-contact"), "carol")
    scan("panel", "New Contact panel (carol)")
    panel.locator("a[href^='/ram/approvals/request/']").click()
    page.wait_for_selector(tour.inside("[data-testid=permission-request-form]"))
    walk.settled()
    scan("panel", "Request permission, in the panel")
    assert ledger.scans == 8
    assert_no_blocking(ledger)


@pytest.mark.parametrize("language", tour.LANGUAGES)
def test_sign_in_page_and_the_admin_pass_axe(axe_page, live_server, language):
    tour.demo_console()
    page = axe_page
    ledger = AxeLedger(f"signin-admin-{language}")
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/signin/")
    ledger.scan(page, "sign-in")
    page.locator("input[name=username]").fill("nobody@example.com")
    page.locator("input[name=password]").fill("wrong")
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state("load")
    ledger.scan(page, "sign-in, refused")
    page.goto(f"{live_server.url}/admin/login/")
    ledger.scan(page, "admin sign-in")
    page.locator("input[name=username]").fill("admin")
    page.locator("input[name=password]").fill(tour.PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_load_state("load")
    for url in tour.admin_urls():
        page.goto(live_server.url + url)
        # Django's widgets draw themselves on load, and admin-a11y.js names them right after.
        page.evaluate("() => new Promise(done => setTimeout(done, 20))")
        ledger.scan(page, url)
    assert_no_blocking(ledger)


def _url_names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _url_names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(namespace + entry.name)
    return names


def test_the_tour_covers_every_page_of_the_urlconf():
    """A new URL must be walked (CONSOLE_PAGES) or said not to be a page (NOT_PAGES)."""
    names = _url_names(get_resolver())
    listed = set(tour.CONSOLE_PAGES) | set(tour.NOT_PAGES)
    assert names - listed == set(), "walk these in tests/browser/tour.py"
    assert listed - names == set(), "these are no longer in the URLconf"
