"""Issue 18 in a browser: the menu folds behind a Menu button at 375 px, the compact robot cells
with their masked URL on focus, the Test dialog's per-channel progress and its headline, and the
New Contact panel's username radio. (The Merge report: test_merge_and_arms_pages.)"""

from __future__ import annotations

import itertools
import re

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from contacts.models import Contact
from tests.browser import tour
from tests.factories import PASSWORD, AccountFactory, ContactFactory
from tests.integration.contacts_support import ram_user_named
from tests.notify.conftest import _robot_sink_server, robot_sink  # noqa: F401 (fixtures)
from tests.notify.console_support import contact_with_robots

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def account():
    return AccountFactory(login_name="ops@example.com")


@pytest.fixture
def alice(account, robot_sink) -> Contact:  # noqa: F811 (the fixture imported above)
    """A contact with a mailbox, a DingTalk robot that refuses (keyword or signature) and a
    WeCom robot that accepts: two of three channels succeed."""
    return contact_with_robots(
        account, robot_sink, tag="finished", mailbox="alice.on.call@example.com"
    )


def open_contacts(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/contacts/")
    expect(page.get_by_role("heading", name="Contact Management")).to_be_visible()


def test_at_375_px_the_menu_folds_behind_a_button(page, live_server, signin_page, shot, alice):
    page.set_viewport_size({"width": 375, "height": 800})
    signin_page(alice.account.login_name, PASSWORD)
    open_contacts(page, live_server)
    toggle = page.get_by_role("button", name="Menu")
    nav = page.locator("nav.console-nav")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    # The page starts with its own content, not eleven links.
    heading = page.get_by_role("heading", name="Contact Management")
    assert heading.bounding_box()["y"] < 250
    shot("375-menu-closed")
    # Keyboard: focus the button, Enter opens, the state is announced (aria-expanded).
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Contact Management")).to_be_visible()
    page.wait_for_function("() => !document.querySelector('.collapsing')")  # the slide has ended
    shot("375-menu-open")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    # Nothing pushes the page sideways; the wide table scrolls inside its card.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_robots_are_compact_and_show_the_masked_url_on_focus(
    page, live_server, signin_page, shot, alice
):
    signin_page(alice.account.login_name, PASSWORD)
    open_contacts(page, live_server)
    row = page.locator(f"tr[data-contact-id='{alice.pk}']")
    dingtalk = row.locator(".robot-configured").first
    expect(dingtalk).to_contain_text(re.compile(r"Configured · …\w{4}"))
    # One or two lines at 1366 px: the row is no taller than two lines of text.
    page.set_viewport_size({"width": 1366, "height": 900})
    shot("contact-row-1366")
    height = row.bounding_box()["height"]
    assert height <= 64, height
    # The mailbox stays whole (no break inside the address).
    mailbox = row.locator("td").nth(2)
    assert mailbox.evaluate("el => el.getClientRects().length && el.innerText") == (
        "alice.on.call@example.com"
    )
    # Keyboard focus shows the masked URL in a tooltip; Escape hides it.
    dingtalk.focus()
    tooltip = page.locator(".tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(alice.dingtalk_masked)
    assert alice.dingtalk_webhook not in page.content()  # the token never reaches the page
    shot("robot-tooltip")
    page.keyboard.press("Escape")
    expect(tooltip).to_have_count(0)


def test_every_contact_row_keeps_to_two_lines_and_its_addresses_whole_at_1366_px(
    page, live_server, signin_page, shot
):
    """The owner's row (a long login name and the account badge) and a RAM user's row whose
    Created By is that login name: two lines at most, no address broken inside a word."""
    login = "carol@1234567890123456.onaliyun.com"
    owner_account = AccountFactory(login_name=login)
    with transaction.atomic():
        owner = ContactFactory(
            account=owner_account, ram_user=None, mailbox="carol.on.call@example.com"
        )
        member = ContactFactory(
            account=owner_account,
            ram_user=ram_user_named(owner_account, "dave"),
            mailbox="dave.on.call@example.com",
        )
    page.set_viewport_size({"width": 1366, "height": 900})
    signin_page(login, PASSWORD)
    open_contacts(page, live_server)
    shot("owner-row-1366")
    # Two lines of the table's text and a cell's padding.
    two_lines = (
        page.locator(f"tr[data-contact-id='{member.pk}'] td")
        .nth(1)
        .evaluate(
            "el => { const s = getComputedStyle(el); return 2 * parseFloat(s.lineHeight)"
            " + parseFloat(s.paddingTop) + parseFloat(s.paddingBottom) + 2; }"
        )
    )
    for contact in (owner, member):
        row = page.locator(f"tr[data-contact-id='{contact.pk}']")
        height = row.bounding_box()["height"]
        assert height <= two_lines, (contact.username, height, two_lines)
        created_by = row.locator("td").nth(6)
        # Broken only at "@" or ".": every line of the cell is a whole piece of the address.
        pieces = created_by.evaluate(WRAPPED_LINES)
        assert "".join(pieces) == login, pieces
        assert broken_at_punctuation(pieces), pieces
    # ...and the table fits its card: nothing scrolls sideways at 1366 px.
    card = page.get_by_test_id("contact-table").locator(
        "xpath=ancestor::*[contains(@class, 'console-card')]"
    )
    assert card.evaluate("el => el.scrollWidth <= el.clientWidth")
    username = page.locator(f"tr[data-contact-id='{owner.pk}'] td").first
    pieces = username.evaluate(WRAPPED_LINES)  # the badge aside
    assert "".join(pieces) == login, pieces
    assert broken_at_punctuation(pieces), pieces


def broken_at_punctuation(pieces: list[str]) -> bool:
    """Every line break falls after an "@" or before a "." (none inside a word)."""
    return all(a.endswith("@") or b.startswith(".") for a, b in itertools.pairwise(pieces))


# The text of an element as the lines it is laid out on (a Range per character, grouped by
# the top of its box).
WRAPPED_LINES = """el => {
  const lines = new Map();
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('.badge, .visually-hidden')) continue;
    for (let i = 0; i < node.data.length; i++) {
      if (!node.data[i].trim()) continue;
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const top = Math.round(range.getBoundingClientRect().top);
      lines.set(top, (lines.get(top) || '') + node.data[i]);
    }
  }
  return [...lines.entries()].sort((a, b) => a[0] - b[0]).map(e => e[1]);
}"""


def test_test_shows_each_channel_sending_then_a_truthful_headline(
    page, live_server, signin_page, shot, alice
):
    signin_page(alice.account.login_name, PASSWORD)
    open_contacts(page, live_server)
    # Hold the send back until the progress has been seen (the server's work is real).
    held = []
    page.route(
        re.compile(r".*/notify/contacts/\d+/test/$"),
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    page.locator(f"tr[data-contact-id='{alice.pk}']").get_by_role("button", name="Test").click()
    dialog = page.locator(tour.MODAL)
    progress = dialog.get_by_test_id("test-pending")
    expect(progress).to_have_count(3)
    for item in progress.all():
        expect(item).to_contain_text("Sending…")
    shot("test-sending")
    for _ in range(50):  # each row posts its own channel (bounded wait)
        if len(held) == 3:
            break
        page.wait_for_timeout(100)
    assert len(held) == 3, f"{len(held)} of 3 channels were sent"
    expect(dialog.get_by_test_id("test-headline")).to_have_count(0)
    for route in held:
        route.continue_()
    headline = dialog.get_by_test_id("test-headline")
    expect(headline).to_have_text("2 of 3 channels succeeded", timeout=30_000)
    expect(dialog.get_by_test_id("test-result")).to_have_count(3)
    expect(progress).to_have_count(0)
    # The provider's answer wraps inside the dialog: nothing is cut at its right edge.
    answer = dialog.locator(".provider-answer").first
    box, modal = answer.bounding_box(), dialog.locator(".modal-content").bounding_box()
    assert box["x"] + box["width"] <= modal["x"] + modal["width"], (box, modal)
    shot("test-headline")


def test_each_channel_shows_its_own_answer_as_it_comes(
    robot_sink,  # noqa: F811
    settings,
    monkeypatch,
    page,
    live_server,
    signin_page,
    shot,
    account,
):
    """A quick mailbox says Sent while a slow robot still says Sending…; the headline comes
    when the robot has answered too."""
    monkeypatch.setattr(robot_sink, "delay", 4.0)  # every robot answer waits this long
    settings.ROBOT_HTTP_READ_TIMEOUT = 20
    with transaction.atomic():
        contact = ContactFactory(
            account=account,
            ram_user=ram_user_named(account, "erin"),
            mailbox="erin.on.call@example.com",
            wecom_webhook=robot_sink.url("wecom", "ok-slow-wecom"),
        )
    signin_page(account.login_name, PASSWORD)
    open_contacts(page, live_server)
    page.locator(f"tr[data-contact-id='{contact.pk}']").get_by_role("button", name="Test").click()
    dialog = page.locator(tour.MODAL)
    email = dialog.locator("tr", has_text="Email")
    robot = dialog.locator("tr", has_text="WeCom robot")
    expect(email.get_by_text("Sent", exact=True)).to_be_visible(timeout=3_000)
    expect(robot).to_contain_text("Sending…")
    expect(dialog.get_by_test_id("test-headline")).to_have_count(0)
    shot("email-sent-robot-sending")
    headline = dialog.get_by_test_id("test-headline")
    expect(headline).to_have_text("2 of 2 channels succeeded", timeout=30_000)
    expect(robot.get_by_text("Sent", exact=True)).to_be_visible()
    assert len(robot_sink.received("ok-slow-wecom")) == 1
    shot("headline-after-the-robot")


def test_test_is_not_offered_for_a_contact_without_a_channel(
    page, live_server, signin_page, account
):
    with transaction.atomic():
        silent = ContactFactory(account=account, mailbox="")
    signin_page(account.login_name, PASSWORD)
    open_contacts(page, live_server)
    row = page.locator(f"tr[data-contact-id='{silent.pk}']")
    expect(row.get_by_role("link", name="Edit")).to_be_visible()
    expect(row.get_by_role("button", name="Test")).to_have_count(0)


def test_the_username_radio_decides_which_input_is_active(
    page, live_server, signin_page, shot, account
):
    taken = ram_user_named(account, "alice")
    ram_user_named(account, "bob")
    with transaction.atomic():
        ContactFactory(account=account, ram_user=taken)
    signin_page(account.login_name, PASSWORD)
    open_contacts(page, live_server)
    page.get_by_role("link", name="Create Contact").click()
    panel = page.locator(tour.PANEL)
    expect(panel).to_be_visible()
    account_radio = panel.get_by_label("Alibaba Cloud account: enter manually")
    ram_radio = panel.get_by_label("RAM user: select from the drop-down list")
    typed = panel.get_by_label("Alibaba Cloud account", exact=True)
    chosen = panel.get_by_label("RAM user", exact=True)
    # RAM user is the default: the account input is disabled.
    expect(ram_radio).to_be_checked()
    expect(typed).to_be_disabled()
    expect(chosen).to_be_enabled()
    # alice already has a contact: marked, and cannot be chosen.
    alice_option = chosen.locator("option", has_text="alice")
    expect(alice_option).to_have_text("alice (already has a contact)")
    expect(alice_option).to_be_disabled()
    chosen.select_option(label="bob")
    account_radio.check()
    expect(chosen).to_be_disabled()
    expect(chosen).to_have_value("")  # cleared
    expect(typed).to_be_enabled()
    typed.fill("someone-else")
    ram_radio.check()
    expect(typed).to_be_disabled()
    expect(typed).to_have_value("")
    shot("username-radio")
    # Every field's error at once: no RAM user chosen, a Hong Kong phone, a bad mailbox.
    panel.get_by_label("Phone Number").fill("+852 5123 4567")
    panel.get_by_label("Mailbox").fill("not-an-address")
    panel.get_by_role("button", name="Confirm").click()
    expect(panel.locator(".invalid-feedback:visible")).to_have_count(3)
    expect(panel).to_contain_text("This is a Hong Kong number.")
    shot("every-error-at-once")


def test_the_script_editor_numbers_its_lines_and_clears_its_error_when_fixed(
    page, live_server, signin_page, shot, account
):
    signin_page(account.login_name, PASSWORD)
    page.goto(f"{live_server.url}/ram/policies/create/")
    editor = page.locator("#policy-editor textarea[name=document]")
    lines = page.get_by_test_id("script-editor-lines")
    editor.fill('{"Version": "1",\n "Statement": [\n  {"Effect": "Allow"}\n ]\n}')
    expect(lines).to_have_text("1\n2\n3\n4\n5")
    page.locator("#policy-editor button[type=submit]").click()
    errors = page.get_by_test_id("document-errors")
    expect(errors).to_be_visible()
    editor = page.locator("#policy-editor textarea[name=document]")
    expect(editor).to_have_attribute("aria-invalid", "true")
    shot("script-editor-refused")
    # Still wrong: the error stays. Fixed: it goes, before Confirm.
    editor.press("End")
    editor.type(" ")
    expect(errors).to_be_visible()
    editor.fill(
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:ListUsers",'
        ' "Resource": "*"}]}'
    )
    expect(errors).to_have_count(0)
    expect(editor).not_to_have_attribute("aria-invalid", "true")
    expect(lines).to_have_text("1")
    shot("script-editor-fixed")
