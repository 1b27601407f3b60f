"""Every panel and dialog also works as a plain page with JavaScript off (docs/architecture.md:
"every one also works as a plain page without JavaScript"; rules §2-§7 walked without htmx).

These tests drive Chromium with JavaScript disabled, so htmx, Bootstrap's modals and console.js
never run: every link is followed and every form is submitted by the browser itself, as a person
without JavaScript would. A last test (JS on, 768 px wide) keeps screenshots of the narrow layout.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from arms_sync.merge import PLAN_CHANGED
from arms_sync.models import ArmsContact
from contacts import services as contact_services
from contacts.forms import RAM_USER_REQUIRED
from contacts.models import Contact
from ram_directory.forms import NOTHING_CHOSEN
from ram_directory.models import Account, Policy, PolicyAttachment
from ram_directory.principal import Principal
from tests.browser import tour
from tests.browser.conftest import screenshooter
from tests.factories import (
    PASSWORD,
    AccountFactory,
    ArmsContactFactory,
    ContactGroupFactory,
    RamUserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

VALID_POLICY = """{
  "Version": "1",
  "Statement": [
    {"Effect": "Allow", "Action": ["ram:ListUsers", "ram:GetUser"], "Resource": "*"}
  ]
}"""


def _new_page(browser, request, *, java_script: bool, width: int):
    """A page of a fresh context, and its shot(step) (conftest's screenshooter)."""
    context = browser.new_context(
        java_script_enabled=java_script, viewport={"width": width, "height": 900}, locale="en-US"
    )
    request.addfinalizer(context.close)
    page = context.new_page()
    return page, screenshooter(page, request)


@pytest.fixture
def nojs(browser, request):
    """(page, shot) in a browser context with JavaScript disabled."""
    return _new_page(browser, request, java_script=False, width=1360)


def sign_in(page: Page, live_server, login: str) -> None:
    page.goto(f"{live_server.url}/signin/")
    page.get_by_label("Login name").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("principal")).to_contain_text(login)


def signed_in_owner(page: Page, live_server, *ram_user_names: str) -> Account:
    """A new account with these RAM users, its owner signed in on `page`."""
    account = AccountFactory()
    for name in ram_user_names:
        RamUserFactory(account=account, user_name=name)
    sign_in(page, live_server, account.login_name)
    return account


def nav(page: Page, name: str):
    return page.locator("nav.console-nav").get_by_role("link", name=name, exact=True)


def assert_no_modal(page: Page) -> None:
    """A plain page: nothing was loaded into #modal-host (htmx never ran)."""
    expect(page.locator("#modal-host .modal, #modal-host .offcanvas")).to_have_count(0)


def assert_plain_page(page: Page, url: str, heading: str) -> None:
    """A link followed to a dialog's own page: its URL (pattern) and heading, and no modal."""
    expect(page).to_have_url(re.compile(url))
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert_no_modal(page)


def contact_rows(page: Page):
    return page.locator("#contact-rows tbody tr[data-contact-id]")


def test_without_javascript_sign_in_and_the_language_switch_go_button_work(nojs, live_server):
    page, shot = nojs
    signed_in_owner(page, live_server)
    expect(page.get_by_role("heading", name="Contact Management")).to_be_visible()
    shot("signed-in")
    go = page.get_by_role("button", name="Go")
    expect(go).to_be_visible()  # the <noscript> submit button is rendered with JS off
    page.get_by_label("Language").select_option("zh-hans")
    go.click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="联系人管理")).to_be_visible()
    # "切换" stays one line: a CJK label may otherwise break between its two characters.
    go_box = page.get_by_role("button", name="切换").bounding_box()
    sign_out_box = page.get_by_role("button", name="退出登录").bounding_box()  # one line
    assert go_box["height"] <= sign_out_box["height"] + 2, (go_box, sign_out_box)
    shot("zh-hans")
    # A plain dialog page and its refusal stay in the chosen language.
    page.get_by_role("link", name="创建联系人").click()
    expect(page.get_by_role("heading", name="新建联系人")).to_be_visible()
    page.get_by_label("手机号码").fill("12345")
    page.get_by_role("button", name="确定").click()
    expect(page.get_by_role("heading", name="新建联系人")).to_be_visible()
    expect(page.locator("#id_phone_error")).to_be_visible()
    expect(page.locator("#id_phone_error")).not_to_contain_text("Enter a valid")
    shot("zh-hans-new-contact-refused")
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="New Contact")).to_be_visible()  # the same page
    shot("back-to-english")


