"""The console-managed `sae:` objects on the ARMS side (rules §7), created on first use."""

from __future__ import annotations

from functools import cached_property

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
# The `sae:` groups, in the order reconcile reports them missing.
MANAGED_GROUPS = (CONTACTS_GROUP, APPROVERS_GROUP)


class ManagedObjects:
    """The account's `sae:` groups, and its `sae:default` policy (read when first asked for:
    linking needs only the groups)."""

    def __init__(
        self,
        contacts_group: ContactGroup,
        approvers_group: ContactGroup,
        default_policy: NotificationPolicy | None = None,
    ):
        self.contacts_group = contacts_group
        self.approvers_group = approvers_group
        if default_policy is not None:
            self.__dict__["default_policy"] = default_policy

    @cached_property
    def default_policy(self) -> NotificationPolicy:
        return NotificationPolicy.objects.get(
            account_id=self.contacts_group.account_id, name=DEFAULT_POLICY
        )


def _get_or_create(model, *, account: Account, name: str, defaults: dict):
    # Two first uses can race; the unique (account, name) constraint picks one winner.
    try:
        with transaction.atomic():
            return model.objects.get_or_create(account=account, name=name, defaults=defaults)[0]
    except IntegrityError:
        return model.objects.get(account=account, name=name)


def ensure_managed(account: Account) -> ManagedObjects:
    """Return the account's `sae:` groups and policy, creating whatever is missing."""
    # Every link calls this: when all three exist and `sae:default` routes `sae:contacts`
    # (nearly always), one query finds them.
    routed = NotificationPolicy.groups.through.objects.filter(
        contactgroup_id=OuterRef("pk"),
        notificationpolicy__account=account,
        notificationpolicy__name=DEFAULT_POLICY,
    )
    groups = {
        g.name: g
        for g in ContactGroup.objects.filter(account=account, name__in=MANAGED_GROUPS).annotate(
            routed=Exists(routed)
        )
    }
    if len(groups) == len(MANAGED_GROUPS) and groups[CONTACTS_GROUP].routed:
        return ManagedObjects(groups[CONTACTS_GROUP], groups[APPROVERS_GROUP])
    return _create_managed(account)


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
