"""Reads of SAE contacts that carry rules (SPEC 3, 4): who sees, manages and may choose what,
and the query bar. Every page and the services ask here, so each rule lives in one place."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from contacts.models import Contact
from ram_directory.access import get_for_account
from ram_directory.models import RamUser
from ram_directory.principal import Principal

# The query bar's drop-down (SPEC 4): Username is the default.
# Labels translated by the template ({% translate label %}); marked here for makemessages.
QUERY_FIELDS = {
    "username": gettext_noop("Username"),
    "phone": gettext_noop("Phone Number"),
    "mailbox": gettext_noop("Mailbox"),
}
DEFAULT_QUERY_FIELD = "username"
NOT_ALLOWED_TO_MANAGE = gettext_noop(
    "You can only edit or delete the contacts you created and your own."
)

_PHONE_QUERY_NOISE = re.compile(r"[\s\-().]")


def can_merge(principal: Principal) -> bool:
    """SPEC 3: the owner and RAM users allowed ram:ListUsers may Merge Contacts."""
    return principal.can_list_users()


def visible_contacts(principal: Principal) -> QuerySet[Contact]:
    """SPEC 3 "sees in the list": the owner and ListUsers holders see every contact of the
    account; other RAM users the contacts they created and their own."""
    contacts = Contact.objects.for_account(principal.account)
    if not principal.can_list_users():
        me = principal.ram_user
        contacts = contacts.filter(Q(created_by=me) | Q(ram_user=me))
    return contacts


def contacts_for_list(principal: Principal) -> QuerySet[Contact]:
    """What the Contact Management table shows, in one query whatever the number of rows."""
    return visible_contacts(principal).select_related(
        "account", "ram_user", "created_by", "arms_contact"
    )


def can_manage(principal: Principal, contact: Contact) -> bool:
    """SPEC 3 "may edit / delete": the owner all of the account's contacts; a RAM user (with or
    without ListUsers) the contacts it created and its own."""
    if contact.account_id != principal.account.pk:
        return False
    if principal.is_owner:
        return True
    me = principal.ram_user.pk
    return contact.created_by_id == me or contact.ram_user_id == me


def contact_to_manage(principal: Principal, pk) -> Contact:
    """The contact an action of a page changes (Edit, Delete, Test): 404 for another account's
    contact and for one the principal may not see (SPEC 1, 3); 403 for one it sees but may not
    manage."""
    contact = get_for_account(
        visible_contacts(principal).select_related("account", "ram_user"), principal, pk=pk
    )
    if not can_manage(principal, contact):
        raise PermissionDenied(_(NOT_ALLOWED_TO_MANAGE))
    return contact


@dataclass(frozen=True)
class UsernameChoices:
    """What the principal may pick under Username (SPEC 3, first column)."""

    account_itself: bool  # "Alibaba Cloud account: enter manually"
    ram_users: QuerySet[RamUser]  # "RAM user: select from the drop-down list"
    only_itself: bool  # a RAM user without ram:ListUsers: the drop-down holds itself alone


def username_choices(principal: Principal) -> UsernameChoices:
    users = RamUser.objects.for_account(principal.account).order_by("user_name")
    if principal.is_owner:
        return UsernameChoices(account_itself=True, ram_users=users, only_itself=False)
    if principal.can_list_users():
        return UsernameChoices(account_itself=False, ram_users=users, only_itself=False)
    return UsernameChoices(
        account_itself=False, ram_users=users.filter(pk=principal.ram_user.pk), only_itself=True
    )


def phone_query_digits(value: str) -> str | None:
    """The digits to look for in the stored E.164 number, however the query was typed
    (`138 1111`, `+86138…`, `0086…`, `86-138…`); None if the query cannot match a number."""
    text = _PHONE_QUERY_NOISE.sub("", unicodedata.normalize("NFKC", value))
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix) :]
            break
    if text.startswith("+"):
        text = text[1:]
    return text if text.isdigit() else None


def search(queryset: QuerySet[Contact], field: str, value: str) -> QuerySet[Contact]:
    """The query bar (SPEC 4): a case-insensitive substring of the chosen field."""
    value = (value or "").strip()
    if not value:
        return queryset
    if "\x00" in value:
        return queryset.none()  # no contact holds it; PostgreSQL refuses it in a query
    if field == "phone":
        digits = phone_query_digits(value)
        if digits is None:
            return queryset.none()
        # Stored as E.164 (`+86…`): the digits are a plain substring of the column.
        return queryset.filter(phone__contains=digits)
    if field == "mailbox":
        return queryset.filter(mailbox__icontains=value)
    return queryset.filter(
        Q(ram_user__user_name__icontains=value)
        | Q(ram_user__isnull=True, account__login_name__icontains=value)
    )