def test_without_javascript_create_query_edit_and_delete_a_contact(nojs, live_server):
    """rules §3, §4, §5 as plain pages: New Contact, the query bar, Edit Contact, Delete Contact."""
    page, shot = nojs
    account = signed_in_owner(page, live_server, "alice")
    shot("contact-management")

    page.get_by_role("link", name="Create Contact").click()
    assert_plain_page(page, r"/contacts/new/$", "New Contact")
    shot("new-contact-page")
    page.get_by_label("RAM user: select from the drop-down list").check()
    page.get_by_label("RAM user", exact=True).select_option(label="alice")
    page.get_by_label("Phone Number").fill("+852 5123 4567")
    page.get_by_label("Mailbox").fill("alice@example.com")
    page.get_by_role("button", name="Confirm").click()
    phone = page.get_by_label("Phone Number")
    expect(phone).to_have_class(re.compile(r"is-invalid"))
    expect(phone).to_have_value("+852 5123 4567")  # what was typed is kept
    expect(page.locator("#id_phone_error")).to_be_visible()
    expect(page.get_by_label("Mailbox")).to_have_value("alice@example.com")
    assert Contact.objects.count() == 0
    shot("invalid-phone")

    phone.fill("138 1111 2222")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/contacts/$"))
    expect(page.locator("#messages")).to_contain_text("Contact alice created.")
    # A Close button that needs JavaScript is not offered without it.
    expect(page.locator("#messages .btn-close")).to_be_hidden()
    expect(contact_rows(page).filter(has_text="alice")).to_contain_text("+8613811112222")
    shot("created")

    page.get_by_label("Query by").select_option(label="Phone Number")
    page.get_by_label("Query value").fill("1111")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"field=phone.*q=1111|q=1111.*field=phone"))
    expect(contact_rows(page)).to_have_count(1)
    expect(contact_rows(page).first).to_contain_text("alice")
    shot("query-found")

    contact_rows(page).first.get_by_role("link", name="Edit").click()
    assert_plain_page(page, r"/contacts/\d+/edit/$", "Edit Contact")
    shot("edit-contact-page")
    page.get_by_label("Mailbox").fill("alice.ops@example.com")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/contacts/"))
    expect(contact_rows(page).filter(has_text="alice")).to_contain_text("alice.ops@example.com")
    shot("edited")
    assert ArmsContact.objects.get(account=account).email == "alice.ops@example.com"

    contact_rows(page).filter(has_text="alice").get_by_role("link", name="Delete").click()
    assert_plain_page(page, r"/contacts/\d+/delete/$", "Delete Contact")
    shot("delete-contact-page")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/contacts/"))
    expect(contact_rows(page)).to_have_count(0)
    shot("deleted")
    nav(page, "Contacts").click()
    expect(page.get_by_test_id("arms-contacts")).not_to_contain_text("alice")
    assert not ArmsContact.objects.filter(account=account).exists()
    shot("arms-contact-gone")


def test_without_javascript_the_column_headers_sort_and_a_search_keeps_the_order(nojs, live_server):
    page, shot = nojs
    account = AccountFactory()
    owner = Principal(account)
    for name, phone in (("carol", "13811110001"), ("alice", "13811110003"), ("bob", "13811110002")):
        contact_services.create_contact(
            principal=owner, ram_user=RamUserFactory(account=account, user_name=name), phone=phone
        )
    sign_in(page, live_server, account.login_name)
    table = page.get_by_test_id("contact-table")
    table.get_by_role("link", name="Username").click()
    table.get_by_role("link", name="Username").click()
    expect(page).to_have_url(re.compile(r"\?sort=-username$"))
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("Username")
    names = [text.split()[0] for text in contact_rows(page).all_inner_texts()]
    assert names == ["carol", "bob", "alice"]
    page.get_by_label("Query value").fill("a")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"sort=-username"))
    names = [text.split()[0] for text in contact_rows(page).all_inner_texts()]
    assert names == ["carol", "alice"]
    shot("sorted-and-queried")


def test_without_javascript_a_cancel_link_returns_to_the_list(nojs, live_server):
    """Cancel on a plain dialog page is a link back, not a modal close button."""
    page, shot = nojs
    signed_in_owner(page, live_server)
    page.get_by_role("link", name="Create Contact").click()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/contacts/$"))
    expect(page.get_by_role("heading", name="Contact Management")).to_be_visible()
    shot("cancelled")


