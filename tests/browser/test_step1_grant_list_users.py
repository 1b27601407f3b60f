"""The seed's Step 1 in a real browser: grant ListUsers to a RAM user (rules §2, seed Step 1).

The account owner signs in, creates the custom policy in the Script Editor, attaches it to the
RAM user from the Permission Management tab (Add Authorization panel, loaded by htmx), signs
out; the RAM user signs in with its UPN and the Users list, refused before, now opens.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ram_directory.models import Policy
from ram_directory.principal import Principal
from tests.browser import tour
from tests.factories import PASSWORD, AccountFactory, RamUserFactory

SEED_POLICY = """{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "ram:ListUsers",
        "ram:GetUser"
      ],
      "Resource": "*"
    }
  ]
}"""


def nav(page, name: str):
    return page.locator("nav.console-nav").get_by_role("link", name=name, exact=True)


@pytest.mark.django_db(transaction=True)
def test_step1_owner_grants_list_users_and_ram_user_then_sees_users(
    page, live_server, signin_page, shot
):
    """rules §2 / seed Step 1: create the policy, Add Authorization, the RAM user lists users."""
    account = AccountFactory(alias="corp")
    ram_user = RamUserFactory(account=account, user_name="dev1", display_name="Developer One")

    # The RAM user cannot list users yet (checked in the browser at the end, too).
    signin_page(ram_user.upn, PASSWORD)
    page.goto(f"{live_server.url}/ram/users/")
    expect(page.get_by_test_id("forbidden")).to_contain_text("ram:ListUsers")
    shot("ram-user-refused-before")
    page.get_by_role("button", name="Sign out").click()

    # 1. Create a custom permission policy, as the Alibaba Cloud account.
    signin_page(account.login_name, PASSWORD)
    expect(page.get_by_test_id("principal")).to_contain_text(account.login_name)
    shot("owner-signed-in")
    nav(page, "Policies").click()
    expect(page.get_by_role("heading", name="Policies")).to_be_visible()
    shot("policies")
    page.get_by_role("link", name="Create Policy").click()
    expect(page.get_by_text("Script Editor").first).to_be_visible()
    shot("create-policy")
    editor = page.get_by_label("Script Editor")
    editor.fill(SEED_POLICY)
    shot("create-policy-script")
    page.get_by_role("button", name="Confirm").click()
    # "In the pop-up Create Policy dialog box, customize the Name and Description".
    dialog = page.get_by_role("dialog", name="Create Policy")
    expect(dialog).to_be_visible()
    expect(page.locator(tour.MODAL)).to_have_count(1)
    assert not Policy.objects.filter(account=account).exclude(policy_type="System").exists()
    dialog.get_by_label(re.compile(r"^Name")).fill("ListUsersForContacts")
    dialog.get_by_label("Description", exact=True).fill("Lets RAM users pick contacts")
    shot("create-policy-dialog")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="ListUsersForContacts")).to_be_visible()
    expect(page.get_by_test_id("policy-document")).to_contain_text('"ram:ListUsers"')
    shot("policy-created")
    assert Policy.objects.filter(account=account, name="ListUsersForContacts").exists()

    # 2. Grant authorization to the RAM user.
    nav(page, "Users").click()
    expect(page.get_by_test_id("user-table")).to_contain_text(ram_user.upn)
    shot("users")
    page.get_by_role("link", name=ram_user.upn).click()
    expect(page.get_by_role("heading", name="dev1")).to_be_visible()
    shot("user-detail")
    page.get_by_role("link", name="Permission Management").click()
    expect(page.get_by_text("Personal Permissions")).to_be_visible()
    shot("permission-management")
    detail_url = page.url

    page.get_by_role("link", name="Add Authorization").click()
    dialog = page.locator(tour.PANEL)
    expect(dialog).to_be_visible()  # the side panel came by htmx: no page load
    expect(page.get_by_role("dialog", name="Add Authorization")).to_be_visible()
    assert page.url == detail_url
    shot("add-authorization-panel")
    dialog.get_by_label("Permission type").select_option(label="Custom Policy")
    choice = dialog.get_by_label(re.compile("ListUsersForContacts"))
    expect(choice).to_be_visible()
    expect(dialog.get_by_label(re.compile("AdministratorAccess"))).to_have_count(0)
    choice.check()
    shot("add-authorization-checked")
    dialog.get_by_role("button", name="Confirm Add Authorization").click()
    expect(page.locator("#modal-host .offcanvas")).to_be_hidden()  # closed by HX-Trigger
    expect(page.locator(".offcanvas-backdrop")).to_have_count(0)
    permissions = page.get_by_test_id("personal-permissions")
    expect(permissions).to_contain_text("ListUsersForContacts")
    expect(permissions).to_contain_text("Lets RAM users pick contacts")
    assert page.url == detail_url
    shot("personal-permissions")
    assert Principal(account, ram_user).can("ram:ListUsers")

    page.reload()  # the list is the server's, not only the swapped fragment
    expect(page.get_by_test_id("personal-permissions")).to_contain_text("ListUsersForContacts")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Login name")).to_be_visible()

    # 3. The RAM user signs in with its UPN and now may open the Users list.
    signin_page(f"dev1@{account.alias}.onaliyun.com", PASSWORD)
    expect(page.get_by_test_id("principal")).to_contain_text("dev1@corp.onaliyun.com")
    nav(page, "Users").click()
    expect(page.get_by_test_id("user-table")).to_contain_text("Developer One")
    expect(page.get_by_test_id("forbidden")).to_have_count(0)
    shot("ram-user-lists-users")


@pytest.mark.django_db(transaction=True)
def test_script_editor_error_and_remove_dialog_in_the_browser(page, live_server, signin_page, shot):
    """rules §2: an invalid document shows what and where, keeps the text; Remove asks first."""
    account = AccountFactory(alias="corp2")
    ram_user = RamUserFactory(account=account, user_name="dev2")
    signin_page(account.login_name, PASSWORD)

    page.goto(f"{live_server.url}/ram/policies/create/")
    broken = SEED_POLICY.replace('"Allow"', '"Permit"')
    page.get_by_label("Script Editor").fill(broken)
    page.get_by_role("button", name="Confirm").click()
    # Refused on the first Confirm, in the Script Editor: no Create Policy dialog.
    expect(page.get_by_test_id("document-errors")).to_contain_text(
        'Statement[0].Effect: must be "Allow" or "Deny" (got "Permit").'
    )
    expect(page.get_by_label("Script Editor")).to_have_value(broken)
    expect(page.get_by_label("Script Editor")).to_be_focused()
    expect(page.locator(tour.DIALOG)).to_have_count(0)
    shot("script-editor-error")
    # Corrected: the dialog opens; a name taken already is refused there, the document kept.
    page.get_by_label("Script Editor").fill(SEED_POLICY)
    page.get_by_role("button", name="Confirm").click()
    dialog = page.get_by_role("dialog", name="Create Policy")
    dialog.get_by_label(re.compile(r"^Name")).fill("AdministratorAccess")
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog.get_by_test_id("name-errors")).to_contain_text("already exists")
    expect(dialog.get_by_label(re.compile(r"^Name"))).to_be_focused()
    shot("create-policy-name-taken")
    # Cancel goes back to the Script Editor, its text still there.
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator(tour.DIALOG)).to_have_count(0)
    expect(page.get_by_label("Script Editor")).to_have_value(SEED_POLICY)
    assert not Policy.objects.filter(account=account, policy_type="Custom").exists()

    # A document changed in the page between the steps is validated again and refused.
    page.locator("#policy-editor").get_by_role("button", name="Confirm").click()
    dialog = page.get_by_role("dialog", name="Create Policy")
    dialog.locator("input[type=hidden][name=document]").evaluate(
        "(field, text) => { field.value = text; }", broken
    )
    dialog.get_by_label(re.compile(r"^Name")).fill("Tampered")
    dialog.get_by_role("button", name="Confirm").click()
    errors = dialog.get_by_test_id("document-errors")
    expect(errors).to_contain_text('Statement[0].Effect: must be "Allow" or "Deny"')
    expect(errors).to_be_focused()
    expect(page.locator(tour.inside("[data-dialog-announcer]"))).to_contain_text(
        "Not saved: see the message at the top of the form."
    )
    shot("create-policy-tampered")
    assert not Policy.objects.filter(account=account, policy_type="Custom").exists()
    dialog.get_by_role("button", name="Cancel").click()

    # Attach through the panel, then Remove through its confirmation dialog.
    page.goto(f"{live_server.url}/ram/users/{ram_user.user_id}/?tab=permissions")
    page.get_by_role("link", name="Add Authorization").click()
    dialog = page.locator(tour.PANEL)
    dialog.get_by_label(re.compile("AliyunRAMReadOnlyAccess")).check()
    dialog.get_by_role("button", name="Confirm Add Authorization").click()
    permissions = page.get_by_test_id("personal-permissions")
    expect(permissions).to_contain_text("AliyunRAMReadOnlyAccess")
    expect(page.locator(".offcanvas-backdrop")).to_have_count(0)

    permissions.get_by_role("link", name="Remove").click()
    confirm = page.locator("#modal-host .modal.show")
    expect(confirm).to_contain_text("Remove the policy AliyunRAMReadOnlyAccess from dev2?")
    shot("remove-confirm")
    confirm.get_by_role("button", name="Confirm").click()
    expect(permissions).to_contain_text("No policies are attached to this user.")
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    shot("removed")
    assert not ram_user.policies.exists()
