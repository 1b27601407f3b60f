"""rules §3: who may do what with contacts, row by row, including forged requests.

| principal | Username choices | sees | may edit / delete | may Merge |
| owner | the account itself or any RAM user | all | all | yes |
| RAM user with ram:ListUsers | any RAM user | all | created + own | yes |
| RAM user without | only itself | created + own | created + own | no |
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import escape

from contacts import selectors, services
from contacts.forms import ACCOUNT_NAME_MISMATCH, RAM_USER_NOT_ALLOWED
from contacts.models import Contact
from tests.integration.contacts_support import (
    counts,
    mobile,
    new_contact_post,
    principal_of,
    ram_user_named,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(account):
    """The owner, a ListUsers holder (lister), a plain RAM user (plain), and bystanders."""
    lister = ram_user_named(account, "lister", list_users=True)
    plain = ram_user_named(account, "plain")
    carol = ram_user_named(account, "carol")
    dave = ram_user_named(account, "dave")
    owner = principal_of(account)
    # Contacts: the owner's for carol, lister's own, plain's own, one lister created for dave.
    c_carol = services.create_contact(principal=owner, ram_user=carol, phone=mobile(1))
    c_lister = services.create_contact(
        principal=principal_of(account, lister), ram_user=lister, phone=mobile(2)
    )
    c_dave = services.create_contact(
        principal=principal_of(account, lister), ram_user=dave, phone=mobile(3)
    )
    c_plain = services.create_contact(
        principal=principal_of(account, plain), ram_user=plain, phone=mobile(4)
    )
    return {
        "account": account,
        "owner": owner,
        "lister": lister,
        "plain": plain,
        "carol": carol,
        "dave": dave,
        "c_carol": c_carol,
        "c_lister": c_lister,
        "c_dave": c_dave,
        "c_plain": c_plain,
    }


# --- Username choices ------------------------------------------------------------------------


def test_owner_may_choose_the_account_itself_or_any_ram_user(people):
    choices = selectors.username_choices(people["owner"])
    assert choices.account_itself and not choices.only_itself
    assert set(choices.ram_users) == {people[n] for n in ("lister", "plain", "carol", "dave")}


def test_list_users_holder_may_choose_any_ram_user_but_not_the_account(people):
    choices = selectors.username_choices(principal_of(people["account"], people["lister"]))
    assert not choices.account_itself
    assert set(choices.ram_users) == {people[n] for n in ("lister", "plain", "carol", "dave")}


def test_ram_user_without_list_users_may_choose_only_itself(people):
    choices = selectors.username_choices(principal_of(people["account"], people["plain"]))
    assert not choices.account_itself and choices.only_itself
    assert list(choices.ram_users) == [people["plain"]]


def test_new_contact_panel_of_a_plain_ram_user_lists_only_itself_and_a_note(sign_in, people):
    client = sign_in(people["plain"])
    # With its contact, the panel says there is nothing to add (test_contact_rules); without:
    assert 'data-testid="own-contact-exists"' in client.get(reverse("contacts:new")).text
    people["c_plain"].delete()
    page = client.get(reverse("contacts:new")).text
    assert ">plain</option>" in page
    for other in ("carol", "dave", "lister"):
        assert f">{other}</option>" not in page
    assert "can only add yourself" in page
    assert "Alibaba Cloud account: enter manually" not in page


def test_forged_post_naming_another_user_saves_nothing(sign_in, people, account):
    """A RAM user without ram:ListUsers posting another user's id gets a form error."""
    people["c_plain"].delete()  # plain has no contact, so only the forged name is wrong
    client = sign_in(people["plain"])
    ghost = ram_user_named(account, "ghost")
    before = counts(account)
    response = client.post(
        reverse("contacts:new"), new_contact_post(ram_user=ghost.pk, phone=mobile(50))
    )
    assert response.status_code == 422
    assert escape(RAM_USER_NOT_ALLOWED) in response.text
    assert counts(account) == before


