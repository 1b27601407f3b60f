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
from contacts import channels
from contacts.models import Contact

LINKED_PHONE_TAKEN = gettext_noop(
    "This phone number belongs to an ARMS contact that another SAE contact is already linked "
    "to. Enter another phone number."
)
ARMS_PHONE_TAKEN = gettext_noop(
    "Another ARMS contact of this account already has this phone number."
)
ARMS_MAILBOX_TAKEN = gettext_noop("Another ARMS contact of this account already uses this mailbox.")


def copied_fields() -> dict[str, str]:
    """ARMS contact field <- SAE contact attribute: what every link and edit copies (the name,
    the phone, and each channel field that has an ARMS counterpart: contacts/channels)."""
    found = {"name": "username", "phone": "phone"}
    for field in channels.all_fields():
        if field.arms_field:
            found[field.arms_field] = field.name
    return found


def copy_contact_fields(arms: ArmsContact, contact: Contact) -> None:
    """On every link and edit the ARMS contact takes the SAE contact's name and channels."""
    for arms_field, contact_attribute in copied_fields().items():
        setattr(arms, arms_field, getattr(contact, contact_attribute))


def _edit_conflicts(account_id: int, arms: ArmsContact | None, phone, mailbox: str) -> dict:
    """The fields another ARMS contact of the account already holds (phone, mailbox)."""
    others = ArmsContact.objects.filter(account_id=account_id)
    if arms is not None and arms.pk:
        others = others.exclude(pk=arms.pk)
    errors = {}
    if phone is not None and others.filter(phone=phone).exists():
        errors["phone"] = _(ARMS_PHONE_TAKEN)
    if mailbox and others.filter(email__iexact=mailbox).exists():
        errors["mailbox"] = _(ARMS_MAILBOX_TAKEN)
    return errors


def check_conflicts(contact: Contact, arms: ArmsContact | None) -> None:
    """Refuse a phone or mailbox that another ARMS contact of the account holds."""
    errors = _edit_conflicts(contact.account_id, arms, contact.phone, contact.mailbox)
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


def _new_contact_conflicts(
    account_id: int, phone, mailbox: str, *, contact_pk=None, lock: bool = False
) -> tuple[ArmsContact | None, dict]:
    """The ARMS contact with phone P (if any) and what rules §5 refuses for a new contact:
    P's ARMS contact linked to another contact (case 3), or a mailbox another ARMS contact
    holds. One query finds both (a contact created just now has no other link to drop)."""
    wanted = Q(phone=phone) | Q(email__iexact=mailbox) if mailbox else Q(phone=phone)
    found = ArmsContact.objects.filter(wanted, account_id=account_id)
    found = list(found.select_for_update() if lock else found)
    arms = next((a for a in found if a.phone and a.phone.as_e164 == phone.as_e164), None)
    errors = {}
    if arms is not None and arms.sae_contact_id not in (None, contact_pk):
        errors["phone"] = _(LINKED_PHONE_TAKEN)
    # Only one ARMS contact can have P: any other found holds the mailbox.
    if any(other is not arms for other in found):
        errors["mailbox"] = _(ARMS_MAILBOX_TAKEN)
    return arms, errors


def link_new_contact(contact: Contact) -> ArmsContact:
    """rules §5, creating a contact with phone P: (1) no ARMS contact has P: create one and link;
    (2) one has P and is free: link it; (3) one has P and another SAE contact is linked to it:
    refuse on Phone Number. A mailbox another ARMS contact holds is refused on Mailbox."""
    arms, errors = _new_contact_conflicts(
        contact.account_id, contact.phone, contact.mailbox, contact_pk=contact.pk, lock=True
    )
    if "phone" in errors:
        raise ValidationError({"phone": errors["phone"]}, code="linked_phone")
    if errors:
        raise ValidationError(errors)
    return _attach(contact, arms or ArmsContact(account_id=contact.account_id))


def link_errors(*, account_id: int, contact: Contact | None, phone, mailbox: str) -> dict:
    """What `link_new_contact` (a new contact) or `propagate_edit` (an edit) would refuse on the
    ARMS side, read without locks, for a form that shows it beside its own errors."""
    if contact is not None:
        linked = ArmsContact.objects.filter(sae_contact=contact).first()
        if linked is None:
            return {}  # an edit of a contact that is not linked leaves ARMS alone
        return _edit_conflicts(account_id, linked, phone, mailbox)
    if phone is None:
        return {}  # which ARMS contact a mailbox may share depends on the phone
    return _new_contact_conflicts(account_id, phone, mailbox)[1]


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
