"""The working copy compared with the real ARMS (rules §7, §14): `sae:` objects deleted or edited
in the ARMS console. Found drift is recorded on the connection (the Cloud Connection page shows
it); `fix` writes outbox rows for what differs and pushes them now, which restores it (a
contact ARMS lost is created again, an edited one set back, the groups and policy rewritten).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aliyun import push
from aliyun.arms_api import Arms, policy_group_ids
from aliyun.models import ArmsContactSync, CloudConnection
from arms_sync.models import APPROVERS_GROUP, CONTACTS_GROUP, DEFAULT_POLICY, ArmsContact

# What each drift says, stored in English with its values and shown in the reader's language.
CONTACT_DELETED = gettext_noop("ARMS contact {remote_id} was deleted in ARMS")
CONTACT_EDITED = gettext_noop("ARMS contact {remote_id} was edited in ARMS: {fields}")
GROUP_DELETED = gettext_noop("deleted in ARMS")
GROUP_MEMBERS = gettext_noop("{count} linked contact(s) removed from it in ARMS")
POLICY_DELETED = gettext_noop("deleted in ARMS")
POLICY_NOT_ROUTING = gettext_noop("no longer routes to {group}")


@dataclass(frozen=True)
class RemoteDrift:
    kind: str  # contact_missing, contact_differs, group_missing, group_members, policy_missing
    subject: str
    template: str
    params: tuple = ()

    @property
    def detail(self) -> str:
        return self.template.format(**dict(self.params))

    def as_dict(self) -> dict:
        return {"kind": self.kind, "subject": self.subject, "detail": self.detail}

    def stored(self) -> dict:
        return {"subject": self.subject, "template": self.template, "params": dict(self.params)}

    def __str__(self) -> str:
        return f"{self.subject}: {self.detail}"


def shown(stored: list) -> list[str]:
    """The drift recorded on a connection, in the reader's language."""
    lines = []
    for item in stored:
        if isinstance(item, dict):
            text = _(item.get("template", "")).format(**item.get("params", {}))
            lines.append(f"{item.get('subject', '')}: {text}")
        else:
            lines.append(str(item))
    return lines


@dataclass
class RemoteReport:
    found: list[RemoteDrift] = field(default_factory=list)
    remaining: list[RemoteDrift] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.remaining

    def as_dict(self) -> dict:
        fixed = [d for d in self.found if d not in self.remaining]
        return {
            "found": [d.as_dict() for d in self.found],
            "fixed": [d.as_dict() for d in fixed],
            "remaining": [d.as_dict() for d in self.remaining],
        }


def find_remote_drift(connection: CloudConnection) -> tuple[list[RemoteDrift], list[int], bool]:
    """(drift, ARMS contact pks to push again, whether the groups/policy need a push)."""
    arms = Arms(connection)
    remote = {c.contact_id: c for c in arms.all_contacts()}
    drift: list[RemoteDrift] = []
    repush: list[int] = []
    linked = ArmsContact.objects.filter(
        account_id=connection.account_id, sae_contact__isnull=False
    ).select_related("cloud")
    expected_members: set[int] = set()
    for local in linked:
        sync = getattr(local, "cloud", None)
        if sync is None or sync.remote_id is None or sync.state != ArmsContactSync.State.SYNCED:
            continue  # never pushed yet, or pending: not drift
        expected_members.add(sync.remote_id)
        there = remote.get(sync.remote_id)
        if there is None:
            drift.append(
                RemoteDrift(
                    "contact_missing",
                    local.name,
                    CONTACT_DELETED,
                    (("remote_id", sync.remote_id),),
                )
            )
            repush.append(local.pk)
            continue
        differs = [
            name
            for name, mine, theirs in (
                ("name", local.name, there.name),
                ("phone", local.phone.as_e164 if local.phone else "", there.phone),
                ("email", local.email.lower(), there.email.lower()),
            )
            if mine != theirs
        ]
        if differs:
            drift.append(
                RemoteDrift(
                    "contact_differs",
                    local.name,
                    CONTACT_EDITED,
                    (("remote_id", sync.remote_id), ("fields", ", ".join(differs))),
                )
            )
            repush.append(local.pk)
    groups_drift = False
    contacts_group = None
    for name in (CONTACTS_GROUP, APPROVERS_GROUP):
        group = arms.group_named(name)
        if group is None:
            if name == APPROVERS_GROUP and not expected_members:
                continue
            drift.append(RemoteDrift("group_missing", name, GROUP_DELETED))
            groups_drift = True
            continue
        if name == CONTACTS_GROUP:
            contacts_group = int(group["ContactGroupId"])
            have = {int(c["ContactId"]) for c in group.get("Contacts") or []}
            if not expected_members <= have:
                drift.append(
                    RemoteDrift(
                        "group_members",
                        name,
                        GROUP_MEMBERS,
                        (("count", len(expected_members - have)),),
                    )
                )
                groups_drift = True
    policy = arms.policy_named(DEFAULT_POLICY)
    if expected_members and (
        policy is None or (contacts_group and contacts_group not in policy_group_ids(policy))
    ):
        if policy is None:
            drift.append(RemoteDrift("policy_missing", DEFAULT_POLICY, POLICY_DELETED))
        else:
            drift.append(
                RemoteDrift(
                    "policy_missing",
                    DEFAULT_POLICY,
                    POLICY_NOT_ROUTING,
                    (("group", CONTACTS_GROUP),),
                )
            )
        groups_drift = True
    return drift, repush, groups_drift


def reconcile_remote(*, connection: CloudConnection, fix: bool) -> RemoteReport:
    """Compare (network, outside any transaction); with `fix`, push the repairs and compare
    again. The drift that remains is recorded on the connection."""
    drift, repush, groups = find_remote_drift(connection)
    report = RemoteReport(found=drift, remaining=drift)
    if fix and drift:
        pairs = dict(ArmsContact.objects.filter(pk__in=repush).values_list("pk", "sae_contact_id"))
        with transaction.atomic():
            push.record_contacts(connection.account_id, list(pairs), pairs)
            if groups and not repush:
                push.record_groups(connection.account_id)
        push.push_account(connection.account_id, now=True)
        remaining, _repush, _groups = find_remote_drift(connection)
        report.remaining = remaining
    CloudConnection.objects.filter(pk=connection.pk).update(
        reconciled_at=timezone.now(), drift=[d.stored() for d in report.remaining]
    )
    return report
