"""Browser walk of Merge Contacts (rules §6) and the ARMS contacts page (rules §7): the owner opens
the dialog, reads the preview, confirms, sees the counts, and finds the linked names on the
ARMS side. A screenshot is kept of each step."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, AccountFactory, ArmsContactFactory, RamUserFactory


@pytest.mark.django_db(transaction=True)
def test_owner_merges_contacts_and_sees_the_linked_arms_contacts(
    page, live_server, signin_page, shot
):
    account = AccountFactory()
    RamUserFactory(account=account, user_name="alice", mobile_phone="86-13811112222")
    RamUserFactory(account=account, user_name="bob", mobile_phone="86-13822223333")
    RamUserFactory(account=account, user_name="hk.user", mobile_phone="852-51234567")
    ArmsContactFactory(account=account, name="Bob on call", phone="+8613822223333")

    signin_page(account.login_name, PASSWORD)
    page.goto(f"{live_server.url}/contacts/")
    shot("contact-management")

    page.get_by_test_id("merge-contacts").click()
    dialog = page.locator("#modal-host .modal.show")
    expect(dialog).to_be_visible()
    # Let Bootstrap's fade-in finish so the screenshot shows the dialog, not a blend.
    page.wait_for_function("!document.querySelector('#modal-host .modal.fade:not(.show)')")
    page.wait_for_timeout(400)
    preview = dialog.get_by_test_id("merge-rows")
    expect(preview).to_contain_text("Bob on call")
    expect(preview).to_contain_text("no mainland mobile phone")
    expect(dialog.get_by_test_id("merge-counts")).to_contain_text("Contact created: 2")
    shot("merge-preview")

    dialog.get_by_role("button", name="Confirm").click()
    # Issue 18: the report stays after Confirm: what was linked, created, skipped and why.
    report = dialog.get_by_test_id("merge-report")
    expect(report).to_be_visible()
    expect(report.get_by_test_id("merge-done")).to_be_focused()
    expect(report.get_by_test_id("merge-counts")).to_contain_text("Contact created: 2")
    expect(report.get_by_test_id("merge-row").filter(has_text="hk.user")).to_contain_text(
        "no mainland mobile phone"
    )
    # ARMS contacts that share a name are told apart by the phone beside it.
    expect(report.get_by_test_id("merge-row").filter(has_text="bob")).to_contain_text(
        "+8613822223333"
    )
    expect(dialog.get_by_role("button", name="Confirm")).to_have_count(0)
    # The list behind the dialog was refreshed already.
    expect(page.get_by_test_id("contact-table")).to_contain_text("alice")
    shot("merge-report")
    expect(report.get_by_test_id("merge-done")).to_contain_text(
        "Merge Contacts finished: contact created: 2, skipped: 2."
    )
    dialog.get_by_test_id("merge-close").click()
    page.wait_for_url(re.compile(r"/contacts/$"))
    shot("merge-done")

    page.goto(f"{live_server.url}/arms/contacts/")
    rows = page.get_by_test_id("arms-contacts")
    expect(rows).to_contain_text("alice")
    bob_row = page.get_by_test_id("arms-contact-row").filter(has_text="+8613822223333")
    expect(bob_row.get_by_test_id("linked-to")).to_have_text(re.compile(r"\bbob$"))
    expect(bob_row).not_to_contain_text("Bob on call")
    shot("arms-contacts-linked")
