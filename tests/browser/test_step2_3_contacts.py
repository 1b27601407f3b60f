"""Seed steps 2 and 3 in a browser (rules §3, §4, §5): create a contact through the New Contact
panel, the choices of a RAM user without ram:ListUsers, a refused phone number, the query bar,
and the Edit and Delete dialogs, each checked on the ARMS contacts page afterwards."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from arms_sync.linking import LINKED_PHONE_TAKEN
from arms_sync.models import ArmsContact
from contacts import services
from contacts.models import Contact
from tests.browser import tour
from tests.factories import PASSWORD, AccountFactory
from tests.integration.contacts_support import principal_of, ram_user_named

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tenant():
    account = AccountFactory(login_name="ops@example.com")
    users = {name: ram_user_named(account, name) for name in ("alice", "bob", "carol")}
    return account, users


def open_contacts(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/contacts/")
    expect(page.get_by_role("heading", name="Contact Management")).to_be_visible()


def open_panel(page: Page, button: str = "Create Contact"):
    """The New Contact side panel (seed: "the pop-up New Contact panel"), from the right."""
    page.get_by_role("link", name=button).click()
    dialog = page.locator(tour.PANEL)
    expect(dialog).to_be_visible()
    expect(page.get_by_role("dialog", name="New Contact")).to_be_visible()
    return dialog


def rows(page: Page):
    return page.locator("#contact-rows tbody tr[data-contact-id]")


def arms_row(page: Page, live_server, name: str):
    page.goto(f"{live_server.url}/arms/contacts/")
    return page.locator("[data-testid=arms-contact-row]", has_text=name)


def test_owner_creates_a_contact_for_a_ram_user_in_the_new_contact_panel(
    page, live_server, signin_page, shot, tenant
):
    account, _ = tenant
    signin_page(account.login_name, PASSWORD)
    open_contacts(page, live_server)
    expect(page.get_by_test_id("contact-count")).to_have_text("0 / 100 contacts")
    shot("contact-management-empty")
    dialog = open_panel(page)
    expect(dialog.get_by_text("Supports creating up to 100 contacts.")).to_be_visible()
    shot("new-contact-panel")
    dialog.get_by_label("RAM user", exact=True).select_option(label="alice")
    expect(dialog.get_by_label("RAM user: select from the drop-down list")).to_be_checked()
    dialog.get_by_label("Phone Number").fill("+86 138 1111 2222")
    dialog.get_by_label("Mailbox").fill("alice@example.com")
    dialog.get_by_label("Dingtalk Robot").fill(
        "https://oapi.dingtalk.com/robot/send?access_token=" + "3f2a" + "0" * 56 + "9c1d"
    )
    shot("new-contact-filled")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator(tour.DIALOG)).to_have_count(0)
    expect(page.locator(".offcanvas-backdrop")).to_have_count(0)
    row = rows(page).filter(has_text="alice")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("+8613811112222")
    expect(row).to_contain_text("RAM user")
    expect(row).to_contain_text("access_token=3f2a…9c1d")
    expect(page.get_by_text("Contact alice created.")).to_be_visible()
    expect(page.get_by_test_id("contact-count")).to_have_text("1 / 100 contacts")
    shot("contact-created")
    # The ARMS side: a linked ARMS contact named after the RAM user.
    arms = arms_row(page, live_server, "alice")
    expect(arms).to_contain_text("+8613811112222")
    expect(arms).to_contain_text("alice@example.com")
    shot("arms-contact-created")


def test_the_account_itself_is_entered_by_hand(page, live_server, signin_page, shot, tenant):
    account, _ = tenant
    signin_page(account.login_name, PASSWORD)
    open_contacts(page, live_server)
    dialog = open_panel(page)
    # The radio decides which input is active (issue 18): the typed one is disabled until then.
    expect(dialog.get_by_label("Alibaba Cloud account", exact=True)).to_be_disabled()
    dialog.get_by_label("Alibaba Cloud account: enter manually").check()
    dialog.get_by_label("Alibaba Cloud account", exact=True).fill("someone@else.com")
    dialog.get_by_label("Phone Number").fill("13911112222")
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog.get_by_text("Enter this Alibaba Cloud account's login name")).to_be_visible()
    shot("wrong-account-name")
    dialog.get_by_label("Alibaba Cloud account", exact=True).fill("ops@example.com")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator(tour.DIALOG)).to_have_count(0)
    expect(rows(page).filter(has_text="ops@example.com")).to_contain_text("Alibaba Cloud account")
    shot("account-itself-created")


def test_a_ram_user_without_list_users_sees_only_itself(
    page, live_server, signin_page, shot, tenant
):
    account, users = tenant
    signin_page(users["bob"].upn, PASSWORD)
    open_contacts(page, live_server)
    expect(page.get_by_role("link", name="Merge Contacts")).to_have_count(0)
    dialog = open_panel(page)
    select = dialog.get_by_label("RAM user", exact=True)
    expect(select.locator("option")).to_have_text(["bob"])
    expect(dialog.get_by_text("Alibaba Cloud account: enter manually")).to_have_count(0)
    expect(dialog.get_by_test_id("only-itself-note")).to_contain_text("only add yourself")
    expect(dialog.get_by_role("link", name="Request permission")).to_be_visible()
    shot("only-itself")
    dialog.get_by_label("Phone Number").fill("13622223333")
    dialog.get_by_role("button", name="Confirm").click()
    expect(rows(page).filter(has_text="bob")).to_have_count(1)
    assert Contact.objects.get(account=account).created_by == users["bob"]
    shot("created-itself")


def test_a_phone_number_linked_to_another_contact_is_refused_next_to_phone_number(
    page, live_server, signin_page, shot, tenant
):
    account, users = tenant
    owner = principal_of(account)
    alice = services.create_contact(principal=owner, ram_user=users["alice"], phone="13811112222")
    signin_page(account.login_name, PASSWORD)
    open_contacts(page, live_server)
    before = (Contact.objects.count(), ArmsContact.objects.count())
    # Typed differently, the same number: one phone number, one contact (rules §4).
    dialog = open_panel(page)
    dialog.get_by_label("RAM user", exact=True).select_option(label="bob")
    dialog.get_by_label("Phone Number").fill("86-13811112222")
    dialog.get_by_role("button", name="Confirm").click()
    phone = dialog.get_by_label("Phone Number")
    expect(phone).to_have_class(re.compile(r"is-invalid"))
    expect(phone).to_have_value("86-13811112222")  # what was typed is kept
    expect(dialog.locator("#id_phone_error")).to_contain_text("already used by another contact")
    shot("phone-taken")
    # rules §5 case 3: the ARMS contact holding the number is linked to another SAE contact.
    ArmsContact.objects.filter(sae_contact=alice).update(phone="+8613899990000")
    phone.fill("138 9999 0000")
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog.get_by_text(LINKED_PHONE_TAKEN)).to_be_visible()
    expect(dialog.get_by_label("Phone Number")).to_have_class(re.compile(r"is-invalid"))
    shot("linked-phone-taken")
    assert (Contact.objects.count(), ArmsContact.objects.count()) == before


def test_the_query_bar_finds_by_each_field(page, live_server, signin_page, shot, tenant):
    account, users = tenant
    owner = principal_of(account)
    services.create_contact(
        principal=owner, ram_user=users["alice"], phone="13811112222", mailbox="alice@corp.example"
    )
    services.create_contact(
        principal=owner, ram_user=users["bob"], phone="13922223333", mailbox="bob@ops.example"
    )
    services.create_contact(
        principal=owner, ram_user=users["carol"], phone="15033334444", mailbox="carol@corp.example"
    )
    signin_page(account.login_name, PASSWORD)
    open_contacts(page, live_server)
    expect(rows(page)).to_have_count(3)
    bar = page.locator("#contact-query")
    expect(bar.get_by_label("Query by")).to_have_value("username")  # the default
    for field, typed, expected in [
        ("username", "ALI", ["alice"]),
        ("phone", "138 1111", ["alice"]),
        ("phone", "+86139", ["bob"]),
        ("mailbox", "corp.example", ["alice", "carol"]),
    ]:
        bar.get_by_label("Query by").select_option(field)
        bar.get_by_label("Query value").fill(typed)
        bar.get_by_role("button", name="Search").click()
        expect(rows(page)).to_have_count(len(expected))
        for name in expected:
            expect(rows(page).filter(has_text=name)).to_have_count(1)
        shot(f"query-{field}-{re.sub(r'[^a-z0-9]+', '', typed.lower())}")
    assert "field=mailbox" in page.url  # the query is in the address (bookmarkable)


def test_edit_and_delete_through_their_dialogs_follow_on_the_arms_side(
    page, live_server, signin_page, shot, tenant
):
    account, users = tenant
    contact = services.create_contact(
        principal=principal_of(account), ram_user=users["alice"], phone="13811112222"
    )
    arms_pk = ArmsContact.objects.get(sae_contact=contact).pk
    signin_page(account.login_name, PASSWORD)
    open_contacts(page, live_server)
    row = rows(page).filter(has_text="alice")
    row.get_by_role("link", name="Edit").click()
    dialog = page.locator("#modal-host .modal.show")
    expect(dialog.get_by_role("heading", name="Edit Contact")).to_be_visible()
    dialog.get_by_label("Phone Number").fill("139 0000 1111")
    dialog.get_by_label("Mailbox").fill("alice.new@example.com")
    shot("edit-dialog")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#modal-host .modal.show")).to_have_count(0)
    expect(rows(page).filter(has_text="alice")).to_contain_text("+8613900001111")
    shot("edited")
    arms = arms_row(page, live_server, "alice")
    expect(arms).to_contain_text("+8613900001111")
    expect(arms).to_contain_text("alice.new@example.com")
    assert ArmsContact.objects.get(sae_contact=contact).pk == arms_pk  # same link
    shot("arms-after-edit")

    open_contacts(page, live_server)
    rows(page).filter(has_text="alice").get_by_role("link", name="Delete").click()
    dialog = page.locator("#modal-host .modal.show")
    expect(dialog).to_contain_text("the corresponding ARMS contact will also be removed")
    shot("delete-dialog")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#modal-host .modal.show")).to_have_count(0)
    expect(rows(page)).to_have_count(0)
    expect(page.get_by_text("Contact alice deleted")).to_be_visible()
    shot("deleted")
    expect(arms_row(page, live_server, "alice")).to_have_count(0)
    assert not ArmsContact.objects.filter(pk=arms_pk).exists()
    shot("arms-after-delete")


def test_the_column_headers_sort_the_table_in_place_and_the_query_keeps_the_order(
    page, live_server, signin_page, shot, tenant
):
    """Issue 10: Username, Phone Number and Created At sort the table (htmx swaps the rows, the
    address follows); a search and the refresh after a change keep the order."""
    account, users = tenant
    owner = principal_of(account)
    for name, phone in (("carol", "13811110001"), ("alice", "13811110003"), ("bob", "13811110002")):
        services.create_contact(principal=owner, ram_user=users[name], phone=phone)
    signin_page(account.login_name, PASSWORD)
    open_contacts(page, live_server)

    def order() -> list[str]:
        return [text.split()[0] for text in rows(page).all_inner_texts()]

    table = page.get_by_test_id("contact-table")
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Created At")
    assert order() == ["carol", "alice", "bob"]  # oldest first
    table.get_by_role("link", name="Username").click()
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Username")
    assert order() == ["alice", "bob", "carol"]
    assert page.url.endswith("?sort=username")
    table.get_by_role("link", name="Username").click()
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("Username")
    assert order() == ["carol", "bob", "alice"]
    table.get_by_role("link", name="Phone Number").click()
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Phone Number")
    table.get_by_role("link", name="Phone Number").click()
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("Phone Number")
    assert order() == ["alice", "bob", "carol"]
    shot("sorted-by-phone-descending")

    bar = page.locator("#contact-query")
    bar.get_by_label("Query value").fill("a")  # alice and carol
    bar.get_by_role("button", name="Search").click()
    expect(rows(page)).to_have_count(2)
    assert order() == ["alice", "carol"]
    assert "sort=-phone" in page.url and "q=a" in page.url
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("Phone Number")

    # Deleting a contact reloads the rows with the query and the order.
    rows(page).filter(has_text="alice").get_by_role("link", name="Delete").click()
    page.locator("#modal-host .modal.show").get_by_role("button", name="Confirm").click()
    expect(rows(page)).to_have_count(1)
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("Phone Number")
    table.get_by_role("link", name="Created At").click()
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Created At")
    assert order() == ["carol"]
    assert "q=a" in page.url
    shot("sorted-after-delete")
