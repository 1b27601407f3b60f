"""rules §5 through the contacts services and the Contact Management views: the three cases of
creation, the mailbox refusal, edit propagation (phone included, link unchanged), edit
conflicts, deletion, and an ARMS contact deleted on the ARMS side ("Not linked")."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from arms_sync.linking import ARMS_MAILBOX_TAKEN, ARMS_PHONE_TAKEN, LINKED_PHONE_TAKEN
from arms_sync.models import CONTACTS_GROUP, ArmsContact, ContactGroup
from contacts import services
from contacts.models import Contact
from tests.factories import ArmsContactFactory, owners_contact
from tests.integration.contacts_support import (
    EVERY_ROBOT,
    WECOM_URL,
    contact_of_new_user,
    counts,
    mobile,
    new_contact_post,
    ram_user_named,
)

pytestmark = pytest.mark.django_db


def update(principal, contact, **changes):
    """An edit of `changes` alone: the phone stays unless changed, and update_contact keeps
    every channel it is not given."""
    return services.update_contact(
        principal=principal, contact=contact, **{"phone": contact.phone, **changes}
    )


def robots_of(arms: ArmsContact) -> dict[str, str]:
    """The ARMS contact's robots, named as the SAE contact's (EVERY_ROBOT)."""
    return {
        "dingtalk_webhook": arms.ding_robot_url,
        "dingtalk_secret": arms.ding_robot_secret,
        "wecom_webhook": arms.wecom_robot_url,
    }


def contacts_group(account):
    return ContactGroup.objects.get(account=account, name=CONTACTS_GROUP)


def test_case_1_a_new_phone_creates_and_links_an_arms_contact_in_sae_contacts(account):
    contact = contact_of_new_user(
        account, "alice", phone="138 1111 2222", mailbox="alice@example.com", **EVERY_ROBOT
    )
    arms = ArmsContact.objects.get(sae_contact=contact)
    assert arms.name == "alice"
    assert arms.phone.as_e164 == "+8613811112222"
    assert arms.email == "alice@example.com"
    assert robots_of(arms) == EVERY_ROBOT
    assert contacts_group(account).members.filter(pk=arms.pk).exists()


def test_case_1_for_the_account_itself_names_the_arms_contact_after_the_login_name(account):
    contact = owners_contact(account, phone=mobile(1))
    assert ArmsContact.objects.get(sae_contact=contact).name == account.login_name


def test_case_2_links_the_existing_free_arms_contact_renames_it_and_copies_channels(account):
    existing = ArmsContactFactory(
        account=account, name="oncall-old", phone="+8613811112222", email="old@alerts.example"
    )
    before_arms = ArmsContact.objects.filter(account=account).count()
    contact = contact_of_new_user(
        account, "bob", phone="86-13811112222", mailbox="bob@example.com", wecom_webhook=WECOM_URL
    )
    existing.refresh_from_db()
    assert existing.sae_contact == contact
    assert existing.name == "bob"
    assert (existing.email, existing.wecom_robot_url) == ("bob@example.com", WECOM_URL)
    assert ArmsContact.objects.filter(account=account).count() == before_arms  # none created
    assert contacts_group(account).members.filter(pk=existing.pk).exists()


def test_case_3_a_phone_whose_arms_contact_is_linked_elsewhere_is_refused(account):
    """Nothing is saved on either side: count both before and after."""
    first = contact_of_new_user(account, "alice", phone=mobile(1))
    arms = ArmsContact.objects.get(sae_contact=first)
    # The linked ARMS contact now holds a phone no SAE contact has (edited on the ARMS side).
    ArmsContact.objects.filter(pk=arms.pk).update(phone=mobile(2))
    before = counts(account)
    with pytest.raises(ValidationError) as exc:
        contact_of_new_user(account, "bob", phone=mobile(2))
    assert exc.value.message_dict == {"phone": [LINKED_PHONE_TAKEN]}
    assert counts(account) == before
    assert not Contact.objects.filter(ram_user__user_name="bob").exists()


def test_case_3_through_the_view_shows_the_error_on_phone_number(owner_client, account):
    first = contact_of_new_user(account, "alice", phone=mobile(1))
    ArmsContact.objects.filter(sae_contact=first).update(phone=mobile(2))
    bob = ram_user_named(account, "bob")
    before = counts(account)
    response = owner_client.post(
        reverse("contacts:new"),
        new_contact_post(ram_user=bob.pk, phone=mobile(2)),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert escape(LINKED_PHONE_TAKEN) in response.text
    assert 'value="+8613600000002"' in response.text  # what was typed is kept
    assert counts(account) == before


def test_a_mailbox_another_arms_contact_holds_is_refused_on_mailbox(account, owner_client):
    ArmsContactFactory(account=account, phone=mobile(77), email="shared@example.com")
    before = counts(account)
    with pytest.raises(ValidationError) as exc:
        contact_of_new_user(account, "alice", phone=mobile(1), mailbox="Shared@example.com")
    assert exc.value.message_dict == {"mailbox": [ARMS_MAILBOX_TAKEN]}
    assert counts(account) == before
    response = owner_client.post(
        reverse("contacts:new"),
        new_contact_post(
            ram_user=ram_user_named(account, "bob").pk,
            phone=mobile(2),
            mailbox="shared@example.com",
        ),
    )
    assert response.status_code == 422 and escape(ARMS_MAILBOX_TAKEN) in response.text
    assert counts(account) == before


def test_every_edit_phone_included_updates_the_same_linked_arms_contact(account, owner_principal):
    contact = contact_of_new_user(account, "alice", phone=mobile(1))
    arms_pk = ArmsContact.objects.get(sae_contact=contact).pk
    update(
        owner_principal, contact, phone="139 0000 1111", mailbox="new@example.com", **EVERY_ROBOT
    )
    arms = ArmsContact.objects.get(sae_contact=contact)
    assert arms.pk == arms_pk  # the link did not change
    assert arms.phone.as_e164 == "+8613900001111"
    assert arms.email == "new@example.com"
    assert robots_of(arms) == EVERY_ROBOT


def test_edit_propagation_through_the_edit_dialog(owner_client, account):
    contact = contact_of_new_user(account, "alice", phone=mobile(1))
    arms_pk = ArmsContact.objects.get(sae_contact=contact).pk
    response = owner_client.post(
        reverse("contacts:edit", args=[contact.pk]),
        {"phone": "+86 139 0000 2222", "mailbox": "edited@example.com"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert "closeModal" in response.headers["HX-Trigger"]
    arms = ArmsContact.objects.get(pk=arms_pk)
    assert arms.sae_contact_id == contact.pk
    assert (arms.phone.as_e164, arms.email) == ("+8613900002222", "edited@example.com")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "+8613799998888", ARMS_PHONE_TAKEN),
        ("mailbox", "held@example.com", ARMS_MAILBOX_TAKEN),
    ],
)
def test_an_edit_onto_another_arms_contacts_phone_or_mailbox_is_refused(
    account, owner_principal, field, value, message
):
    """Nothing changes, on either side."""
    ArmsContactFactory(account=account, phone="+8613799998888", email="held@example.com")
    contact = contact_of_new_user(account, "alice", phone=mobile(1), mailbox="a@example.com")
    arms = ArmsContact.objects.get(sae_contact=contact)
    with pytest.raises(ValidationError) as exc:
        update(owner_principal, contact, **{field: value})
    assert exc.value.message_dict == {field: [message]}
    contact.refresh_from_db()
    arms.refresh_from_db()
    assert (contact.phone.as_e164, contact.mailbox) == (mobile(1), "a@example.com")
    assert (arms.phone.as_e164, arms.email) == (mobile(1), "a@example.com")


def test_an_edit_conflict_is_shown_next_to_the_field_in_the_dialog(owner_client, account):
    ArmsContactFactory(account=account, phone="+8613799998888")
    contact = contact_of_new_user(account, "alice", phone=mobile(1))
    response = owner_client.post(
        reverse("contacts:edit", args=[contact.pk]),
        {"phone": "13799998888"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert escape(ARMS_PHONE_TAKEN) in response.text
    contact.refresh_from_db()
    assert contact.phone.as_e164 == mobile(1)


def test_deleting_a_contact_deletes_its_arms_contact_and_group_memberships(account, owner_client):
    contact = contact_of_new_user(account, "alice", phone=mobile(1))
    arms = ArmsContact.objects.get(sae_contact=contact)
    group = contacts_group(account)
    assert group.members.filter(pk=arms.pk).exists()
    response = owner_client.post(
        reverse("contacts:delete", args=[contact.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not ArmsContact.objects.filter(pk=arms.pk).exists()
    assert not group.members.through.objects.filter(armscontact_id=arms.pk).exists()


def test_an_arms_contact_deleted_on_the_arms_side_shows_as_not_linked(
    account, owner_client, owner_principal
):
    contact = contact_of_new_user(account, "alice", phone=mobile(1))
    page = owner_client.get(reverse("contacts:list")).text
    assert "Not linked" not in page
    ArmsContact.objects.filter(sae_contact=contact).delete()
    assert Contact.objects.filter(pk=contact.pk).exists()  # the SAE contact stays
    page = owner_client.get(reverse("contacts:list")).text
    assert "Not linked" in page
    # Editing an unlinked contact works and does not create a link (Merge repairs it).
    update(owner_principal, contact, mailbox="still@example.com")
    assert not ArmsContact.objects.filter(sae_contact=contact).exists()


def test_the_delete_dialog_says_the_arms_contact_goes_too(account, owner_client):
    contact = contact_of_new_user(account, "alice", phone=mobile(1))
    page = owner_client.get(
        reverse("contacts:delete", args=[contact.pk]), headers={"HX-Request": "true"}
    ).text
    assert "ARMS contact will also be removed" in page
    assert 'class="modal' in page
