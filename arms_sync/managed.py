"""The console-managed `sae:` objects on the ARMS side (SPEC 7), created on first use."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from arms_sync.models import (
    APPROVERS_GROUP,
    CONTACTS_GROUP,
    DEFAULT_POLICY,
    MANAGED_GROUP_DESCRIPTIONS,
    ContactGroup,
    NotificationPolicy,
)
from ram_directory.models import Account

# The labels SAE puts on every event it raises; `sae:default` routes exactly those.
SAE_EVENT_LABELS = {"source": "sae"}


@dataclass(frozen=True)
class ManagedObjects:
    contacts_group: ContactGroup
    approvers_group: ContactGroup
    default_policy: NotificationPolicy


def _get_or_create(model, *, account: Account, name: str, defaults: dict):
    # Two first uses can race; the unique (account, name) constraint picks one winner.
    try:
        with transaction.atomic():
            return model.objects.get_or_create(account=account, name=name, defaults=defaults)[0]
    except IntegrityError:
        return model.objects.get(account=account, name=name)


def ensure_managed(account: Account) -> ManagedObjects:
    """Return the account's `sae:` groups and policy, creating whatever is missing."""
    # Every link calls this: when all three exist (nearly always), two queries find them.
    groups = {
        g.name: g
        for g in ContactGroup.objects.filter(
            account=account, name__in=(CONTACTS_GROUP, APPROVERS_GROUP)
        )
    }
    policy = (
        NotificationPolicy.objects.filter(account=account, name=DEFAULT_POLICY)
        .annotate(routes_contacts=Exists(_routes(CONTACTS_GROUP)))
        .first()
    )
    if len(groups) == 2 and policy is not None and policy.routes_contacts:
        return ManagedObjects(groups[CONTACTS_GROUP], groups[APPROVERS_GROUP], policy)
    return _create_managed(account)


def _routes(group_name: str):
    return NotificationPolicy.groups.through.objects.filter(
        notificationpolicy_id=OuterRef("pk"), contactgroup__name=group_name
    )


def _create_managed(account: Account) -> ManagedObjects:
    contacts_group = _get_or_create(
        ContactGroup,
        account=account,
        name=CONTACTS_GROUP,
        defaults={"description": MANAGED_GROUP_DESCRIPTIONS[CONTACTS_GROUP]},
    )
    approvers_group = _get_or_create(
        ContactGroup,
        account=account,
        name=APPROVERS_GROUP,
        defaults={"description": MANAGED_GROUP_DESCRIPTIONS[APPROVERS_GROUP]},
    )
    default_policy = _get_or_create(
        NotificationPolicy,
        account=account,
        name=DEFAULT_POLICY,
        defaults={"match_labels": SAE_EVENT_LABELS},
    )
    if not default_policy.groups.filter(pk=contacts_group.pk).exists():
        default_policy.groups.add(contacts_group)
    return ManagedObjects(contacts_group, approvers_group, default_policy)
