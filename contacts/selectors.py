"""Reads of SAE contacts that carry rules (rules §3, §4): who sees, manages and may choose what,
and the query bar. Every page and the services ask here, so each rule lives in one place."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, CharField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Cast, Coalesce, Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from contacts import channels
from contacts.models import Contact
from ram_directory.access import get_for_account
from ram_directory.models import RamUser
from ram_directory.principal import Principal

# The query bar's drop-down (rules §4): Username is the default.
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

# The table's sortable columns (the product page sorts by these): the key `?sort=` names,
# ascending, or descending with a leading "-". The username is the RAM user's name or, for the
# account itself, its login name, compared without regard to case.
SORT_COLUMNS = {
    "username": Lower(Coalesce("ram_user__user_name", "account__login_name")),
    "phone": F("phone"),  # E.164 text: mainland mobiles all have 14 characters
    "created": F("created_at"),
}
DEFAULT_SORT = "created"  # oldest first, as the list always was (Contact.Meta.ordering)


@dataclass(frozen=True, slots=True)
class ContactSort:
    """The table's order, from `?sort=`: anything unknown means the default."""

    key: str = DEFAULT_SORT
    descending: bool = False

    @classmethod
    def parse(cls, value: str | None) -> ContactSort:
        value = value or ""
        key = value.removeprefix("-")
        if key not in SORT_COLUMNS:
            return cls()
        return cls(key=key, descending=value.startswith("-"))

    @property
    def param(self) -> str:
        return f"-{self.key}" if self.descending else self.key

    @property
    def is_default(self) -> bool:
        return self == ContactSort()

    def order_by(self) -> list:
        """The column, then the pk in the same direction: rows that tie (two contacts created
        in the same instant) keep one order, and descending is exactly ascending reversed."""
        column = SORT_COLUMNS[self.key]
        if self.descending:
            return [column.desc(), "-pk"]
        return [column.asc(), "pk"]

    def next_for(self, key: str) -> ContactSort:
        """What a click on `key`'s header asks for: ascending, or the other way if the table is
        already sorted by it."""
        if key == self.key:
            return ContactSort(key=key, descending=not self.descending)
        return ContactSort(key=key)


def can_merge(principal: Principal) -> bool:
    """rules §3: the owner and RAM users allowed ram:ListUsers may Merge Contacts."""
    return principal.can_list_users()


def visible_contacts(principal: Principal) -> QuerySet[Contact]:
    """rules §3 "sees in the list": the owner and ListUsers holders see every contact of the
    account; other RAM users the contacts they created and their own."""
    contacts = Contact.objects.for_account(principal.account)
    if not principal.can_list_users():
        me = principal.ram_user
        contacts = contacts.filter(Q(created_by=me) | Q(ram_user=me))
    return contacts


def contacts_for_list(principal: Principal) -> QuerySet[Contact]:
    """The contacts the Contact Management table lists, as model instances (one query)."""
    return visible_contacts(principal).select_related(
        "account", "ram_user", "created_by", "arms_contact"
    )


@dataclass(frozen=True, slots=True)
class ChannelCell:
    """A channel as the table shows it: the address (a robot's masked, as stored beside the
    encrypted URL) and whether its badge companion is stored (a DingTalk signing secret)."""

    channel: str
    value: str
    badge: bool = False


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One contact as the Contact Management table shows it. The page reads only these columns,
    straight from the query: no model instances, no phone number parsed back from its stored
    E.164 text, no ARMS contact loaded (and its robots decrypted) for its name, no signing
    secret decrypted to learn that there is one (rules §8 keeps empty secrets empty), no robot URL
    decrypted to be masked (the masked form is a column of its own)."""

    pk: int
    account_id: int
    ram_user_id: int | None
    created_by_id: int | None
    username: str
    phone: str  # E.164, as stored
    # Each channel's cell, in the channels' order (contacts/channels).
    channels: tuple[ChannelCell, ...]
    arms_name: str | None  # None: not linked
    created_by: str  # the RAM user who created it, or the account's login name
    created_at: datetime
    # A connected account (the aliyun app): the user is gone from RAM; where the linked ARMS
    # contact stands in the real ARMS (None: not connected, or never pushed), its remote ID,
    # and ARMS's refusal when it failed.
    ram_deleted: bool = False
    arms_state: str | None = None
    arms_remote_id: int | None = None
    arms_error: str = ""

    @property
    def is_account_itself(self) -> bool:
        return self.ram_user_id is None


_ROW_COLUMNS = (
    "pk",
    "account_id",
    "ram_user_id",
    "created_by_id",
    "ram_user__user_name",
    "phone_text",
    "arms_contact__pk",
    "arms_contact__name",
    "created_by__user_name",
    "created_at",
    "ram_user__deleted_in_ram_at",
    # The cloud's state of the linked ARMS contact (aliyun.ArmsContactSync), same query.
    "arms_contact__cloud__state",
    "arms_contact__cloud__remote_id",
    "arms_contact__cloud__error",
)


def contact_rows(
    principal: Principal, field: str, value: str, sort: ContactSort | None = None
) -> list[ContactRow]:
    """The Contact Management table (rules §3, §4): the visible contacts matching the query bar,
    in `sort`'s order, in one query whatever the number of rows and the order."""
    login_name = principal.account.login_name
    # Each channel's shown value and, for one with a badge, whether its companion is stored
    # (no secret decrypted to learn that there is one: rules §8 keeps empty secrets empty).
    shown = {c.name: c.address.masked_column or c.address.name for c in channels.all_channels()}
    badges = {
        f"badge_{c.name}": ExpressionWrapper(~Q(**{c.badge_field: ""}), output_field=BooleanField())
        for c in channels.all_channels()
        if c.badge_field
    }
    contacts = (
        search(visible_contacts(principal), field, value)
        .annotate(phone_text=Cast("phone", output_field=CharField()), **badges)
        .order_by(*(sort or ContactSort()).order_by())
    )
    cells = [*shown.values(), *badges]
    rows = []
    for found in contacts.values_list(*_ROW_COLUMNS, *cells):
        (
            pk,
            account_id,
            ram_user_id,
            created_by_id,
            user_name,
            phone,
            arms_pk,
            arms_name,
            created_by_name,
            created_at,
            deleted_in_ram_at,
            arms_state,
            arms_remote_id,
            arms_error,
        ) = found[: len(_ROW_COLUMNS)]
        by_column = dict(zip(cells, found[len(_ROW_COLUMNS) :], strict=True))
        rows.append(
            ContactRow(
                pk=pk,
                account_id=account_id,
                ram_user_id=ram_user_id,
                created_by_id=created_by_id,
                username=user_name if ram_user_id else login_name,
                phone=phone,
                channels=tuple(
                    ChannelCell(name, by_column[column], by_column.get(f"badge_{name}", False))
                    for name, column in shown.items()
                ),
                arms_name=arms_name if arms_pk is not None else None,
                created_by=created_by_name if created_by_id else login_name,
                created_at=created_at,
                ram_deleted=deleted_in_ram_at is not None,
                arms_state=arms_state if arms_pk is not None else None,
                arms_remote_id=arms_remote_id,
                arms_error=arms_error or "",
            )
        )
    return rows


