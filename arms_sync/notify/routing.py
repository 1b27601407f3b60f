"""Routing (rules §8): an event's labels -> the account's enabled notification policies whose
`match_labels` all match -> their contact groups -> every ARMS contact in them."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Prefetch

from arms_sync.models import ArmsContact, ContactGroup, NotificationPolicy
from arms_sync.notify.outbox import Recipient
from ram_directory.models import Account


def matches(policy: NotificationPolicy, labels: dict[str, str]) -> bool:
    """Every key of the policy's match labels is in `labels` with that value ({} matches all)."""
    wanted = policy.match_labels if isinstance(policy.match_labels, dict) else {}
    return all(labels.get(key) == value for key, value in wanted.items())


# What a recipient is made of (outbox.Recipient.from_arms_contact, outbox.language_of): the
# members are read with these fields only, not their SAE contact's and RAM user's whole rows
# (a post routed to 100 contacts read and decrypted three rows' worth of each).
MEMBER_FIELDS = (
    *ArmsContact.CHANNEL_FIELDS,
    "sae_contact__ram_user_id",
    "sae_contact__ram_user__sign_in__language",
)


def enabled_policies(account: Account) -> list[NotificationPolicy]:
    """The account's enabled policies with their groups and members (three queries; the
    members come with their sign-in, for the language of what is sent to them)."""
    members = Prefetch(
        "groups",
        queryset=ContactGroup.objects.prefetch_related(
            Prefetch(
                "members",
                queryset=ArmsContact.objects.select_related("sae_contact__ram_user__sign_in")
                .only(*MEMBER_FIELDS)
                .order_by("name", "id"),
            )
        ),
    )
    return list(
        NotificationPolicy.objects.filter(account=account, enabled=True)
        .prefetch_related(members)
        .order_by("name")
    )


def route(
    policies: list[NotificationPolicy],
    labels_per_item: list[dict[str, str]],
    *,
    owner_language: str = "",
) -> tuple[list[list[str]], list[Recipient]]:
    """For items (alerts) of one event: the names of the policies each matched, and the
    recipients, each carrying the positions of the items routed to it. A contact reached by
    several policies or groups is one recipient: one delivery per target, not one per path."""
    matched_names: list[list[str]] = []
    positions: dict[int, set[int]] = defaultdict(set)
    contacts: dict[int, ArmsContact] = {}
    for position, labels in enumerate(labels_per_item):
        matched = [p for p in policies if matches(p, labels)]
        matched_names.append([p.name for p in matched])
        for policy in matched:
            for group in policy.groups.all():
                for member in group.members.all():
                    contacts[member.pk] = member
                    positions[member.pk].add(position)
    recipients = [
        Recipient.from_arms_contact(
            contacts[pk], alerts=tuple(sorted(found)), owner_language=owner_language
        )
        for pk, found in positions.items()
    ]
    return matched_names, recipients
