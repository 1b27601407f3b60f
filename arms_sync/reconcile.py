"""Reconcile (rules §7): find drift between SAE and the ARMS side, and repair what is safe.

Drift is: a missing `sae:` group or policy; `sae:default` not routing SAE events to
`sae:contacts` (group missing from it, disabled, or other labels); a linked ARMS contact
missing from `sae:contacts`; a linked ARMS contact whose name, phone, email or robots differ
from its SAE contact; an SAE contact with no linked ARMS contact ("Not linked").

`fix_drift` recreates the managed objects, re-adds members, re-copies fields (refused where
another ARMS contact holds the phone or mailbox) and links Not-linked contacts by the rules of
creation (rules §5): it never takes an ARMS contact linked to another SAE contact. What it could
not fix is reported with the reason, and the drift found afterwards is the truth.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from arms_sync import linking
from arms_sync.managed import MANAGED_GROUPS, SAE_EVENT_LABELS, ensure_managed
from arms_sync.models import (
    CONTACTS_GROUP,
    DEFAULT_POLICY,
    ArmsContact,
    ContactGroup,
    NotificationPolicy,
)
from contacts.models import Contact
from ram_directory.models import Account

MISSING_GROUP = "missing_group"
MISSING_POLICY = "missing_policy"
POLICY_NOT_ROUTING = "policy_not_routing"
NOT_IN_GROUP = "not_in_group"
FIELDS_DIFFER = "fields_differ"
NOT_LINKED = "not_linked"
KINDS = (MISSING_GROUP, MISSING_POLICY, POLICY_NOT_ROUTING, NOT_IN_GROUP, FIELDS_DIFFER, NOT_LINKED)


@dataclass(frozen=True)
class Drift:
    kind: str
    subject: str  # the group, policy, ARMS contact or SAE contact concerned
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FixReport:
    found: tuple[Drift, ...]
    remaining: tuple[Drift, ...]
    # Why an item could not be repaired, keyed by the drift's subject.
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def fixed(self) -> tuple[Drift, ...]:
        return tuple(d for d in self.found if d not in self.remaining)

    @property
    def clean(self) -> bool:
        return not self.remaining

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": [d.as_dict() for d in self.found],
            "fixed": [d.as_dict() for d in self.fixed],
            "remaining": [d.as_dict() for d in self.remaining],
            "refused": self.refused,
        }


def _differing_fields(arms: ArmsContact, contact: Contact) -> list[str]:
    """The fields that must agree (what linking copies) and do not."""
    return [
        name
        for name, attribute in linking.copied_fields().items()
        if getattr(arms, name) != getattr(contact, attribute)
    ]


def find_drift(account: Account) -> list[Drift]:
    """Every drift of the account, managed objects first, then contacts by username."""
    drifts: list[Drift] = []
    groups = {
        g.name: g for g in ContactGroup.objects.for_account(account).filter(name__in=MANAGED_GROUPS)
    }
    for name in MANAGED_GROUPS:
        if name not in groups:
            drifts.append(Drift(MISSING_GROUP, name, f"The group {name} does not exist."))
    policy = NotificationPolicy.objects.for_account(account).filter(name=DEFAULT_POLICY).first()
    contacts_group = groups.get(CONTACTS_GROUP)
    if policy is None:
        drifts.append(Drift(MISSING_POLICY, DEFAULT_POLICY, f"{DEFAULT_POLICY} does not exist."))
    else:
        problems = []
        if contacts_group is None or not policy.groups.filter(pk=contacts_group.pk).exists():
            problems.append(f"does not route to {CONTACTS_GROUP}")
        if not policy.enabled:
            problems.append("is disabled")
        if policy.match_labels != SAE_EVENT_LABELS:
            problems.append(f"matches {policy.match_labels} instead of {SAE_EVENT_LABELS}")
        if problems:
            drifts.append(
                Drift(
                    POLICY_NOT_ROUTING, DEFAULT_POLICY, f"{DEFAULT_POLICY} {', '.join(problems)}."
                )
            )

    members = set(contacts_group.members.values_list("pk", flat=True)) if contacts_group else set()
    linked = ArmsContact.objects.for_account(account).filter(sae_contact__isnull=False)
    linked = linked.select_related("sae_contact__ram_user", "sae_contact__account")
    for arms in sorted(linked, key=lambda a: (a.sae_contact.username.casefold(), a.pk)):
        contact = arms.sae_contact
        label = f"{arms.name} (linked to {contact.username})"
        if arms.pk not in members:
            drifts.append(Drift(NOT_IN_GROUP, label, f"Not a member of {CONTACTS_GROUP}."))
        differing = _differing_fields(arms, contact)
        if differing:
            detail = f"Differs from the SAE contact in: {', '.join(differing)}."
            drifts.append(Drift(FIELDS_DIFFER, label, detail))

    unlinked = Contact.objects.for_account(account).filter(arms_contact__isnull=True)
    unlinked = unlinked.select_related("ram_user", "account")
    for contact in sorted(unlinked, key=lambda c: (c.username.casefold(), c.pk)):
        drifts.append(
            Drift(NOT_LINKED, contact.username, "Not linked: no ARMS contact is linked to it.")
        )
    return drifts


def _attempt(action, refused: dict[str, str], subject: str) -> None:
    try:
        with transaction.atomic():
            action()
    except ValidationError as exc:
        refused[subject] = " ".join(exc.messages)


def fix_drift(account: Account) -> FixReport:
    """Repair what is safe, in one transaction with the account locked; report the rest."""
    refused: dict[str, str] = {}
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=account.pk)
        found = find_drift(account)
        if not found:
            return FixReport(found=(), remaining=())
        managed = ensure_managed(account)
        policy = managed.default_policy
        if not policy.enabled or policy.match_labels != SAE_EVENT_LABELS:
            policy.enabled = True
            policy.match_labels = dict(SAE_EVENT_LABELS)
            policy.save(update_fields=["enabled", "match_labels"])

        linked = ArmsContact.objects.for_account(account).filter(sae_contact__isnull=False)
        linked = linked.select_related("sae_contact__ram_user", "sae_contact__account")
        managed.contacts_group.members.add(*linked)
        for arms in linked:
            contact = arms.sae_contact
            if _differing_fields(arms, contact):
                label = f"{arms.name} (linked to {contact.username})"
                _attempt(lambda c=contact: linking.propagate_edit(c), refused, label)

        unlinked = Contact.objects.for_account(account).filter(arms_contact__isnull=True)
        for contact in unlinked.select_related("ram_user", "account"):
            _attempt(lambda c=contact: linking.link_new_contact(c), refused, contact.username)
        remaining = find_drift(account)
    return FixReport(found=tuple(found), remaining=tuple(remaining), refused=refused)