def test_forged_post_choosing_the_account_itself_saves_nothing(sign_in, people, account):
    client = sign_in(people["lister"])
    before = counts(account)
    response = client.post(
        reverse("contacts:new"),
        new_contact_post(username_kind="account", username=account.login_name, phone=mobile(51)),
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.text
    assert counts(account) == before


def test_service_refuses_a_forged_choice_on_username(people, account):
    plain = principal_of(account, people["plain"])
    ghost = ram_user_named(account, "ghost")
    with pytest.raises(ValidationError) as exc:
        services.create_contact(principal=plain, ram_user=ghost, phone=mobile(52))
    assert exc.value.message_dict == {"username": [services.OTHER_USER_NOT_ALLOWED]}
    lister = principal_of(account, people["lister"])
    with pytest.raises(ValidationError) as exc:
        services.create_contact(principal=lister, ram_user=None, phone=mobile(53))
    assert exc.value.message_dict == {"username": [services.ACCOUNT_ITSELF_NOT_ALLOWED]}


def test_service_refuses_another_accounts_ram_user(people, other_account):
    stranger = ram_user_named(other_account, "stranger")
    with pytest.raises(ValidationError) as exc:
        services.create_contact(principal=people["owner"], ram_user=stranger, phone=mobile(54))
    assert list(exc.value.message_dict) == ["username"]
    assert not Contact.objects.filter(ram_user=stranger).exists()


def test_owner_adds_the_account_itself_by_login_name_or_account_id(owner_client, account):
    url = reverse("contacts:new")
    bad = owner_client.post(
        url, new_contact_post(username_kind="account", username="someone@else.com", phone=mobile(1))
    )
    assert bad.status_code == 422 and escape(ACCOUNT_NAME_MISMATCH) in bad.text
    ok = owner_client.post(
        url,
        new_contact_post(
            username_kind="account", username=account.login_name.upper(), phone=mobile(1)
        ),
    )
    assert ok.status_code == 302
    assert Contact.objects.get(account=account).is_account_itself


def test_owner_adds_the_account_itself_by_account_id(owner_client, account):
    response = owner_client.post(
        reverse("contacts:new"),
        new_contact_post(username_kind="account", username=account.account_id, phone=mobile(1)),
    )
    assert response.status_code == 302
    assert Contact.objects.get(account=account).ram_user is None


def test_list_users_holder_adds_another_ram_user_and_is_recorded_as_creator(sign_in, account):
    lister = ram_user_named(account, "lister", list_users=True)
    erin = ram_user_named(account, "erin")
    client = sign_in(lister)
    response = client.post(
        reverse("contacts:new"), new_contact_post(ram_user=erin.pk, phone=mobile(7))
    )
    assert response.status_code == 302
    assert Contact.objects.get(ram_user=erin).created_by == lister


# --- who sees what ---------------------------------------------------------------------------


def visible_names(principal):
    return sorted(c.username for c in selectors.visible_contacts(principal))


def test_owner_and_list_users_holder_see_every_contact(people):
    everyone = ["carol", "dave", "lister", "plain"]
    assert visible_names(people["owner"]) == everyone
    assert visible_names(principal_of(people["account"], people["lister"])) == everyone


def test_ram_user_without_list_users_sees_its_own_and_those_it_created(people, account):
    plain = principal_of(account, people["plain"])
    assert visible_names(plain) == ["plain"]
    # plain's own contact created by someone else is still its own.
    people["c_plain"].delete()
    services.create_contact(principal=people["owner"], ram_user=people["plain"], phone=mobile(9))
    assert visible_names(plain) == ["plain"]


def test_the_list_page_shows_what_the_principal_may_see(sign_in, people):
    page = sign_in(people["plain"]).get(reverse("contacts:list")).text
    assert "plain" in page
    for other in ("carol", "dave", "lister"):
        assert f"{other}\n" not in page and f">{other}<" not in page
    assert "Merge Contacts" not in page


def test_merge_button_only_for_owner_and_list_users_holders(sign_in, people, owner_client):
    assert "Merge Contacts" in owner_client.get(reverse("contacts:list")).text
    assert selectors.can_merge(people["owner"])
    assert selectors.can_merge(principal_of(people["account"], people["lister"]))
    assert not selectors.can_merge(principal_of(people["account"], people["plain"]))


# --- who may edit / delete --------------------------------------------------------------------


def edit_post(contact, **overrides):
    data = {"phone": contact.phone.as_e164, "mailbox": "changed@example.com"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("name", ["c_carol", "c_lister", "c_dave", "c_plain"])
def test_owner_may_edit_and_delete_every_contact(owner_client, people, name):
    contact = people[name]
    edit = owner_client.post(reverse("contacts:edit", args=[contact.pk]), edit_post(contact))
    assert edit.status_code == 302
    contact.refresh_from_db()
    assert contact.mailbox == "changed@example.com"
    delete = owner_client.post(reverse("contacts:delete", args=[contact.pk]))
    assert delete.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_edit_of_a_contact_deleted_meanwhile_is_404_not_500(owner_client, people, monkeypatch):
    """rules §1/§4 under a race: the edit view found the contact, then someone deleted it before
    the save locked the row. The answer is 404, as for any contact that does not exist."""
    contact = people["c_plain"]
    stale = Contact.objects.get(pk=contact.pk)
    Contact.objects.get(pk=contact.pk).delete()
    monkeypatch.setattr("contacts.views._managed_contact", lambda request, pk: stale)
    response = owner_client.post(reverse("contacts:edit", args=[contact.pk]), edit_post(stale))
    assert response.status_code == 404
    assert not Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.parametrize("name", ["c_lister", "c_dave"])
def test_list_users_holder_manages_its_own_and_those_it_created(sign_in, people, name):
    client = sign_in(people["lister"])
    contact = people[name]
    assert (
        client.post(reverse("contacts:edit", args=[contact.pk]), edit_post(contact)).status_code
        == 302
    )
    assert client.post(reverse("contacts:delete", args=[contact.pk])).status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.parametrize("name", ["c_carol", "c_plain"])
def test_list_users_holder_gets_403_for_contacts_it_sees_but_may_not_change(sign_in, people, name):
    """Visible (it sees all) but neither its own nor created by it: 403, nothing changes."""
    client = sign_in(people["lister"])
    contact = people[name]
    mailbox = contact.mailbox
    for url in (
        reverse("contacts:edit", args=[contact.pk]),
        reverse("contacts:delete", args=[contact.pk]),
    ):
        assert client.get(url).status_code == 403
    assert (
        client.post(reverse("contacts:edit", args=[contact.pk]), edit_post(contact)).status_code
        == 403
    )
    assert client.post(reverse("contacts:delete", args=[contact.pk])).status_code == 403
    contact.refresh_from_db()
    assert contact.mailbox == mailbox


@pytest.mark.parametrize("name", ["c_carol", "c_lister", "c_dave"])
def test_plain_ram_user_gets_404_for_contacts_it_may_not_see(sign_in, people, name):
    client = sign_in(people["plain"])
    contact = people[name]
    for url in (
        reverse("contacts:edit", args=[contact.pk]),
        reverse("contacts:delete", args=[contact.pk]),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, edit_post(contact)).status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()
    contact.refresh_from_db()
    assert contact.mailbox != "changed@example.com"


def test_plain_ram_user_manages_its_own_contact(sign_in, people):
    client = sign_in(people["plain"])
    contact = people["c_plain"]
    assert (
        client.post(reverse("contacts:edit", args=[contact.pk]), edit_post(contact)).status_code
        == 302
    )
    assert client.post(reverse("contacts:delete", args=[contact.pk])).status_code == 302


def test_services_refuse_to_change_what_the_principal_may_not_manage(people, account):
    lister = principal_of(account, people["lister"])
    contact = people["c_carol"]
    with pytest.raises(PermissionDenied):
        services.update_contact(
            principal=lister,
            contact=contact,
            phone=contact.phone,
            mailbox="x@example.com",
            dingtalk_webhook="",
            dingtalk_secret=None,
            wecom_webhook="",
        )
    with pytest.raises(PermissionDenied):
        services.delete_contact(principal=lister, contact=contact)
    assert Contact.objects.filter(pk=contact.pk, mailbox=contact.mailbox).exists()


def test_edit_and_delete_links_appear_only_where_the_principal_may_manage(sign_in, people):
    page = sign_in(people["lister"]).get(reverse("contacts:list")).text
    for name, shown in (
        ("c_lister", True),
        ("c_dave", True),
        ("c_carol", False),
        ("c_plain", False),
    ):
        assert (reverse("contacts:edit", args=[people[name].pk]) in page) is shown