def test_without_javascript_merge_contacts_previews_then_reports_counts(nojs, live_server):
    """rules §6 as a plain page: the preview, Confirm, and the counts in the message."""
    page, shot = nojs
    account = AccountFactory()
    RamUserFactory(account=account, user_name="alice", mobile_phone="86-13811112222")
    RamUserFactory(account=account, user_name="hk.user", mobile_phone="852-51234567")
    sign_in(page, live_server, account.login_name)
    page.get_by_role("link", name="Merge Contacts").click()
    assert_plain_page(page, r"/arms/merge/$", "Merge Contacts")
    expect(page.get_by_test_id("merge-counts")).to_contain_text("Contact created: 1")
    shot("merge-preview")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#messages")).to_contain_text("Merge Contacts finished")
    expect(page.locator("#messages")).to_contain_text("contact created: 1, skipped: 2")
    shot("merge-done")
    assert Contact.objects.filter(account=account).count() == 1


def test_without_javascript_a_ram_user_without_list_users_adds_only_itself(nojs, live_server):
    """rules §3: the New Contact page offers a RAM user without ram:ListUsers only itself."""
    page, shot = nojs
    account = AccountFactory()
    RamUserFactory(account=account, user_name="alice")
    bob = RamUserFactory(account=account, user_name="bob")
    sign_in(page, live_server, bob.upn)
    expect(page.get_by_role("link", name="Merge Contacts")).to_have_count(0)
    page.get_by_role("link", name="Create Contact").click()
    expect(page.get_by_label("RAM user", exact=True).locator("option")).to_have_text(["bob"])
    expect(page.get_by_test_id("only-itself-note")).to_be_visible()
    shot("only-itself")
    page.get_by_label("Phone Number").fill("13622223333")
    page.get_by_role("button", name="Confirm").click()
    expect(contact_rows(page).filter(has_text="bob")).to_have_count(1)
    shot("created-itself")
    assert Contact.objects.get(account=account).created_by == bob


def test_without_javascript_the_account_typed_with_the_ram_user_kind_left_on_is_recoverable(
    nojs, live_server
):
    """rules §3: console.js picks the username kind as one types; without it the radio stays on
    RAM user, the form says so next to RAM user, keeps what was typed, and one click fixes it."""
    page, shot = nojs
    account = signed_in_owner(page, live_server)
    page.get_by_role("link", name="Create Contact").click()
    page.get_by_label("Alibaba Cloud account", exact=True).fill(account.login_name)
    page.get_by_label("Phone Number").fill("13911112222")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#id_ram_user_error")).to_have_text(RAM_USER_REQUIRED)
    expect(page.get_by_label("Alibaba Cloud account", exact=True)).to_have_value(account.login_name)
    shot("kind-left-on-ram-user")
    page.get_by_label("Alibaba Cloud account: enter manually").check()
    page.get_by_role("button", name="Confirm").click()
    expect(contact_rows(page).filter(has_text=account.login_name)).to_have_count(1)
    shot("account-itself-created")


def test_without_javascript_edit_errors_and_delete_cancel_stay_on_plain_pages(nojs, live_server):
    """rules §4: a refused edit shows its error on the Edit Contact page; Delete's Cancel keeps."""
    page, shot = nojs
    account = signed_in_owner(page, live_server, "alice")
    page.get_by_role("link", name="Create Contact").click()
    page.get_by_label("RAM user", exact=True).select_option(label="alice")
    page.get_by_label("Phone Number").fill("13811112222")
    page.get_by_role("button", name="Confirm").click()
    contact_rows(page).first.get_by_role("link", name="Edit").click()
    page.get_by_label("Mailbox").fill("not-an-address")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/contacts/\d+/edit/$"))
    mailbox = page.get_by_label("Mailbox")
    expect(mailbox).to_have_class(re.compile(r"is-invalid"))
    expect(mailbox).to_have_value("not-an-address")
    expect(page.locator("#id_mailbox_error")).to_be_visible()
    shot("edit-refused")
    page.get_by_role("link", name="Cancel").click()
    contact_rows(page).first.get_by_role("link", name="Delete").click()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/contacts/$"))
    expect(contact_rows(page)).to_have_count(1)
    shot("delete-cancelled")
    assert Contact.objects.get(account=account).mailbox == ""


def test_without_javascript_a_merge_preview_gone_stale_is_shown_again(nojs, live_server):
    """rules §6: Confirm on a preview that no longer holds shows the new preview and says why."""
    page, shot = nojs
    account = AccountFactory()
    RamUserFactory(account=account, user_name="alice", mobile_phone="86-13811112222")
    sign_in(page, live_server, account.login_name)
    page.get_by_role("link", name="Merge Contacts").click()
    expect(page.get_by_test_id("merge-counts")).to_contain_text("Contact created: 1")
    RamUserFactory(account=account, user_name="bob", mobile_phone="86-13822223333")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("merge-error")).to_have_text(PLAN_CHANGED)
    expect(page.get_by_test_id("merge-counts")).to_contain_text("Contact created: 2")
    assert_no_modal(page)
    shot("merge-stale")
    assert not Contact.objects.filter(account=account).exists()
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#messages")).to_contain_text("contact created: 2")
    shot("merge-done")