def can_manage(principal: Principal, contact: Contact | ContactRow) -> bool:
    """rules §3 "may edit / delete": the owner all of the account's contacts; a RAM user (with or
    without ListUsers) the contacts it created and its own."""
    if contact.account_id != principal.account.pk:
        return False
    if principal.is_owner:
        return True
    me = principal.ram_user.pk
    return contact.created_by_id == me or contact.ram_user_id == me


def contact_to_manage(principal: Principal, pk) -> Contact:
    """The contact an action of a page changes (Edit, Delete, Test): 404 for another account's
    contact and for one the principal may not see (rules §1, §3); 403 for one it sees but may not
    manage."""
    contact = get_for_account(
        visible_contacts(principal).select_related("account", "ram_user"), principal, pk=pk
    )
    if not can_manage(principal, contact):
        raise PermissionDenied(_(NOT_ALLOWED_TO_MANAGE))
    return contact


@dataclass(frozen=True)
class UsernameChoices:
    """What the principal may pick under Username (rules §3, first column)."""

    account_itself: bool  # "Alibaba Cloud account: enter manually"
    ram_users: QuerySet[RamUser]  # "RAM user: select from the drop-down list"
    only_itself: bool  # a RAM user without ram:ListUsers: the drop-down holds itself alone


def username_choices(principal: Principal) -> UsernameChoices:
    # A RAM user gone from the account's real RAM (a cloud sync marked it) is no choice.
    users = (
        RamUser.objects.for_account(principal.account)
        .filter(deleted_in_ram_at__isnull=True)
        .order_by("user_name")
    )
    if principal.is_owner:
        return UsernameChoices(account_itself=True, ram_users=users, only_itself=False)
    if principal.can_list_users():
        return UsernameChoices(account_itself=False, ram_users=users, only_itself=False)
    return UsernameChoices(
        account_itself=False, ram_users=users.filter(pk=principal.ram_user.pk), only_itself=True
    )


@dataclass(frozen=True)
class TakenUsernames:
    """Who, and which phone numbers, already have a contact in the account (one query: an
    account holds at most 100 contacts). The New Contact panel marks those RAM users and
    refuses a taken username or phone in the same pass as every other field (issue 18)."""

    ram_user_ids: frozenset[int]
    account_itself: bool
    phones: frozenset[str]  # E.164

    def has_contact(self, ram_user_id: int | None) -> bool:
        if ram_user_id is None:
            return self.account_itself
        return ram_user_id in self.ram_user_ids

    def phone_has_contact(self, phone) -> bool:
        return str(phone) in self.phones


def taken_usernames(account) -> TakenUsernames:
    rows = list(
        Contact.objects.filter(account_id=account.pk)
        .annotate(phone_text=Cast("phone", output_field=CharField()))
        .values_list("ram_user_id", "phone_text")
    )
    ids = {ram_user_id for ram_user_id, _phone in rows}
    return TakenUsernames(
        ram_user_ids=frozenset(i for i in ids if i is not None),
        account_itself=None in ids,
        phones=frozenset(phone for _id, phone in rows),
    )


def is_linked(contact: Contact) -> bool:
    """Whether an ARMS contact is linked to `contact` (the reverse one-to-one that arms_sync
    declares; asked by name, so this app imports nothing of arms_sync)."""
    return Contact.objects.filter(pk=contact.pk, arms_contact__isnull=False).exists()


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
    """The query bar (rules §4): a case-insensitive substring of the chosen field."""
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
