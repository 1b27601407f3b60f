"""Linking SAE contacts to ARMS contacts and keeping the pair in step (SPEC 5).

Called by the signal receivers (creation, edit, deletion of a contact) and by merge. Every
function runs inside the caller's transaction; a refusal is a ValidationError naming the SAE
contact's field, so the contact service's `atomic()` rolls the whole change back and the form
shows the message next to that field.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact
from contacts.models import Contact

LINKED_PHONE_TAKEN = gettext_noop(
    "This phone number belongs to an ARMS contact that another SAE contact is already linked "
    "to. Enter another phone number."
)
ARMS_PHONE_TAKEN = gettext_noop(
    "Another ARMS contact of this account already has this phone number."
)
ARMS_MAILBOX_TAKEN = gettext_noop("Another ARMS contact of this account already uses this mailbox.")


def copy_contact_fields(arms: ArmsContact, contact: Contact) -> None:
    """On every link and edit the ARMS contact takes the SAE contact's name and channels."""
    arms.name = contact.username
    arms.phone = contact.phone
    arms.email = contact.mailbox
    arms.ding_robot_url = contact.dingtalk_webhook
    arms.ding_robot_secret = contact.dingtalk_secret
    arms.ding_robot_keyword = contact.dingtalk_keyword
    arms.wecom_robot_url = contact.wecom_webhook


def _others(contact: Contact, arms: ArmsContact | None):
    others = ArmsContact.objects.filter(account_id=contact.account_id)
    return others.exclude(pk=arms.pk) if arms is not None and arms.pk else others


def check_conflicts(contact: Contact, arms: ArmsContact | None) -> None:
    """Refuse a phone or mailbox that another ARMS contact of the account holds."""
    errors = {}
    if _others(contact, arms).filter(phone=contact.phone).exists():
        errors["phone"] = _(ARMS_PHONE_TAKEN)
    if contact.mailbox and _others(contact, arms).filter(email__iexact=contact.mailbox).exists():
        errors["mailbox"] = _(ARMS_MAILBOX_TAKEN)
    if errors:
        raise ValidationError(errors)


def _save(arms: ArmsContact) -> None:
    # The database constraints are the final word when two requests race past the checks.
    try:
        with transaction.atomic():
            arms.save()
    except IntegrityError as exc:
        field = "mailbox" if "email" in str(exc) else "phone"
        message = _(ARMS_MAILBOX_TAKEN) if field == "mailbox" else _(ARMS_PHONE_TAKEN)
        raise ValidationError({field: message}) from None


def link(contact: Contact, arms: ArmsContact, *, new_contact: bool = False) -> ArmsContact:
    """Link the pair: the ARMS contact takes the contact's name and channels and joins
    `sae:contacts` (and, for the account itself, `sae:approvers`). A link the contact had to
    another ARMS contact is dropped first (that one stays on the ARMS side, unlinked)."""
    check_conflicts(contact, arms)
    if not new_contact:  # a contact created just now has no other link to drop
        ArmsContact.objects.filter(sae_contact=contact).exclude(pk=arms.pk).update(sae_contact=None)
    copy_contact_fields(arms, contact)
    arms.sae_contact = contact
    _save(arms)
    managed = ensure_managed(contact.account)
    managed.contacts_group.members.add(arms)
    if contact.is_account_itself:
        # The owner decides permission requests (SPEC 9): its contact hears of them by default.
        managed.approvers_group.members.add(arms)
    return arms


def link_new_contact(contact: Contact) -> ArmsContact:
    """SPEC 5, creating a contact with phone P: (1) no ARMS contact has P: create one and link;
    (2) one has P and is free: link it; (3) one has P and another SAE contact is linked to it:
    refuse on Phone Number."""
    arms = (
        ArmsContact.objects.select_for_update()
        .filter(account_id=contact.account_id, phone=contact.phone)
        .first()
    )
    if arms is None:
        arms = ArmsContact(account_id=contact.account_id)
    elif arms.sae_contact_id is not None and arms.sae_contact_id != contact.pk:
        raise ValidationError({"phone": _(LINKED_PHONE_TAKEN)}, code="linked_phone")
    return link(contact, arms, new_contact=True)


def propagate_edit(contact: Contact) -> ArmsContact | None:
    """Every edit, phone included, updates the same linked ARMS contact; the link stays.
    An unlinked contact ("Not linked") is left for Merge Contacts to repair."""
    arms = ArmsContact.objects.select_for_update().filter(sae_contact=contact).first()
    if arms is None:
        return None
    check_conflicts(contact, arms)
    copy_contact_fields(arms, contact)
    _save(arms)
    return arms


def delete_linked(contact: Contact) -> int:
    """Deleting an SAE contact deletes its linked ARMS contact and its group memberships."""
    deleted, _ = ArmsContact.objects.filter(sae_contact=contact).delete()
    return deleted