def test_without_javascript_add_and_remove_authorization(nojs, live_server):
    """rules §2 as plain pages: Add Authorization with its type filter, then Remove."""
    page, shot = nojs
    account = AccountFactory()
    dev = RamUserFactory(account=account, user_name="dev1")
    Policy.objects.create(
        account=account,
        name="OpsReader",
        policy_type=Policy.PolicyType.CUSTOM,
        description="Custom one",
        document={"Version": "1", "Statement": []},
    )
    sign_in(page, live_server, account.login_name)
    nav(page, "Users").click()
    page.get_by_role("link", name=dev.upn).click()
    page.get_by_role("link", name="Permission Management").click()
    expect(page.get_by_test_id("personal-permissions")).to_be_visible()
    shot("permission-management")
    page.get_by_role("link", name="Add Authorization").click()
    assert_plain_page(page, r"/authorize/", "Add Authorization")
    shot("add-authorization-page")

    page.get_by_label("Permission type").select_option(label="Custom Policy")
    page.get_by_role("button", name="Filter").click()
    choices = page.get_by_test_id("authorize-choices")
    expect(choices).to_contain_text("OpsReader")
    expect(choices).not_to_contain_text("AliyunRAMReadOnlyAccess")
    shot("filtered-custom")
    page.get_by_role("button", name="Confirm Add Authorization").click()
    expect(page.get_by_test_id("policies-errors")).to_have_text(NOTHING_CHOSEN)
    expect(page.get_by_label("Permission type")).to_have_value("Custom")  # the filter is kept
    assert_no_modal(page)
    shot("nothing-chosen")
    page.get_by_label(re.compile(r"^OpsReader")).check()
    page.get_by_role("button", name="Confirm Add Authorization").click()
    table = page.get_by_test_id("personal-permissions")
    expect(table.locator("tr[data-policy=OpsReader]")).to_have_count(1)
    shot("authorized")
    assert PolicyAttachment.objects.filter(ram_user=dev, policy__name="OpsReader").exists()

    table.locator("tr[data-policy=OpsReader]").get_by_role("link", name="Remove").click()
    expect(page).to_have_url(re.compile(r"/detach/$"))
    assert_no_modal(page)
    shot("remove-page")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("personal-permissions").locator("tr[data-policy]")).to_have_count(0)
    shot("removed")
    assert not PolicyAttachment.objects.filter(ram_user=dev).exists()


def test_without_javascript_create_policy_in_the_script_editor(nojs, live_server):
    page, shot = nojs
    account = signed_in_owner(page, live_server)
    nav(page, "Policies").click()
    page.get_by_role("link", name="Create Policy").click()
    bad = '{"Version": "1", "Statement": [ {"Effect": "Allow"'
    page.get_by_label("Script Editor").fill(bad)
    page.get_by_role("button", name="Confirm").click()
    editor = page.get_by_label("Script Editor")
    expect(editor).to_have_attribute("aria-invalid", "true")
    expect(editor).to_have_value(bad)  # the text is kept
    # The error sits next to the editor and is the one its aria-describedby names.
    expect(page.get_by_test_id("document-errors")).to_be_visible()
    expect(page.locator("#id_document_error")).to_have_attribute("data-testid", "document-errors")
    shot("invalid-document")
    assert not Policy.objects.filter(name="NoJsPolicy").exists()
    editor.fill(VALID_POLICY)
    page.get_by_role("button", name="Confirm").click()
    # Step 2, a plain page: the document it is about to create, then Name and Description.
    expect(page.get_by_role("heading", name="Create Policy")).to_be_visible()
    expect(page.get_by_test_id("policy-document")).to_contain_text('"ram:ListUsers"')
    assert_no_modal(page)
    shot("name-and-description")
    page.get_by_role("button", name="Confirm").click()  # no name: refused on this page
    name = page.get_by_label(re.compile(r"^Name"))
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("name-errors")).to_have_text("This field is required.")
    # Back to Script Editor, and forth again: the document and the description come along.
    page.get_by_label("Description", exact=True).fill("Made without JavaScript")
    page.get_by_role("button", name="Back to Script Editor").click()
    expect(page.get_by_label("Script Editor")).to_have_value(re.compile(r'"ram:GetUser"'))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_label("Description", exact=True)).to_have_value("Made without JavaScript")
    page.get_by_label(re.compile(r"^Name")).fill("NoJsPolicy")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="NoJsPolicy")).to_be_visible()
    shot("policy-created")
    assert Policy.objects.filter(account=account, name="NoJsPolicy").exists()
    page.get_by_role("link", name="Modify Policy Document").click()
    page.get_by_label("Script Editor").fill(VALID_POLICY.replace('"ram:GetUser"', '"ram:*"'))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("policy-document")).to_contain_text('"ram:*"')
    page.get_by_role("link", name="Delete Policy").click()
    shot("delete-policy-page")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Policies")).to_be_visible()
    assert not Policy.objects.filter(account=account, name="NoJsPolicy").exists()
    shot("policy-deleted")


