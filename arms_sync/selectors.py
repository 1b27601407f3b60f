"""Reads of the ARMS side that carry rules: who may view the ARMS pages, and their queries.

Who may view (a decision where the rules are silent): the ARMS pages are read-only views of the
account's alerting set-up, open to the owner, to a RAM user allowed ram:ListUsers (it already sees
every contact of the account, rules §3), and to a RAM user allowed the page's ARMS read action
(`arms:SearchAlertContact`, `arms:SearchAlertContactGroup`, `arms:ListNotificationPolicies`,
the names of ARMS's own API, so `arms:*` or `arms:Search*` in a policy grants them). Everyone
else gets 403. Lookups by ID are scoped to the principal's account first (404 otherwise).
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from arms_sync.models import ArmsContact, ContactGroup, NotificationPolicy
from ram_directory.access import get_for_account
from ram_directory.principal import Principal

SEARCH_CONTACTS = "arms:SearchAlertContact"
SEARCH_GROUPS = "arms:SearchAlertContactGroup"
LIST_POLICIES = "arms:ListNotificationPolicies"
DELETE_CONTACT = "arms:DeleteAlertContact"

NOT_ALLOWED_TO_VIEW = gettext_noop(
    "You need the RAM permission ram:ListUsers or {action} to view the ARMS side. Ask the "
    "Alibaba Cloud account owner to attach a policy that allows it."
)
NOT_ALLOWED_TO_DELETE = gettext_noop(
    "You need the permission arms:DeleteAlertContact to delete ARMS contacts."
)

QUERY_FIELDS = {
    "name": gettext_noop("Name"),
    "phone": gettext_noop("Phone Number"),
    "email": gettext_noop("Email"),
}
DEFAULT_QUERY_FIELD = "name"
_PHONE_NOISE = re.compile(r"[\s\-().+]")


def can_view(principal: Principal, action: str) -> bool:
    return principal.can_list_users() or principal.can(action)


def ensure_may_view(principal: Principal, action: str) -> None:
    if not can_view(principal, action):
        raise PermissionDenied(_(NOT_ALLOWED_TO_VIEW).format(action=action))


def can_delete_contact(principal: Principal) -> bool:
    return principal.is_owner or principal.can(DELETE_CONTACT)


def _phone_digits(text: str) -> str:
    return _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", text))


def arms_contacts_for_list(
    principal: Principal, *, field: str = DEFAULT_QUERY_FIELD, query: str = ""
) -> QuerySet[ArmsContact]:
    """The ARMS contacts page: every ARMS contact of the account with the SAE contact it is
    linked to, in one query; the query bar matches a case-insensitive substring, a phone
    however it is typed."""
    ensure_may_view(principal, SEARCH_CONTACTS)
    contacts = ArmsContact.objects.for_account(principal.account).select_related(
        "sae_contact__ram_user", "sae_contact__account"
    )
    query = query.strip()
    if query:
        if field == "phone":
            digits = _phone_digits(query)
            if digits.startswith("0086"):
                digits = digits[2:]
            contacts = contacts.filter(phone__contains=digits) if digits else contacts.none()
        elif field == "email":
            contacts = contacts.filter(email__icontains=query)
        else:
            contacts = contacts.filter(name__icontains=query)
    return contacts.order_by("name", "id")


def arms_contact_for_delete(principal: Principal, pk: int) -> ArmsContact:
    arms = get_for_account(
        ArmsContact.objects.select_related("sae_contact__ram_user", "sae_contact__account"),
        principal,
        pk=pk,
    )
    if not can_delete_contact(principal):
        raise PermissionDenied(_(NOT_ALLOWED_TO_DELETE))
    return arms


def groups_for_list(principal: Principal) -> QuerySet[ContactGroup]:
    ensure_may_view(principal, SEARCH_GROUPS)
    return (
        ContactGroup.objects.for_account(principal.account)
        .annotate(member_count=Count("members", distinct=True))
        .order_by("name")
    )


def group_for_view(principal: Principal, pk: int) -> ContactGroup:
    group = get_for_account(
        ContactGroup.objects.annotate(member_count=Count("members", distinct=True)),
        principal,
        pk=pk,
    )
    ensure_may_view(principal, SEARCH_GROUPS)
    return group


def group_members(group: ContactGroup) -> QuerySet[ArmsContact]:
    return group.members.select_related("sae_contact__ram_user", "sae_contact__account").order_by(
        "name", "id"
    )


def group_policies(group: ContactGroup) -> QuerySet[NotificationPolicy]:
    return group.policies.order_by("name")


def policies_for_list(principal: Principal) -> QuerySet[NotificationPolicy]:
    ensure_may_view(principal, LIST_POLICIES)
    return (
        NotificationPolicy.objects.for_account(principal.account)
        .prefetch_related(Prefetch("groups", queryset=ContactGroup.objects.order_by("name")))
        .order_by("name")
    )


def not_linked_contacts_count(principal: Principal) -> int:
    """How many SAE contacts have no ARMS contact ("Not linked"): shown as a hint."""
    from contacts.models import Contact

    return (
        Contact.objects.for_account(principal.account).filter(Q(arms_contact__isnull=True)).count()
    )
