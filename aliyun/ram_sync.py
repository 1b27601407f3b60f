"""RAM, read from the cloud (rules §14): the account's RAM users, their groups and the policies
attached to either, custom documents included, so that policy evaluation runs on the account's
real policies.

The reads happen first, outside any transaction, several at once (SAE_RAM_SYNC_THREADS: one
sync of 1,000 users is ~3,000 calls). Then one transaction writes the difference in bulk:
users added or updated, users gone from RAM marked (sign-in disabled, contact kept), policies,
groups, memberships and attachments made equal to RAM's.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alibabacloud_ram20150501 import models as ram_models
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aliyun import clients, retry
from aliyun.clients import RAM, CloudError
from aliyun.models import CloudConnection
from ram_directory.models import Policy, PolicyAttachment, RamGroup, RamUser, User
from ram_directory.policy import parse_document_text
from ram_directory.ram_import import RamUserRecord

HELD_ELSEWHERE = gettext_noop(
    "RAM user {user_name} ({user_id}) is already held by console account {account_id}: the "
    "same Alibaba Cloud account is connected there. Disconnect one of them."
)
PAGE_SIZE = 1000  # ListUsers' MaxItems ceiling
MAX_PAGES = 1000  # a bound on the Marker loop (a million users)
_RAM_MOBILE = re.compile(r"^\d{1,4}-\d{4,15}$")


@dataclass
class RemoteUser:
    record: RamUserRecord
    groups: list[str]
    policies: list[tuple[str, str]]  # (name, type)


@dataclass
class RamSnapshot:
    users: list[RemoteUser]
    groups: dict[str, list[tuple[str, str]]]  # group name -> its policies
    documents: dict[tuple[str, str], dict]  # (name, type) -> {"document":..., "description":...}
    calls: Counter = field(default_factory=Counter)
    retried: Counter = field(default_factory=Counter)


@dataclass
class RamSyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    retried: dict[str, int] = field(default_factory=dict)  # error code -> calls tried again
    seconds: float = 0.0

    def as_dict(self, *, names: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "added": len(self.added),
            "updated": len(self.updated),
            "removed": len(self.removed),
            "unchanged": len(self.unchanged),
            "calls": dict(sorted(self.calls.items())),
            "retried": dict(sorted(self.retried.items())),
            "seconds": round(self.seconds, 3),
        }
        if names:
            data["names"] = {
                "added": self.added,
                "updated": self.updated,
                "removed": self.removed,
            }
        return data


class _Reader:
    """RAM calls from several threads: one SDK client per thread, calls counted by action
    (retries included), throttling, 5xx and network errors tried again (aliyun.retry) within
    SAE_RAM_SYNC_RETRY_BUDGET seconds per call."""

    def __init__(self, connection: CloudConnection):
        self.connection = connection
        self.local = threading.local()
        self.calls: Counter = Counter()
        self.retried: Counter = Counter()
        self.lock = threading.Lock()

    def _retried(self, error: CloudError) -> None:
        with self.lock:
            self.retried[error.code] += 1

    def call(self, method: str, request) -> dict:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = clients.ram_client(self.connection)
        action = clients.action_name(method)

        def once() -> dict:
            with self.lock:
                self.calls[action] += 1
            return clients.call(client, RAM, method, request)

        return retry.in_line(once, budget=settings.RAM_SYNC_RETRY_BUDGET, retried=self._retried)


def _text(value: Any, limit: int) -> str:
    return str(value or "").strip()[:limit]


def _mobile(value: Any) -> str:
    # RAM writes mainland numbers as 86-138...; anything else is not stored (it could not be
    # a contact's phone anyway).
    value = _text(value, 24)
    return value if _RAM_MOBILE.match(value) else ""


def _email(value: Any) -> str:
    value = _text(value, 254)
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def _when(value: Any) -> datetime | None:
    parsed = parse_datetime(str(value or ""))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.UTC)
    return parsed


def _record(listed: dict, detail: dict) -> RamUserRecord:
    user = {**listed, **detail}
    return RamUserRecord(
        user_name=_text(user.get("UserName"), 64),
        user_id=_text(user.get("UserId"), 32) or None,
        display_name=_text(user.get("DisplayName"), 128),
        mobile_phone=_mobile(user.get("MobilePhone")),
        email=_email(user.get("Email")),
        comments=_text(user.get("Comments"), 128),
        created_at=_when(user.get("CreateDate")),
        updated_at=_when(user.get("UpdateDate")),
    )


def _list_users(reader: _Reader) -> list[dict]:
    users: list[dict] = []
    marker = None
    for _page in range(MAX_PAGES):
        answer = reader.call(
            "list_users", ram_models.ListUsersRequest(max_items=PAGE_SIZE, marker=marker)
        )
        users.extend((answer.get("Users") or {}).get("User") or [])
        marker = answer.get("Marker")
        if not answer.get("IsTruncated") or not marker:
            break
    return users


def _policies(answer: dict) -> list[tuple[str, str]]:
    return [
        (p["PolicyName"], p.get("PolicyType") or "Custom")
        for p in (answer.get("Policies") or {}).get("Policy") or []
    ]


def _read_user(reader: _Reader, listed: dict, known: dict[str, RamUser]) -> RemoteUser:
    name = listed["UserName"]
    local = known.get(name.lower())
    if local is not None and local.updated_at == _when(listed.get("UpdateDate")):
        # RAM has not changed the profile since the last sync (its UpdateDate is the one we
        # stored): GetUser would say what we hold. Policies and groups are read regardless
        # (attaching one does not touch UpdateDate).
        detail = {
            "UserId": local.user_id,
            "DisplayName": local.display_name,
            "MobilePhone": local.mobile_phone,
            "Email": local.email,
            "Comments": local.comments,
        }
    else:
        detail = reader.call("get_user", ram_models.GetUserRequest(user_name=name)).get("User")
        detail = detail or {}
    groups = reader.call(
        "list_groups_for_user", ram_models.ListGroupsForUserRequest(user_name=name)
    )
    policies = reader.call(
        "list_policies_for_user", ram_models.ListPoliciesForUserRequest(user_name=name)
    )
    return RemoteUser(
        record=_record(listed, detail),
        groups=[g["GroupName"] for g in (groups.get("Groups") or {}).get("Group") or []],
        policies=_policies(policies),
    )


def _read_group(reader: _Reader, name: str) -> list[tuple[str, str]]:
    return _policies(
        reader.call(
            "list_policies_for_group", ram_models.ListPoliciesForGroupRequest(group_name=name)
        )
    )


def _read_policy(reader: _Reader, key: tuple[str, str]) -> dict:
    """The policy's default version document: GetPolicy carries it; GetPolicyVersion only
    when an answer leaves it out."""
    name, policy_type = key
    answer = reader.call(
        "get_policy", ram_models.GetPolicyRequest(policy_name=name, policy_type=policy_type)
    )
    policy = answer.get("Policy") or {}
    version = answer.get("DefaultPolicyVersion") or {}
    text = version.get("PolicyDocument")
    if not text:
        version_id = version.get("VersionId") or policy.get("DefaultVersion")
        answer = reader.call(
            "get_policy_version",
            ram_models.GetPolicyVersionRequest(
                policy_name=name, policy_type=policy_type, version_id=version_id
            ),
        )
        text = (answer.get("PolicyVersion") or {}).get("PolicyDocument") or ""
    try:
        document = parse_document_text(text) if isinstance(text, str) else text
    except Exception:  # a document this console cannot read grants nothing here
        document = {"Version": "1", "Statement": []}
    return {"document": document, "description": _text(policy.get("Description"), 1024)}


def read_ram(connection: CloudConnection) -> RamSnapshot:
    """Everything RAM says about the account's users (network; one read of the working copy
    first, so that an unchanged profile is not asked for again)."""
    known = {
        u.user_name.lower(): u
        for u in RamUser.objects.filter(
            account_id=connection.account_id, deleted_in_ram_at__isnull=True
        )
    }
    reader = _Reader(connection)
    listed = _list_users(reader)
    threads = max(1, settings.RAM_SYNC_THREADS)
    with ThreadPoolExecutor(threads, thread_name_prefix="ram-sync") as pool:
        users = list(pool.map(lambda u: _read_user(reader, u, known), listed))
        group_names = sorted({g for u in users for g in u.groups})
        groups = dict(
            zip(group_names, pool.map(lambda g: _read_group(reader, g), group_names), strict=True)
        )
        keys = sorted(
            {p for u in users for p in u.policies} | {p for ps in groups.values() for p in ps}
        )
        documents = dict(zip(keys, pool.map(lambda k: _read_policy(reader, k), keys), strict=True))
    return RamSnapshot(
        users=users, groups=groups, documents=documents, calls=reader.calls, retried=reader.retried
    )


_USER_FIELDS = ("user_id", "display_name", "mobile_phone", "email", "comments")


def _write_policies(account, documents: dict) -> dict[str, Policy]:
    existing = {p.name: p for p in Policy.objects.for_account(account)}
    new, changed = [], []
    for (name, policy_type), data in documents.items():
        policy = existing.get(name)
        if policy is None:
            policy = Policy(
                account=account,
                name=name[:128],
                policy_type=policy_type if policy_type in Policy.PolicyType.values else "Custom",
                description=data["description"],
                document=data["document"],
            )
            new.append(policy)
            existing[name] = policy
        elif policy.document != data["document"] or (
            data["description"] and policy.description != data["description"]
        ):
            policy.document = data["document"]
            policy.description = data["description"] or policy.description
            changed.append(policy)
    Policy.objects.bulk_create(new)
    Policy.objects.bulk_update(changed, ["document", "description", "updated_at"])
    if new:  # bulk_create leaves pks unset on some backends: read them back
        existing = {p.name: p for p in Policy.objects.for_account(account)}
    return existing


def _write_users(account, remote: list[RemoteUser], report: RamSyncReport, now) -> dict:
    existing = {u.user_name.lower(): u for u in RamUser.objects.for_account(account)}
    seen: set[str] = set()
    new, changed, revived = [], [], []
    for item in remote:
        record = item.record
        key = record.user_name.lower()
        if not record.user_name or key in seen:
            continue
        seen.add(key)
        user = existing.get(key)
        values = {name: getattr(record, name) for name in _USER_FIELDS}
        values["user_id"] = values["user_id"] or (user.user_id if user else "")
        if user is None:
            user = RamUser(
                account=account,
                user_name=record.user_name,
                created_at=record.created_at or now,
                updated_at=record.updated_at or now,
                **values,
            )
            new.append(user)
            report.added.append(record.user_name)
            continue
        diff = [name for name, value in values.items() if getattr(user, name) != value]
        if user.deleted_in_ram_at is not None:
            user.deleted_in_ram_at = None
            revived.append(user.pk)
            diff.append("deleted_in_ram_at")
        if diff:
            for name in diff:
                if name in values:
                    setattr(user, name, values[name])
            user.updated_at = record.updated_at or now
            changed.append(user)
            report.updated.append(user.user_name)
        else:
            report.unchanged.append(user.user_name)
    RamUser.objects.bulk_create(new, batch_size=500)
    RamUser.objects.bulk_update(
        changed, [*_USER_FIELDS, "deleted_in_ram_at", "updated_at"], batch_size=500
    )
    gone = [u for key, u in existing.items() if key not in seen and u.deleted_in_ram_at is None]
    if gone:
        RamUser.objects.filter(pk__in=[u.pk for u in gone]).update(deleted_in_ram_at=now)
        # Their sign-ins stop working at once; their contacts stay (marked on the page).
        User.objects.filter(ram_user__in=[u.pk for u in gone]).update(is_active=False)
        report.removed.extend(sorted(u.user_name for u in gone))
    if revived:
        User.objects.filter(ram_user__in=revived).update(is_active=True)
    return {u.user_name.lower(): u.pk for u in RamUser.objects.for_account(account).only("pk")}


def _set_pairs(through, left: str, right: str, wanted: set, current: set) -> None:
    """Make a many-to-many table hold exactly `wanted` (pairs of ids) among `current`."""
    stale = current - wanted
    for a, b in stale:
        through.objects.filter(**{left: a, right: b}).delete()
    through.objects.bulk_create(
        [through(**{left: a, right: b}) for a, b in wanted - current],
        batch_size=1000,
        ignore_conflicts=True,
    )


def _write_links(account, snapshot: RamSnapshot, users: dict, policies: dict[str, Policy]):
    synced = {users[u.record.user_name.lower()] for u in snapshot.users if u.record.user_name}
    # Personal attachments of synced users.
    wanted = {
        (users[u.record.user_name.lower()], policies[name].pk)
        for u in snapshot.users
        for name, _type in u.policies
        if name in policies and u.record.user_name
    }
    current = set(
        PolicyAttachment.objects.filter(ram_user__in=synced).values_list("ram_user_id", "policy_id")
    )
    stale = current - wanted
    if stale:
        by_user: dict[int, list[int]] = {}
        for user_pk, policy_pk in stale:
            by_user.setdefault(user_pk, []).append(policy_pk)
        for user_pk, policy_pks in by_user.items():
            PolicyAttachment.objects.filter(ram_user_id=user_pk, policy_id__in=policy_pks).delete()
    PolicyAttachment.objects.bulk_create(
        [PolicyAttachment(ram_user_id=u, policy_id=p) for u, p in wanted - current],
        batch_size=1000,
        ignore_conflicts=True,
    )
    # Groups: exactly RAM's, with their members and policies.
    existing = {g.group_name: g for g in RamGroup.objects.for_account(account)}
    new = [
        RamGroup(account=account, group_name=n[:128]) for n in snapshot.groups if n not in existing
    ]
    RamGroup.objects.bulk_create(new)
    RamGroup.objects.for_account(account).exclude(group_name__in=list(snapshot.groups)).delete()
    groups = {g.group_name: g.pk for g in RamGroup.objects.for_account(account)}
    members = RamGroup.members.through
    wanted_members = {
        (groups[g], users[u.record.user_name.lower()])
        for u in snapshot.users
        for g in u.groups
        if g in groups and u.record.user_name
    }
    current_members = set(
        members.objects.filter(ramgroup__account=account).values_list("ramgroup_id", "ramuser_id")
    )
    _set_pairs(members, "ramgroup_id", "ramuser_id", wanted_members, current_members)
    held = RamGroup.policies.through
    wanted_held = {
        (groups[g], policies[name].pk)
        for g, attached in snapshot.groups.items()
        for name, _type in attached
        if g in groups and name in policies
    }
    current_held = set(
        held.objects.filter(ramgroup__account=account).values_list("ramgroup_id", "policy_id")
    )
    _set_pairs(held, "ramgroup_id", "policy_id", wanted_held, current_held)


def _held_elsewhere(connection: CloudConnection, snapshot: RamSnapshot) -> None:
    """RAM user IDs are global: one held by another console account means the same Alibaba
    Cloud account is connected twice (connected before cloud_account_id was recorded)."""
    ids = {u.record.user_id: u.record.user_name for u in snapshot.users if u.record.user_id}
    other = (
        RamUser.objects.filter(user_id__in=list(ids))
        .exclude(account_id=connection.account_id)
        .select_related("account")
        .order_by("user_id")
        .first()
    )
    if other is not None:
        raise CloudError(
            RAM,
            "ListUsers",
            "RamUserHeldElsewhere",
            _(HELD_ELSEWHERE).format(
                user_name=ids[other.user_id],
                user_id=other.user_id,
                account_id=other.account.account_id,
            ),
        )


def sync_ram(*, connection: CloudConnection) -> RamSyncReport:
    """Pull RAM into the working copy; the result is recorded on the connection either way.
    Raises CloudError when RAM cannot be read, or when its users are held by another console
    account (nothing is written then)."""
    started = timezone.now()
    report = RamSyncReport()
    try:
        snapshot = read_ram(connection)
        _held_elsewhere(connection, snapshot)
    except CloudError as error:
        report.calls = {}
        CloudConnection.objects.filter(pk=connection.pk).update(
            ram_synced_at=timezone.now(),
            ram_sync_ok=False,
            ram_sync_result={"error": str(error)[:500]},
        )
        raise
    report.calls = dict(snapshot.calls)
    report.retried = dict(snapshot.retried)
    account = connection.account
    with transaction.atomic():
        now = timezone.now()
        policies = _write_policies(account, snapshot.documents)
        users = _write_users(account, snapshot.users, report, now)
        _write_links(account, snapshot, users, policies)
        report.seconds = (timezone.now() - started).total_seconds()
        CloudConnection.objects.filter(pk=connection.pk).update(
            ram_synced_at=now, ram_sync_ok=True, ram_sync_result=report.as_dict(names=False)
        )
    return report
