"""Linking SAE contacts to ARMS contacts and keeping the pair in step (rules §5).

Called by the signal receivers (creation, edit, deletion of a contact), reconcile and merge. Every
function runs inside the caller's transaction; a refusal is a ValidationError naming the SAE
contact's field, so the contact service's `atomic()` rolls the whole change back and the form
shows the message next to that field.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from arms_sync.managed import ManagedObjects, ensure_managed
from arms_sync.models import ArmsContact, ContactGroup
from contacts.models import Contact

LINKED_PHONE_TAKEN = gettext_noop(
    "This phone number belongs to an ARMS contact that another SAE contact is already linked "
    "to. Enter another phone number."
)
ARMS_PHONE_TAKEN = gettext_noop(
    "Another ARMS contact of this account already has this phone number."
)
ARMS_MAILBOX_TAKEN = gettext_noop("Another ARMS contact of this account already uses this mailbox.")


# ARMS contact field <- SAE contact attribute: what every link and edit copies.
COPIED_FIELDS = {
    "name": "username",
    "phone": "phone",
    "email": "mailbox",
    "ding_robot_url": "dingtalk_webhook",
    "ding_robot_secret": "dingtalk_secret",
    "ding_robot_keyword": "dingtalk_keyword",
    "wecom_robot_url": "wecom_webhook",
}


def copy_contact_fields(arms: ArmsContact, contact: Contact) -> None:
    """On every link and edit the ARMS contact takes the SAE contact's name and channels."""
    for arms_field, contact_attribute in COPIED_FIELDS.items():
        setattr(arms, arms_field, getattr(contact, contact_attribute))


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
    # No savepoint of its own (two round trips a save): every caller runs in an atomic() that
    # the ValidationError leaves, which rolls the whole change back (module docstring).
    try:
        arms.save()
    except IntegrityError as exc:
        field = "mailbox" if "email" in str(exc) else "phone"
        message = _(ARMS_MAILBOX_TAKEN) if field == "mailbox" else _(ARMS_PHONE_TAKEN)
        raise ValidationError({field: message}) from None


def managed_groups(contact: Contact, managed: ManagedObjects) -> list[ContactGroup]:
    """The `sae:` groups a linked ARMS contact belongs to: `sae:contacts`, and for the
    account itself `sae:approvers` (the owner decides permission requests, rules §9: its
    contact hears of them by default)."""
    if contact.is_account_itself:
        return [managed.contacts_group, managed.approvers_group]
    return [managed.contacts_group]


def join_groups(pairs: list[tuple[ContactGroup, ArmsContact]]) -> None:
    """Add ARMS contacts to groups in one INSERT (members.add() is one per group); a
    membership already there stays as it is."""
    through = ContactGroup.members.through
    through.objects.bulk_create(
        [through(contactgroup_id=group.pk, armscontact_id=arms.pk) for group, arms in pairs],
        ignore_conflicts=True,
    )


def _attach(contact: Contact, arms: ArmsContact) -> ArmsContact:
    """Link the pair: the ARMS contact takes the contact's name and channels and joins its
    `sae:` groups. (Merge Contacts links many at once, in bulk: arms_sync.merge.applying.)"""
    copy_contact_fields(arms, contact)
    arms.sae_contact = contact
    _save(arms)
    managed = ensure_managed(contact.account)
    join_groups([(group, arms) for group in managed_groups(contact, managed)])
    return arms


def link_new_contact(contact: Contact) -> ArmsContact:
    """rules §5, creating a contact with phone P: (1) no ARMS contact has P: create one and link;
    (2) one has P and is free: link it; (3) one has P and another SAE contact is linked to it:
    refuse on Phone Number. A mailbox another ARMS contact holds is refused on Mailbox.

    One query finds both the ARMS contact with P and any that holds the mailbox (a contact
    created just now has no other link to drop)."""
    wanted = Q(phone=contact.phone)
    if contact.mailbox:
        wanted |= Q(email__iexact=contact.mailbox)
    found = list(
        ArmsContact.objects.select_for_update().filter(wanted, account_id=contact.account_id)
    )
    phone = contact.phone.as_e164
    arms = next((a for a in found if a.phone and a.phone.as_e164 == phone), None)
    if arms is None:
        arms = ArmsContact(account_id=contact.account_id)
    elif arms.sae_contact_id is not None and arms.sae_contact_id != contact.pk:
        raise ValidationError({"phone": _(LINKED_PHONE_TAKEN)}, code="linked_phone")
    # Only one ARMS contact can have P: any other found holds the mailbox.
    if any(other is not arms for other in found):
        raise ValidationError({"mailbox": _(ARMS_MAILBOX_TAKEN)})
    return _attach(contact, arms)


def link_errors(*, account_id: int, contact: Contact | None, phone, mailbox: str) -> dict:
    """What `link_new_contact` (a new contact) or `propagate_edit` (an edit) would refuse on the
    ARMS side, read without locks, for a form that shows it beside its own errors."""
    errors = {}
    arms_contacts = ArmsContact.objects.filter(account_id=account_id)
    if contact is not None:
        linked = arms_contacts.filter(sae_contact=contact).first()
        if linked is None:
            return errors  # an edit of a contact that is not linked leaves ARMS alone
        others = arms_contacts.exclude(pk=linked.pk)
        if phone is not None and others.filter(phone=phone).exists():
            errors["phone"] = _(ARMS_PHONE_TAKEN)
        if mailbox and others.filter(email__iexact=mailbox).exists():
            errors["mailbox"] = _(ARMS_MAILBOX_TAKEN)
        return errors
    if phone is None:
        return errors  # which ARMS contact a mailbox may share depends on the phone
    wanted = Q(phone=phone) | Q(email__iexact=mailbox) if mailbox else Q(phone=phone)
    found = list(arms_contacts.filter(wanted))
    arms = next((a for a in found if a.phone and a.phone.as_e164 == phone.as_e164), None)
    if arms is not None and arms.sae_contact_id is not None:
        errors["phone"] = _(LINKED_PHONE_TAKEN)
    if any(other is not arms for other in found):
        errors["mailbox"] = _(ARMS_MAILBOX_TAKEN)
    return errors


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