def test_without_javascript_arms_query_bar_and_group_members(nojs, live_server):
    """rules §7 as plain pages: the ARMS contacts query bar and a contact group's members."""
    page, shot = nojs
    account = AccountFactory()
    oncall = ArmsContactFactory(account=account, name="night-shift", phone="+8613700001111")
    ArmsContactFactory(account=account, name="day-shift", phone="+8613700002222")
    group = ContactGroupFactory(account=account, name="sre")
    group.members.add(oncall)
    sign_in(page, live_server, account.login_name)
    nav(page, "Contacts").click()
    page.get_by_label("Query by").select_option(label="Phone Number")
    page.get_by_label("Query", exact=True).fill("0001111")
    page.get_by_role("button", name="Search").click()
    rows = page.get_by_test_id("arms-contact-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("night-shift")
    shot("arms-query")
    nav(page, "Contact Groups").click()
    page.get_by_role("link", name="sre").click()
    members = page.get_by_test_id("group-members")
    expect(members).to_contain_text("night-shift")
    expect(members).not_to_contain_text("day-shift")
    shot("group-members")
    # An ARMS contact not linked to SAE is deleted from its plain confirm page.
    nav(page, "Contacts").click()
    page.get_by_test_id("arms-contact-row").filter(has_text="day-shift").get_by_role(
        "link", name="Delete"
    ).click()
    expect(page).to_have_url(re.compile(r"/arms/contacts/\d+/delete/$"))
    assert_no_modal(page)
    shot("arms-delete-page")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/arms/contacts/"))
    expect(page.get_by_test_id("arms-contacts")).not_to_contain_text("day-shift")
    expect(page.get_by_test_id("arms-contacts")).to_contain_text("night-shift")
    shot("arms-deleted")


def test_narrow_viewport_contact_management_and_new_contact(browser, request, live_server):
    """768 px wide with JS on: the list and the New Contact panel stay usable (screenshots)."""
    page, shot = _new_page(browser, request, java_script=True, width=768)
    signed_in_owner(page, live_server, "alice")
    page.get_by_role("link", name="Create Contact").click()
    dialog = page.locator(tour.PANEL)  # the side panel, 640 px of the 768
    expect(dialog).to_be_visible()
    dialog.get_by_label("RAM user", exact=True).select_option(label="alice")
    dialog.get_by_label("Phone Number").fill("13811112222")
    dialog.get_by_label("Mailbox").fill("alice.with.a.rather.long.mailbox@example.com")
    dialog.get_by_label("Dingtalk Robot").fill(
        "https://oapi.dingtalk.com/robot/send?access_token=" + "a" * 64
    )
    page.wait_for_timeout(400)
    shot("new-contact-panel-narrow")
    dialog.get_by_role("button", name="Confirm").click()
    expect(contact_rows(page)).to_have_count(1)
    expect(page.locator("#messages .btn-close")).to_be_visible()  # with JavaScript it works
    page.wait_for_timeout(400)
    shot("contact-management-narrow")
    # The navigation folds behind the Menu button; opened, it stacks above the content
    # instead of taking a third of the width.
    expect(page.locator("nav.console-nav")).to_be_hidden()
    page.get_by_test_id("menu-toggle").click()
    expect(page.locator("nav.console-nav")).to_be_visible()
    nav_box = page.locator("nav.console-nav").bounding_box()
    main_box = page.locator("#main").bounding_box()
    assert nav_box["y"] + nav_box["height"] <= main_box["y"] + 1, (nav_box, main_box)
    assert main_box["width"] >= 700, main_box
    # Nothing pushes the page wider than the viewport: wide tables scroll inside their card.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, width
