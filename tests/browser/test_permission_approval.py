"""rules §9 in Chromium: carol (a RAM user without ram:ListUsers) requests the permission from the
New Contact panel; the owner sees the menu badge, approves on Permission Approval, and carol can
then pick any RAM user in New Contact. A rejection (carol sees its reason) and a withdrawal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from arms_sync.notify.models import Delivery
from contacts import services as contact_services
from ram_directory import approvals
from ram_directory.models import GRANT_POLICY_NAME, PermissionRequest, Policy
from ram_directory.policy import LIST_USERS_DOCUMENT
from ram_directory.principal import Principal
from ram_directory.services import create_policy
from tests.browser import tour
from tests.factories import PASSWORD, AccountFactory, RamUserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tenant():
    """The owner (its contact, with a mailbox, is in sae:approvers), alice, bob and carol
    (without ram:ListUsers; her contact has a mailbox, for the decision)."""
    account = AccountFactory(login_name="ops@example.com")
    contact_services.create_contact(
        principal=Principal(account), ram_user=None, phone="13800000801", mailbox="ops@example.com"
    )
    users = {name: RamUserFactory(account=account, user_name=name) for name in ("alice", "bob")}
    carol = users["carol"] = RamUserFactory(account=account, user_name="carol")
    contact_services.create_contact(
        principal=Principal(account, carol),
        ram_user=carol,
        phone="13800000802",
        mailbox="carol@example.com",
    )
    return account, users


def ask(carol, reason: str = "I add contacts for my team") -> PermissionRequest:
    return approvals.request_permission(principal=Principal(carol.account, carol), reason=reason)


def new_contact_panel(page: Page, live_server):
    page.goto(f"{live_server.url}/contacts/")
    page.get_by_role("link", name="Create Contact").click()
    dialog = page.locator(tour.PANEL)  # the side panel
    expect(dialog).to_be_focused()  # Bootstrap focuses it once it has slid in
    return dialog


def closed(page: Page) -> None:
    """The panel or dialog has gone (the screenshot after it shows the page alone)."""
    expect(page.locator(".modal-backdrop, .offcanvas-backdrop")).to_have_count(0)
    expect(page.locator(tour.DIALOG)).to_have_count(0)


def approvals_page(page: Page):
    menu = page.locator("nav.console-nav").get_by_role("link", name=re.compile("Permission"))
    menu.click()
    expect(page.get_by_role("heading", name="Permission Approval", exact=True)).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_carol_requests_the_owner_approves_and_carol_picks_any_ram_user(
    page, live_server, signin_page, shot, tenant
):
    account, users = tenant
    signin_page(users["carol"].upn, PASSWORD)
    dialog = new_contact_panel(page, live_server)
    # Carol has her contact already: the panel says so (and offers the request) instead of a
    # form she could not submit (issue 18).
    expect(dialog.get_by_test_id("own-contact-exists")).to_be_visible()
    shot("panel-only-itself")
    dialog.get_by_role("link", name="Request permission").click()
    expect(dialog.get_by_role("heading", name="Request permission")).to_be_visible()
    reason = dialog.get_by_label("Reason")
    expect(reason).to_be_focused()
    dialog.get_by_role("button", name="Send request").click()  # no reason: refused
    expect(dialog.get_by_text(approvals.REASON_REQUIRED)).to_be_visible()
    expect(reason).to_be_focused()
    reason.fill("I add contacts for my team")
    shot("request-dialog")
    dialog.get_by_role("button", name="Send request").click()
    note = dialog.get_by_test_id("permission-request-pending")
    expect(note).to_contain_text("Your request for ram:ListUsers is pending")
    expect(dialog.get_by_test_id("permission-request")).to_be_focused()
    expect(dialog).to_contain_text("I add contacts for my team")
    shot("panel-pending")
    page.keyboard.press("Escape")
    closed(page)
    sign_out(page)

    signin_page(account.login_name, PASSWORD)
    menu = page.locator("nav.console-nav").get_by_role("link", name=re.compile("Permission"))
    expect(menu).to_have_accessible_name("Permission Approval 1 pending request")
    expect(page.get_by_test_id("approval-badge").locator("[aria-hidden=true]")).to_have_text("1")
    shot("owner-badge")
    approvals_page(page)
    row = page.get_by_test_id("pending-row").filter(has_text="carol")
    expect(row).to_contain_text("I add contacts for my team")
    shot("approval-page")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#messages")).to_contain_text("Approved: carol now holds ram:ListUsers.")
    decided = page.get_by_test_id("decided-row").filter(has_text="carol")
    expect(decided.get_by_test_id("approval-status")).to_have_text("Approved")
    expect(decided.get_by_test_id("approval-steps").locator("li")).to_have_count(2)
    expect(page.get_by_test_id("approval-badge")).to_have_count(0)
    shot("approved")
    sign_out(page)

    signin_page(users["carol"].upn, PASSWORD)
    dialog = new_contact_panel(page, live_server)
    expect(dialog.get_by_label("RAM user", exact=True).locator("option")).to_have_text(
        ["Select from the drop-down list", "alice", "bob", "carol (already has a contact)"]
    )
    expect(dialog.get_by_test_id("only-itself-note")).to_have_count(0)
    shot("panel-any-ram-user")
    # The approvers were told of the request, carol of the decision.
    targets = [d.target for d in Delivery.objects.filter(event__kind="approval").order_by("id")]
    assert targets == ["ops@example.com", "carol@example.com"]


def test_the_owner_rejects_with_a_reason_and_carol_sees_it(
    page, live_server, signin_page, shot, tenant
):
    account, users = tenant
    ask(users["carol"])
    signin_page(account.login_name, PASSWORD)
    approvals_page(page)
    page.get_by_test_id("pending-row").get_by_role("link", name="Reject").click()
    dialog = page.locator("#modal-host .modal.show")
    expect(dialog).to_be_focused()
    expect(dialog.get_by_role("heading", name="Reject")).to_be_visible()
    dialog.get_by_role("button", name="Reject").click()  # no reason: refused
    expect(dialog.get_by_text(approvals.REJECT_REASON_REQUIRED)).to_be_visible()
    expect(dialog.get_by_label("Reason for rejection")).to_be_focused()
    dialog.get_by_label("Reason for rejection").fill("Ask your team lead first")
    shot("reject-dialog")
    dialog.get_by_role("button", name="Reject").click()
    closed(page)
    decided = page.get_by_test_id("decided-row")
    expect(decided.get_by_test_id("approval-status")).to_have_text("Rejected")
    expect(decided.get_by_test_id("step-note")).to_have_text("Ask your team lead first")
    shot("rejected")
    sign_out(page)

    signin_page(users["carol"].upn, PASSWORD)
    dialog = new_contact_panel(page, live_server)
    expect(dialog.get_by_test_id("permission-request-rejected")).to_contain_text("was rejected")
    expect(dialog.get_by_test_id("rejection-reason")).to_have_text("Ask your team lead first")
    expect(dialog.get_by_role("link", name="Request again")).to_be_visible()
    shot("carol-sees-rejection")


def test_carol_withdraws_her_pending_request(page, live_server, signin_page, shot, tenant):
    _, users = tenant
    item = ask(users["carol"])
    signin_page(users["carol"].upn, PASSWORD)
    dialog = new_contact_panel(page, live_server)
    dialog.get_by_role("link", name="Withdraw").click()
    expect(dialog.get_by_role("heading", name="Withdraw")).to_be_visible()
    shot("withdraw-dialog")
    dialog.get_by_role("button", name="Cancel").click()  # back to the panel, still pending
    expect(dialog.get_by_test_id("permission-request-pending")).to_be_visible()
    dialog.get_by_role("link", name="Withdraw").click()
    dialog.get_by_role("button", name="Withdraw").click()
    expect(dialog.get_by_role("link", name="Request permission")).to_be_visible()
    expect(dialog.get_by_test_id("permission-request-pending")).to_have_count(0)
    shot("withdrawn")
    item.refresh_from_db()
    assert item.status == "withdrawn"
    page.keyboard.press("Escape")
    closed(page)


def test_without_javascript_carol_requests_and_the_owner_approves(browser, live_server, tenant):
    """Every step as a plain page and a plain POST (no htmx, no modal)."""
    account, users = tenant
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    page = context.new_page()

    def sign_in(login: str) -> None:
        page.goto(f"{live_server.url}/signin/")
        page.get_by_label("Login name").fill(login)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("principal")).to_contain_text(login)

    try:
        sign_in(users["carol"].upn)
        page.goto(f"{live_server.url}/contacts/new/")
        page.get_by_role("link", name="Request permission").click()
        expect(page).to_have_url(re.compile(r"/ram/approvals/request/\?next=/contacts/new/$"))
        page.get_by_label("Reason").fill("I add contacts for my team")
        page.get_by_role("button", name="Send request").click()
        expect(page).to_have_url(re.compile(r"/contacts/new/$"))
        expect(page.locator("#messages")).to_contain_text("Your request for ram:ListUsers")
        expect(page.get_by_test_id("permission-request-pending")).to_be_visible()
        sign_out(page)
        sign_in(account.login_name)
        page.goto(f"{live_server.url}/ram/approvals/")
        page.get_by_test_id("pending-row").get_by_role("button", name="Approve").click()
        expect(page.locator("#messages")).to_contain_text("Approved: carol now holds")
        expect(page.get_by_test_id("decided-row")).to_contain_text("Approved")
    finally:
        context.close()


def test_the_approval_grants_the_seeds_list_users_policy_when_it_exists(
    page, live_server, signin_page, tenant
):
    """Issue 18: approving attaches the account's own ListUsers policy (the seed's) rather than
    creating a second one with a near-identical name; the Policies page shows one."""
    account, users = tenant
    seed = create_policy(account=account, name="SAEContactListUsers", document=LIST_USERS_DOCUMENT)
    ask(users["carol"])
    signin_page(account.login_name, PASSWORD)
    approvals_page(page)
    page.get_by_test_id("pending-row").filter(has_text="carol").get_by_role(
        "button", name="Approve"
    ).click()
    expect(page.locator("#messages")).to_contain_text("Approved: carol now holds ram:ListUsers.")
    page.goto(f"{live_server.url}/ram/policies/?type=Custom")
    expect(page.locator("main")).to_contain_text(seed.name)
    expect(page.locator("main")).not_to_contain_text(GRANT_POLICY_NAME)
    assert PermissionRequest.objects.get().granted_policy == seed
    assert not Policy.objects.filter(account=account, name=GRANT_POLICY_NAME).exists()
