"""Notification delivery in the console, in a browser (rules §8): a contact's Test shows each
channel's result inline, the Deliveries page shows a failed delivery with its plain hint and
its attempts, and Resend sends it again. Robots are the loopback sink of tests/notify, which
the live server reaches because it runs in this process (the sink's settings apply to it)."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from arms_sync.notify import base, hints
from contacts.models import Contact
from tests.factories import PASSWORD, AccountFactory
from tests.notify.conftest import _robot_sink_server, robot_sink  # noqa: F401 (fixtures)
from tests.notify.console_support import contact_with_robots, make_delivery

pytestmark = pytest.mark.django_db(transaction=True)

KEYWORD_HINT = hints.hint_text(base.HINT_KEYWORD_OR_SIGNATURE)


@pytest.fixture
def account():
    return AccountFactory(login_name="ops@example.com")


@pytest.fixture
def alice(account, robot_sink) -> Contact:  # noqa: F811 (the fixture imported above)
    """A contact whose DingTalk robot refuses for the keyword or signature and whose WeCom
    robot accepts."""
    return contact_with_robots(account, robot_sink, tag="browser", mailbox="")


def open_contacts(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/contacts/")
    expect(page.get_by_role("heading", name="Contact Management")).to_be_visible()


def test_test_shows_each_channels_result_inline(page, live_server, signin_page, shot, alice):
    signin_page(alice.account.login_name, PASSWORD)
    open_contacts(page, live_server)
    row = page.locator(f"tr[data-contact-id='{alice.pk}']")
    shot("contact-row")
    row.get_by_role("button", name="Test").click()
    dialog = page.locator("#modal-host .modal.show")
    expect(dialog.get_by_role("heading", name="Test Contact")).to_be_visible()
    results = dialog.get_by_test_id("test-result")
    expect(results).to_have_count(2)
    failed, sent = results.nth(0), results.nth(1)
    expect(failed).to_contain_text("DingTalk robot")
    expect(failed).to_contain_text("Failed")
    expect(failed).to_contain_text("errcode 310000")
    expect(failed).to_contain_text(KEYWORD_HINT)
    expect(sent).to_contain_text("WeCom robot")
    expect(sent).to_contain_text("Sent")
    # Focus moved into the dialog, onto the results once they arrived (read out); Escape closes.
    expect(dialog.get_by_test_id("test-results")).to_be_focused()
    shot("test-results")
    page.keyboard.press("Escape")
    expect(page.locator("#modal-host .modal.show")).to_have_count(0)


def test_test_these_values_in_the_edit_dialog(
    page,
    live_server,
    signin_page,
    shot,
    alice,
    robot_sink,  # noqa: F811
):
    signin_page(alice.account.login_name, PASSWORD)
    open_contacts(page, live_server)
    page.locator(f"tr[data-contact-id='{alice.pk}']").get_by_role("link", name="Edit").click()
    dialog = page.locator("#modal-host .modal.show")
    expect(dialog).to_be_focused()
    # A refused value: shown as the form shows it, focused, and nothing is sent.
    dialog.get_by_label("Phone Number").fill("+852 5123 4567")
    dialog.get_by_role("button", name="Test these values").click()
    expect(dialog.get_by_test_id("test-error")).to_be_visible()
    expect(dialog.get_by_label("Phone Number")).to_be_focused()
    shot("edit-refused")
    assert robot_sink.received() == []
    dialog.get_by_label("Phone Number").fill("13811112222")
    dialog.get_by_label("Dingtalk Robot", exact=True).fill(
        robot_sink.url("dingtalk", "ok-typed-ding")
    )
    shot("edit-typed")
    dialog.get_by_role("button", name="Test these values").click()
    results = dialog.get_by_test_id("test-result")
    expect(results).to_have_count(2)
    expect(results.filter(has_text="Failed")).to_have_count(0)
    expect(dialog.get_by_test_id("test-results")).to_be_focused()
    shot("edit-tested")
    assert len(robot_sink.received("ok-typed-ding")) == 1
    alice.refresh_from_db()
    assert "err310000-browser" in alice.dingtalk_webhook  # not saved by a test


def test_deliveries_page_shows_a_failure_with_its_hint_and_resends_it(
    page,
    live_server,
    signin_page,
    shot,
    account,
    robot_sink,  # noqa: F811
):
    delivery = make_delivery(account, url=robot_sink.url("dingtalk", "ok-resend-browser"))
    make_delivery(account, status="sent", title="Disk usage back to normal")
    signin_page(account.login_name, PASSWORD)
    page.get_by_role("link", name="Deliveries").click()
    expect(page.get_by_role("heading", name="Deliveries")).to_be_visible()
    row = page.locator(f"tr[data-delivery-id='{delivery.pk}']")
    expect(row.get_by_test_id("delivery-status")).to_have_text("Failed")
    expect(row.get_by_test_id("delivery-hint")).to_have_text(KEYWORD_HINT)
    shot("deliveries")
    page.get_by_label("Status").select_option("failed")
    expect(page.locator("tr[data-delivery-id]")).to_have_count(1)
    assert "status=failed" in page.url
    shot("deliveries-failed-only")
    row.get_by_role("link", name="Details").click()
    dialog = page.locator("#modal-host .modal.show")
    expect(dialog.get_by_test_id("attempt-row")).to_have_count(1)
    expect(dialog.get_by_test_id("attempt-row")).to_contain_text("310000")
    expect(dialog).to_be_focused()
    shot("delivery-detail")
    dialog.get_by_role("button", name="Resend").click()
    expect(page.locator("#modal-host .modal.show")).to_have_count(0)
    expect(page.get_by_text("was queued again")).to_be_visible()
    # No longer failed: it leaves the failed-only list, and shows as pending or sent.
    expect(row).to_have_count(0)
    page.get_by_label("Status").select_option("")
    expect(row.get_by_test_id("delivery-status")).to_have_text(re.compile("Pending|Sent"))
    shot("resent")
    expect(row.get_by_test_id("delivery-status")).to_have_text("Sent")
    assert len(robot_sink.received("ok-resend-browser")) == 1


def test_deliveries_filter_as_alerts_do_and_clear_shows_all_again(
    page, live_server, signin_page, account
):
    """Issue 18: Deliveries and Alerts filter alike: a choice filters at once (htmx), the
    address says it, Clear shows every row again."""
    with transaction.atomic():
        make_delivery(account, status="failed", title="disk full")
        make_delivery(account, status="sent", title="cpu high")
    signin_page(account.login_name, PASSWORD)
    page.goto(f"{live_server.url}/notify/deliveries/")
    rows = page.locator("tr[data-delivery-id]")
    expect(rows).to_have_count(2)
    page.get_by_label("Status").select_option("failed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("disk full")
    expect(page).to_have_url(re.compile(r"status=failed"))
    page.get_by_test_id("clear-filters").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_label("Status")).to_have_value("")
